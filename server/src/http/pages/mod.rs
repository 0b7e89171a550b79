//! The dashboard's data port (each feature's port of [`kiln_app::backend`]) over the same
//! services and authorization as the REST API: pages see exactly what the
//! API would show the same viewer.

use std::sync::Arc;

use axum::http::request::Parts;
use kiln_app::accounts::data::{
    AccountPage, Denied, Loaded, NodePage, NodeView, OperationView, Permissions, TokenView,
    TreePage, UserView, ViewerView,
};
use kiln_app::backend::{
    AccountsPort, HomePort, PipelinesPort, RunsPort, SchedulesPort, SharedBackend,
};
use kiln_app::home::data::{
    AllRunsFilter, AllRunsPage, HomePage, WorkflowAcross, WorkflowsAcrossPage,
};
use kiln_app::pipelines::data::{DeliveriesPage, DryRunQuery, PipelinesPage};
use kiln_app::runs::data::{GraphView, LogChunk, RunFilterView, RunPage, RunsPage, WorkflowPage};
use kiln_app::schedules::data::{PreviewView, SchedulePage, SchedulesPage};
use kiln_core::access::{Action, Decision, Scope, decide};
use kiln_core::accounts::NodeKind;
use tower_sessions::Session;

use super::api::accounts::types::{NodeBody, NodeList};
use super::api::{accounts::members as api_members, accounts::tree as api_tree};
use super::auth::session_principal_of;
use super::error::ApiError;
use super::state::AppState;
use crate::ServiceError;
use views::{crumbs_of, denied, member_view, node_view, user_view};

mod home;
mod once;
mod pipelines;
pub mod run_cache;
mod runs;
mod schedules;
mod views;
mod workflow_versions;
mod workflows;
use crate::accounts::authorize::{authorize_node, authorize_top_level};
use crate::accounts::{Page, Principal, members, nodes, rfc3339, tokens, users};
use once::ViewerOnce;
pub use once::remember_viewer;

/// Session key of a just-created token's secret, shown once on the account page.
pub const NEW_TOKEN_SECRET: &str = "new_token_secret";
/// Session key of a sentence about the last account change (a password
/// change and the tokens it revoked), shown once on the account page.
pub const ACCOUNT_NOTICE: &str = "account_notice";

pub struct PagesBackend {
    state: AppState,
}

pub fn backend(state: AppState) -> SharedBackend {
    Arc::new(PagesBackend { state })
}

impl PagesBackend {
    pub(super) async fn principal(&self, request: &Parts) -> Principal {
        let resolve = || async {
            session_principal_of(&self.state, request)
                .await
                .unwrap_or(Principal::Anonymous { addr: None })
        };
        match request.extensions.get::<ViewerOnce>() {
            Some(once) => once.0.get_or_init(resolve).await.clone(),
            None => resolve().await,
        }
    }

    async fn node_page(
        &self,
        principal: &Principal,
        kind: &str,
        path: &str,
    ) -> Result<NodePage, ApiError> {
        let db = &self.state.db.conn;
        let kind = NodeKind::parse(kind).ok_or(ServiceError::NotFound("page"))?;
        let found = nodes::find_by_path(db, path).await?;
        let authorized = authorize_node(db, principal, kind, found, Action::View).await?;
        let node = authorized.node.clone();
        let crumbs = crumbs_of(&authorized);
        let (subgroups, projects) = if kind == NodeKind::Group {
            // As `GET /groups?parent_id=` and `/projects?group_id=` would
            // list them, with the node's authorization and the caller's
            // roles read once for both.
            let held = members::held_by(db, api_tree::signed_in(principal)?).await?;
            let sees_all = principal.is_admin_with(Scope::Read) || authorized.role.is_some();
            let page = Page {
                limit: Page::MAX_LIMIT,
                after: None,
            };
            let list = |kind| {
                api_tree::list_visible(&self.state, &held, sees_all, kind, Some(node.id), page)
            };
            let views = |list: NodeList| list.items.into_iter().map(node_view).collect();
            let groups = list(NodeKind::Group).await?;
            let projects = list(NodeKind::Project).await?;
            (views(groups), views(projects))
        } else {
            (Vec::new(), Vec::new())
        };
        let members = api_members::list_of(&self.state, &authorized)
            .await?
            .items
            .into_iter()
            .map(member_view)
            .collect();
        let allowed = |action| {
            decide(principal.caller(), authorized.role, node.visibility, action) == Decision::Allow
        };
        let can = Permissions {
            edit_settings: allowed(Action::EditSettings),
            manage_members: allowed(Action::ManageMembers),
            create_children: allowed(Action::CreateChildren),
            delete: allowed(Action::Delete),
            edit_definitions: allowed(Action::EditDefinitions),
        };
        Ok(NodePage {
            node: node_view(NodeBody::new(node, authorized.role)),
            crumbs,
            subgroups,
            projects,
            members,
            can,
        })
    }
}

