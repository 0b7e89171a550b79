//! The authorization matrix, generated from the OpenAPI document: every
//! `/api/v1` operation is called by every kind of caller, and the status must
//! be the one in the table below. A route the document lists without an
//! entry here fails the test, and so does an entry for a route that is gone.
//! Runs on SQLite, PostgreSQL and MariaDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_routes;
mod schedule_routes;
mod setup;
mod table;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{Api, Backend, TestApp};
use kiln_server::db::entities::api_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use setup::setup;
use table::{ROUTES_IN_TABLE, expectations};

/// The callers, in the order of each expectation row.
const PERSONAS: [&str; 10] = [
    "anonymous",
    "viewer",
    "developer",
    "maintainer",
    "owner",
    "instance admin",
    "member of another project only",
    "expired token",
    "revoked token",
    "read-scoped token",
];

struct Fixture {
    base: String,
    db: sea_orm::DatabaseConnection,
    callers: Vec<Api>,
    usernames: [&'static str; 10],
    owner: Api,
    group: i64,
    project: i64,
    target: i64,
    spare: i64,
    /// A finished run of the `ok` workflow.
    run: i64,
    counter: AtomicUsize,
}

impl Fixture {
    fn fresh(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    fn is_session(persona: usize) -> bool {
        (1..=6).contains(&persona)
    }

    /// The request a persona makes for a route: path (with ids filled in)
    /// and body. Destructive routes get a throwaway target made by the owner.
    async fn request(&self, route: &str, persona: usize) -> (String, Option<Value>) {
        let caller = &self.callers[persona];
        let (g, p) = (self.group, self.project);
        let creds = |name: &str| json!({"username": name, "password": "correct horse"});
        match route {
            "GET /api/v1/version" => ("/api/v1/version".into(), None),
            "GET /api/v1/openapi.json" => ("/api/v1/openapi.json".into(), None),
            "POST /api/v1/auth/register" => (
                "/api/v1/auth/register".into(),
                Some(creds(&self.fresh("reg"))),
            ),
            "POST /api/v1/auth/login" => (
                "/api/v1/auth/login".into(),
                Some(creds(self.usernames[persona])),
            ),
            "POST /api/v1/auth/logout" => ("/api/v1/auth/logout".into(), Some(json!({}))),
            "GET /api/v1/me" => ("/api/v1/me".into(), None),
            "GET /api/v1/me/tokens" => ("/api/v1/me/tokens".into(), None),
            "PUT /api/v1/me/password" => (
                "/api/v1/me/password".into(),
                Some(json!({"current_password": "correct horse", "new_password": "correct horse"})),
            ),
            "POST /api/v1/me/tokens" => (
                "/api/v1/me/tokens".into(),
                Some(json!({"name": "matrix", "scope": "read"})),
            ),
            "DELETE /api/v1/me/tokens/{id}" => {
                // A token of the caller's own user (the owner's for tokens).
                let maker = if Self::is_session(persona) {
                    caller
                } else {
                    &self.owner
                };
                let (_, made) = maker
                    .post(
                        "/api/v1/me/tokens",
                        json!({"name": "doomed", "scope": "read"}),
                    )
                    .await;
                (
                    format!("/api/v1/me/tokens/{}", made["id"].as_i64().unwrap_or(0)),
                    None,
                )
            }
            "GET /api/v1/users" => ("/api/v1/users".into(), None),
            "GET /api/v1/worker-labels" => ("/api/v1/worker-labels".into(), None),
            "PUT /api/v1/worker-labels/{label}/groups/{id}" => {
                (format!("/api/v1/worker-labels/matrix/groups/{g}"), None)
            }
            "DELETE /api/v1/worker-labels/{label}/groups/{id}" => {
                // A grant made by the admin for the caller to take back.
                let label = self.fresh("doomed");
                let (status, _) = self.callers[5]
                    .send(
                        "PUT",
                        &format!("/api/v1/worker-labels/{label}/groups/{g}"),
                        None,
                    )
                    .await;
                assert_eq!(status, 204);
                (format!("/api/v1/worker-labels/{label}/groups/{g}"), None)
            }
            "GET /api/v1/groups" => ("/api/v1/groups".into(), None),
            "GET /api/v1/projects" => ("/api/v1/projects".into(), None),
            "POST /api/v1/groups" => (
                "/api/v1/groups".into(),
                Some(json!({"slug": self.fresh("top")})),
            ),
            "GET /api/v1/groups/{id}" => (format!("/api/v1/groups/{g}"), None),
            "GET /api/v1/projects/{id}" => (format!("/api/v1/projects/{p}"), None),
            "GET /api/v1/resolve" => ("/api/v1/resolve?path=g/p".into(), None),
            "GET /api/v1/groups/{id}/members" => (format!("/api/v1/groups/{g}/members"), None),
            "GET /api/v1/projects/{id}/members" => (format!("/api/v1/projects/{p}/members"), None),
            "PATCH /api/v1/groups/{id}" => (
                format!("/api/v1/groups/{g}"),
                Some(json!({"description": "changed"})),
            ),
            "PATCH /api/v1/projects/{id}" => (
                format!("/api/v1/projects/{p}"),
                Some(json!({"description": "changed"})),
            ),
            "POST /api/v1/projects" => (
                "/api/v1/projects".into(),
                Some(json!({"slug": self.fresh("proj"), "group_id": g})),
            ),
            "DELETE /api/v1/groups/{id}" => {
                let doomed = self.owner.group(&self.fresh("doomed"), Some(g)).await;
                (format!("/api/v1/groups/{doomed}"), None)
            }
            "DELETE /api/v1/projects/{id}" => {
                let doomed = self.owner.project(&self.fresh("doomed"), g).await;
                (format!("/api/v1/projects/{doomed}"), None)
            }
            "POST /api/v1/groups/{id}/move" => {
                let moving = self.owner.group(&self.fresh("moving"), Some(g)).await;
                (
                    format!("/api/v1/groups/{moving}/move"),
                    Some(json!({"parent_id": self.target})),
                )
            }
            "POST /api/v1/projects/{id}/move" => {
                let moving = self.owner.project(&self.fresh("moving"), g).await;
                (
                    format!("/api/v1/projects/{moving}/move"),
                    Some(json!({"group_id": self.target})),
                )
            }
            "POST /api/v1/groups/{id}/members" => (
                format!("/api/v1/groups/{g}/members"),
                Some(json!({"username": "spare", "role": "viewer"})),
            ),
            "POST /api/v1/projects/{id}/members" => (
                format!("/api/v1/projects/{p}/members"),
                Some(json!({"username": "spare", "role": "viewer"})),
            ),
            "PATCH /api/v1/groups/{id}/members/{user_id}"
            | "DELETE /api/v1/groups/{id}/members/{user_id}" => {
                self.grant_spare(&format!("/api/v1/groups/{g}/members"))
                    .await;
                let body = route
                    .starts_with("PATCH")
                    .then(|| json!({"role": "developer"}));
                (format!("/api/v1/groups/{g}/members/{}", self.spare), body)
            }
            "PATCH /api/v1/projects/{id}/members/{user_id}"
            | "DELETE /api/v1/projects/{id}/members/{user_id}" => {
                self.grant_spare(&format!("/api/v1/projects/{p}/members"))
                    .await;
                let body = route
                    .starts_with("PATCH")
                    .then(|| json!({"role": "developer"}));
                (format!("/api/v1/projects/{p}/members/{}", self.spare), body)
            }
            other => self
                .engine_request(other)
                .await
                .or(self.schedule_request(other).await)
                .unwrap_or_else(|| panic!("no request for {other}")),
        }
    }

    async fn grant_spare(&self, members: &str) {
        let (status, body) = self
            .owner
            .post(members, json!({"username": "spare", "role": "viewer"}))
            .await;
        assert!(status == 200 || status == 201, "{body}");
    }

    /// Undoes what a cell did to its caller's own state.
    async fn after(&self, route: &str, persona: usize) {
        let caller = &self.callers[persona];
        match (route, persona) {
            // Signing up or in as nobody signs the anonymous caller in.
            ("POST /api/v1/auth/login" | "POST /api/v1/auth/register", 0) => {
                caller.post("/api/v1/auth/logout", json!({})).await;
            }
            ("POST /api/v1/auth/logout", p) if Self::is_session(p) => {
                caller.sign_in(self.usernames[p]).await;
            }
            // The owner's password change revoked their tokens; later rows
            // need the read-scoped one, so it is revived.
            ("PUT /api/v1/me/password", 4) => {
                api_token::Entity::update_many()
                    .col_expr(api_token::Column::RevokedAt, Expr::value(None::<i64>))
                    .filter(api_token::Column::Name.eq("read token"))
                    .exec(&self.db)
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
}

const OK_WORKFLOW: &str = "tasks:\n  only:\n    run: echo ok\n";

fn routes_of(doc: &Value) -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_ascii_uppercase()));
        }
    }
    routes
}

