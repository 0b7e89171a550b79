//! Pipeline YAML to a [`Pipeline`]: the pipeline's keys here, each step's
//! task keys by the workflow parser (so a step's `run`, `needs`, `retries`,
//! `timeout`, `env`, `secrets`, … mean exactly what a task's do), plus the
//! step's `name`, `when` and `artifacts`. Every error with its position.

use std::collections::{BTreeMap, HashSet};

use marked_yaml::Node;

use super::concurrency::{PLACEHOLDERS, unknown_placeholders};
use super::definition::{Concurrency, Pipeline, StepRules};
use super::events::EventKind;
use super::when::{Globs, PathRule, StepStatus, When};
use crate::workflow::parse::TASK_KEYS;
use crate::workflow::reader::{self, Reader, at, start_of};
use crate::workflow::{DefinitionError, Position, Workflow};

const PIPELINE_KEYS: &[&str] = &["name", "description", "when", "env", "concurrency", "steps"];
const WHEN_KEYS: &[&str] = &["event", "branch", "tag", "paths"];
const STEP_WHEN_KEYS: &[&str] = &["event", "branch", "tag", "paths", "status"];
const PATHS_KEYS: &[&str] = &["include", "exclude"];
const CONCURRENCY_KEYS: &[&str] = &["group", "cancel_in_progress"];
/// A step's own keys beside the task keys.
const STEP_KEYS: &[&str] = &["name", "when", "artifacts"];

/// Parses the pipeline file `file_name`: the pipeline as far as it could be
/// read, and what was wrong. `Err` only when the YAML is unreadable.
pub fn parse(
    file_name: &str,
    source: &str,
) -> Result<(Pipeline, Vec<DefinitionError>), DefinitionError> {
    parse_with(file_name, source, false)
}

/// [`parse`], for a definition stored earlier when `stored`.
pub fn parse_with(
    file_name: &str,
    source: &str,
    stored: bool,
) -> Result<(Pipeline, Vec<DefinitionError>), DefinitionError> {
    let root = reader::load(source)?;
    let mut r = Reader {
        stored,
        ..Reader::default()
    };
    let pipeline = r.pipeline(file_name, &root);
    Ok((pipeline, r.errors))
}

/// The name a file gives its pipeline: `.kiln/backend.yml` is `backend`,
/// `.kiln.yml` is `default`.
pub fn name_of_file(file_name: &str) -> String {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base.starts_with(".kiln.") {
        return "default".to_owned();
    }
    base.trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_owned()
}

impl Reader {
    fn pipeline(&mut self, file_name: &str, root: &Node) -> Pipeline {
        let mut name = None;
        let mut when = When::default();
        let mut workflow = Workflow {
            name: None,
            description: String::new(),
            params: Vec::new(),
            env: BTreeMap::new(),
            tasks: Vec::new(),
        };
        let mut concurrency = None;
        let mut steps = Vec::new();
        let mut saw_steps = false;
        for (key, _, value) in self.entries(root, "the pipeline", PIPELINE_KEYS) {
            match key {
                "name" => name = self.display_name(value),
                "description" => {
                    workflow.description = self.string(value, "description").unwrap_or_default()
                }
                "when" => when = self.when(value, "when", WHEN_KEYS),
                "env" => workflow.env = self.string_map(value, "env"),
                "concurrency" => concurrency = self.concurrency(value),
                "steps" => {
                    saw_steps = true;
                    (workflow.tasks, steps) = self.steps(value);
                }
                _ => {}
            }
        }
        if !saw_steps {
            self.error(start_of(root), "a pipeline needs steps:");
        }
        let name = name.unwrap_or_else(|| name_of_file(file_name));
        workflow.name = Some(name.clone());
        Pipeline {
            name,
            when,
            workflow,
            steps,
            concurrency,
        }
    }

