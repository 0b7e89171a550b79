//! The HTTP surface of a real server on port 0, on SQLite, PostgreSQL and
//! MariaDB: health and readiness, metrics (checked by promtool), JSON 404s
//! under /api, the dashboard's HTML, request ids, the job queue, shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{Backend, TestApp};
use kiln_server::db::entities::session;
use sea_orm::{EntityTrait, Set};

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");

    // With the database gone, /readyz says so and /healthz does not care.
    app.server.database().clone().close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}
on_all_backends!(health_and_readiness);

async fn metrics_are_prometheus_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(app.get("/api/v1/nope").await.status(), 404);
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "exposition content type"
    );
    let text = response.text().await.unwrap();
    for needle in [
        "kiln_build_info{version=\"",
        "kiln_http_requests_total{route=\"/\",method=\"GET\",status=\"200\"}",
        "kiln_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}",
        "kiln_http_request_duration_seconds_bucket{route=\"/\",le=\"0.005\"}",
        "kiln_process_resident_memory_bytes",
        "kiln_process_cpu_seconds_total",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    promtool_accepts(&text);
    app.stop().await;
}
on_all_backends!(metrics_are_prometheus_text);

fn promtool_accepts(metrics: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package `prometheus`; .ci/setup installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn unknown_api_paths_are_json_404s(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/nope"),
        (reqwest::Method::POST, "/api/v2/runs"),
        (reqwest::Method::DELETE, "/api/"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(path),
            "{body}"
        );
    }
    let version: serde_json::Value = app.get("/api/v1/version").await.json().await.unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    app.stop().await;
}
on_all_backends!(unknown_api_paths_are_json_404s);

async fn dashboard_is_rendered_on_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for section in ["Projects", "Runs", "Workflows", "Schedules", "Admin"] {
        let link = format!("href=\"/{}\"", section.to_lowercase());
        assert!(
            html.contains(&link) && html.contains(section),
            "nav link to {section}"
        );
    }
    assert!(
        html.contains("/pkg/kiln.js") && html.contains("/pkg/kiln.wasm"),
        "hydration scripts"
    );
    for page in ["/projects", "/runs", "/workflows", "/schedules", "/admin"] {
        let response = app.get(page).await;
        assert_eq!(response.status(), 200, "{page}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("aria-current=\"page\""),
            "{page} marks its nav link"
        );
    }

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = missing.text().await.unwrap();
    assert!(html.contains("Page not found"));
    // Signing in from here comes back here.
    assert!(
        html.contains("href=\"/login?next=/no/such/page\""),
        "{html}"
    );
    // Someone signed in stays signed in on it (the header names them).
    let me = app.browser();
    me.sign_up("nina").await;
    let (status, html) = me.raw("GET", "/no/such/page", None).await;
    assert_eq!(status, 404);
    assert!(html.contains("id=\"user-menu\""), "{html}");
    assert!(!html.contains("href=\"/register\""), "{html}");
    app.stop().await;
}
on_all_backends!(dashboard_is_rendered_on_the_server);

async fn request_ids_are_kept_or_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let made = app.get("/healthz").await;
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
    // Ids that could smuggle text into logs are replaced, not echoed.
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "a b\"} fake=1")
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "replaced by a UUID: {id}");
    app.stop().await;
}
on_all_backends!(request_ids_are_kept_or_made);

async fn oversized_bodies_get_413_json(backend: Backend) {
    // A small limit, so the whole body fits in the socket buffers and the
    // client is not cut off mid-send when the server answers early.
    let app = TestApp::spawn_with(backend, |config| config.max_body_bytes = 1024).await;
    let body = vec![b'x'; 4096];
    let response = app
        .client
        .post(app.url("/api/v1/version"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    app.stop().await;
}
on_all_backends!(oversized_bodies_get_413_json);

/// Cleanup jobs finished so far in this process (each test binary runs one
/// test, so the global recorder is this test's own).
fn cleanups_done() -> u64 {
    kiln_server::http::metrics::Metrics::global()
        .render()
        .lines()
        .find(|l| l.starts_with("kiln_jobs_total{job=\"cleanup\",outcome=\"ok\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A pushed job runs at once, not on apalis' 30-second heartbeat. The bound
/// here is generous on purpose; `cargo bench --bench job_pickup` measures the
/// real latency.
async fn pushed_jobs_run_promptly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The start-up cleanup first, so it cannot be the one that does our work.
    wait_for("the start-up cleanup", || cleanups_done() >= 1).await;
    let db = &app.server.database().conn;
    let expired = session::ActiveModel {
        id: Set("expired-session".to_owned()),
        data: Set(b"{}".to_vec()),
        expires_at: Set(chrono::Utc::now().timestamp() - 60),
    };
    session::Entity::insert(expired).exec(db).await.unwrap();
    app.server.jobs().push_cleanup().await.unwrap();
    wait_for("the pushed cleanup", || cleanups_done() >= 2).await;
    let left = session::Entity::find_by_id("expired-session".to_owned())
        .one(db)
        .await
        .unwrap();
    assert!(left.is_none(), "the pushed job deleted the expired session");
    app.stop().await;
}
on_all_backends!(pushed_jobs_run_promptly);

/// Shutdown under traffic is clean: the server stops with Ok, and a request
/// racing it is either answered in full or never accepted.
async fn shutdown_under_traffic_is_clean(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.server.shutdown_token();
    let client = app.client.clone();
    let url = app.url("/readyz");
    let request = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(5)).await;
    token.cancel();
    let TestApp { server, db, .. } = app;
    server.wait().await.expect("clean shutdown");
    if let Ok(Ok(status)) = request.await {
        assert_eq!(status, 200);
    }
    drop(db);
}
on_all_backends!(shutdown_under_traffic_is_clean);
