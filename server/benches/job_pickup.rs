//! Job push-to-pickup latency on each database: starts the real server
//! in-process (release build), pushes cleanup jobs one at a time, and reads
//! the `kiln_job_pickup_seconds` histogram the job itself records.
//!
//! Run: `cargo bench -p kiln-server --bench job_pickup` (PostgreSQL on
//! 127.0.0.1:5432 and MariaDB on 127.0.0.1:3306 as in the test suite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use kiln_server::config::Config;
use kiln_server::http::metrics::Metrics;
use kiln_server::serve::Server;
use sqlx::Connection;

const JOBS: usize = 200;

struct Target {
    name: &'static str,
    url: String,
    drop: Option<(&'static str, String)>,
}

async fn targets(dir: &std::path::Path) -> Vec<Target> {
    let name = format!("kiln_bench_{}", std::process::id());
    let mut list = vec![Target {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        drop: None,
    }];
    let pg_admin = "postgres://postgres@127.0.0.1:5432/postgres";
    if let Ok(mut admin) = sqlx::PgConnection::connect(pg_admin).await {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        list.push(Target {
            name: "postgres",
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            drop: Some((pg_admin, format!("DROP DATABASE {name} WITH (FORCE)"))),
        });
    }
    let my_admin = "mysql://root@127.0.0.1:3306/mysql";
    if let Ok(mut admin) = sqlx::MySqlConnection::connect(my_admin).await {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        list.push(Target {
            name: "mariadb",
            url: format!("mysql://root@127.0.0.1:3306/{name}"),
            drop: Some((my_admin, format!("DROP DATABASE {name}"))),
        });
    }
    list
}

/// (count, sum) of the pickup histogram, from the Prometheus text.
fn pickup_totals() -> (f64, f64) {
    let text = Metrics::global().render();
    let value = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (
        value("kiln_job_pickup_seconds_count"),
        value("kiln_job_pickup_seconds_sum"),
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!("job push-to-pickup, {JOBS} jobs pushed one at a time, release build");
    for target in targets(dir.path()).await {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database_url: Some(target.url.clone()),
            log_level: "warn".to_owned(),
            ..Config::default()
        };
        let server = Server::start(config).await.unwrap();
        // Let the start-up cleanup job finish before measuring.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (count0, sum0) = pickup_totals();
        let mut waits = Vec::with_capacity(JOBS);
        for _ in 0..JOBS {
            let before = pickup_totals().0;
            let started = Instant::now();
            server.jobs().push_cleanup().await.unwrap();
            while pickup_totals().0 <= before {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            waits.push(started.elapsed());
        }
        let (count1, sum1) = pickup_totals();
        waits.sort();
        let pct = |p: f64| waits[((waits.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "{:8} push->handler start mean {:.2} ms (job's own clock); push->observed p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            target.name,
            (sum1 - sum0) / (count1 - count0) * 1000.0,
            pct(0.5),
            pct(0.99),
            pct(1.0),
        );
        server.stop().await.unwrap();
        if let Some((admin, sql)) = target.drop {
            if admin.starts_with("postgres") {
                let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .unwrap();
            } else {
                let mut c = sqlx::MySqlConnection::connect(admin).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }
}
