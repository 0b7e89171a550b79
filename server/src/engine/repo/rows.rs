//! Reading runs and steps for the engine's operations: the run lock, a
//! run's steps, and the planner's view of them.

use std::str::FromStr;

use crate::engine::definitions::Definition;
use kiln_core::engine::{PlanStep, RunState, StepState, TriggerRule};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::clock::now_ms;
use crate::db::entities::{run, step};

/// Takes the run's row lock for the rest of the transaction: every decision
/// about a run's steps starts here, so two steps finishing at once are
/// decided one after the other, each seeing the other's result.
pub async fn lock_run(db: &impl ConnectionTrait, run_id: i64) -> Result<Option<run::Model>, DbErr> {
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
        .filter(step::Column::State.is_in(states.iter().map(|s| s.as_str())))
        .all(db)
        .await
}

pub fn state_of(step: &step::Model) -> StepState {
    // Only the engine writes states, always from `StepState::as_str`.
    StepState::from_str(&step.state).unwrap_or(StepState::Failed)
}

/// A run row's state, typed (as [`state_of`] for steps).
pub fn run_state_of(run: &run::Model) -> RunState {
    RunState::from_str(&run.state).unwrap_or(RunState::Failed)
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
                state: state_of(row),
                allow_failure: task.is_some_and(|t| t.allow_failure),
            }
        })
        .collect()
}
