//! How many steps one process runs at once: `worker_concurrency` of them,
//! across every queue it serves, each from its claim to its process's end;
//! and a step whose job waited for a slot into a shutdown is handed back,
//! not started.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::common::engine::{grant_label, owner, processes_running, save, start, step, wait_end};
use crate::common::{Api, Backend, TestApp};

fn at(step: &Value, field: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(step[field].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The most steps of `run` that ran at the same moment (from their
/// recorded starts and ends; one ending when another starts is not both).
fn most_at_once(run: &Value) -> usize {
    let mut edges: Vec<(DateTime<Utc>, i32)> = Vec::new();
    for s in run["steps"].as_array().unwrap() {
        edges.push((at(s, "started_at"), 1));
        edges.push((at(s, "finished_at"), -1));
    }
    // Ends before starts at the same instant.
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, change) in edges {
        now += change;
        most = most.max(now);
    }
    usize::try_from(most).unwrap()
}

/// Two slots (the tests' `worker_concurrency`) for eight steps split over
/// two queues (a labelled process serves one queue per set of its labels):
/// two run at a time, never four (a limit per queue would allow two on
/// each).
async fn a_process_runs_its_concurrency_in_steps_across_its_queues(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.worker_labels = "left,right".into()).await;
    let (api, project) = owner(&app).await;
    grant_label(&api, "left", project).await;
    grant_label(&api, "right", project).await;
    let mut source = String::from("tasks:\n");
    for i in 0..4 {
        for side in ["left", "right"] {
            source.push_str(&format!(
                "  {side}{i}:\n    runs_on: [{side}]\n    run: sleep 0.4\n"
            ));
        }
    }
    let (status, body) = save(&api, project, "wide", &source).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "wide", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(most_at_once(&done), 2, "{done:#}");
    app.stop().await;
}
on_sqlite_and_postgres!(a_process_runs_its_concurrency_in_steps_across_its_queues);

/// Starts a run of two independent steps sleeping `marker` seconds;
/// returns once one of them runs.
async fn two_long_steps(api: &Api, project: i64, marker: &str) -> i64 {
    let source =
        format!("tasks:\n  first:\n    run: sleep {marker}\n  second:\n    run: sleep {marker}\n");
    assert_eq!(save(api, project, "two", &source).await.0, 200);
    let run = start(api, project, "two", json!({})).await;
    let began = Instant::now();
    while processes_running(marker).is_empty() {
        assert!(began.elapsed() < Duration::from_secs(15), "no step started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run
}

/// Waits for `task` of `run` to start in the server `api` talks to, then
/// checks it is its first attempt and began after `stopped` (the previous
/// server's end); cancels the run.
async fn runs_after(api: &Api, run: i64, task: &str, stopped: DateTime<Utc>) {
    let began = Instant::now();
    let now = loop {
        let (_, now) = api.get(&format!("/api/v1/runs/{run}")).await;
        if step(&now, task)["state"] != "queued" {
            break now;
        }
        assert!(began.elapsed() < Duration::from_secs(15), "{now:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let handed_back = step(&now, task);
    assert_eq!(handed_back["state"], "running", "{now:#}");
    assert_eq!(handed_back["attempt"], 1, "{now:#}");
    assert!(
        at(handed_back, "started_at") >= stopped,
        "it started in the stopping server: {now:#}"
    );
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    wait_end(api, run).await;
}

/// One slot; `first` runs, `second`'s job waits for the slot. The shutdown
/// stops `first`; `second` does not start in the stopping process but in
/// the next one. (Its job goes back to the queue from the door, whose
/// second runs out within the grace period here; the last test has it get
/// the slot while the process drains.)
async fn a_job_waiting_for_a_slot_at_shutdown_is_handed_back(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.worker_concurrency = 1;
        c.shutdown_timeout_seconds = 1;
        c.step_kill_grace_seconds = 1;
    })
    .await;
    let (api, project) = owner(&app).await;
    let marker = format!("30.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let run = two_long_steps(&api, project, &marker).await;
    // Time for the other job to be fetched; it then waits for the slot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, before) = api.get(&format!("/api/v1/runs/{run}")).await;
    let waiting: Vec<&str> = ["first", "second"]
        .into_iter()
        .filter(|t| step(&before, t)["state"] == "queued")
        .collect();
    assert_eq!(waiting.len(), 1, "one step at a time: {before:#}");
    let waiting = waiting[0];

    let (app, stopped) = app.restart_noting_stop().await;
    let api = api.at(&app.base);
    runs_after(&api, run, waiting, stopped).await;
    app.stop().await;
}
on_sqlite_and_postgres!(a_job_waiting_for_a_slot_at_shutdown_is_handed_back);

/// One slot here, and `first` running in it: `second`'s job, held at this
/// process's door, goes back to the queue within about a second, and a
/// worker process started meanwhile runs it beside `first` instead of
/// after it.
async fn a_job_held_at_a_busy_door_goes_to_a_free_process(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.worker_concurrency = 1).await;
    let (api, project) = owner(&app).await;
    let marker = format!("12.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let run = two_long_steps(&api, project, &marker).await;
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["worker", "--concurrency", "1"])
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .arg("--database-url")
        .arg(&app.db.url)
        .env("KILN_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kiln worker starts");
    let began = Instant::now();
    // Its own start, a second at the door and SQLite's two-second poll.
    while processes_running(&marker).len() < 2 {
        assert!(
            began.elapsed() < Duration::from_secs(7),
            "the second step waited for the first"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "cancelled", "{done:#}");
    worker.kill().unwrap();
    worker.wait().unwrap();
    app.stop().await;
}
on_sqlite_and_postgres!(a_job_held_at_a_busy_door_goes_to_a_free_process);

/// One slot, and `short` (0.8 s) running in it; `long`'s job, of another
/// run, waits at the door when the shutdown begins. `short` ends within
/// the grace period and before the door's second is up, so `long`'s job
/// gets the slot while the process drains: its claim hands it back
/// instead of starting it (without that, `long` starts and is then
/// stopped by the shutdown).
async fn a_job_given_a_slot_while_draining_is_handed_back(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.worker_concurrency = 1;
        c.shutdown_timeout_seconds = 3;
    })
    .await;
    let (api, project) = owner(&app).await;
    let marker = format!("30.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let short_marker = format!("0.8{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let short = format!("tasks:\n  short:\n    run: sleep {short_marker}\n");
    let long = format!("tasks:\n  long:\n    run: sleep {marker}\n");
    assert_eq!(save(&api, project, "short", &short).await.0, 200);
    assert_eq!(save(&api, project, "long", &long).await.0, 200);
    let first = start(&api, project, "short", json!({})).await;
    let began = Instant::now();
    while processes_running(&short_marker).is_empty() {
        assert!(began.elapsed() < Duration::from_secs(15), "no step started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let run = start(&api, project, "long", json!({})).await;
    // Time for its job to be fetched (it then waits at the door).
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (app, stopped) = app.restart_noting_stop().await;
    let api = api.at(&app.base);
    let (_, done) = api.get(&format!("/api/v1/runs/{first}")).await;
    assert_eq!(
        done["state"], "success",
        "ended in the grace period: {done:#}"
    );
    runs_after(&api, run, "long", stopped).await;
    app.stop().await;
}
on_sqlite_and_postgres!(a_job_given_a_slot_while_draining_is_handed_back);

/// A server with `server_runs_steps` off has no slots to show: no
/// `kiln_step_slots` sample in its metrics (a server that runs steps
/// shows its count; see `engine::diamond_passes_outputs`).
async fn a_server_that_runs_no_steps_shows_no_slots(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.server_runs_steps = false).await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let metrics = response.text().await.unwrap();
    let samples: Vec<&str> = metrics
        .lines()
        .filter(|line| !line.starts_with('#') && line.starts_with("kiln_step_slots"))
        .collect();
    assert!(samples.is_empty(), "{samples:?}");
    app.stop().await;
}
on_backends!(a_server_that_runs_no_steps_shows_no_slots: sqlite => Sqlite);
