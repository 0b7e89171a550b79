//! Job push-to-pickup latency on each database: starts the real server
//! in-process (release build) on a fresh database per backend (the test
//! suite's `TestDb`), pushes cleanup jobs one at a time, and reads the
//! `kiln_job_pickup_seconds` histogram the job itself records.
//!
//! Run: `cargo bench -p kiln-server --bench job_pickup` (PostgreSQL on
//! 127.0.0.1:5432 and MariaDB on 127.0.0.1:3306 as in the test suite).

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use kiln_server::http::metrics::Metrics;
use kiln_server::serve::Server;

const JOBS: usize = 1000;
/// A pickup slower than this waited for a fallback poll: a missed wake-up.
const MISSED: Duration = Duration::from_millis(100);

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

/// Pushes `JOBS` jobs one after the other; returns each push-to-observed time.
async fn measure(server: &Server) -> Result<Vec<Duration>, Box<dyn Error>> {
    let mut waits = Vec::with_capacity(JOBS);
    for _ in 0..JOBS {
        let before = pickup_totals().0;
        let started = Instant::now();
        server.jobs().push_cleanup().await?;
        while pickup_totals().0 <= before {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        waits.push(started.elapsed());
    }
    waits.sort();
    Ok(waits)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    println!("job push-to-pickup, {JOBS} jobs pushed one at a time, release build");
    for (name, backend) in [
        ("sqlite", Backend::Sqlite),
        ("postgres", Backend::Postgres),
        ("mariadb", Backend::MySql),
    ] {
        let db = TestDb::create(backend).await;
        let mut config = db.config();
        config.log_level = "warn".to_owned();
        let server = Server::start(config).await?;
        // Let the start-up cleanup job finish before measuring.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (count0, sum0) = pickup_totals();
        let waits = measure(&server).await?;
        let (count1, sum1) = pickup_totals();
        let pct = |p: f64| waits[((waits.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        let missed = waits.iter().filter(|w| **w >= MISSED).count();
        println!(
            "{name:8} push->handler start mean {:.2} ms (job's own clock); push->observed p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {missed} of {JOBS} over {} ms (missed wake-ups)",
            (sum1 - sum0) / (count1 - count0) * 1000.0,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            MISSED.as_millis(),
        );
        server.stop().await?;
    }
    Ok(())
}
