//! Prometheus metrics: the recorder (installed once per process), the request
//! middleware that counts and times every request by route template, and the
//! `/metrics` handler that also samples process memory and CPU.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What `/metrics` needs: the recorder's handle and the process sampler.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    process: Arc<metrics_process::Collector>,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

impl Metrics {
    /// The process-wide recorder; the first call installs it.
    pub fn global() -> Metrics {
        METRICS.get_or_init(install).clone()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn install() -> Metrics {
    // Histograms with buckets (not summaries), so Prometheus can aggregate them.
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
        .unwrap_or_else(|_| PrometheusBuilder::new());
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
    }
    describe();
    let process = metrics_process::Collector::new("kiln_");
    process.describe();
    metrics::gauge!("kiln_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Metrics {
        handle,
        process: Arc::new(process),
    }
}

fn describe() {
    metrics::describe_histogram!(
        "kiln_schedule_lateness_seconds",
        metrics::Unit::Seconds,
        "Time from a schedule's instant to the run it fired being written."
    );
    metrics::describe_counter!(
        "kiln_schedule_firings_total",
        "Schedule instants handled, by outcome (fired, skipped_running, replaced, missed, failed)."
    );
    metrics::describe_gauge!(
        "kiln_schedules_active",
        "Schedules that are not paused and will fire again."
    );
    metrics::describe_gauge!("kiln_build_info", "Kiln's version; the value is always 1.");
    metrics::describe_counter!(
        "kiln_http_requests_total",
        "HTTP requests answered, by route template, method and status."
    );
    metrics::describe_histogram!(
        "kiln_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route template."
    );
    metrics::describe_counter!(
        "kiln_jobs_total",
        "Background jobs finished, by job type and outcome."
    );
    metrics::describe_histogram!(
        "kiln_job_pickup_seconds",
        metrics::Unit::Seconds,
        "Time from a job being pushed to a worker starting it, by job type."
    );
    metrics::describe_counter!(
        "kiln_runs_total",
        "Runs that ended, by kind (workflow, pipeline) and final state."
    );
    metrics::describe_counter!(
        "kiln_steps_total",
        "Step attempts that ended, by state (`retried` for a failed attempt going back to the queue)."
    );
    metrics::describe_histogram!(
        "kiln_step_duration_seconds",
        metrics::Unit::Seconds,
        "Time a step attempt ran, from its worker taking it to its end."
    );
    metrics::describe_gauge!(
        "kiln_queue_depth",
        "Steps dispatched to workers and not yet taken."
    );
    metrics::describe_gauge!(
        "kiln_step_slots",
        "Steps this process runs at once (worker_concurrency, across its queues)."
    );
    metrics::describe_histogram!(
        "kiln_step_slot_wait_seconds",
        metrics::Unit::Seconds,
        "Time a step job waited for a free slot (at most a second, then it goes back to its queue)."
    );
    metrics::describe_histogram!(
        "kiln_step_slot_held_seconds",
        metrics::Unit::Seconds,
        "Time a step held its slot: claim, process, log. The sum's rate over kiln_step_slots is how busy the slots are."
    );
    metrics::describe_histogram!(
        "kiln_job_wait_seconds",
        metrics::Unit::Seconds,
        "Time from a step being due (dispatched, or its retry delay over) to a worker starting it."
    );
}

/// Middleware: counts and times each request under its route template (never
/// the raw path, so unknown URLs cannot blow up the number of series). The
/// template comes back on the response, put there by a route layer inside.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let status = response.status().as_u16().to_string();
    metrics::counter!("kiln_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("kiln_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Clients may send any method token; only the standard ones become labels.
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn handler(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}
