//! The engine end to end, on SQLite, PostgreSQL and MariaDB: real workflows
//! saved through the API, real `/bin/sh` steps, real HTTP, real logs on
//! disk. Each test waits for runs through the API as a client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Api, Backend, TestApp};
use serde_json::{Value, json};

/// A signed-in owner with a project.
async fn owner(app: &TestApp) -> (Api, i64) {
    let api = app.browser();
    api.sign_up("alice").await;
    let group = api.group("team", None).await;
    let project = api.project("app", group).await;
    (api, project)
}

async fn save(api: &Api, project: i64, name: &str, source: &str) -> (u16, Value) {
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/workflows/{name}"),
        Some(json!({ "source": source })),
    )
    .await
}

async fn start(api: &Api, project: i64, name: &str, params: Value) -> i64 {
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/{name}/runs"),
            json!({ "params": params }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Polls the run until `done` says so (default: it has ended).
async fn wait_until(api: &Api, run: i64, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let began = Instant::now();
    loop {
        let (status, body) = api.get(&format!("/api/v1/runs/{run}")).await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            began.elapsed() < limit,
            "run {run} not there after {limit:?}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_end(api: &Api, run: i64) -> Value {
    wait_until(api, run, Duration::from_secs(60), |r| {
        r["state"] != "running"
    })
    .await
}

fn step<'a>(run: &'a Value, task: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["task"] == task)
        .unwrap_or_else(|| panic!("no step {task} in {run:#}"))
}

async fn log(api: &Api, run: i64, task: &str) -> String {
    let response = api
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/runs/{run}/steps/{task}/log"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

const DIAMOND: &str = r#"
params:
  who: { type: string, default: "world; rm -rf /" }
  count: { type: integer, default: "2" }
tasks:
  start:
    run: |
      echo hello {{ params.who }}
      echo "version=1.$KILN_PARAM_COUNT" >> "$KILN_OUTPUT"
  left:
    needs: [start]
    run: echo "left=L{{ tasks.start.outputs.version }}" >> "$KILN_OUTPUT"
  right:
    needs: [start]
    run: echo "right=R{{ tasks.start.outputs.version }}" >> "$KILN_OUTPUT"
  join:
    needs: [left, right]
    run: echo "joined={{ tasks.left.outputs.left }}+{{ tasks.right.outputs.right }}" >> "$KILN_OUTPUT"
"#;

async fn diamond_passes_outputs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(&api, project, "diamond", DIAMOND).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    let run = start(&api, project, "diamond", json!({"count": 7})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(done["version"], 1);
    assert_eq!(done["trigger"], "manual");
    assert_eq!(step(&done, "join")["outputs"]["joined"], "L1.7+R1.7");
    // Nothing of the run's working directories is left behind.
    assert!(
        !app.db
            .data_dir()
            .join("work")
            .join(run.to_string())
            .exists()
    );
    let text = log(&api, run, "start").await;
    // The param went in quoted: printed, never executed.
    assert!(text.contains(" O hello world; rm -rf /"), "{text}");
    let join = step(&done, "join");
    let (left, right) = (step(&done, "left"), step(&done, "right"));
    assert!(join["started_at"].as_str() >= left["finished_at"].as_str());
    assert!(join["started_at"].as_str() >= right["finished_at"].as_str());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for needle in [
        "kiln_runs_total{kind=\"workflow\",state=\"success\"} 1",
        "kiln_steps_total{state=\"success\"} 4",
        "kiln_step_duration_seconds_bucket",
        "kiln_job_wait_seconds_bucket",
        "kiln_queue_depth",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from:\n{metrics}"
        );
    }
    app.stop().await;
}
on_all_backends!(diamond_passes_outputs);

async fn retries_then_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let counter = app.db.data_dir().join("counter");
    let source = format!(
        r#"
tasks:
  flaky:
    retries: 2
    retry_delay: 1s
    run: |
      n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}
      echo "try $n"
      [ "$n" -ge 2 ]
"#,
        c = counter.display()
    );
    assert_eq!(save(&api, project, "flaky", &source).await.0, 200);
    let run = start(&api, project, "flaky", json!({})).await;
    let done = wait_end(&api, run).await;
    let flaky = step(&done, "flaky");
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(flaky["attempt"], 2);
    assert_eq!(flaky["retries_left"], 1);
    let response = api
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/runs/{run}/steps/flaky/log?attempt=1"),
        )
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(
        text.contains("try 1") && text.contains("failed: exited with code 1"),
        "{text}"
    );
    app.stop().await;
}
on_all_backends!(retries_then_succeeds);

