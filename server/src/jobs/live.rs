//! Whether a step still has a live job: one waiting, running, or failed
//! with attempts left (apalis fetches those again). Step jobs carry the key
//! `step:{id}:{attempt}:{pushed at}`, so the sweeper can ask before it
//! pushes a job again: a step waiting in a long queue keeps its one job
//! instead of gaining a copy every time the sweeper looks.

use super::JobsError;
use super::steps::StepJob;
use crate::db::Pool;

/// The idempotency key of a step job; unique per push.
pub fn key_of(job: &StepJob) -> String {
    format!("step:{}:{}:{}", job.step_id, job.attempt, job.due_at_ms)
}

/// The live jobs of attempt `attempt` of step `step` in `queue`.
pub async fn live_step_jobs(
    pool: &Pool,
    queue: &str,
    step: i64,
    attempt: i32,
) -> Result<i64, JobsError> {
    let prefix = format!("step:{step}:{attempt}:%");
    let count = match pool {
        Pool::Sqlite(pool) => {
            sqlx::query_scalar(count_sql("Jobs", "?", "?"))
                .bind(queue)
                .bind(&prefix)
                .fetch_one(pool)
                .await
        }
        Pool::Postgres(pool) => {
            sqlx::query_scalar(count_sql("apalis.jobs", "$1", "$2"))
                .bind(queue)
                .bind(&prefix)
                .fetch_one(pool)
                .await
        }
        Pool::MySql(pool) => {
            sqlx::query_scalar(count_sql("kiln_jobs", "?", "?"))
                .bind(queue)
                .bind(&prefix)
                .fetch_one(pool)
                .await
        }
    };
    count.map_err(|e| JobsError::Query(Box::new(e)))
}

/// The same query on each backend; only the table and placeholders differ.
fn count_sql(table: &str, queue: &str, prefix: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE job_type = {queue} AND idempotency_key LIKE {prefix} \
         AND (status IN ('Pending', 'Queued', 'Running') \
              OR (status = 'Failed' AND attempts < max_attempts))"
    ))
}
