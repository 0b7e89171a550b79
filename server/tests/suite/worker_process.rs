//! A real `kiln worker` process on another "machine" (its own process,
//! sharing only the database and the data directory) takes a step that
//! needs its label, and is killed with SIGKILL mid-step. The server's
//! sweeper notices the lease running out, and the run ends visibly: failed,
//! with a message naming the lost worker. A second worker then proves a
//! retried step is picked up again. The killed worker's step processes
//! die with it (a retry must not run beside the first try), and their
//! working directories are swept away. A worker on mimalloc keeps that
//! allocator's process settings to itself: a step sees neither them nor
//! their variables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Backend, TestApp};
use serde_json::{Value, json};

fn spawn_worker(app: &TestApp) -> Child {
    worker_command(app).spawn().expect("kiln worker starts")
}

fn worker_command(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command
        .args(["worker", "--concurrency", "2", "--labels", "remote"])
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .arg("--database-url")
        .arg(&app.db.url)
        .env("KILN_STEP_LEASE_SECONDS", "2")
        .env("KILN_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

async fn run_state(api: &crate::common::Api, run: i64) -> Value {
    api.get(&format!("/api/v1/runs/{run}")).await.1
}

async fn wait_for(
    api: &crate::common::Api,
    run: i64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let began = Instant::now();
    loop {
        let body = run_state(api, run).await;
        if done(&body) {
            return body;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "waiting for {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn killed_worker_fails_or_retries_visibly(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.step_lease_seconds = 2).await;
    let api = app.browser();
    api.sign_up("alice").await;
    let group = api.group("team", None).await;
    let project = api.project("app", group).await;
    crate::common::engine::grant_label(&api, "remote", project).await;
    // A sleep no other test runs, found in the host's process table.
    let marker = format!("20.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let source = format!(
        r#"
tasks:
  remote_only:
    runs_on: [remote]
    run: echo "on $KILN_TASK"; sleep {marker}; echo after
  resilient:
    runs_on: [remote]
    retries: 1
    retry_delay: 1s
    run: |
      if [ "$KILN_ATTEMPT" = "1" ]; then sleep {marker}; fi
      echo "attempt $KILN_ATTEMPT done"
"#
    );
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/workflows/remote"),
            Some(json!({ "source": source })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/remote/runs"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let run = body["id"].as_i64().unwrap();

    // The server has no `remote` label: only the worker process can take them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = run_state(&api, run).await;
    assert!(
        waiting["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "queued"),
        "{waiting:#}"
    );

    let mut worker = spawn_worker(&app);
    let pid = worker.id();
    let running = wait_for(&api, run, "both steps running on the worker", |r| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "running")
    })
    .await;
    for s in running["steps"].as_array().unwrap() {
        assert!(
            s["worker"].as_str().unwrap().ends_with(&format!(":{pid}")),
            "{s}"
        );
    }
    let began = Instant::now();
    while crate::common::engine::processes_running(&marker).len() < 2 {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the steps' sleeps never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let killed_at = Instant::now();
    while !crate::common::engine::processes_running(&marker).is_empty() {
        assert!(
            killed_at.elapsed() < Duration::from_secs(3),
            "the killed worker's steps still run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Lease 2 s + a sweep: the lost step is noticed in a few seconds.
    let noticed = wait_for(&api, run, "the lost steps noticed", |r| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] != "running")
    })
    .await;
    assert!(
        killed_at.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed_at.elapsed()
    );
    let step = |r: &Value, task: &str| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["task"] == task)
            .unwrap()
            .clone()
    };
    let lost = step(&noticed, "remote_only");
    assert_eq!(lost["state"], "failed");
    assert!(
        lost["message"].as_str().unwrap().contains("was lost"),
        "{lost}"
    );
    let retried = step(&noticed, "resilient");
    assert_eq!(retried["state"], "queued", "{retried}");
    assert_eq!(retried["attempt"], 2);

    // A new worker takes the retry; the run then ends, failed by the lost step.
    let mut second = spawn_worker(&app);
    let done = wait_for(&api, run, "the run to end", |r| r["state"] != "running").await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(done["state"], "failed", "{done:#}");
    assert_eq!(step(&done, "resilient")["state"], "success");
    // The killed worker's working directories went too (swept when the
    // second one started): nothing of the run's attempts is left.
    let run_dir = app.db.data_dir().join("work").join(run.to_string());
    let ended = Instant::now();
    loop {
        let left: Vec<_> = std::fs::read_dir(&run_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            ended.elapsed() < Duration::from_secs(5),
            "left behind: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}
on_all_backends!(killed_worker_fails_or_retries_visibly);

/// The `THP_enabled` line of a process's status: `1` unless the process
/// turned transparent huge pages off for itself.
fn thp_enabled(status: &str) -> &str {
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map_or("?", str::trim)
}

async fn a_workers_allocator_settings_stay_its_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = app.browser();
    api.sign_up("alice").await;
    let group = api.group("team", None).await;
    let project = api.project("app", group).await;
    crate::common::engine::grant_label(&api, "remote", project).await;
    let source = r#"
tasks:
  look:
    runs_on: [remote]
    run: grep THP_enabled /proc/self/status; echo "variables $(env | grep -c -e ALLOCATOR -e THP)"
"#;
    let (status, body) = crate::common::engine::save(&api, project, "look", source).await;
    assert_eq!(status, 200, "{body}");
    let mut worker = worker_command(&app)
        .env("KILN_ALLOCATOR", "mimalloc")
        .env_remove("MIMALLOC_ALLOW_THP")
        .spawn()
        .expect("kiln worker starts");
    let run = crate::common::engine::start(&api, project, "look", json!({})).await;
    let done = crate::common::engine::wait_end(&api, run).await;
    let own = std::fs::read_to_string(format!("/proc/{}/status", worker.id())).unwrap();
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(
        thp_enabled(&own),
        "0",
        "the worker turned them off for itself"
    );
    let log = crate::common::engine::log(&api, run, "look").await;
    let this = std::fs::read_to_string("/proc/self/status").unwrap();
    // Only a test process with them on shows that the step got them back.
    assert_eq!(thp_enabled(&this), "1", "this test needs THP allowed");
    let seen = log
        .lines()
        .find(|l| l.contains("THP_enabled:"))
        .and_then(|l| l.split_whitespace().last());
    assert_eq!(
        seen,
        Some(thp_enabled(&this)),
        "the step has the system's setting: {log}"
    );
    assert!(
        log.lines().any(|l| l.ends_with("variables 0")),
        "no allocator variable reached the step: {log}"
    );
    app.stop().await;
}
on_all_backends!(a_workers_allocator_settings_stay_its_own);
