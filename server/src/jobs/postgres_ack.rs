//! PostgreSQL's acknowledgement: a worker's finished job marked done, one
//! statement a job, each a lookup by the job's primary key.
//!
//! apalis-postgres' own statement takes a batch as a JSON array and joins
//! it to the jobs table. PostgreSQL guesses 100 rows for any JSON array
//! (a batch is nearly always one job) and planned that join as scans:
//! - without statistics for the worker (a new table, or a worker newer
//!   than the last `ANALYZE`: each process start is a new worker), of
//!   every job the worker still marks (`lock_by` stays on a job once it is
//!   done): 5.5 ms with 50,000 such jobs;
//! - with statistics, while the table holds a few thousand jobs, of the
//!   whole table, twice: 1.3 ms with 3,000 (with 52,000 it looked them up
//!   by id).
//!
//! In a 1,000-job fan-out that was 0.41 ms of the database's time per job;
//! a lookup by id is 0.1 ms.
//!
//! Here the job's id is one value, which PostgreSQL can only look up in
//! the primary key, whatever the statistics say. A batch of several jobs
//! is several statements, in id order (the order apalis-postgres takes
//! its locks in); each is atomic on its own, and an acknowledgement
//! written twice writes the same.

use apalis_postgres::queries::ResultPayload;
use sqlx::PgConnection;

/// `$1`: one job's result as apalis-postgres encodes it (`task_id`,
/// `attempt`, `status`, `result`); `$2`: the worker that holds it.
pub const ACK: &str = "\
UPDATE apalis.jobs AS jobs
SET
    status = j.value ->> 'status',
    attempts = (j.value ->> 'attempt')::integer,
    last_result = j.value -> 'result',
    done_at = NOW()
FROM (SELECT $1::jsonb AS value) AS j
WHERE jobs.id = j.value ->> 'task_id' AND jobs.lock_by = $2";

/// Marks the jobs of `results` done, those still held by `worker`;
/// returns how many were.
pub async fn acknowledge(
    conn: &mut PgConnection,
    results: &[&ResultPayload],
    worker: &str,
) -> Result<u64, apalis_postgres::Error> {
    let mut ordered = results.to_vec();
    ordered.sort_by_key(|result| result.task_id().to_string());
    let mut done = 0;
    for result in ordered {
        let payload = serde_json::to_string(result).map_err(apalis_postgres::Error::JsonError)?;
        done += sqlx::query(ACK)
            .bind(payload)
            .bind(worker)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(done)
}