#[async_trait::async_trait]
impl AccountsPort for PagesBackend {
    async fn whoami(&self, request: &Parts) -> Option<ViewerView> {
        // The session's user row was read (and its password epoch checked)
        // when the viewer was worked out: no second read.
        let Principal::User(user) = self.principal(request).await else {
            return None;
        };
        Some(ViewerView {
            id: user.id,
            username: user.username,
            is_admin: user.is_admin,
        })
    }

    async fn tree(&self, request: &Parts) -> Loaded<TreePage> {
        let principal = self.principal(request).await;
        let limit = Some(Page::MAX_LIMIT);
        let load = async {
            let groups =
                api_tree::list_nodes(&self.state, &principal, NodeKind::Group, None, limit, None)
                    .await?;
            let projects = api_tree::list_nodes(
                &self.state,
                &principal,
                NodeKind::Project,
                None,
                limit,
                None,
            )
            .await?;
            Ok::<_, ApiError>((groups, projects))
        };
        let (groups, projects) = load.await.map_err(denied)?;
        let sorted = |items: Vec<NodeBody>| {
            let mut views: Vec<NodeView> = items.into_iter().map(node_view).collect();
            views.sort_by(|a, b| a.full_path.cmp(&b.full_path));
            views
        };
        let can_create_groups =
            authorize_top_level(&principal, self.state.config.allow_user_top_level_groups).is_ok();
        Ok(TreePage {
            groups: sorted(groups.items),
            projects: sorted(projects.items),
            can_create_groups,
        })
    }

    async fn node(&self, request: &Parts, kind: &str, path: &str) -> Loaded<NodePage> {
        let principal = self.principal(request).await;
        let page = self
            .node_page(&principal, kind, path)
            .await
            .map_err(denied)?;
        if let Some(kind) = NodeKind::parse(&page.node.kind) {
            once::allow_view(request, kind, page.node.id);
        }
        Ok(page)
    }

    async fn account(&self, request: &Parts) -> Loaded<AccountPage> {
        let principal = self.principal(request).await;
        let Some(me) = principal.user() else {
            return Err(Denied::SignIn);
        };
        let db = &self.state.db.conn;
        let user = users::get(db, me.id)
            .await
            .ok()
            .flatten()
            .ok_or(Denied::SignIn)?;
        let tokens = tokens::list(db, me.id)
            .await
            .map_err(|e| denied(e.into()))?;
        let session = request.extensions.get::<Session>();
        let take = |key: &'static str| async move {
            match session {
                Some(session) => session.remove::<String>(key).await.ok().flatten(),
                None => None,
            }
        };
        let new_secret = take(NEW_TOKEN_SECRET).await;
        let notice = take(ACCOUNT_NOTICE).await;
        Ok(AccountPage {
            user: user_view(user),
            tokens: tokens
                .into_iter()
                .map(|t| TokenView {
                    id: t.id,
                    name: t.name,
                    hint: t.hint,
                    scope: t.scope.as_str().to_owned(),
                    expires_at: t.expires_at.map(rfc3339),
                    last_used_at: t.last_used_at.map(rfc3339),
                    revoked_at: t.revoked_at.map(rfc3339),
                    created_at: rfc3339(t.created_at),
                })
                .collect(),
            new_secret,
            notice,
        })
    }

    async fn users(&self, request: &Parts) -> Loaded<Vec<UserView>> {
        let principal = self.principal(request).await;
        if principal.user().is_none() {
            return Err(Denied::SignIn);
        }
        if !principal.is_admin_with(Scope::Read) {
            return Err(Denied::Forbidden(
                "only instance admins see the accounts".into(),
            ));
        }
        let page = Page {
            limit: Page::MAX_LIMIT,
            after: None,
        };
        users::list(&self.state.db.conn, page)
            .await
            .map(|list| list.into_iter().map(user_view).collect())
            .map_err(|e| denied(e.into()))
    }

    fn operations(&self) -> Vec<OperationView> {
        // The document never changes while the process runs.
        static OPERATIONS: std::sync::OnceLock<Vec<OperationView>> = std::sync::OnceLock::new();
        OPERATIONS.get_or_init(operations).clone()
    }
}

/// Every operation of the API document, with its cost and shapes.
fn operations() -> Vec<OperationView> {
    let mut out = Vec::new();
    let doc = super::api::openapi();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let shapes = super::api::shapes::of_operation(doc, op);
            out.push(OperationView {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                summary: first_paragraph(
                    op["summary"].as_str().unwrap_or(""),
                    op["description"].as_str().unwrap_or(""),
                ),
                units: op["x-kiln-cost"]["units"].as_u64().unwrap_or(1),
                complexity: op["x-kiln-cost"]["complexity"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                request: shapes.request,
                response: shapes.response,
                example: shapes.example,
            });
        }
    }
    out
}

