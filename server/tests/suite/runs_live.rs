//! `GET /api/v1/runs/events` on SQLite and PostgreSQL: a signed-in caller
//! hears of the runs of projects they can see (created, moved, ended) and
//! of nothing else, and no more once their role is taken away or their
//! token revoked; several changes close together come as one event; a
//! move recorded late is news, the past the feed reads again is not; an
//! anonymous caller is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::common::engine::{developer_elsewhere, owner, save, start, wait_end};
use crate::common::{Api, Backend, TestApp};

const OK: &str = "tasks:\n  only:\n    run: echo ok\n";

/// An open stream of `api`'s run changes.
async fn listen(api: &Api) -> reqwest::Response {
    api.event_stream("/api/v1/runs/events").await
}

/// The run ids named by `changed` events read for `window`.
async fn heard(response: &mut reqwest::Response, window: Duration) -> (Vec<i64>, usize) {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut ids = Vec::new();
    let mut events = 0;
    for block in text.split("\n\n") {
        if !block.lines().any(|l| l == "event: changed") {
            continue;
        }
        events += 1;
        let data = block
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap_or("{}");
        let body: Value = serde_json::from_str(data).unwrap();
        assert_eq!(body["everything"], false, "{body}");
        ids.extend(
            body["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap()),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    (ids, events)
}

async fn run_changes_reach_only_those_who_may_see_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alice, team_app) = owner(&app).await;
    assert_eq!(save(&alice, team_app, "ok", OK).await.0, 200);
    let (bob, bob_id, bobs, bobs_b) = developer_elsewhere(&app, &alice).await;
    assert_eq!(save(&bob, bobs_b, "ok", OK).await.0, 200);

    assert_eq!(
        app.browser()
            .request(reqwest::Method::GET, "/api/v1/runs/events")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let mut alice_hears = listen(&alice).await;
    let mut bob_hears = listen(&bob).await;

    let alices = start(&alice, team_app, "ok", json!({})).await;
    let bobs_run = start(&bob, bobs_b, "ok", json!({})).await;
    wait_end(&alice, alices).await;
    wait_end(&bob, bobs_run).await;

    let (alice_ids, alice_events) = heard(&mut alice_hears, Duration::from_secs(3)).await;
    assert_eq!(
        alice_ids,
        vec![alices, bobs_run],
        "alice sees both projects"
    );
    let (bob_ids, bob_events) = heard(&mut bob_hears, Duration::from_secs(1)).await;
    assert_eq!(bob_ids, vec![bobs_run], "bob hears nothing of team/app");
    // Two runs of a few moves each, within two seconds: a handful of
    // events, not one per move.
    assert!(alice_events <= 4, "{alice_events} events");
    assert!((1..=4).contains(&bob_events), "{bob_events} events");

    // Bob loses his role: his open stream names no run of bobs/b any more.
    let (status, answer) = alice
        .send(
            "DELETE",
            &format!("/api/v1/groups/{bobs}/members/{bob_id}"),
            None,
        )
        .await;
    assert!(status < 300, "{answer}");
    // A token revoked while its stream is open ends the stream.
    let (_, token) = alice
        .post(
            "/api/v1/me/tokens",
            json!({"name": "live", "scope": "read"}),
        )
        .await;
    let mut token_hears = app
        .client
        .get(app.url("/api/v1/runs/events"))
        .bearer_auth(token["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(token_hears.status(), 200);
    let (status, answer) = alice
        .send(
            "DELETE",
            &format!("/api/v1/me/tokens/{}", token["id"]),
            None,
        )
        .await;
    assert!(status < 300, "{answer}");
    let after = start(&alice, bobs_b, "ok", json!({})).await;
    wait_end(&alice, after).await;
    let (bob_ids, _) = heard(&mut bob_hears, Duration::from_secs(3)).await;
    assert!(bob_ids.is_empty(), "bob still hears of {bob_ids:?}");
    let (token_ids, _) = heard(&mut token_hears, Duration::from_secs(1)).await;
    assert!(
        token_ids.is_empty(),
        "a revoked token still hears of {token_ids:?}"
    );
    let (alice_ids, _) = heard(&mut alice_hears, Duration::from_secs(1)).await;
    assert_eq!(alice_ids, vec![after]);
    app.stop().await;
}
on_sqlite_and_postgres!(run_changes_reach_only_those_who_may_see_them);

/// The past the feed reads again when a stream starts it is not news; a
/// move the feed reads for the first time is, however old its time: a
/// step's end is stamped before it is recorded, minutes before after a
/// database outage.
async fn a_move_recorded_late_is_news(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alice, project) = owner(&app).await;
    assert_eq!(save(&alice, project, "ok", OK).await.0, 200);
    let run = start(&alice, project, "ok", json!({})).await;
    wait_end(&alice, run).await;
    // Past the slack the stream gives the moves just before it opened.
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let mut hears = listen(&alice).await;
    let (ids, _) = heard(&mut hears, Duration::from_millis(1_500)).await;
    assert!(ids.is_empty(), "the feed's past came as news: {ids:?}");
    // Recorded now, stamped ten minutes ago.
    let conn = &app.server.database().conn;
    let stamped = chrono::Utc::now().timestamp_millis() - 600_000;
    conn.execute_unprepared(&format!(
        "INSERT INTO kiln_run_events (run_id, from_state, to_state, at_ms) \
         VALUES ({run}, 'running', 'success', {stamped})"
    ))
    .await
    .unwrap();
    let (ids, _) = heard(&mut hears, Duration::from_secs(3)).await;
    assert_eq!(ids, vec![run], "a move recorded late was not news");
    app.stop().await;
}
on_sqlite_and_postgres!(a_move_recorded_late_is_news);

/// One caller holds a few run-list streams at most (one per open tab):
/// the next is refused with 429 and Retry-After, and live logs keep their
/// own places.
#[tokio::test]
async fn a_caller_holds_only_a_few_list_streams() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, _) = owner(&app).await;
    let mut open = Vec::new();
    for _ in 0..6 {
        open.push(listen(&alice).await);
    }
    let refused = alice
        .request(reqwest::Method::GET, "/api/v1/runs/events")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // Closing one gives its place back.
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        let response = alice
            .request(reqwest::Method::GET, "/api/v1/runs/events")
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            again = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        again.is_some(),
        "a closed stream's place was not given back"
    );
    app.stop().await;
}
