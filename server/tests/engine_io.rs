//! The engine's edges end to end, on SQLite, PostgreSQL and MariaDB:
//! `http:` steps against a real server and the addresses they may not
//! reach, secrets, bad input, live logs (and their bounds), and logs
//! through `object_store`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::engine::{log, owner, save, start, step, wait_end, wait_until, walk};
use common::{Backend, TestApp};
use serde_json::json;

/// A tiny HTTP server on `ip` answering every request with `status` and a
/// JSON body; the counter says how many requests reached it.
async fn http_target_on(ip: &str, status: u16) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                format!("{{\"echo\":{:?}}}", body),
            )
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

async fn http_target(status: u16) -> String {
    http_target_on("127.0.0.1", status).await.0
}

/// A server on `ip` answering every request with a redirect to `location`.
async fn redirector_on(ip: &str, location: String) -> String {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move { axum::response::Redirect::temporary(&location) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The tests' targets listen on loopback, which `http:` steps may not
/// reach unless allowed.
fn allow_loopback(config: &mut kiln_server::config::Config) {
    config.http_step_allow_networks = "127.0.0.0/8".parse().unwrap();
}

async fn http_tasks_call_and_check_status(backend: Backend) {
    let app = TestApp::spawn_with(backend, allow_loopback).await;
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

/// The message of a failed step, which must name why and what to change.
fn refusal<'a>(run: &'a serde_json::Value, task: &str) -> &'a str {
    let step = step(run, task);
    assert_eq!(step["state"], "failed", "{task}: {run:#}");
    let message = step["message"].as_str().unwrap();
    assert!(
        message.starts_with("request refused: ") && message.contains("http_step_allow_networks"),
        "{task}: {message}"
    );
    assert!(step["outputs"].get("body").is_none(), "{task}: {step:#}");
    message
}

async fn http_steps_refuse_internal_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (target, hits) = http_target_on("127.0.0.1", 200).await;
    let port = target.rsplit(':').next().unwrap();
    let kiln = &app.base;
    let source = format!(
        r#"
tasks:
  literal: {{ http: {{ url: "{target}/" }} }}
  named: {{ http: {{ url: "http://localhost:{port}/" }} }}
  mapped: {{ http: {{ url: "http://[::ffff:127.0.0.1]:{port}/" }} }}
  decimal: {{ http: {{ url: "http://2130706433:{port}/" }} }}
  unspecified: {{ http: {{ url: "http://0.0.0.0:{port}/" }} }}
  metadata: {{ http: {{ url: "http://169.254.169.254/latest/meta-data/" }} }}
  private: {{ http: {{ url: "http://10.0.0.1/" }} }}
  cgnat: {{ http: {{ url: "http://100.64.0.1/" }} }}
  unique_local: {{ http: {{ url: "http://[fd00::1]/" }} }}
  kiln_metrics: {{ http: {{ url: "{kiln}/metrics" }} }}
"#
    );
    assert_eq!(save(&api, project, "probe", &source).await.0, 200);
    let run = start(&api, project, "probe", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed");
    let expected = [
        ("literal", "127.0.0.1 is a loopback address"),
        ("named", "localhost resolves to "),
        ("mapped", "127.0.0.1 is a loopback address"),
        ("decimal", "127.0.0.1 is a loopback address"),
        ("unspecified", "0.0.0.0 is an unspecified address"),
        ("metadata", "169.254.169.254 is a link-local address"),
        ("private", "10.0.0.1 is a private address"),
        (
            "cgnat",
            "100.64.0.1 is a shared (carrier-grade NAT) address",
        ),
        ("unique_local", "fd00::1 is a unique-local address"),
        ("kiln_metrics", "127.0.0.1 is a loopback address"),
    ];
    for (task, says) in expected {
        let message = refusal(&done, task);
        assert!(message.contains(says), "{task}: {message}");
    }
    assert!(refusal(&done, "named").contains("a loopback address"));
    assert!(
        log(&api, run, "kiln_metrics")
            .await
            .contains("request refused"),
        "the log says so too"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the target");
    app.stop().await;
}
on_all_backends!(http_steps_refuse_internal_addresses);

/// Only 127.0.0.2 is allowed: a server there works, and its redirects to
/// 127.0.0.1 (by address or by name) are refused at the hop.
async fn http_step_redirects_are_checked_again(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.http_step_allow_networks = "127.0.0.2/32".parse().unwrap();
    })
    .await;
    let (api, project) = owner(&app).await;
    let (inside, hits) = http_target_on("127.0.0.1", 200).await;
    let port = inside.rsplit(':').next().unwrap();
    let (allowed, allowed_hits) = http_target_on("127.0.0.2", 200).await;
    let to_literal = redirector_on("127.0.0.2", format!("{inside}/secret")).await;
    let to_name = redirector_on("127.0.0.2", format!("http://localhost:{port}/secret")).await;
    let to_allowed = redirector_on("127.0.0.2", format!("{allowed}/landed")).await;
    let source = format!(
        r#"
tasks:
  allowed: {{ http: {{ url: "{allowed}/" }} }}
  via_allowed: {{ http: {{ url: "{to_allowed}/" }} }}
  via_literal: {{ http: {{ url: "{to_literal}/" }} }}
  via_name: {{ http: {{ url: "{to_name}/" }} }}
  direct: {{ http: {{ url: "{inside}/" }} }}
"#
    );
    assert_eq!(save(&api, project, "hops", &source).await.0, 200);
    let run = start(&api, project, "hops", json!({})).await;
    let done = wait_end(&api, run).await;
    for task in ["allowed", "via_allowed"] {
        let ok = step(&done, task);
        assert_eq!(ok["state"], "success", "{task}: {done:#}");
        assert_eq!(ok["outputs"]["status"], "200");
    }
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2);
    assert!(refusal(&done, "via_literal").contains("127.0.0.1 is a loopback address"));
    let by_name = refusal(&done, "via_name");
    assert!(
        by_name.contains("localhost resolves to") && by_name.contains("loopback"),
        "{by_name}"
    );
    assert!(refusal(&done, "direct").contains("127.0.0.1 is a loopback address"));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no hop reached 127.0.0.1");
    app.stop().await;
}
on_all_backends!(http_step_redirects_are_checked_again);

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

