//! The matrix's cast: an instance admin, an owner with a private group and
//! project, a viewer, developer and maintainer on the group, someone with a
//! project elsewhere, and the owner's expired, revoked and read-scoped
//! tokens; the workflows and the finished run the engine routes need.

use std::sync::atomic::AtomicUsize;

use kiln_server::db::entities::api_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::{Fixture, OK_WORKFLOW};
use crate::common::{Api, TestApp};

pub(super) async fn setup(app: &TestApp) -> Fixture {
    let base = app.base.clone();
    let admin = app.browser();
    let root = admin.sign_up("root").await;
    let owner = app.browser();
    owner.sign_up("own").await;
    let group = admin.group_for(root, "g", "own").await;
    let project = owner.project("p", group).await;
    let target = owner.group("target", Some(group)).await;
    // The "stuck" workflow's label, granted so it may be used at all.
    let (status, body) = admin
        .send(
            "PUT",
            &format!("/api/v1/worker-labels/nowhere/groups/{group}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let mut by_role = Vec::new();
    for (name, role) in [
        ("vie", "viewer"),
        ("dev", "developer"),
        ("mai", "maintainer"),
    ] {
        let api = app.browser();
        api.sign_up(name).await;
        let (status, _) = owner
            .post(
                &format!("/api/v1/groups/{group}/members"),
                json!({"username": name, "role": role}),
            )
            .await;
        assert_eq!(status, 201);
        by_role.push(api);
    }
    let other = app.browser();
    other.sign_up("out").await;
    let elsewhere = admin.group_for(root, "elsewhere", "out").await;
    other.project("theirs", elsewhere).await;
    let spare = app.browser().sign_up("spare").await;

    let expired = owner.token("write").await;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::ExpiresAt, Expr::value(1_i64))
        .filter(api_token::Column::Name.eq("write token"))
        .exec(&app.server.database().conn)
        .await
        .unwrap();
    let revoked = owner.token("admin").await;
    let (_, list) = owner.get("/api/v1/me/tokens").await;
    let revoked_id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scope"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        owner
            .send("DELETE", &format!("/api/v1/me/tokens/{revoked_id}"), None)
            .await
            .0,
        204
    );
    let read = owner.token("read").await;

    let mut callers = vec![app.browser()];
    callers.extend(by_role);
    callers.push(owner.clone());
    callers.push(admin);
    callers.push(other);
    for secret in [expired, revoked, read] {
        callers.push(Api::with_token(&base, &secret));
    }
    let mut fixture = Fixture {
        base,
        db: app.server.database().conn.clone(),
        callers,
        usernames: [
            "spare", "vie", "dev", "mai", "own", "root", "out", "own", "own", "own",
        ],
        owner,
        group,
        project,
        target,
        spare,
        run: 0,
        counter: AtomicUsize::new(0),
    };
    fixture.save_workflow("ok", OK_WORKFLOW).await;
    fixture
        .save_workflow("failing", "tasks:\n  only:\n    run: exit 1\n")
        .await;
    fixture
        .save_workflow(
            "stuck",
            "tasks:\n  only:\n    runs_on: [nowhere]\n    run: 'true'\n",
        )
        .await;
    fixture.run = fixture.start_run("ok").await;
    fixture.wait_run(fixture.run).await;
    fixture
}
