//! The engine's edges end to end, on SQLite, PostgreSQL and MariaDB:
//! `http:` steps (in `engine_io/http_steps.rs`), secrets, bad input, live
//! logs (and their bounds), logs through `object_store`, and worker labels
//! granted to groups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_steps;

use std::time::{Duration, Instant};

use crate::common::engine::{log, owner, save, start, step, wait_end, wait_until, walk};
use crate::common::{Backend, TestApp};
use serde_json::json;

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

async fn follow(api: &crate::common::Api, path: &str) -> reqwest::Response {
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
    crate::common::engine::grant_label(&admin, "deployer", project).await;
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
    // Only groups hold grants: a project or a missing id is not found.
    for target in [project, 9_999_999] {
        let (status, body) = admin
            .send(
                "PUT",
                &format!("/api/v1/worker-labels/deployer/groups/{target}"),
                None,
            )
            .await;
        assert_eq!(status, 404, "{target}: {body}");
    }
    app.stop().await;
}
on_all_backends!(worker_labels_are_granted_to_groups);
