//! What the account and project-tree pages show, and what every page
//! shares (the viewer, breadcrumbs, `Loaded` and why a page is denied), as
//! plain serialisable types: the server fills them in, the browser
//! receives them with the hydrated page.

use serde::{Deserialize, Serialize};

/// Who is signed in, as the header shows it: known from the session alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerView {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: i64,
    /// `group` or `project`.
    pub kind: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub full_path: String,
    /// The viewer's effective role here.
    pub role: Option<String>,
}

impl NodeView {
    /// Where the node's page is: `/g/a/b` for groups, `/p/a/b/c` for projects.
    pub fn href(&self) -> String {
        node_href(&self.kind, &self.full_path)
    }
}

pub fn node_href(kind: &str, full_path: &str) -> String {
    let prefix = if kind == "project" { "p" } else { "g" };
    format!("/{prefix}/{full_path}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crumb {
    pub label: String,
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub granted_on: String,
    pub inherited: bool,
}

/// What the viewer may do on a node: pages show only the controls allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub edit_settings: bool,
    pub manage_members: bool,
    pub create_children: bool,
    pub delete: bool,
    /// Write workflows (and later pipelines and schedules) here.
    pub edit_definitions: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePage {
    pub node: NodeView,
    pub crumbs: Vec<Crumb>,
    pub subgroups: Vec<NodeView>,
    pub projects: Vec<NodeView>,
    pub members: Vec<MemberView>,
    pub can: Permissions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreePage {
    /// Top-level groups the viewer can see.
    pub groups: Vec<NodeView>,
    /// Every project the viewer can see.
    pub projects: Vec<NodeView>,
    /// Whether the viewer may create a top-level group (instance admins, or
    /// everyone when the operator allows it).
    pub can_create_groups: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub hint: String,
    pub scope: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPage {
    pub user: UserView,
    pub tokens: Vec<TokenView>,
    /// A token just created: its secret, shown this once.
    pub new_secret: Option<String>,
    /// What the last action did, said once (a password change: how many API
    /// tokens it revoked).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationView {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub units: u64,
    pub complexity: String,
    /// The JSON request body's shape, when it takes one.
    pub request: Option<String>,
    /// The success response's shape, when it has a JSON body.
    pub response: Option<String>,
    /// An example of the request body, else of the response.
    pub example: Option<String>,
}

/// Why a page could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Denied {
    /// Nobody is signed in.
    SignIn,
    /// Missing, or hidden from this viewer (the same to them).
    NotFound,
    /// Visible but not allowed (e.g. the admin pages).
    Forbidden(String),
}

pub type Loaded<T> = Result<T, Denied>;
