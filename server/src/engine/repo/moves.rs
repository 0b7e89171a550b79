//! Every change of a step's or a run's state: one guarded `UPDATE` per
//! state the rows were in, its guard read from the domain's legal-move
//! table (never written by hand), and one run event per row it moved,
//! appended in the same transaction (with the commit status a pipeline
//! run's change owes its git host). No other code writes a state column.

use std::collections::BTreeMap;

use kiln_core::engine::{RunEvent, RunState, StepEvent, StepState, run_transition, transition};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryTrait, Statement, UpdateMany, Value, Values,
};

use super::BATCH;
use super::events::{NewEvent, append};
use super::statuses;
use super::{rows, sqlite_move};
use crate::db::entities::{run, step};

/// An update of steps' rows, to which a move's caller adds its columns and
/// filters.
pub type StepUpdate = UpdateMany<step::Entity>;

/// A step as the caller last read it: the move is guarded on that state.
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub id: i64,
    pub task: &'a str,
    pub attempt: i32,
    pub state: StepState,
}

impl<'a> From<&'a step::Model> for StepRef<'a> {
    fn from(row: &'a step::Model) -> Self {
        StepRef {
            id: row.id,
            task: &row.task,
            attempt: row.attempt,
            state: row.state,
        }
    }
}

/// One state move of steps: a single event, or a chain of them written at
/// once (a failed attempt retried: running → failed → queued).
#[derive(Debug, Clone, Copy)]
pub struct StepMove<'e> {
    pub events: &'e [StepEvent],
    /// The attempt the steps have after the move (a retry's next one), for
    /// the last event; `None` keeps each step's own.
    pub next_attempt: Option<i32>,
}

impl<'e> StepMove<'e> {
    pub fn one(events: &'e [StepEvent]) -> Self {
        StepMove {
            events,
            next_attempt: None,
        }
    }

    /// The states passed through from `from`, or `None` when a hop is
    /// illegal: the table decides whether a row in `from` may move.
    pub fn path(&self, from: StepState) -> Option<Vec<StepState>> {
        let mut states = vec![from];
        for event in self.events {
            let at = *states.last()?;
            states.push(transition(at, *event).ok()?);
        }
        Some(states)
    }

    /// The states a row may be in for this move to be legal: the guard of
    /// its `UPDATE`.
    pub fn guard(&self) -> Vec<StepState> {
        StepState::ALL
            .into_iter()
            .filter(|from| self.path(*from).is_some())
            .collect()
    }

    pub fn target(&self) -> Option<StepState> {
        self.events.last().map(|e| e.target())
    }
}

/// Moves `steps` of run `run_id` by `change`, setting the columns `set`
/// adds (times, message, …) and keeping the filters it adds (attempt,
/// lease). Rows whose state is not a legal start are left out; each
/// distinct starting state is its own guarded statement, so every event
/// names the state the row really left. Returns the ids moved.
pub async fn move_steps<F>(
    db: &impl ConnectionTrait,
    run_id: i64,
    steps: &[StepRef<'_>],
    change: StepMove<'_>,
    now: i64,
    set: F,
) -> Result<Vec<i64>, DbErr>
where
    F: Fn(UpdateMany<step::Entity>) -> UpdateMany<step::Entity>,
{
    let Some(target) = change.target() else {
        return Ok(Vec::new());
    };
    let mut by_state: BTreeMap<StepState, Vec<&StepRef<'_>>> = BTreeMap::new();
    for step in steps {
        if change.path(step.state).is_some() {
            by_state.entry(step.state).or_default().push(step);
        }
    }
    let mut moved = Vec::new();
    let mut events = Vec::new();
    for (from, group) in by_state {
        let path = change.path(from).unwrap_or_default();
        for chunk in group.chunks(BATCH) {
            let ids: Vec<i64> = chunk.iter().map(|s| s.id).collect();
            let statement = step::Entity::update_many()
                .col_expr(step::Column::State, Expr::value(target))
                .filter(step::Column::Id.is_in(ids.iter().copied()))
                .filter(step::Column::State.eq(from));
            let changed = set(statement).exec(db).await?.rows_affected;
            let taken: Vec<&&StepRef<'_>> = if changed == ids.len() as u64 {
                chunk.iter().collect()
            } else if changed == 0 {
                // None of them was still where the caller read it: a step
                // already moved into the target by someone else (a sweeper
                // that declared it lost, say) is not this move's.
                Vec::new()
            } else {
                // Another writer moved some first (a claim racing a
                // cancel): only rows now in the target moved here.
                let now_in_target = moved_to(db, &ids, target).await?;
                chunk
                    .iter()
                    .filter(|s| now_in_target.contains(&s.id))
                    .collect()
            };
            for step in taken {
                moved.push(step.id);
                for (i, hop) in path.windows(2).enumerate() {
                    let last = i + 2 == path.len();
                    events.push(NewEvent {
                        run_id,
                        step_id: Some(step.id),
                        task: Some(step.task.to_owned()),
                        attempt: Some(match (last, change.next_attempt) {
                            (true, Some(next)) => next,
                            _ => step.attempt,
                        }),
                        from: Some(hop[0].as_str()),
                        to: hop[1].as_str(),
                        at_ms: now,
                    });
                }
            }
        }
    }
    append(db, events).await?;
    Ok(moved)
}

