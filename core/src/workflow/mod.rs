//! Workflow definitions: the YAML format (tasks keyed by id, `run:` or
//! `http:`, `needs:`, trigger rules, retries, timeouts, params), parsed with
//! positions and validated, every error with its line and column. Pure: the
//! API, the editor and `kiln lint` all use [`load`].

pub mod definition;
pub mod duration;
pub mod error;
pub mod labels;
pub mod limits;
pub mod params;
pub mod parse;
pub mod prepare;
pub mod reader;
pub mod render;
pub mod shell_refs;
pub mod validate;

pub use definition::{Action, HttpCall, Param, ParamType, Position, Retry, Task, Workflow};
pub use error::DefinitionError;
pub use limits::Limits;

/// Parses and validates a workflow file within the default [`Limits`];
/// all errors, in file order.
pub fn load(source: &str) -> Result<Workflow, Vec<DefinitionError>> {
    load_with(source, &Limits::default())
}

/// Parses and validates a workflow file within `limits`.
pub fn load_with(source: &str, limits: &Limits) -> Result<Workflow, Vec<DefinitionError>> {
    limits::check_source(source, limits).map_err(|e| vec![e])?;
    let (workflow, mut errors) = parse::parse_with(source, limits.stored).map_err(|e| vec![e])?;
    if workflow.tasks.len() > limits.max_tasks {
        return Err(vec![DefinitionError::new(
            workflow.tasks.first().map_or(Position::default(), |t| t.at),
            format!(
                "{} tasks; a workflow may have at most {}",
                workflow.tasks.len(),
                limits.max_tasks
            ),
        )]);
    }
    errors.extend(validate::validate(&workflow));
    errors.sort_by_key(|e| e.at);
    errors.dedup();
    if errors.is_empty() {
        Ok(workflow)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
