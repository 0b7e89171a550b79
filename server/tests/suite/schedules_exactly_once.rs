//! Several `kiln serve` processes on one database (three real processes
//! beside the test's in-process server), no leader: each
//! instant of each schedule fires exactly once, counted in the database,
//! and a server killed with SIGKILL in the middle loses nothing (catch-up
//! `all`: the instants it had not committed are handled by the others).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::engine::{owner, save};
use crate::common::{Backend, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// The full run is 200 schedules for a minute
/// (`EXACTLY_ONCE_SCHEDULES=200 EXACTLY_ONCE_SECONDS=60`); CI runs a smaller
/// one.
fn size() -> (usize, u64) {
    let read = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        usize::try_from(read("EXACTLY_ONCE_SCHEDULES", 20)).unwrap(),
        read("EXACTLY_ONCE_SECONDS", 12),
    )
}
const QUIET: &str = "tasks:\n  tick:\n    run: 'true'\n";

fn spawn_server(app: &TestApp) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .arg("--database-url")
        .arg(&app.db.url)
        .env("KILN_LOG_LEVEL", "error")
        .env("KILN_SERVER_RUNS_STEPS", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kiln serve starts")
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn every_instant_fires_once_across_servers(backend: Backend) {
    let (schedules, seconds) = size();
    // Only firing is measured: runs are written, no server runs their steps.
    let app = TestApp::spawn_with(backend, |c| {
        c.server_runs_steps = false;
        c.schedules_per_project = 1000;
    })
    .await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "tick", QUIET).await.0, 200);
    // Three real `kiln serve` processes beside the test's own server.
    let mut others = vec![spawn_server(&app), spawn_server(&app), spawn_server(&app)];
    // Let the other servers come up (and migrate nothing: same schema).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for n in 0..schedules {
        let (status, made) = api
            .post(
                &format!("/api/v1/projects/{project}/schedules"),
                json!({"name": format!("s{n}"), "cron": "* * * * * *", "workflow": "tick",
                       "catchup": "all", "concurrency": "allow"}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
    }
    tokio::time::sleep(Duration::from_secs(seconds / 2)).await;
    let mut killed = others.remove(0);
    killed.kill().unwrap();
    killed.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(seconds - seconds / 2)).await;
    for n in 1..=schedules {
        api.post(&format!("/api/v1/schedules/{n}/pause"), json!({}))
            .await;
    }
    // Passes in flight finish.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for mut other in others {
        other.kill().unwrap();
        other.wait().unwrap();
    }
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let total = count(&db, "SELECT COUNT(*) FROM kiln_schedule_firings").await;
    let distinct = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT DISTINCT schedule_id, instant_ms FROM kiln_schedule_firings) AS d",
    )
    .await;
    assert_eq!(total, distinct, "an instant was recorded twice");
    let fired = count(
        &db,
        "SELECT COUNT(*) FROM kiln_schedule_firings WHERE outcome = 'fired' AND run_id IS NOT NULL",
    )
    .await;
    assert_eq!(fired, total, "every instant fired (catch-up all)");
    let runs = count(
        &db,
        "SELECT COUNT(*) FROM kiln_runs WHERE \"trigger\" = 'schedule'"
            .replace('"', if backend == Backend::MySql { "`" } else { "\"" })
            .as_str(),
    )
    .await;
    assert_eq!(runs, total, "one run per firing");
    // No gaps: per schedule, the instants are consecutive seconds.
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT schedule_id, MIN(instant_ms), MAX(instant_ms), COUNT(*) \
             FROM kiln_schedule_firings GROUP BY schedule_id"
                .to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), schedules);
    for row in rows {
        let low: i64 = row.try_get_by_index(1).unwrap();
        let high: i64 = row.try_get_by_index(2).unwrap();
        let n: i64 = row.try_get_by_index(3).unwrap();
        assert_eq!((high - low) / 1000 + 1, n, "an instant was lost");
    }
    let least = i64::try_from(schedules as u64 * (seconds - 2)).unwrap();
    assert!(total >= least, "{total} firings, expected at least {least}");
    app.stop().await;
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_instant_fires_once_across_servers() {
        super::every_instant_fires_once_across_servers(super::Backend::Postgres).await;
    }
}

mod mysql {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_instant_fires_once_across_servers() {
        super::every_instant_fires_once_across_servers(super::Backend::MySql).await;
    }
}