    fn steps(&mut self, node: &Node) -> (Vec<crate::workflow::Task>, Vec<StepRules>) {
        let Some(seq) = node.as_sequence() else {
            self.error(at(node), "steps: must be a list (- name: …)");
            return (Vec::new(), Vec::new());
        };
        let allowed: Vec<&str> = TASK_KEYS.iter().chain(STEP_KEYS).copied().collect();
        let mut seen = HashSet::new();
        let mut tasks: Vec<crate::workflow::Task> = Vec::new();
        let mut rules = Vec::new();
        for spec in seq.iter() {
            let pos = start_of(spec);
            let Some(name) = self.step_name(spec, pos) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                self.error(pos, format!("two steps are named {name:?}"));
                continue;
            }
            let what = format!("step {name}");
            let mut when = When::default();
            let mut artifacts = Vec::new();
            let task = self.task(
                &name,
                pos,
                spec,
                &what,
                &allowed,
                &mut |r, key, value| match key {
                    "when" => when = r.when(value, &format!("{what} when"), STEP_WHEN_KEYS),
                    "artifacts" => artifacts = r.artifacts(value),
                    _ => {}
                },
            );
            let Some(mut task) = task else { continue };
            task.artifacts = artifacts.clone();
            let has_needs = spec
                .as_mapping()
                .and_then(|m| m.get_node("needs"))
                .is_some();
            if !has_needs && let Some(previous) = tasks.last() {
                // No needs: in file order, after the step before it.
                task.needs = vec![(previous.id.clone(), pos)];
            }
            if let Some(status) = when.status {
                let wrote_rule = spec
                    .as_mapping()
                    .and_then(|m| m.get_node("trigger_rule"))
                    .is_some();
                if wrote_rule {
                    self.error(
                        pos,
                        format!("{what} has both trigger_rule: and when.status:; give one"),
                    );
                }
                task.trigger_rule = status.trigger_rule();
            }
            rules.push(StepRules {
                id: name,
                when,
                artifacts,
            });
            tasks.push(task);
        }
        if tasks.is_empty() && self.errors.is_empty() {
            self.error(at(node), "steps: is empty");
        }
        (tasks, rules)
    }

    /// A step's `name:`: required, and usable as an id.
    fn step_name(&mut self, spec: &Node, pos: Position) -> Option<String> {
        let Some(node) = spec.as_mapping().and_then(|m| m.get_node("name")) else {
            if spec.as_mapping().is_none() {
                self.error(pos, "a step must be a mapping (name:, run:, …)");
            } else {
                self.error(pos, "a step needs name:");
            }
            return None;
        };
        let name = self.string(node, "name")?;
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !valid {
            self.error(
                at(node),
                format!("step name {name:?} must be 1 to 64 letters, digits, ., - or _"),
            );
            return None;
        }
        Some(name)
    }

    fn when(&mut self, node: &Node, what: &str, allowed: &[&str]) -> When {
        let mut when = When {
            at: at(node),
            ..When::default()
        };
        for (key, _, value) in self.entries(node, what, allowed) {
            match key {
                "event" => {
                    for (raw, pos) in self.list(value, &format!("{what}.event")) {
                        match raw.parse::<EventKind>() {
                            Ok(event) if !when.events.contains(&event) => when.events.push(event),
                            Ok(_) => {}
                            Err(message) => self.error(pos, format!("{what}.event: {message}")),
                        }
                    }
                }
                "branch" => when.branches = self.globs(value, &format!("{what}.branch")),
                "tag" => when.tags = self.globs(value, &format!("{what}.tag")),
                "paths" => when.paths = Some(self.paths(value, &format!("{what}.paths"))),
                "status" => {
                    if let Some(raw) = self.string(value, "status") {
                        match StepStatus::parse(&raw) {
                            Some(status) => when.status = Some(status),
                            None => self.error(
                                at(value),
                                format!(
                                    "{what}.status must be success, failure or always, not {raw:?}"
                                ),
                            ),
                        }
                    }
                }
                _ => {}
            }
        }
        when
    }

    /// `paths:` as a list (the included ones) or as `include:`/`exclude:`.
    fn paths(&mut self, node: &Node, what: &str) -> PathRule {
        if node.as_mapping().is_none() {
            return PathRule {
                include: self.globs(node, what),
                exclude: Globs::default(),
            };
        }
        let mut rule = PathRule::default();
        for (key, _, value) in self.entries(node, what, PATHS_KEYS) {
            match key {
                "include" => rule.include = self.globs(value, &format!("{what}.include")),
                "exclude" => rule.exclude = self.globs(value, &format!("{what}.exclude")),
                _ => {}
            }
        }
        rule
    }

    fn globs(&mut self, node: &Node, what: &str) -> Globs {
        let items = self.list(node, what);
        let patterns: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
        match Globs::new(patterns) {
            Ok(globs) => globs,
            Err(message) => {
                // Compiled one by one only now, to point at the bad one.
                let bad = items
                    .iter()
                    .find_map(|(p, pos)| Globs::new(vec![p.clone()]).err().map(|m| (*pos, m)));
                let (pos, message) = bad.unwrap_or((at(node), message));
                self.error(pos, format!("{what}: {message}"));
                Globs::default()
            }
        }
    }

    fn artifacts(&mut self, node: &Node) -> Vec<String> {
        let mut out = Vec::new();
        for (path, pos) in self.list(node, "artifacts") {
            match super::artifacts::check_pattern(&path) {
                Ok(()) => out.push(path),
                Err(message) => self.error(pos, format!("artifacts: {message}")),
            }
        }
        out
    }

    fn concurrency(&mut self, node: &Node) -> Option<Concurrency> {
        let mut group = None;
        let mut cancel_in_progress = false;
        for (key, _, value) in self.entries(node, "concurrency", CONCURRENCY_KEYS) {
            match key {
                "group" => {
                    group = self.string(value, "concurrency.group");
                    let named = group
                        .as_deref()
                        .filter(|_| !self.stored)
                        .map(unknown_placeholders);
                    match named {
                        Some(Err(message)) => {
                            self.error(at(value), format!("concurrency.group: {message}"));
                        }
                        Some(Ok(unknown)) if !unknown.is_empty() => self.error(
                            at(value),
                            format!(
                                "concurrency.group: unknown {{{{ {} }}}}; a group may use {}",
                                unknown.join(" }}, {{ "),
                                PLACEHOLDERS.join(", ")
                            ),
                        ),
                        _ => {}
                    }
                }
                "cancel_in_progress" => {
                    match self.string(value, "concurrency.cancel_in_progress").as_deref() {
                        Some("true") => cancel_in_progress = true,
                        Some("false") => cancel_in_progress = false,
                        Some(other) => self.error(
                            at(value),
                            format!(
                                "concurrency.cancel_in_progress must be true or false, not {other:?}"
                            ),
                        ),
                        None => {}
                    }
                }
                _ => {}
            }
        }
        match group {
            Some(group) if !group.trim().is_empty() => Some(Concurrency {
                group,
                cancel_in_progress,
            }),
            _ => {
                self.error(at(node), "concurrency needs group:");
                None
            }
        }
    }
}
