//! The run a pipeline file that does not load gives (GitLab's "yaml
//! invalid" pipeline): written failed at once, without steps, its file and
//! errors kept with its definition for the run page, its failure reported
//! to the git host like any run's end.

use kiln_core::engine::{RunEvent, RunOutcome};
use sea_orm::sea_query::Expr;

use super::Engine;
use super::repo::create::create_run;
use super::repo::moves::move_run;
use super::start::{PipelineSource, Starter, pipeline_row, store_pipeline};
use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::run;

/// Writes the failed run of `source`, whose file has `errors`.
pub async fn record_invalid(
    engine: &Engine,
    project: i64,
    by: Starter<'_>,
    source: PipelineSource,
    errors: Vec<String>,
) -> Result<run::Model, ServiceError> {
    let definition_id = store_pipeline(engine, &source, errors).await?;
    let row = pipeline_row(project, by, source, definition_id);
    let txn = crate::db::write_txn::begin(&engine.db).await?;
    let now = now_ms();
    let created = create_run(&txn, row, Vec::new(), now).await?;
    let ended = move_run(
        &txn,
        &created,
        RunEvent::End(RunOutcome::Failed),
        now,
        |update| update.col_expr(run::Column::FinishedAtMs, Expr::value(now)),
    )
    .await?;
    let Some(state) = ended else {
        return Err(ServiceError::conflict("state", "the run changed meanwhile"));
    };
    txn.commit().await?;
    engine.feed.wake();
    Ok(run::Model {
        state,
        finished_at_ms: Some(now),
        ..created
    })
}