async fn authorization_matrix(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        // The dry run reads a repository the test makes on disk.
        c.allow_local_repositories = true;
        c.login_attempts_per_minute = 1000;
        c.quota_user_per_minute = 1_000_000;
        c.quota_admin_per_minute = 1_000_000;
        c.quota_anonymous_per_minute = 1_000_000;
        // Streams that stay open (the runs' changes) end soon.
        c.log_stream_idle_seconds = 1;
    })
    .await;
    let (_, doc) = app.browser().get("/api/v1/openapi.json").await;
    let documented = routes_of(&doc);
    let tabled: BTreeSet<String> = ROUTES_IN_TABLE.iter().map(|r| (*r).to_owned()).collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix entry: {missing:?}"
    );
    let gone: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        gone.is_empty(),
        "matrix entries for routes not in the API: {gone:?}"
    );

    let fixture = setup(&app).await;
    let mut failures = Vec::new();
    for route in &documented {
        let expected = expectations(route).unwrap_or_else(|| panic!("no expectations for {route}"));
        let method = route.split_once(' ').unwrap().0;
        for (persona, want) in expected.iter().enumerate() {
            let (path, body) = fixture.request(route, persona).await;
            let (status, answer) = fixture.callers[persona]
                .send_lenient(method, &path, body)
                .await;
            let good = match *want {
                "ok" => (200..300).contains(&status),
                code => code.parse::<u16>().unwrap() == status,
            };
            if !good {
                failures.push(format!(
                    "{route} as {}: want {want}, got {status} {answer}",
                    PERSONAS[persona]
                ));
            }
            if status >= 500 {
                failures.push(format!("{route} as {}: server error", PERSONAS[persona]));
            }
            fixture.after(route, persona).await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong on {}:\n{}",
        failures.len(),
        fixture.base,
        failures.join("\n")
    );
    app.stop().await;
}
on_all_backends!(authorization_matrix);

/// Every operation states its cost: quota units and a complexity.
#[tokio::test]
async fn every_operation_declares_its_cost() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, doc) = app.browser().get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, operation) in item.as_object().unwrap() {
            count += 1;
            let cost = &operation["x-kiln-cost"];
            let units = cost["units"].as_u64();
            assert!(
                units.is_some_and(|u| u >= 1),
                "{method} {path}: units in {cost}"
            );
            let complexity = cost["complexity"].as_str().unwrap_or("");
            assert!(
                complexity.starts_with("O("),
                "{method} {path}: complexity in {cost}"
            );
        }
    }
    assert_eq!(count, ROUTES_IN_TABLE.len());
    app.stop().await;
}
