//! Workflow definitions: the YAML format (tasks keyed by id, `run:` or
//! `http:`, `needs:`, trigger rules, retries, timeouts, params), parsed with
//! positions and validated, every error with its line and column. Pure: the
//! API, the editor and `kiln lint` all use [`load`].

pub mod definition;
pub mod duration;
pub mod error;
pub mod layout;
pub mod params;
pub mod parse;
pub mod prepare;
pub mod render;
pub mod validate;

pub use definition::{Action, HttpCall, Param, ParamType, Position, Retry, Task, Workflow};
pub use error::DefinitionError;

/// Parses and validates a workflow file; all errors, in file order.
pub fn load(source: &str) -> Result<Workflow, Vec<DefinitionError>> {
    let (workflow, mut errors) = parse::parse(source).map_err(|e| vec![e])?;
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