#[async_trait::async_trait]
impl RunsPort for PagesBackend {
    async fn workflow(
        &self,
        request: &Parts,
        project: i64,
        name: Option<String>,
        compare: Option<(i32, i32)>,
    ) -> Loaded<WorkflowPage> {
        let principal = self.principal(request).await;
        workflows::workflow(&self.state, &principal, request, project, name, compare)
            .await
            .map_err(denied)
    }

    async fn draft_graph(
        &self,
        request: &Parts,
        project: i64,
        source: String,
    ) -> Loaded<Option<GraphView>> {
        let principal = self.principal(request).await;
        workflows::draft_graph(&self.state, &principal, project, source)
            .await
            .map_err(denied)
    }

    async fn workflows(&self, request: &Parts, project: i64) -> Loaded<Vec<WorkflowAcross>> {
        // Under the project's page in the same request: already authorized.
        if once::may_view(request, NodeKind::Project, project) {
            return workflows::workflows_of(&self.state, project)
                .await
                .map_err(denied);
        }
        let principal = self.principal(request).await;
        workflows::workflows(&self.state, &principal, project)
            .await
            .map_err(denied)
    }

    async fn runs(&self, request: &Parts, project: i64, filter: RunFilterView) -> Loaded<RunsPage> {
        let principal = self.principal(request).await;
        runs::runs(&self.state, &principal, project, filter)
            .await
            .map_err(denied)
    }

    async fn run(&self, request: &Parts, run: i64) -> Loaded<RunPage> {
        let principal = self.principal(request).await;
        runs::run(&self.state, &principal, run)
            .await
            .map_err(denied)
    }

    async fn log(
        &self,
        request: &Parts,
        run: i64,
        task: String,
        attempt: Option<i32>,
        offset: u64,
    ) -> Loaded<LogChunk> {
        let principal = self.principal(request).await;
        runs::log(&self.state, &principal, run, &task, attempt, offset)
            .await
            .map_err(denied)
    }
}

#[async_trait::async_trait]
impl HomePort for PagesBackend {
    async fn home(&self, request: &Parts) -> Loaded<HomePage> {
        let principal = self.principal(request).await;
        home::home(&self.state, &principal).await.map_err(denied)
    }

    async fn all_runs(&self, request: &Parts, filter: AllRunsFilter) -> Loaded<AllRunsPage> {
        let principal = self.principal(request).await;
        home::all_runs(&self.state, &principal, filter)
            .await
            .map_err(denied)
    }

    async fn workflows_across(&self, request: &Parts) -> Loaded<WorkflowsAcrossPage> {
        let principal = self.principal(request).await;
        home::workflows_across(&self.state, &principal)
            .await
            .map_err(denied)
    }
}

#[async_trait::async_trait]
impl SchedulesPort for PagesBackend {
    async fn schedules(&self, request: &Parts, project: Option<i64>) -> Loaded<SchedulesPage> {
        let principal = self.principal(request).await;
        schedules::schedules(&self.state, &principal, project)
            .await
            .map_err(denied)
    }

    async fn schedule(&self, request: &Parts, id: i64) -> Loaded<SchedulePage> {
        let principal = self.principal(request).await;
        schedules::schedule(&self.state, &principal, id)
            .await
            .map_err(denied)
    }

    fn preview_cron(&self, expr: &str, tz: &str) -> PreviewView {
        schedules::preview(expr, tz)
    }
}

#[async_trait::async_trait]
impl PipelinesPort for PagesBackend {
    async fn pipelines(
        &self,
        request: &Parts,
        project: i64,
        query: DryRunQuery,
    ) -> Loaded<PipelinesPage> {
        let principal = self.principal(request).await;
        pipelines::pipelines(&self.state, &principal, request, project, query)
            .await
            .map_err(denied)
    }

    async fn deliveries(&self, request: &Parts, project: i64) -> Loaded<DeliveriesPage> {
        let principal = self.principal(request).await;
        pipelines::deliveries(&self.state, &principal, project)
            .await
            .map_err(denied)
    }
}

/// An operation's doc comment's first paragraph on one line: the summary
/// OpenAPI gets is only its first line, cut mid-sentence where the comment
/// wraps; the description holds the rest (or all of it).
fn first_paragraph(summary: &str, description: &str) -> String {
    let whole = if description.starts_with(summary) {
        description.to_owned()
    } else {
        format!("{summary}\n{description}")
    };
    whole
        .trim()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod paragraph_tests {
    use super::first_paragraph;

    #[test]
    fn the_whole_first_paragraph_on_one_line() {
        assert_eq!(
            first_paragraph(
                "Re-runs a finished run: its failed steps and",
                "what follows them.\n\nMore."
            ),
            "Re-runs a finished run: its failed steps and what follows them."
        );
        assert_eq!(
            first_paragraph("Lists runs", "Lists runs\nnewest first.\n\nPaged."),
            "Lists runs newest first."
        );
        assert_eq!(first_paragraph("", ""), "");
        assert_eq!(first_paragraph("One line.", ""), "One line.");
    }
}