async fn timeouts_kill_and_fail_downstream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  slow:
    timeout: 1s
    run: sleep 30
  after:
    needs: [slow]
    run: echo never
  cleanup:
    needs: [slow]
    trigger_rule: all_done
    run: echo cleaning
"#;
    assert_eq!(save(&api, project, "slow", source).await.0, 200);
    let began = Instant::now();
    let run = start(&api, project, "slow", json!({})).await;
    let done = wait_end(&api, run).await;
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(step(&done, "slow")["state"], "timed_out");
    assert_eq!(step(&done, "after")["state"], "upstream_failed");
    assert_eq!(step(&done, "cleanup")["state"], "success");
    // The leaves decide: `after` failed upstream, so the run failed.
    assert_eq!(done["state"], "failed");
    app.stop().await;
}
on_all_backends!(timeouts_kill_and_fail_downstream);

async fn cancel_stops_running_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let pid_file = app.db.data_dir().join("pid");
    let source = format!(
        r#"
tasks:
  long:
    run: echo $$ > {p}; exec sleep 60
  next:
    needs: [long]
    run: echo next
"#,
        p = pid_file.display()
    );
    assert_eq!(save(&api, project, "long", &source).await.0, 200);
    let run = start(&api, project, "long", json!({})).await;
    wait_until(&api, run, Duration::from_secs(20), |r| {
        step(r, "long")["state"] == "running"
    })
    .await;
    while !pid_file.exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let began = Instant::now();
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(step(&body, "next")["state"], "cancelled");
    // The process is gone within two seconds.
    while nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok() {
        assert!(
            began.elapsed() < Duration::from_secs(2),
            "step process still alive"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 409);
    app.stop().await;
}
on_all_backends!(cancel_stops_running_steps);

async fn rerun_failed_keeps_successes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let flag = app.db.data_dir().join("fixed");
    let source = format!(
        r#"
tasks:
  build:
    run: echo "artifact=a1" >> "$KILN_OUTPUT"
  test:
    needs: [build]
    run: test -f {f}
  deploy:
    needs: [test]
    run: echo deploying {{{{ tasks.build.outputs.artifact }}}}
"#,
        f = flag.display()
    );
    assert_eq!(save(&api, project, "ci", &source).await.0, 200, "{source}");
    let run = start(&api, project, "ci", json!({})).await;
    let first = wait_end(&api, run).await;
    assert_eq!(first["state"], "failed");
    assert_eq!(step(&first, "test")["state"], "failed");
    assert_eq!(step(&first, "deploy")["state"], "upstream_failed");
    std::fs::write(&flag, "").unwrap();
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/retry"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], json!(["test", "deploy"]));
    let second = wait_end(&api, run).await;
    assert_eq!(second["state"], "success", "{second:#}");
    assert_eq!(step(&second, "build")["attempt"], 1);
    assert_eq!(step(&second, "test")["attempt"], 2);
    assert!(log(&api, run, "deploy").await.contains("deploying a1"));
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/retry"), json!({}))
        .await;
    assert_eq!(status, 409, "nothing failed any more");
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let third = wait_end(&api, run).await;
    assert_eq!(step(&third, "build")["attempt"], 2);
    app.stop().await;
}
on_all_backends!(rerun_failed_keeps_successes);