async fn follow(api: &common::Api, path: &str) -> reqwest::Response {
    api.request(reqwest::Method::GET, path)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

/// One live stream per user here (`log_streams_per_user = 1`): a second is
/// refused with 429, Retry-After and the JSON error; a stream with no new
/// output for the idle time ends, and its place is free again.
async fn live_logs_are_bounded(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.log_streams_per_user = 1;
        c.log_stream_idle_seconds = 2;
    })
    .await;
    let (api, project) = owner(&app).await;
    let source = "tasks:\n  quiet:\n    run: echo started; sleep 60\n";
    assert_eq!(save(&api, project, "quiet", source).await.0, 200);
    let run = start(&api, project, "quiet", json!({})).await;
    wait_until(&api, run, Duration::from_secs(30), |r| {
        step(r, "quiet")["state"] == "running"
    })
    .await;
    let path = format!("/api/v1/runs/{run}/steps/quiet/log");
    let first = follow(&api, &path).await;
    assert_eq!(first.status(), 200);

    let second = follow(&api, &path).await;
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");

    let began = Instant::now();
    let text = first.text().await.unwrap();
    assert!(text.contains("started"), "{text}");
    assert!(text.contains("event: timeout"), "{text}");
    assert!(!text.contains("event: end"), "the step still runs: {text}");
    assert!(began.elapsed() < Duration::from_secs(30));

    // The ended stream gave its place back (the server notices at once, or
    // nearly).
    let mut third = follow(&api, &path).await;
    for _ in 0..20 {
        if third.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        third = follow(&api, &path).await;
    }
    assert_eq!(third.status(), 200);
    drop(third);
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert!(status < 300, "{status} {body}");
    wait_end(&api, run).await;
    app.stop().await;
}
on_all_backends!(live_logs_are_bounded);

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

/// `runs_on:` names only labels granted to the project's groups: another
/// team's project cannot send steps to them, and a revoked grant stops new
/// runs (422 naming the label), while the grant list shows who has what.
async fn worker_labels_are_granted_to_groups(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, project) = owner(&app).await;
    let source = "tasks:\n  ship:\n    runs_on: [deployer]\n    run: ./deploy\n";
    let (status, body) = save(&admin, project, "ship", source).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"deployer\""),
        "{body}"
    );
    common::engine::grant_label(&admin, "deployer", project).await;
    assert_eq!(save(&admin, project, "ship", source).await.0, 200);
    // A project in another top-level group does not inherit the grant.
    let other_group = admin.group("others", None).await;
    let other = admin.project("theirs", other_group).await;
    let (status, body) = save(&admin, other, "ship", source).await;
    assert_eq!(status, 422, "{body}");
    let (status, list) = admin.get("/api/v1/worker-labels").await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["label"], "deployer");
    assert_eq!(list["items"][0]["group_path"], "team");
    let group = list["items"][0]["group_id"].as_i64().unwrap();
    let (status, _) = admin
        .send(
            "DELETE",
            &format!("/api/v1/worker-labels/deployer/groups/{group}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = admin
        .post(
            &format!("/api/v1/projects/{project}/workflows/ship/runs"),
            json!({}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"deployer\""),
        "{body}"
    );
    let (status, body) = admin
        .send(
            "PUT",
            &format!("/api/v1/worker-labels/Bad%20Label/groups/{group}"),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    app.stop().await;
}
on_all_backends!(worker_labels_are_granted_to_groups);
