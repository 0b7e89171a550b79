//! Pipelines: CI/CD defined in the repository (`.kiln/*.yml` or one
//! `.kiln.yml`), a list of steps run on a checkout of a commit, each file
//! with a `when:` saying which events, branches, tags and changed paths
//! start it. Parsed with positions like workflows, into the same graph the
//! engine runs ([`crate::workflow::Workflow`]); [`when`] decides, for one
//! git event, which pipelines and steps start and why the others do not.

pub mod artifacts;
pub mod commit;
pub mod concurrency;
pub mod definition;
pub mod effective;
pub mod events;
pub mod parse;
pub mod repository;
pub mod when;

pub use definition::{Concurrency, Pipeline, StepRules};
pub use events::EventKind;
pub use when::{Change, Excluded, When};

use crate::workflow::validate::validate;
use crate::workflow::{DefinitionError, Limits, Position, limits};

/// Parses and validates the pipeline file `file_name` (its stem names the
/// pipeline unless `name:` does) within `limits`; all errors, in file order.
pub fn load(
    file_name: &str,
    source: &str,
    limits: &Limits,
) -> Result<Pipeline, Vec<DefinitionError>> {
    limits::check_source(source, limits).map_err(|e| vec![e])?;
    let (pipeline, mut errors) =
        parse::parse_with(file_name, source, limits.stored).map_err(|e| vec![e])?;
    if pipeline.workflow.tasks.len() > limits.max_tasks {
        return Err(vec![DefinitionError::new(
            Position::default(),
            format!(
                "{} steps; a pipeline may have at most {}",
                pipeline.workflow.tasks.len(),
                limits.max_tasks
            ),
        )]);
    }
    errors.extend(
        validate(&pipeline.workflow)
            .into_iter()
            .map(|e| DefinitionError::new(e.at, e.message.replace("task ", "step "))),
    );
    errors.sort_by_key(|e| e.at);
    errors.dedup();
    if errors.is_empty() {
        Ok(pipeline)
    } else {
        Err(errors)
    }
}

/// Whether a head commit's message asks for no CI: `[skip ci]` or
/// `[ci skip]`, in any case, anywhere in the message (GitLab's and
/// Woodpecker's rule).
pub fn skips_ci(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("[skip ci]") || lower.contains("[ci skip]")
}

/// Whether `path` (relative to the repository's top) is a pipeline file:
/// `.kiln.yml`, or `.kiln/NAME.yml` / `.kiln/NAME.yaml` directly inside.
pub fn is_pipeline_file(path: &str) -> bool {
    if path == ".kiln.yml" || path == ".kiln.yaml" {
        return true;
    }
    path.strip_prefix(".kiln/").is_some_and(|rest| {
        !rest.contains('/')
            && (rest.ends_with(".yml") || rest.ends_with(".yaml"))
            && !rest.starts_with('.')
    })
}

/// Whether a file's top-level mapping has `steps:` (a pipeline) rather
/// than `tasks:` (a workflow); false for unreadable YAML.
pub fn has_steps(source: &str) -> bool {
    crate::workflow::reader::load(source)
        .ok()
        .and_then(|root| root.as_mapping().map(|m| m.get_node("steps").is_some()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
