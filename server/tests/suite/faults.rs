//! The engine when its process goes away under running steps, and when its
//! database does: a graceful shutdown gives steps the grace period, then
//! stops them and hands them back at once (retried if they have retries,
//! else failed "stopped by shutdown"), and no step process outlives the
//! server. While the database is unreachable the API answers 503 with
//! `Retry-After` and `/readyz` 503; a step that ends meanwhile keeps its
//! real outcome, and the workers run again once it is back. A step waiting
//! long in its queue keeps exactly one job; one whose job was lost gets a
//! new one. Connections the database server dropped while they sat in the
//! pool are replaced before use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::engine::{
    attempt_log, grant_label, on_jobs_table, owner, processes_running, save, start, step, wait_end,
};
use crate::common::outage::Outage;
use crate::common::{Api, Backend, TestApp};
use kiln_server::db::entities::run_event;
use kiln_server::db::entities::step as step_row;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

async fn shutdown_hands_running_steps_back(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.shutdown_timeout_seconds = 1;
        c.step_kill_grace_seconds = 1;
    })
    .await;
    let (api, project) = owner(&app).await;
    let marker = format!("30.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let source = format!(
        r#"
tasks:
  once:
    run: sleep {marker}
  again:
    retries: 1
    retry_delay: 1s
    run: |
      if [ "$KILN_ATTEMPT" = "1" ]; then sleep {marker}; fi
      echo "attempt $KILN_ATTEMPT"
"#
    );
    assert_eq!(save(&api, project, "long", &source).await.0, 200);
    let run = start(&api, project, "long", json!({})).await;
    let began = Instant::now();
    while processes_running(&marker).len() < 2 {
        assert!(
            began.elapsed() < Duration::from_secs(15),
            "steps never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stopping = Instant::now();
    let app = app.restart().await;
    // Grace (1 s) + kill grace (1 s) + recording + a new start.
    assert!(
        stopping.elapsed() < Duration::from_secs(20),
        "{:?}",
        stopping.elapsed()
    );
    assert!(
        processes_running(&marker).is_empty(),
        "a step outlived the server"
    );

    let api = api.at(&app.base);
    let (_, now) = api.get(&format!("/api/v1/runs/{run}")).await;
    let once = step(&now, "once");
    assert_eq!(once["state"], "failed", "{now:#}");
    assert!(
        once["message"]
            .as_str()
            .unwrap()
            .starts_with("stopped by shutdown of worker"),
        "{once}"
    );
    let done = wait_end(&api, run).await;
    let again = step(&done, "again");
    assert_eq!(again["state"], "success", "{done:#}");
    assert_eq!(again["attempt"], 2);
    assert_eq!(done["state"], "failed");
    app.stop().await;
}
on_sqlite_and_postgres!(shutdown_hands_running_steps_back);

async fn a_database_outage_is_survived(backend: Backend) {
    let target = match backend {
        Backend::MySql => "127.0.0.1:3306",
        _ => "127.0.0.1:5432",
    };
    let outage = Outage::proxy(target).await;
    let app = TestApp::spawn_with(backend, |c| {
        let url = c.database_url.clone().unwrap();
        c.database_url = Some(outage.through(&url, target));
    })
    .await;
    let (api, project) = owner(&app).await;
    let token = api.token("write").await;
    let bearer = Api::with_token(&app.base, &token);
    // `across` ends during the outage; `long` outlives its lease without
    // the database and is stopped, then retried.
    let source = r#"
tasks:
  across:
    run: sleep 3; echo "finished during the outage"
  after:
    needs: [across]
    run: echo after
  long:
    retries: 1
    retry_delay: 1s
    run: if [ "$KILN_ATTEMPT" = "1" ]; then sleep 60; fi
"#;
    assert_eq!(save(&api, project, "outage", source).await.0, 200);
    let run = start(&api, project, "outage", json!({})).await;
    crate::common::engine::wait_until(&api, run, Duration::from_secs(20), |r| {
        step(r, "across")["state"] == "running" && step(r, "long")["state"] == "running"
    })
    .await;

    outage.cut();
    let began = Instant::now();
    let response = bearer
        .request(reqwest::Method::GET, &format!("/api/v1/runs/{run}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503, "{:?}", response.text().await);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert!(response.headers().contains_key("retry-after"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    // Well past the lease (10 s): `across` ends meanwhile, `long` loses
    // its lease.
    tokio::time::sleep(Duration::from_secs(16)).await;
    outage.restore();

    let done = wait_end(&bearer, run).await;
    assert_eq!(step(&done, "across")["state"], "success", "{done:#}");
    assert_eq!(step(&done, "across")["attempt"], 1, "{done:#}");
    // Its last line came during the outage, after the log's first bytes
    // had gone to the log storage (a quiet half second flushes them): it
    // went there too, though the end could not be recorded with it.
    let across = attempt_log(&bearer, run, "across", 1).await;
    assert!(across.contains("finished during the outage"), "{across}");
    let long = step(&done, "long");
    assert_eq!(long["state"], "success", "{done:#}");
    assert_eq!(long["attempt"], 2, "{done:#}");
    assert_eq!(done["state"], "success", "{done:#}");
    // The sweeper may end the lost attempt (and the retry run) before
    // this worker's own heartbeat sees the lease gone; the worker then
    // stops the step and writes the note within a beat or two.
    let began = Instant::now();
    loop {
        let first_try = attempt_log(&bearer, run, "long", 1).await;
        if first_try.contains("worker lost") {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(15), "{first_try}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let began = Instant::now();
    while app.get("/readyz").await.status() != 200 {
        assert!(
            began.elapsed() < Duration::from_secs(40),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let quick = "tasks:\n  quick: { run: \"true\" }\n";
    assert_eq!(save(&api, project, "quick", quick).await.0, 200);
    let again = start(&api, project, "quick", json!({})).await;
    assert_eq!(wait_end(&bearer, again).await["state"], "success");
    app.stop().await;
}
on_backends!(a_database_outage_is_survived: postgres => Postgres, mysql => MySql);

/// A running step's lease is taken from it (as if its worker had gone
/// silent): the sweeper declares it lost while its worker, finding the
/// lease gone, stops it and records its own end. Whichever comes second
/// finds the step no longer running and writes nothing: one end, one
/// event into it.
async fn a_lost_steps_end_is_recorded_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = "tasks:\n  slow:\n    run: sleep 31.7\n";
    assert_eq!(save(&api, project, "slow", source).await.0, 200);
    let run = start(&api, project, "slow", json!({})).await;
    let began = Instant::now();
    while row_of(&app, run).await.state != kiln_core::engine::StepState::Running {
        assert!(began.elapsed() < Duration::from_secs(10), "never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = row_of(&app, run).await;
    step_row::Entity::update_many()
        .col_expr(step_row::Column::LeaseUntilMs, Expr::value(1_i64))
        .col_expr(step_row::Column::Worker, Expr::value("gone:1"))
        .filter(step_row::Column::Id.eq(row.id))
        .exec(&app.server.database().conn)
        .await
        .unwrap();
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed", "{done:#}");
    // The worker notices at its next heartbeat, stops the step, and tries
    // to record its end.
    let began = Instant::now();
    while !processes_running("31.7").is_empty() {
        assert!(began.elapsed() < Duration::from_secs(20), "never stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = run_event::Entity::find()
        .filter(run_event::Column::StepId.eq(row.id))
        .all(&app.server.database().conn)
        .await
        .unwrap();
    let ends: Vec<_> = events
        .iter()
        .filter(|e| e.from_state.as_deref() == Some("running"))
        .map(|e| e.to_state.as_str())
        .collect();
    assert_eq!(ends, ["failed"], "{events:#?}");
    app.stop().await;
}
on_all_backends!(a_lost_steps_end_is_recorded_once);

/// The step's row as stored.
async fn row_of(app: &TestApp, run: i64) -> step_row::Model {
    step_row::Entity::find()
        .filter(step_row::Column::RunId.eq(run))
        .one(&app.server.database().conn)
        .await
        .unwrap()
        .unwrap()
}

/// Makes the step look dispatched 11 minutes ago (the sweeper's threshold
/// is 10) and waits until a sweep has looked at it again.
async fn age_and_sweep(app: &TestApp, run: i64) {
    let row = row_of(app, run).await;
    let old = row.dispatched_at_ms.unwrap() - 11 * 60 * 1000;
    step_row::Entity::update_many()
        .col_expr(step_row::Column::DispatchedAtMs, Expr::value(old))
        .filter(step_row::Column::Id.eq(row.id))
        .exec(&app.server.database().conn)
        .await
        .unwrap();
    let began = Instant::now();
    while row_of(app, run).await.dispatched_at_ms == Some(old) {
        assert!(began.elapsed() < Duration::from_secs(10), "never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_waiting_step_keeps_one_job(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    grant_label(&api, "nowhere", project).await;
    let source = "tasks:\n  wait: { runs_on: [nowhere], run: \"true\" }\n";
    assert_eq!(save(&api, project, "waits", source).await.0, 200);
    let run = start(&api, project, "waits", json!({})).await;
    let row = row_of(&app, run).await;
    let jobs = app.server.jobs();
    let live = || jobs.live_step_jobs(&row.queue, row.id, row.attempt);
    assert_eq!(live().await.unwrap(), 1);

    // Long in the queue, its job still there: nothing is added.
    age_and_sweep(&app, run).await;
    assert_eq!(live().await.unwrap(), 1);

    // Its job lost: the sweeper pushes a new one.
    let delete = format!(
        "DELETE FROM {{jobs}} WHERE idempotency_key LIKE 'step:{}:%'",
        row.id
    );
    let deleted = on_jobs_table(&app, backend, &delete).await;
    assert_eq!(deleted, 1);
    assert_eq!(live().await.unwrap(), 0);
    age_and_sweep(&app, run).await;
    // The sweep stamps the step before it pushes the job: wait for the push.
    let began = Instant::now();
    while live().await.unwrap() == 0 {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "never pushed again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(live().await.unwrap(), 1);
    app.stop().await;
}
on_all_backends!(a_waiting_step_keeps_one_job);

/// The pool pings a PostgreSQL or MySQL connection before use only once it
/// sat idle a second (a ping before every statement doubled the round
/// trips). Connections the database server dropped while they sat idle are
/// then found before use and replaced: requests after it go on as usual.
async fn connections_dropped_while_idle_are_replaced(backend: Backend) {
    use sqlx::Connection;

    let app = TestApp::spawn(backend).await;
    let alice = app.browser();
    alice.sign_up("alice").await;
    assert_eq!(alice.get("/api/v1/me").await.0, 200);
    let name = app.db.url.rsplit('/').next().unwrap().to_owned();
    let dropped = match backend {
        Backend::Postgres => {
            let mut admin = sqlx::PgConnection::connect(crate::common::POSTGRES_ADMIN)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap()
        }
        Backend::MySql => {
            let mut admin = sqlx::MySqlConnection::connect(crate::common::MYSQL_ADMIN)
                .await
                .unwrap();
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
            )
            .bind(&name)
            .fetch_all(&mut admin)
            .await
            .unwrap();
            for id in &ids {
                // One may have ended on its own in between.
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("KILL {id}")))
                    .execute(&mut admin)
                    .await;
            }
            i64::try_from(ids.len()).unwrap()
        }
        Backend::Sqlite => unreachable!("a file has no server to drop connections"),
    };
    assert!(dropped > 0, "the server's connections were dropped");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..5 {
        let (status, body) = alice.get("/api/v1/me").await;
        assert_eq!(status, 200, "{body}");
    }
    app.stop().await;
}
on_backends!(connections_dropped_while_idle_are_replaced: postgres => Postgres, mysql => MySql);
