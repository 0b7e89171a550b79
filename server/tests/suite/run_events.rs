//! Run events on SQLite, PostgreSQL and MariaDB: every change of a run and
//! its steps is recorded once, in order, by the transaction that makes it
//! (a rolled-back change leaves none), and `GET /runs/{id}/events` streams
//! them: a finished run's whole story, then the stream ends; a running
//! run's changes as they happen, resumable from `Last-Event-ID`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::engine::{owner, save, start, wait_end};
use crate::common::{Backend, TestApp};
use kiln_core::engine::{StepEvent, StepState};
use kiln_server::engine::repo::moves::{StepMove, StepRef, move_step_alone, move_steps};
use serde_json::{Value, json};

const STORY: &str = r#"
tasks:
  first:
    run: echo one
  flaky:
    needs: [first]
    retries: 1
    retry_delay: 0s
    run: exit 3
  after:
    needs: [flaky]
    run: echo never
  cleanup:
    needs: [flaky]
    trigger_rule: all_done
    run: echo tidy
"#;

/// One parsed server-sent event.
#[derive(Debug, Clone)]
struct Sent {
    id: i64,
    kind: String,
    data: Value,
}

fn parse_events(text: &str) -> Vec<Sent> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut sent = Sent {
                id: 0,
                kind: "message".into(),
                data: Value::Null,
            };
            let mut seen = false;
            for line in block.lines() {
                if let Some(id) = line.strip_prefix("id: ") {
                    sent.id = id.parse().ok()?;
                    seen = true;
                } else if let Some(kind) = line.strip_prefix("event: ") {
                    sent.kind = kind.to_owned();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    sent.data = serde_json::from_str(data).unwrap_or(Value::Null);
                }
            }
            seen.then_some(sent)
        })
        .collect()
}

/// The whole stream of an ended run (it ends by itself).
async fn story_of(app: &TestApp, api: &crate::common::Api, run: i64, after: i64) -> Vec<Sent> {
    let response = api
        .event_stream(&format!("/api/v1/runs/{run}/events?after={after}"))
        .await;
    let text = tokio::time::timeout(Duration::from_secs(10), response.text())
        .await
        .expect("an ended run's stream ends")
        .unwrap();
    let _ = app;
    parse_events(&text)
}

