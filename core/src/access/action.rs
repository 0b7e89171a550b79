//! Everything a caller can ask to do to a group or project, and whether it
//! reads, writes or administers (what an API token's scope is checked
//! against).

/// An action on a group or project (or on what lives in a project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the node, its runs, logs and definitions.
    View,
    /// Start, cancel or retry runs.
    Run,
    /// Create or change pipelines, workflows and schedules.
    EditDefinitions,
    /// Create subgroups and projects inside a group.
    CreateChildren,
    /// Set or delete secrets (their values are never shown to anyone).
    ManageSecrets,
    /// Add, change or remove members below owner.
    ManageMembers,
    /// Rename, change the description or visibility.
    EditSettings,
    /// Grant or revoke the owner role.
    ManageOwners,
    /// Move the node elsewhere in the tree.
    Move,
    /// Delete the node.
    Delete,
}

/// What kind of access an action needs from an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessKind {
    Read,
    Write,
    Admin,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::View,
        Action::Run,
        Action::EditDefinitions,
        Action::CreateChildren,
        Action::ManageSecrets,
        Action::ManageMembers,
        Action::EditSettings,
        Action::ManageOwners,
        Action::Move,
        Action::Delete,
    ];

    /// The action in words, for error messages: "a viewer may not {…}".
    pub fn describe(self) -> &'static str {
        match self {
            Action::View => "view this",
            Action::Run => "start, cancel or retry runs here",
            Action::EditDefinitions => "change pipelines, workflows or schedules here",
            Action::CreateChildren => "create groups or projects here",
            Action::ManageSecrets => "manage secrets here",
            Action::ManageMembers => "manage members here",
            Action::EditSettings => "change these settings",
            Action::ManageOwners => "grant or revoke the owner role here",
            Action::Move => "move this",
            Action::Delete => "delete this",
        }
    }

    pub fn kind(self) -> AccessKind {
        match self {
            Action::View => AccessKind::Read,
            Action::Run | Action::EditDefinitions | Action::CreateChildren => AccessKind::Write,
            Action::ManageSecrets
            | Action::ManageMembers
            | Action::EditSettings
            | Action::ManageOwners
            | Action::Move
            | Action::Delete => AccessKind::Admin,
        }
    }
}
