//! Checks that need the whole workflow: every `needs` names a task, the
//! tasks form no cycle (the cycle is shown), and every template parses and
//! names only known params, `run`, and outputs of tasks upstream of it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use minijinja::Environment;

use super::definition::{Position, Task, Workflow};
use super::error::DefinitionError;

pub fn validate(workflow: &Workflow) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    let ids: HashMap<&str, &Task> = workflow.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    for task in &workflow.tasks {
        for (need, at) in &task.needs {
            if need == &task.id {
                errors.push(DefinitionError::new(
                    *at,
                    format!("task {} needs itself", task.id),
                ));
            } else if !ids.contains_key(need.as_str()) {
                errors.push(DefinitionError::new(
                    *at,
                    format!("task {} needs {need:?}, which is not a task here", task.id),
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(workflow) {
        let first = ids
            .get(cycle[0].as_str())
            .map_or(Position::default(), |t| t.at);
        errors.push(DefinitionError::new(
            first,
            format!("the tasks form a cycle: {}", cycle.join(" -> ")),
        ));
    } else {
        errors.extend(check_templates(workflow));
    }
    errors.sort_by_key(|e| e.at);
    errors
}

/// A cycle through `needs`, as ids from a task back to itself.
fn find_cycle(workflow: &Workflow) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    // A task needing itself is reported on its own; leave it out here.
    let needs: BTreeMap<&str, Vec<&str>> = workflow
        .tasks
        .iter()
        .map(|t| {
            let id = t.id.as_str();
            (
                id,
                t.needs
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .filter(|n| *n != id)
                    .collect(),
            )
        })
        .collect();
    let mut marks: HashMap<&str, Mark> = needs.keys().map(|k| (*k, Mark::New)).collect();
    // Iterative DFS with an explicit path, so deep chains cannot overflow.
    for start in workflow.tasks.iter().map(|t| t.id.as_str()) {
        if marks[start] != Mark::New {
            continue;
        }
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            let children = &needs[node];
            if *next < children.len() {
                let child = children[*next];
                *next += 1;
                match marks.get(child).copied() {
                    Some(Mark::New) => {
                        marks.insert(child, Mark::Open);
                        path.push((child, 0));
                    }
                    Some(Mark::Open) => {
                        let from = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                        cycle.push(child.to_owned());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                marks.insert(node, Mark::Done);
                path.pop();
            }
        }
    }
    None
}

/// Which of `wanted` `task` waits for, directly or not: a walk up its
/// `needs` that stops once all are found, so a workflow whose templates
/// name their direct upstreams validates in linear time.
fn upstream_among<'w>(
    needs: &HashMap<&'w str, Vec<&'w str>>,
    task: &'w str,
    wanted: &BTreeSet<&'w str>,
) -> BTreeSet<&'w str> {
    let mut found = BTreeSet::new();
    if wanted.is_empty() {
        return found;
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = needs.get(task).cloned().unwrap_or_default();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if wanted.contains(id) {
            found.insert(id);
            if found.len() == wanted.len() {
                break;
            }
        }
        stack.extend(needs.get(id).into_iter().flatten().copied());
    }
    found
}

fn check_templates(workflow: &Workflow) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    let env = Environment::new();
    let params: BTreeSet<&str> = workflow.params.iter().map(|p| p.name.as_str()).collect();
    let needs: HashMap<&str, Vec<&str>> = workflow
        .tasks
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.needs.iter().map(|(n, _)| n.as_str()).collect(),
            )
        })
        .collect();
    for task in &workflow.tasks {
        let mut references: Vec<(&'static str, Vec<String>)> = Vec::new();
        for (field, source) in task.templates() {
            let template = match env.template_from_str(source) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(DefinitionError::new(
                        task.at,
                        format!(
                            "task {} {field}: template error: {}",
                            task.id,
                            e.detail().unwrap_or("syntax")
                        ),
                    ));
                    continue;
                }
            };
            let mut names: Vec<String> = template.undeclared_variables(true).into_iter().collect();
            names.sort();
            references.push((field, names));
        }
        // Only the tasks its templates name are looked for upstream.
        let named: BTreeSet<&str> = references
            .iter()
            .flat_map(|(_, names)| names.iter())
            .filter_map(|name| name.strip_prefix("tasks."))
            .map(|rest| rest.split('.').next().unwrap_or(rest))
            .collect();
        let upstream = upstream_among(&needs, task.id.as_str(), &named);
        for (field, names) in &references {
            for name in names {
                if let Some(message) = check_reference(name, &params, &upstream) {
                    errors.push(DefinitionError::new(
                        task.at,
                        format!("task {} {field}: {message}", task.id),
                    ));
                }
            }
        }
    }
    errors
}

/// Why `{{ name }}` cannot be filled in, if it cannot.
fn check_reference(
    name: &str,
    params: &BTreeSet<&str>,
    upstream: &BTreeSet<&str>,
) -> Option<String> {
    let mut parts = name.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("params"), Some(param), _) if params.contains(param) => None,
        (Some("params"), Some(param), _) => Some(format!(
            "{{{{ params.{param} }}}} names no param of this workflow"
        )),
        (Some("params"), None, _) => Some("use {{ params.NAME }}".into()),
        (Some("run"), Some("id" | "workflow" | "started_at" | "trigger"), _) => None,
        (Some("run"), _, _) => Some(format!(
            "{{{{ {name} }}}}: run has id, workflow, started_at and trigger"
        )),
        (Some("tasks"), Some(task), next) => {
            if !upstream.contains(task) {
                Some(format!(
                    "{{{{ tasks.{task} }}}}: {task} is not upstream of this task (add it to needs)"
                ))
            } else if !matches!(next, Some("outputs")) {
                Some(format!("use {{{{ tasks.{task}.outputs.NAME }}}}"))
            } else {
                None
            }
        }
        (Some(other), _, _) => Some(format!(
            "unknown variable {other:?}: templates see params, run and tasks"
        )),
        (None, _, _) => None,
    }
}
