//! A run closes exactly once, at once, when its last steps end at the same
//! moment: the ends of tasks nothing needs take no run lock, and whichever
//! end commits last closes the run (`engine::run_close`). Many leaves and a
//! few tasks with dependants end together on several slots, run after run.
//! The sweeper closes a run left open too, but only on its next pass (up
//! to a second later): a close that waited for it fails the first test
//! (the ends close a run within a few milliseconds of its last step; the
//! test allows a quarter of a second, for a loaded machine).

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use chrono::{DateTime, Utc};

use crate::common::engine::{owner, save, start, step, wait_end};
use crate::common::{Backend, TestApp};

/// Leaves ending together, next to ends under the run lock: `root` is
/// needed by `left` and `right`, which `join` needs; `left` and `right`
/// start and end together, as do the leaves `w0`…`w23`, six at a time
/// (the slots), the last of them after `join`.
fn source() -> String {
    let mut source = String::from(
        "tasks:\n  root:\n    run: \"true\"\n  left:\n    needs: [root]\n    run: \"true\"\n  \
         right:\n    needs: [root]\n    run: \"true\"\n  join:\n    needs: [left, right]\n    run: \"true\"\n",
    );
    for i in 0..24 {
        source.push_str(&format!("  w{i}:\n    run: sleep 0.2\n"));
    }
    source
}

fn at(value: &serde_json::Value, field: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value[field].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// How many times run `run` ended (its own state events out of running).
async fn closes(app: &TestApp, run: i64) -> i64 {
    let conn = &app.server.database().conn;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM kiln_run_events \
                 WHERE run_id = {run} AND step_id IS NULL AND from_state = 'running'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn a_run_closes_once_when_its_last_steps_end_together(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.worker_concurrency = 6).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(&api, project, "wide", &source()).await;
    assert_eq!(status, 200, "{body}");
    for round in 0..3 {
        // Off the sweeper's beat, differently each round.
        tokio::time::sleep(std::time::Duration::from_millis(330 * round)).await;
        let runs = [
            start(&api, project, "wide", json!({})).await,
            start(&api, project, "wide", json!({})).await,
        ];
        for run in runs {
            let done = wait_end(&api, run).await;
            assert_eq!(done["state"], "success", "{done:#}");
            assert_eq!(step(&done, "join")["state"], "success");
            assert_eq!(closes(&app, run).await, 1, "run {run}");
            let last_end = done["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| at(s, "finished_at"))
                .max()
                .unwrap();
            // 250 ms: a debug build sharing two cores with the rest of the
            // suite once closed 100 ms after the last end. A close left to
            // the sweeper comes anywhere in its second-long beat: all six
            // runs under 250 ms by chance is 0.25^6.
            let late = at(&done, "finished_at") - last_end;
            assert!(
                late < chrono::Duration::milliseconds(250),
                "run {run} closed {late} after its last step"
            );
        }
    }
    app.stop().await;
}
on_all_backends!(a_run_closes_once_when_its_last_steps_end_together);

/// A run left open after its last end (its close lost, as when the end's
/// commit answered with an error) is closed by the sweeper.
async fn the_sweeper_closes_a_run_left_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = "tasks:\n  only:\n    run: \"true\"\n";
    assert_eq!(save(&api, project, "one", source).await.0, 200);
    let run = start(&api, project, "one", json!({})).await;
    assert_eq!(wait_end(&api, run).await["state"], "success");
    let conn = &app.server.database().conn;
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        format!("UPDATE kiln_runs SET state = 'running', finished_at_ms = NULL WHERE id = {run}"),
    ))
    .await
    .unwrap();
    let (_, reopened) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(reopened["state"], "running");
    let closed = wait_end(&api, run).await;
    assert_eq!(closed["state"], "success", "{closed:#}");
    assert_eq!(
        closes(&app, run).await,
        2,
        "the end's close, then the sweeper's"
    );
    app.stop().await;
}
on_all_backends!(the_sweeper_closes_a_run_left_open);
