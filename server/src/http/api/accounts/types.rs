//! The JSON bodies of accounts and the project tree (what clients send and
//! what they get back), and what every list of the API shares: pages,
//! cursors and the version body. Every type here appears in the OpenAPI
//! document.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::members::Member;
use crate::accounts::nodes::Node;
use crate::accounts::tokens::Token;
use crate::accounts::users::User;
use crate::accounts::{Page, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        UserBody {
            id: u.id,
            username: u.username,
            is_admin: u.is_admin,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    #[serde(flatten)]
    pub user: UserBody,
    /// Send as `X-CSRF-Token` on state-changing requests made with the
    /// session cookie by clients that send neither `Origin` nor
    /// `Sec-Fetch-Site`. Absent for API-token callers.
    pub csrf_token: Option<String>,
    /// `session` or `token`.
    pub authenticated_by: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// After a password change: every other session has ended and every API
/// token of the account is revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChangedBody {
    /// How many live API tokens were revoked.
    pub tokens_revoked: u64,
    /// The same, in a sentence.
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// Days until it stops working; none = never.
    pub expires_in_days: Option<i64>,
    /// Its own API quota in cost units per minute; none = the user's.
    pub quota_per_minute: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub hint: String,
    pub scope: String,
    pub quota_per_minute: Option<u32>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub created_at: String,
}

impl From<Token> for TokenBody {
    fn from(t: Token) -> Self {
        TokenBody {
            id: t.id,
            name: t.name,
            hint: t.hint,
            scope: t.scope.as_str().to_owned(),
            quota_per_minute: t.quota_per_minute,
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenBody {
    #[serde(flatten)]
    pub token: TokenBody,
    /// The secret: shown this once, never again.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    pub slug: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `private` (default) or `internal`.
    pub visibility: Option<String>,
    /// The parent group; none = top level.
    pub parent_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectBody {
    pub group_id: i64,
    pub slug: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `private` (default) or `internal`.
    pub visibility: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeUpdateBody {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupMoveBody {
    /// The new parent group; null = top level.
    pub parent_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMoveBody {
    pub group_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeBody {
    pub id: i64,
    /// `group` or `project`.
    pub kind: &'static str,
    pub parent_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: &'static str,
    pub full_path: String,
    /// The caller's effective role here, if any.
    pub role: Option<&'static str>,
    pub created_at: String,
}

impl NodeBody {
    pub fn new(node: Node, role: Option<kiln_core::access::Role>) -> Self {
        NodeBody {
            id: node.id,
            kind: node.kind.as_str(),
            parent_id: node.parent_id,
            slug: node.slug,
            name: node.name,
            description: node.description,
            visibility: node.visibility.as_str(),
            full_path: node.full_path,
            role: role.map(|r| r.as_str()),
            created_at: rfc3339(node.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeList {
    pub items: Vec<NodeBody>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserBody>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many items (1–200, default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupListQuery {
    /// Only the subgroups of this group.
    pub parent_id: Option<i64>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectListQuery {
    /// Only the projects directly in this group.
    pub group_id: Option<i64>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// A full path like `platform/backend/api`.
    pub path: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete everything inside.
    pub recursive: Option<bool>,
}

/// Turns `limit` and `cursor` into a page, or names the bad one.
pub fn page(
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<Page, crate::http::error::ApiError> {
    let limit = match limit {
        None => Page::DEFAULT_LIMIT,
        Some(n) if (1..=Page::MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(crate::http::error::ApiError::invalid(
                "limit",
                format!("must be between 1 and {}", Page::MAX_LIMIT),
            ));
        }
    };
    let after = match cursor {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            crate::http::error::ApiError::invalid("cursor", "not a cursor from this API")
        })?),
    };
    Ok(Page { limit, after })
}

/// The cursor for the page after `items`, when the page was full.
pub fn next_cursor<T>(items: &[T], page: Page, id: impl Fn(&T) -> i64) -> Option<String> {
    if items.len() as u64 == page.limit {
        items.last().map(|last| id(last).to_string())
    } else {
        None
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    pub user_id: i64,
    pub username: String,
    pub role: &'static str,
    /// The full path of the group or project the role is granted on.
    pub granted_on: String,
    /// Whether the role comes from an ancestor rather than this node.
    pub inherited: bool,
}

impl MemberBody {
    pub fn new(member: Member, here: &str) -> Self {
        MemberBody {
            user_id: member.user_id,
            username: member.username,
            role: member.role.as_str(),
            inherited: member.granted_on != here,
            granted_on: member.granted_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberBody {
    pub username: String,
    /// `viewer`, `developer`, `maintainer` or `owner`.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionBody {
    pub version: &'static str,
}
