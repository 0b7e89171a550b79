//! What is wrong with a workflow file, and where (1-based line and column),
//! so the editor, the API (422) and `kiln lint` can all point at it.

use std::fmt;

use super::definition::Position;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub at: Position,
    pub message: String,
}

impl DefinitionError {
    pub fn new(at: Position, message: impl Into<String>) -> Self {
        DefinitionError {
            at,
            message: message.into(),
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.at.line, self.at.column, self.message
        )
    }
}
