//! The definitions runs execute: stored once per content (kind and hash)
//! and never changed, so a run outlives its workflow; parsed and cached
//! with the indexes the engine asks for on every step (task by id, what
//! lies downstream, what lies upstream), once per process however many
//! steps run from it.

use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use kiln_core::engine::RunKind;
use kiln_core::workflow::{self, Task, Workflow};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::ServiceError;
use crate::clock::now_ms;
use crate::db::entities::definition;

/// A pipeline run's definition (its kind is [`RunKind::Pipeline`]): the
/// file, and the steps the run's event left out (the graph it executes is the file's without them).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PipelineEnvelope {
    pub file: String,
    pub source: String,
    pub exclude: Vec<String>,
    /// Why the file does not load (each with its line and column), for the
    /// failed run an invalid file gives; empty for a run that executes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The stored envelope of a pipeline run's definition; `None` for every
/// other run.
pub async fn envelope_of(
    db: &impl ConnectionTrait,
    run: &crate::db::entities::run::Model,
) -> Result<Option<PipelineEnvelope>, DbErr> {
    let Some(id) = run.definition_id else {
        return Ok(None);
    };
    let stored = definition::Entity::find_by_id(id).one(db).await?;
    Ok(stored
        .filter(|d| d.kind == RunKind::Pipeline)
        .and_then(|d| serde_json::from_str::<PipelineEnvelope>(&d.source).ok()))
}

/// The graph a stored definition of `kind` describes.
fn parse(kind: RunKind, source: &str) -> Result<Workflow, ServiceError> {
    // Stored versions were validated when saved, under the task cap of
    // that time: a lower cap now must not make old runs unreadable.
    let limits = workflow::Limits {
        max_tasks: usize::MAX,
        stored: true,
        ..workflow::Limits::default()
    };
    if kind == RunKind::Pipeline {
        let envelope: PipelineEnvelope = serde_json::from_str(source).map_err(|e| {
            ServiceError::invalid("definition", format!("damaged pipeline definition: {e}"))
        })?;
        let pipeline = kiln_core::pipeline::load(&envelope.file, &envelope.source, &limits)
            .map_err(ServiceError::Definition)?;
        let exclude = envelope.exclude.into_iter().collect();
        return Ok(kiln_core::pipeline::effective::without(
            &pipeline.workflow,
            &exclude,
        ));
    }
    workflow::load_with(source, &limits).map_err(ServiceError::Definition)
}

/// Versions kept at most; past it the cache starts over (cheap to refill).
const MAX_CACHED: usize = 256;

/// A workflow with its indexes; derefs to the workflow.
#[derive(Debug)]
pub struct Definition {
    workflow: Workflow,
    index: HashMap<String, usize>,
    dependants: HashMap<String, Vec<String>>,
}

impl Deref for Definition {
    type Target = Workflow;

    fn deref(&self) -> &Workflow {
        &self.workflow
    }
}

impl Definition {
    pub fn new(workflow: Workflow) -> Self {
        let index = workflow
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let mut dependants: HashMap<String, Vec<String>> = HashMap::new();
        for t in &workflow.tasks {
            for (need, _) in &t.needs {
                dependants
                    .entry(need.clone())
                    .or_default()
                    .push(t.id.clone());
            }
        }
        Definition {
            workflow,
            index,
            dependants,
        }
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.index.get(id).and_then(|&i| self.workflow.tasks.get(i))
    }

    /// Every task `id` depends on, directly or not: the only ones whose
    /// outputs its templates may use.
    pub fn upstream_of(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = self
            .task(id)
            .map(|t| t.needs.iter().map(|(n, _)| n.as_str()).collect())
            .unwrap_or_default();
        while let Some(next) = stack.pop() {
            if seen.insert(next.to_owned())
                && let Some(task) = self.task(next)
            {
                stack.extend(task.needs.iter().map(|(n, _)| n.as_str()));
            }
        }
        seen
    }

    /// Whether no task needs `id`: its end can start or skip nothing.
    pub fn is_leaf(&self, id: &str) -> bool {
        self.dependants.get(id).is_none_or(Vec::is_empty)
    }

    /// The tasks downstream of `id` (transitively), and those together with
    /// everything they need.
    pub fn neighbourhood(&self, id: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut below = BTreeSet::new();
        let mut stack: Vec<&str> = self
            .dependants
            .get(id)
            .map(|d| d.iter().map(String::as_str).collect())
            .unwrap_or_default();
        while let Some(next) = stack.pop() {
            if below.insert(next.to_owned()) {
                stack.extend(
                    self.dependants
                        .get(next)
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                );
            }
        }
        let mut wanted = below.clone();
        for task in below.iter().filter_map(|t| self.task(t)) {
            wanted.extend(task.needs.iter().map(|(n, _)| n.clone()));
        }
        (below, wanted)
    }
}

#[derive(Default)]
pub struct Definitions(Mutex<HashMap<i64, Arc<Definition>>>);

/// The id of the definition of `kind` with `source`, stored now if it is
/// new (two writers at once: the unique key keeps one, both get its id).
pub async fn store(db: &impl ConnectionTrait, kind: RunKind, source: &str) -> Result<i64, DbErr> {
    let hash = kiln_migrations::content_hash(source);
    let find = || {
        definition::Entity::find()
            .filter(definition::Column::Kind.eq(kind))
            .filter(definition::Column::Hash.eq(hash.as_str()))
            .one(db)
    };
    if let Some(found) = find().await? {
        return Ok(found.id);
    }
    let row = definition::ActiveModel {
        kind: Set(kind),
        hash: Set(hash.clone()),
        source: Set(source.to_owned()),
        created_at_ms: Set(now_ms()),
        ..Default::default()
    };
    let inserted = definition::Entity::insert(row).exec(db).await;
    match inserted {
        Ok(done) => Ok(done.last_insert_id),
        Err(error) => find().await?.map(|found| found.id).ok_or(error),
    }
}

impl Definitions {
    /// The parsed definition run `run` executes.
    pub async fn of_run(
        &self,
        db: &impl ConnectionTrait,
        run: &crate::db::entities::run::Model,
    ) -> Result<Arc<Definition>, ServiceError> {
        let id = run
            .definition_id
            .ok_or(ServiceError::NotFound("definition"))?;
        self.get(db, id).await
    }

    /// The parsed definition `id`.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Arc<Definition>, ServiceError> {
        if let Some(found) = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(found.clone());
        }
        let stored = definition::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound("definition"))?;
        let parsed = Arc::new(Definition::new(parse(stored.kind, &stored.source)?));
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(id, parsed.clone());
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_answer_up_and_down() {
        let source = "tasks:\n  a: {run: x}\n  b: {run: x, needs: [a]}\n  c: {run: x, needs: [b]}\n  d: {run: x, needs: [c, e]}\n  e: {run: x}\n";
        let d = Definition::new(workflow::load(source).unwrap());
        assert_eq!(d.task("c").unwrap().id, "c");
        assert!(d.task("zz").is_none());
        assert_eq!(
            d.upstream_of("d"),
            ["a", "b", "c", "e"].map(String::from).into()
        );
        let (below, wanted) = d.neighbourhood("b");
        assert_eq!(below, ["c", "d"].map(String::from).into());
        assert_eq!(wanted, ["b", "c", "d", "e"].map(String::from).into());
        assert!(d.neighbourhood("d").0.is_empty());
    }
}