/// A tiny HTTP server answering every request with `status` and a JSON body.
async fn http_target(status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |body: String| async move {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            format!("{{\"echo\":{:?}}}", body),
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn http_tasks_call_and_check_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let ok = http_target(200).await;
    let teapot = http_target(418).await;
    let source = format!(
        r#"
params:
  name: {{ type: string, default: kiln }}
tasks:
  call:
    http:
      method: POST
      url: "{ok}/hello"
      body: "hi {{{{ params.name }}}}"
  use:
    needs: [call]
    run: echo "got {{{{ tasks.call.outputs.status }}}}"
  refused:
    http:
      url: "{teapot}/"
      expect: [200, 201]
"#
    );
    assert_eq!(save(&api, project, "calls", &source).await.0, 200);
    let run = start(&api, project, "calls", json!({})).await;
    let done = wait_end(&api, run).await;
    let call = step(&done, "call");
    assert_eq!(call["state"], "success", "{done:#}");
    assert_eq!(call["outputs"]["status"], "200");
    assert_eq!(call["outputs"]["body"], "{\"echo\":\"hi kiln\"}");
    assert!(log(&api, run, "use").await.contains("got 200"));
    let refused = step(&done, "refused");
    assert_eq!(refused["state"], "failed");
    assert_eq!(refused["exit_code"], 418);
    assert!(refused["message"].as_str().unwrap().contains("418"));
    assert!(log(&api, run, "refused").await.contains("418"));
    app.stop().await;
}
on_all_backends!(http_tasks_call_and_check_status);

async fn secrets_reach_steps_but_never_logs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (_, me) = api.get(&format!("/api/v1/projects/{project}")).await;
    let group = me["parent_id"].as_i64().unwrap();
    let value = "s3cr3t-v4lue-xyz";
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/groups/{group}/secrets/TOKEN"),
            Some(json!({"value": "group-level"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/TOKEN"),
            Some(json!({"value": value})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .send(
            "PUT",
            &format!("/api/v1/groups/{group}/secrets/ONLY_GROUP"),
            Some(json!({"value": "from-group"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/bad-name"),
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("name"))
    );
    let (_, listed) = api
        .get(&format!("/api/v1/projects/{project}/secrets"))
        .await;
    assert_eq!(listed["items"][0]["name"], "TOKEN");
    assert!(!listed.to_string().contains(value));
    let source = r#"
tasks:
  use:
    secrets: [TOKEN, ONLY_GROUP]
    run: |
      echo "token is $TOKEN"
      echo "group gives $ONLY_GROUP"
      echo "leak=$TOKEN" >> "$KILN_OUTPUT"
      [ "$TOKEN" = "s3cr3t-v4lue-xyz" ]
"#;
    assert_eq!(save(&api, project, "secretive", source).await.0, 200);
    let run = start(&api, project, "secretive", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    let text = log(&api, run, "use").await;
    assert!(text.contains("token is ***"), "{text}");
    assert!(text.contains("group gives ***"), "{text}");
    // Outputs are shown to every viewer: masked too.
    assert_eq!(step(&done, "use")["outputs"]["leak"], "***");
    assert!(!done.to_string().contains(value));
    // Nothing stored under the data directory holds the value.
    for entry in walk(&app.db.data_dir().join("logs")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(value),
            "{}",
            entry.display()
        );
    }
    app.stop().await;
}
on_all_backends!(secrets_reach_steps_but_never_logs);

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn bad_input_is_named(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.step_log_max_bytes = 1024 * 1024).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(
        &api,
        project,
        "broken",
        "tasks:\n  a:\n    run: x\n    needs: [nope]\n",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_definition");
    assert_eq!(body["error"]["problems"][0]["line"], 4, "{body}");
    let (status, _) = api
        .get(&format!("/api/v1/projects/{project}/workflows/broken"))
        .await;
    assert_eq!(status, 404, "nothing half-written");
    let (status, body) = save(&api, project, "Bad Name", "tasks:\n  a:\n    run: x\n").await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("name"))
    );

    let source = r#"
params:
  count: { type: integer }
tasks:
  missing:
    run: no-such-command-anywhere
  chatty:
    run: head -c 100000000 /dev/zero | tr '\0' 'a'; head -c 3000 /dev/urandom
"#;
    assert_eq!(save(&api, project, "odd", source).await.0, 200);
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/odd/runs"),
            json!({"params": {"count": "many"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "params.count");
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/odd/runs"),
            json!({"params": {}}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("params.count"))
    );
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/odd/runs"),
            json!({"params": {"count": [1]}}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("params.count"))
    );

    let run = start(&api, project, "odd", json!({"count": 3})).await;
    let done = wait_end(&api, run).await;
    let missing = step(&done, "missing");
    assert_eq!(missing["exit_code"], 127);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("command not found")
    );
    let chatty = step(&done, "chatty");
    assert_eq!(chatty["state"], "success", "{done:#}");
    let text = log(&api, run, "chatty").await;
    assert!(text.len() < 1024 * 1024 + 4096, "{}", text.len());
    assert!(text.contains("log cut at 1048576 bytes"));
    let (status, _) = api.get(&format!("/api/v1/runs/{run}/steps/nope/log")).await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/api/v1/runs/999999").await;
    assert_eq!(status, 404);
    app.stop().await;
}
on_all_backends!(bad_input_is_named);

async fn live_log_follows_and_resumes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  ticking:
    run: for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.2; done
"#;
    assert_eq!(save(&api, project, "ticks", source).await.0, 200);
    let run = start(&api, project, "ticks", json!({})).await;
    let path = format!("/api/v1/runs/{run}/steps/ticking/log");
    let response = api
        .request(reqwest::Method::GET, &path)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("event: end"), "{body}");
    for i in 1..=5 {
        assert!(body.contains(&format!("tick {i}")), "{body}");
    }
    // Resume after the first event: what follows, nothing repeated.
    let first_id: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .parse()
        .unwrap();
    let resumed = api
        .request(reqwest::Method::GET, &path)
        .header("accept", "text/event-stream")
        .header("last-event-id", first_id.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let full = log(&api, run, "ticking").await;
    let rest = String::from_utf8_lossy(&full.as_bytes()[first_id as usize..]).into_owned();
    for line in rest.lines() {
        assert!(resumed.contains(line), "{line} missing from {resumed}");
    }
    assert!(!resumed.contains(full.lines().next().unwrap()));
    app.stop().await;
}
on_all_backends!(live_log_follows_and_resumes);

async fn queued_steps_survive_a_restart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    // No worker has the label yet: the steps wait in the queue.
    let source = r#"
tasks:
  first:
    runs_on: [later]
    run: echo "first=1" >> "$KILN_OUTPUT"
  second:
    needs: [first]
    runs_on: [later]
    run: echo second saw {{ tasks.first.outputs.first }}
"#;
    assert_eq!(save(&api, project, "patient", source).await.0, 200);
    let run = start(&api, project, "patient", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, waiting) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(step(&waiting, "first")["state"], "queued");

    let mut app = app;
    app.config.worker_labels = "later".into();
    let app = app.restart().await;
    let api = api.at(&app.base);
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert!(log(&api, run, "second").await.contains("second saw 1"));
    app.stop().await;
}
on_all_backends!(queued_steps_survive_a_restart);

/// Logs through the `object_store` backend (a directory served by it; S3 is
/// the same code with another URL): written in chunks, read whole, followed
/// live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_an_object_store() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.log_store_url = Some(url)).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  talk:
    run: for i in 1 2 3; do echo "line $i"; sleep 0.3; done
"#;
    assert_eq!(save(&api, project, "talk", source).await.0, 200);
    let run = start(&api, project, "talk", json!({})).await;
    let streamed = api
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/runs/{run}/steps/talk/log"),
        )
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for i in 1..=3 {
        assert!(streamed.contains(&format!("line {i}")), "{streamed}");
    }
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success");
    let text = log(&api, run, "talk").await;
    assert!(
        text.contains("line 3") && text.contains("[kiln] succeeded"),
        "{text}"
    );
    // Several chunk objects, none of them in the data directory.
    let chunks = walk(store.path());
    assert!(chunks.len() >= 2, "{chunks:?}");
    assert!(walk(&app.db.data_dir().join("logs")).is_empty());
    app.stop().await;
}

/// A task loaded only as another's need must not be planned on partial
/// facts: `d` waits for `n`, which waits for the slow `y`.
async fn partial_planning_waits_for_unloaded_upstream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  t: { run: "true" }
  x: { run: "true" }
  y: { run: "sleep 1" }
  n:
    needs: [x, y]
    trigger_rule: one_failed
    run: echo never
  d:
    needs: [t, n, x]
    trigger_rule: none_failed
    run: echo done
"#;
    assert_eq!(save(&api, project, "partial", source).await.0, 200);
    let run = start(&api, project, "partial", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "n")["state"], "skipped", "{done:#}");
    assert_eq!(step(&done, "d")["state"], "success", "{done:#}");
    assert!(
        step(&done, "d")["started_at"].as_str() >= step(&done, "y")["finished_at"].as_str(),
        "d started before y ended: {done:#}"
    );
    app.stop().await;
}
on_all_backends!(partial_planning_waits_for_unloaded_upstream);
