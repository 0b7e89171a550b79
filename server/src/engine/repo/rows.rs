//! Reading runs and steps for the engine's operations: the run lock, a
//! run's steps, and the planner's view of them.

use std::collections::BTreeSet;

use crate::engine::definitions::Definition;
use kiln_core::engine::{PlanStep, RunState, StepState, TriggerRule};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Statement,
};

use crate::clock::now_ms;
use crate::db::entities::{run, step};

/// Takes the run's row lock for the rest of the transaction: every decision
/// about a run's steps starts here, so two steps finishing at once are
/// decided one after the other, each seeing the other's result.
pub async fn lock_run(db: &impl ConnectionTrait, run_id: i64) -> Result<Option<run::Model>, DbErr> {
    let backend = db.get_database_backend();
    if matches!(backend, DbBackend::Sqlite | DbBackend::Postgres) {
        // One statement where the backend returns the row it wrote: this
        // runs once for every step that ends.
        let placeholders = match backend {
            DbBackend::Postgres => ("$1", "$2"),
            _ => ("?", "?"),
        };
        let sql = format!(
            "UPDATE kiln_runs SET updated_at_ms = {} WHERE id = {} RETURNING *",
            placeholders.0, placeholders.1
        );
        return run::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                backend,
                sql,
                [now_ms().into(), run_id.into()],
            ))
            .one(db)
            .await;
    }
    let touched = run::Entity::update_many()
        .col_expr(run::Column::UpdatedAtMs, Expr::value(now_ms()))
        .filter(run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Ok(None);
    }
    run::Entity::find_by_id(run_id).one(db).await
}

pub async fn steps_of(db: &impl ConnectionTrait, run_id: i64) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .order_by_asc(step::Column::Position)
        .all(db)
        .await
}

/// Run `run_id`'s steps in one of `states`.
pub async fn steps_in(
    db: &impl ConnectionTrait,
    run_id: i64,
    states: &[StepState],
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::State.is_in(states.iter().copied()))
        .all(db)
        .await
}

/// Run `run_id`'s steps of `tasks`.
pub async fn steps_of_tasks(
    db: &impl ConnectionTrait,
    run_id: i64,
    tasks: BTreeSet<String>,
) -> Result<Vec<step::Model>, DbErr> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::Task.is_in(tasks))
        .all(db)
        .await
}

/// The id of one step of run `run_id` that is queued or running, if any:
/// one index probe.
pub fn a_pending_step(run_id: i64) -> Select<step::Entity> {
    step::Entity::find()
        .select_only()
        .column(step::Column::Id)
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::State.is_in([StepState::Queued, StepState::Running]))
        .limit(1)
}

/// Whether run `run_id` has a step queued or running.
pub async fn has_pending(db: &impl ConnectionTrait, run_id: i64) -> Result<bool, DbErr> {
    Ok(a_pending_step(run_id)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// Up to `limit` running runs with no step queued or running: over, but
/// not closed (their last end's close was lost, say to an outage).
pub async fn over_but_open(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<run::Model>, DbErr> {
    let pending = Query::select()
        .expr(Expr::val(1))
        .from(step::Entity)
        .and_where(
            Expr::col((step::Entity, step::Column::RunId)).equals((run::Entity, run::Column::Id)),
        )
        .and_where(step::Column::State.is_in([StepState::Queued, StepState::Running]))
        .to_owned();
    run::Entity::find()
        .filter(run::Column::State.eq(RunState::Running))
        .filter(Expr::exists(pending).not())
        .limit(limit)
        .all(db)
        .await
}

/// The outputs of run `run_id`'s steps among `tasks` that have some.
pub async fn outputs_of(
    db: &impl ConnectionTrait,
    run_id: i64,
    tasks: BTreeSet<String>,
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::RunId.eq(run_id))
        .filter(step::Column::Task.is_in(tasks))
        .filter(step::Column::Outputs.is_not_null())
        .all(db)
        .await
}

/// The steps `ids`, in no order.
pub async fn steps_by_id(
    db: &impl ConnectionTrait,
    ids: BTreeSet<i64>,
) -> Result<Vec<step::Model>, DbErr> {
    step::Entity::find()
        .filter(step::Column::Id.is_in(ids))
        .all(db)
        .await
}

pub async fn step(db: &impl ConnectionTrait, id: i64) -> Result<Option<step::Model>, DbErr> {
    step::Entity::find_by_id(id).one(db).await
}

/// Step `id` and its run, in one query.
pub async fn step_and_run(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(step::Model, run::Model)>, DbErr> {
    Ok(
        match step::Entity::find_by_id(id)
            .find_also_related(run::Entity)
            .one(db)
            .await?
        {
            Some((step, Some(run))) => Some((step, run)),
            _ => None,
        },
    )
}

pub async fn run(db: &impl ConnectionTrait, id: i64) -> Result<Option<run::Model>, DbErr> {
    run::Entity::find_by_id(id).one(db).await
}

/// The planner's view: states from the rows, needs and rules from the
/// definition the run was started with.
pub fn plan_steps(workflow: &Definition, steps: &[step::Model]) -> Vec<PlanStep> {
    steps
        .iter()
        .map(|row| {
            let task = workflow.task(&row.task);
            PlanStep {
                id: row.task.clone(),
                needs: task
                    .map(|t| t.needs.iter().map(|(n, _)| n.clone()).collect())
                    .unwrap_or_default(),
                rule: task.map_or(TriggerRule::AllSuccess, |t| t.trigger_rule),
                state: row.state,
                allow_failure: task.is_some_and(|t| t.allow_failure),
            }
        })
        .collect()
}
