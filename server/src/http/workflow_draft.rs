//! A workflow draft that did not save, kept in the session between the
//! editor's form (which stores it) and the editor's page (which shows it
//! again, with its problems).

use serde::{Deserialize, Serialize};

/// Session key of a workflow draft that did not save.
pub const WORKFLOW_DRAFT: &str = "workflow_draft";

/// A draft kept for the editor: what was typed, and why it did not save.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub project: i64,
    pub name: String,
    pub source: String,
    /// (line, column, message)
    pub problems: Vec<(usize, usize, String)>,
}