/// Moves the one step `row` (as read just before, outside any transaction)
/// along `path` (its states from the row's; `target` is the last), for a
/// worker's claim or a leaf's end, which hold no run lock. The event is
/// written before the guarded update: on MySQL the event's key check locks
/// the run row shared, and taking it first keeps the lock order of every
/// other writer (run, then steps), so a claim racing a cancel waits instead
/// of deadlocking. On SQLite the transaction starts by writing, so it waits
/// for the write lock rather than failing. False when the step was no
/// longer in the row's state: the caller rolls back, event and all.
async fn move_step_by_id<F>(
    db: &impl ConnectionTrait,
    row: &step::Model,
    path: &[StepState],
    target: StepState,
    now: i64,
    set: F,
) -> Result<bool, DbErr>
where
    F: FnOnce(UpdateMany<step::Entity>) -> UpdateMany<step::Entity>,
{
    let events = path
        .windows(2)
        .map(|hop| NewEvent {
            run_id: row.run_id,
            step_id: Some(row.id),
            task: Some(row.task.clone()),
            attempt: Some(row.attempt),
            from: Some(hop[0].as_str()),
            to: hop[1].as_str(),
            at_ms: now,
        })
        .collect();
    append(db, events).await?;
    let statement = set(guarded_update(row, target));
    Ok(statement.exec(db).await?.rows_affected > 0)
}

/// The update moving step `row` to `target`, guarded on the attempt and
/// the state it was read in.
fn guarded_update(row: &step::Model, target: StepState) -> UpdateMany<step::Entity> {
    step::Entity::update_many()
        .col_expr(step::Column::State, Expr::value(target))
        .filter(step::Column::Id.eq(row.id))
        .filter(step::Column::Attempt.eq(row.attempt))
        .filter(step::Column::State.eq(row.state))
}

/// Moves step `row` by `change` with its events, committed at once, on
/// its own (not in a caller's transaction); returns whether it moved, and
/// when it did not, nothing was written. On PostgreSQL a one-hop move is
/// one statement, the update and its event's insert in one `WITH`: one
/// round trip and one commit where a transaction takes four round trips;
/// on SQLite it is one batch, sent to the connection's thread at once
/// (`sqlite_move`). Every step's start takes this path, inside its slot,
/// and so does the end of a task nothing needs (`finish::record_leaf`,
/// through [`move_leaf_alone`]). On MySQL (and for a longer path) it is
/// [`move_step_by_id`] in a write transaction.
pub async fn move_step_alone<F>(
    db: &DatabaseConnection,
    row: &step::Model,
    change: StepMove<'_>,
    now: i64,
    set: F,
) -> Result<bool, DbErr>
where
    F: FnOnce(UpdateMany<step::Entity>) -> UpdateMany<step::Entity>,
{
    Ok(move_alone(db, row, change, now, set, false).await?.moved)
}

/// What a leaf's move on its own answered.
#[derive(Debug, Clone, Copy)]
pub struct LeafMoved {
    pub moved: bool,
    /// Whether the step's run still had a step queued or running once the
    /// move was in, where the move's own transaction could tell (SQLite,
    /// which holds the write lock across it: no end came between); `None`
    /// elsewhere, where the caller looks after the commit.
    pub run_pending: Option<bool>,
}

/// [`move_step_alone`] for the end of a task nothing needs, which also
/// asks, on SQLite inside the same trip, whether its run still has a step
/// pending: every leaf's end looked that up in a trip of its own.
pub async fn move_leaf_alone<F>(
    db: &DatabaseConnection,
    row: &step::Model,
    change: StepMove<'_>,
    now: i64,
    set: F,
) -> Result<LeafMoved, DbErr>
where
    F: FnOnce(UpdateMany<step::Entity>) -> UpdateMany<step::Entity>,
{
    move_alone(db, row, change, now, set, true).await
}