fn moves_of(events: &[Sent], task: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.data["task"] == task)
        .map(|e| {
            (
                e.data["from"].as_str().unwrap_or("").to_owned(),
                e.data["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

async fn every_change_is_one_event_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(&api, project, "story", STORY).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "story", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed", "{done:#}");

    let events = story_of(&app, &api, run, 0).await;
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "ids ascend, none repeated");
    assert_eq!(
        moves_of(&events, "first"),
        pairs(&[("queued", "running"), ("running", "success")])
    );
    assert_eq!(
        moves_of(&events, "flaky"),
        pairs(&[
            ("queued", "running"),
            ("running", "failed"),
            ("failed", "queued"),
            ("queued", "running"),
            ("running", "failed"),
        ])
    );
    let attempts: Vec<i64> = events
        .iter()
        .filter(|e| e.data["task"] == "flaky")
        .map(|e| e.data["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 1, 2, 2, 2]);
    assert_eq!(
        moves_of(&events, "after"),
        pairs(&[("queued", "upstream_failed")])
    );
    assert_eq!(
        moves_of(&events, "cleanup"),
        pairs(&[("queued", "running"), ("running", "success")])
    );
    let run_moves: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.kind == "run")
        .map(|e| {
            (
                e.data["from"].as_str().unwrap_or("").to_owned(),
                e.data["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(run_moves, pairs(&[("", "running"), ("running", "failed")]));
    assert_eq!(
        events.last().unwrap().kind,
        "run",
        "the run's end comes last"
    );
    // Each step event carries the step as it is now.
    let last_flaky = events.iter().rfind(|e| e.data["task"] == "flaky").unwrap();
    assert_eq!(last_flaky.data["step"]["state"], "failed");
    assert_eq!(last_flaky.data["step"]["exit_code"], 3);

    // Resuming after an id gives only what came after it.
    let middle = events[events.len() / 2].id;
    let rest = story_of(&app, &api, run, middle).await;
    assert_eq!(
        rest.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids.iter()
            .copied()
            .filter(|id| *id > middle)
            .collect::<Vec<_>>()
    );

    // A re-run's moves follow, and the run is reopened then ended again.
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "failed"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_end(&api, run).await;
    let again = story_of(&app, &api, run, *ids.last().unwrap()).await;
    let flaky: Vec<(String, String)> = moves_of(&again, "flaky");
    assert_eq!(
        flaky[0],
        ("failed".to_owned(), "queued".to_owned()),
        "{flaky:?}"
    );
    let reopened = again.iter().find(|e| e.kind == "run").unwrap();
    assert_eq!(reopened.data["from"], "failed");
    assert_eq!(reopened.data["to"], "running");
    app.stop().await;
}
on_all_backends!(every_change_is_one_event_in_order);

async fn a_rolled_back_change_leaves_no_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(
        &api,
        project,
        "wait",
        "tasks:\n  slow:\n    run: sleep 30\n  later:\n    needs: [slow]\n    run: 'true'\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "wait", json!({})).await;
    crate::common::engine::wait_until(&api, run, Duration::from_secs(20), |r| {
        crate::common::engine::step(r, "slow")["state"] == "running"
    })
    .await;
    let db = &app.server.database().conn;
    let count = || async {
        let events = story_of_now(&api, run).await;
        events.len()
    };
    let before = count().await;
    let (_, body) = api.get(&format!("/api/v1/runs/{run}")).await;
    let later = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["task"] == "later")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let txn = kiln_server::db::write_txn::begin(db).await.unwrap();
    let skip = [StepEvent::Skip];
    let moved = move_steps(
        &txn,
        run,
        &[StepRef {
            id: later,
            task: "later",
            attempt: 1,
            state: StepState::Queued,
        }],
        StepMove::one(&skip),
        0,
        |update| update,
    )
    .await
    .unwrap();
    assert_eq!(moved, vec![later], "the move itself worked");
    txn.rollback().await.unwrap();
    assert_eq!(count().await, before, "the rolled-back move left an event");
    let (_, body) = api.get(&format!("/api/v1/runs/{run}")).await;
    let states: BTreeMap<String, String> = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["task"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(states["later"], "queued");
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    app.stop().await;
}
on_all_backends!(a_rolled_back_change_leaves_no_event);

/// A step moved on its own (a worker's claim; one statement on
/// PostgreSQL) is written with its event, or not at all: a read that is no
/// longer true, or a filter of the caller's that does not hold, writes
/// neither the move nor an event.
async fn a_step_moved_alone_has_its_event_or_nothing(backend: Backend) {
    use kiln_server::db::entities::step;
    use sea_orm::{ColumnTrait, QueryFilter};

    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source =
        "tasks:\n  slow:\n    run: sleep 30\n  later:\n    needs: [slow]\n    run: 'true'\n";
    assert_eq!(save(&api, project, "wait", source).await.0, 200);
    let run = start(&api, project, "wait", json!({})).await;
    crate::common::engine::wait_until(&api, run, Duration::from_secs(20), |r| {
        crate::common::engine::step(r, "slow")["state"] == "running"
    })
    .await;
    let db = &app.server.database().conn;
    let (_, body) = api.get(&format!("/api/v1/runs/{run}")).await;
    let later = crate::common::engine::step(&body, "later")["id"]
        .as_i64()
        .unwrap();
    let row = kiln_server::engine::repo::step(db, later)
        .await
        .unwrap()
        .unwrap();
    let before = story_of_now(&api, run).await.len();
    let skip = [StepEvent::Skip];
    let stale = step::Model {
        attempt: 2,
        ..row.clone()
    };
    let moved = move_step_alone(db, &stale, StepMove::one(&skip), 7, |u| u).await;
    assert!(!moved.unwrap(), "moved on a stale attempt");
    // `later` waits for `slow`: it was never dispatched.
    let dispatched =
        |u: sea_orm::UpdateMany<step::Entity>| u.filter(step::Column::DispatchedAtMs.is_not_null());
    let moved = move_step_alone(db, &row, StepMove::one(&skip), 7, dispatched).await;
    assert!(!moved.unwrap(), "moved past the caller's filter");
    assert_eq!(
        story_of_now(&api, run).await.len(),
        before,
        "an event without its move"
    );
    let moved = move_step_alone(db, &row, StepMove::one(&skip), 7, |u| u).await;
    assert!(moved.unwrap());
    let events = story_of_now(&api, run).await;
    assert_eq!(events.len(), before + 1);
    assert_eq!(moves_of(&events, "later"), pairs(&[("queued", "skipped")]));
    let (_, body) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(
        crate::common::engine::step(&body, "later")["state"],
        "skipped"
    );
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    app.stop().await;
}
on_all_backends!(a_step_moved_alone_has_its_event_or_nothing);

/// The events of a run so far, from a stream read for a moment (the run
/// may still be going).
async fn story_of_now(api: &crate::common::Api, run: i64) -> Vec<Sent> {
    let mut response = api
        .request(reqwest::Method::GET, &format!("/api/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(300), response.chunk()).await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    parse_events(&text)
}

async fn a_running_run_is_followed_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = "tasks:\n  a:\n    run: sleep 1\n  b:\n    needs: [a]\n    run: echo b\n";
    let (status, body) = save(&api, project, "live", source).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "live", json!({})).await;
    let mut response = api
        .request(reqwest::Method::GET, &format!("/api/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the stream ends with the run");
    let events = parse_events(&text);
    assert_eq!(
        moves_of(&events, "b"),
        pairs(&[("queued", "running"), ("running", "success")]),
        "{text}"
    );
    let end = events.last().unwrap();
    assert_eq!(
        (end.kind.as_str(), &end.data["to"]),
        ("run", &json!("success"))
    );
    // Bad cursors are refused or ignored, never a 500 or a stall; no
    // stream without signing in.
    let (status, _) = api
        .raw("GET", &format!("/api/v1/runs/{run}/events?after=abc"), None)
        .await;
    assert!((400..500).contains(&status), "{status}");
    let (status, text) = api
        .raw(
            "GET",
            &format!("/api/v1/runs/{run}/events?after=-9223372036854775808"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(text.contains("event: run"), "{text}");
    let response = api
        .request(reqwest::Method::GET, &format!("/api/v1/runs/{run}/events"))
        .header("Last-Event-ID", "not a number; DROP TABLE kiln_runs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "an unreadable cursor counts as none"
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("event: run"), "{text}");
    let anonymous = crate::common::Api::new(&app.base);
    let (status, _) = anonymous.get(&format!("/api/v1/runs/{run}/events")).await;
    assert_eq!(status, 401);
    // Someone else may not follow it.
    let stranger = app.browser();
    stranger.sign_up("mallory").await;
    let (status, _) = stranger.get(&format!("/api/v1/runs/{run}/events")).await;
    assert_eq!(status, 404);
    app.stop().await;
}
on_all_backends!(a_running_run_is_followed_live);