async fn move_alone<F>(
    db: &DatabaseConnection,
    row: &step::Model,
    change: StepMove<'_>,
    now: i64,
    set: F,
    ask_pending: bool,
) -> Result<LeafMoved, DbErr>
where
    F: FnOnce(UpdateMany<step::Entity>) -> UpdateMany<step::Entity>,
{
    let unknown = |moved| LeafMoved {
        moved,
        run_pending: None,
    };
    let from = row.state;
    let (Some(path), Some(target)) = (change.path(from), change.target()) else {
        return Ok(unknown(false));
    };
    let backend = db.get_database_backend();
    if !matches!(backend, DbBackend::Postgres | DbBackend::Sqlite) || path.len() != 2 {
        let txn = crate::db::write_txn::begin(db).await?;
        let moved = move_step_by_id(&txn, row, &path, target, now, set).await?;
        if moved {
            txn.commit().await?;
        }
        // Not moved: the event goes with the rollback.
        return Ok(unknown(moved));
    }
    let event = [
        Value::from(row.run_id),
        Value::from(row.id),
        Value::from(row.task.clone()),
        Value::from(row.attempt),
        Value::from(from.as_str()),
        Value::from(target.as_str()),
        Value::from(now),
    ];
    let update = set(guarded_update(row, target)).build(backend);
    if backend == DbBackend::Sqlite {
        let then = ask_pending.then(|| rows::a_pending_step(row.run_id).build(backend));
        let trip = sqlite_move::move_in_one_trip(db, update, Values(event.to_vec()), then).await?;
        return Ok(LeafMoved {
            moved: trip.moved,
            run_pending: (ask_pending && trip.moved).then_some(trip.found),
        });
    }
    let mut values = update.values.map(|v| v.0).unwrap_or_default();
    let first = values.len() + 1;
    let sql = format!(
        "WITH moved AS ({} RETURNING id, run_id) \
         INSERT INTO kiln_run_events (run_id, step_id, task, attempt, from_state, to_state, at_ms) \
         SELECT run_id, id, ${}, ${}, ${}, ${}, ${} FROM moved",
        update.sql,
        first,
        first + 1,
        first + 2,
        first + 3,
        first + 4,
    );
    // The run and the step come from the updated row.
    values.extend(event.into_iter().skip(2));
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    Ok(unknown(
        db.execute_raw(statement).await?.rows_affected() > 0,
    ))
}

async fn moved_to(
    db: &impl ConnectionTrait,
    ids: &[i64],
    to: StepState,
) -> Result<Vec<i64>, DbErr> {
    use sea_orm::QuerySelect;
    step::Entity::find()
        .select_only()
        .column(step::Column::Id)
        .filter(step::Column::Id.is_in(ids.iter().copied()))
        .filter(step::Column::State.eq(to))
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// Moves run `run` (locked by the caller) by `event`, setting what `set`
/// adds; returns the new state, or `None` when the run was not in a state
/// the event may leave (another writer got there first).
pub async fn move_run<F>(
    db: &impl ConnectionTrait,
    run: &run::Model,
    event: RunEvent,
    now: i64,
    set: F,
) -> Result<Option<RunState>, DbErr>
where
    F: FnOnce(UpdateMany<run::Entity>) -> UpdateMany<run::Entity>,
{
    let from = run.state;
    let Ok(to) = run_transition(from, event) else {
        return Ok(None);
    };
    let statement = run::Entity::update_many()
        .col_expr(run::Column::State, Expr::value(to))
        .filter(run::Column::Id.eq(run.id))
        .filter(run::Column::State.eq(from));
    if set(statement).exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    append(
        db,
        vec![NewEvent {
            run_id: run.id,
            step_id: None,
            task: None,
            attempt: None,
            from: Some(from.as_str()),
            to: to.as_str(),
            at_ms: now,
        }],
    )
    .await?;
    if run.kind == statuses::REPORTING_KIND {
        statuses::want(db, run.id, to, now).await?;
    }
    Ok(Some(to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepEvent as E;
    use StepState as S;

    /// Every write's guard is exactly the states the table lets the move
    /// leave: for one event, the legal moves into its target.
    #[test]
    fn guards_are_the_legal_moves_into_the_target() {
        for event in StepEvent::ALL {
            let events = [event];
            let change = StepMove::one(&events);
            let legal: Vec<S> = S::ALL
                .into_iter()
                .filter(|from| transition(*from, event) == Ok(event.target()))
                .collect();
            assert_eq!(change.guard(), legal, "{event:?}");
            assert_eq!(change.target(), Some(event.target()));
        }
    }

    #[test]
    fn a_retry_is_a_failure_then_a_requeue() {
        let events = [E::Fail, E::Retry];
        let change = StepMove::one(&events);
        assert_eq!(change.guard(), vec![S::Queued, S::Running]);
        assert_eq!(
            change.path(S::Running),
            Some(vec![S::Running, S::Failed, S::Queued])
        );
        assert_eq!(change.path(S::Success), None);
        let timeout = [E::TimeOut, E::Retry];
        assert_eq!(StepMove::one(&timeout).guard(), vec![S::Running]);
    }

    /// No state column is written, and no run or step table touched, outside
    /// the repository: a hand-written guard elsewhere would escape the table.
    #[test]
    fn no_other_code_writes_a_state() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let exempt = path
                    .components()
                    .any(|c| c.as_os_str() == "repo" || c.as_os_str() == "db");
                if path.is_dir() {
                    if !exempt {
                        dirs.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for needle in [
                        "Column::State, Expr",
                        "state: Set(",
                        "step::Entity",
                        "run::Entity",
                        "run_event::Entity",
                    ] {
                        if text.contains(needle) {
                            offenders.push(format!("{}: {needle}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:?}");
    }
}
