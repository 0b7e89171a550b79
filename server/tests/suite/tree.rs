//! Groups and projects over real HTTP on SQLite, PostgreSQL and MariaDB:
//! nesting, full paths, moving (never under itself), renaming, deleting
//! (refused while not empty), inherited roles, hidden = 404, visibility, and
//! bad input named by field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Backend, TestApp};
use serde_json::json;

async fn nesting_moving_and_deleting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.browser();
    owner.sign_up("olga").await;
    let platform = owner.group("platform", None).await;
    let backend_group = owner.group("backend", Some(platform)).await;
    let services = owner.group("services", Some(backend_group)).await;
    let api = owner.project("api", services).await;

    let (status, found) = owner
        .get("/api/v1/resolve?path=platform/backend/services/api")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["id"].as_i64(), found["kind"].as_str()),
        (Some(api), Some("project"))
    );
    assert_eq!(found["role"], "owner", "inherited from the top group");
    assert_eq!(owner.get("/api/v1/resolve?path=platform/nope").await.0, 404);

    // Same path twice: 409 naming the field.
    let (status, body) = owner
        .post(
            "/api/v1/groups",
            json!({"slug": "backend", "parent_id": platform}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (409, Some("slug")),
        "{body}"
    );
    // A project cannot take a group's path either.
    let (status, _) = owner
        .post(
            "/api/v1/projects",
            json!({"slug": "backend", "group_id": platform}),
        )
        .await;
    assert_eq!(status, 409);

    // Move `backend` to the top level: everything inside follows.
    let (status, moved) = owner
        .post(
            &format!("/api/v1/groups/{backend_group}/move"),
            json!({"parent_id": null}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["full_path"], "backend");
    let (_, project) = owner.get(&format!("/api/v1/projects/{api}")).await;
    assert_eq!(project["full_path"], "backend/services/api");
    // Under its own descendant: refused, and nothing changes.
    let (status, body) = owner
        .post(
            &format!("/api/v1/groups/{backend_group}/move"),
            json!({"parent_id": services}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("parent_id")),
        "{body}"
    );
    let (status, _) = owner
        .post(
            &format!("/api/v1/groups/{backend_group}/move"),
            json!({"parent_id": backend_group}),
        )
        .await;
    assert_eq!(status, 422);
    // Back under platform, then a rename of the slug rewrites paths below.
    owner
        .post(
            &format!("/api/v1/groups/{backend_group}/move"),
            json!({"parent_id": platform}),
        )
        .await;
    let (status, renamed) = owner
        .send(
            "PATCH",
            &format!("/api/v1/groups/{backend_group}"),
            Some(json!({"slug": "server", "name": "Server side"})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["full_path"], "platform/server");
    assert_eq!(renamed["name"], "Server side");
    let (_, project) = owner.get(&format!("/api/v1/projects/{api}")).await;
    assert_eq!(project["full_path"], "platform/server/services/api");
    // A project moves between groups.
    let (status, moved) = owner
        .post(
            &format!("/api/v1/projects/{api}/move"),
            json!({"group_id": platform}),
        )
        .await;
    assert_eq!(
        (status, moved["full_path"].as_str()),
        (200, Some("platform/api"))
    );

    // Deleting a group that is not empty needs recursive=true.
    let (status, body) = owner
        .send("DELETE", &format!("/api/v1/groups/{platform}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (409, Some("recursive")),
        "{body}"
    );
    assert_eq!(
        owner.get(&format!("/api/v1/projects/{api}")).await.0,
        200,
        "nothing deleted"
    );
    let (status, _) = owner
        .send(
            "DELETE",
            &format!("/api/v1/groups/{platform}?recursive=true"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    for path in [
        format!("/api/v1/groups/{platform}"),
        format!("/api/v1/groups/{services}"),
        format!("/api/v1/projects/{api}"),
    ] {
        assert_eq!(owner.get(&path).await.0, 404, "{path}");
    }
    app.stop().await;
}
on_all_backends!(nesting_moving_and_deleting);

async fn roles_are_inherited_and_hidden_is_404(backend: Backend) {
    // Users make and move out their own top-level groups here: the setting
    // allows it (admins only by default, tested in instance_ownership.rs).
    let app = TestApp::spawn_with(backend, |c| c.allow_user_top_level_groups = true).await;
    let admin = app.browser();
    admin.sign_up("root").await;
    let owner = app.browser();
    owner.sign_up("oscar").await;
    let viewer = app.browser();
    let viewer_id = viewer.sign_up("vera").await;
    let outsider = app.browser();
    outsider.sign_up("otto").await;

    let team = owner.group("team", None).await;
    let sub = owner.group("sub", Some(team)).await;
    let project = owner.project("app", sub).await;
    let project_url = format!("/api/v1/projects/{project}");

    // Private and not a member: it does not exist, whatever the action.
    assert_eq!(outsider.get(&project_url).await.0, 404);
    assert_eq!(
        outsider
            .send("PATCH", &project_url, Some(json!({"name": "x"})))
            .await
            .0,
        404
    );
    assert_eq!(outsider.send("DELETE", &project_url, None).await.0, 404);
    // A missing id looks the same.
    assert_eq!(outsider.get("/api/v1/projects/999999").await.0, 404);
    // Instance admins see everything.
    assert_eq!(admin.get(&project_url).await.0, 200);

    // Viewer on the top group: can see the project two levels down, but not
    // change it.
    let (status, body) = owner
        .post(
            &format!("/api/v1/groups/{team}/members"),
            json!({"username": "vera", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, seen) = viewer.get(&project_url).await;
    assert_eq!((status, seen["role"].as_str()), (200, Some("viewer")));
    // Listings give each node's role the same way: inherited from above
    // for the viewer, from the top group for its owner.
    for (who, role) in [(&viewer, "viewer"), (&owner, "owner")] {
        let (status, listed) = who.get("/api/v1/projects").await;
        assert_eq!(status, 200, "{listed}");
        let app_row = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == project)
            .cloned();
        assert_eq!(app_row.map(|p| p["role"].clone()), Some(json!(role)));
        let (_, groups) = who.get(&format!("/api/v1/groups?parent_id={team}")).await;
        assert!(
            groups["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["id"] == sub && g["role"] == role),
            "{groups}"
        );
    }
    let (status, body) = viewer
        .send("PATCH", &project_url, Some(json!({"name": "mine"})))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("viewer")
    );
    // The member list shows where roles come from.
    let (_, list) = viewer.get(&format!("{project_url}/members")).await;
    let vera = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "vera")
        .unwrap()
        .clone();
    assert_eq!(
        (vera["granted_on"].as_str(), vera["inherited"].as_bool()),
        (Some("team"), Some(true))
    );

    // Maintainer on the project itself: may edit, not delete or move.
    owner
        .send(
            "PATCH",
            &format!("/api/v1/groups/{team}/members/{viewer_id}"),
            Some(json!({"role": "viewer"})),
        )
        .await;
    let (status, _) = owner
        .post(
            &format!("{project_url}/members"),
            json!({"username": "vera", "role": "maintainer"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        viewer
            .send("PATCH", &project_url, Some(json!({"description": "ok"})))
            .await
            .0,
        200
    );
    assert_eq!(viewer.send("DELETE", &project_url, None).await.0, 403);
    // A maintainer cannot make anyone owner.
    let (status, _) = viewer
        .post(
            &format!("{project_url}/members"),
            json!({"username": "otto", "role": "owner"}),
        )
        .await;
    assert_eq!(status, 403);

    // The last owner of a top-level group stays.
    let owner_id = owner.get("/api/v1/me").await.1["id"].as_i64().unwrap();
    let (status, body) = owner
        .send(
            "DELETE",
            &format!("/api/v1/groups/{team}/members/{owner_id}"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // Internal: any signed-in user may look, not touch.
    let open = owner
        .post(
            "/api/v1/groups",
            json!({"slug": "open", "visibility": "internal"}),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    assert_eq!(outsider.get(&format!("/api/v1/groups/{open}")).await.0, 200);
    assert_eq!(
        outsider
            .send(
                "PATCH",
                &format!("/api/v1/groups/{open}"),
                Some(json!({"name": "x"}))
            )
            .await
            .0,
        403
    );
    // ... and a private group cannot hold an internal project.
    let (status, body) = owner
        .post(
            "/api/v1/projects",
            json!({"slug": "leak", "group_id": team, "visibility": "internal"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("visibility"))
    );

    // Lists show what each caller can see.
    let slugs = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["full_path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(slugs(outsider.get("/api/v1/groups").await.1), ["open"]);
    assert_eq!(
        slugs(viewer.get("/api/v1/projects").await.1),
        ["team/sub/app"]
    );
    assert_eq!(
        slugs(outsider.get("/api/v1/projects").await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        slugs(admin.get("/api/v1/groups").await.1),
        ["team", "team/sub", "open"]
    );
    // A group moved out of its parent keeps an owner: whoever moved it.
    let (status, moved) = owner
        .post(
            &format!("/api/v1/groups/{sub}/move"),
            json!({"parent_id": null}),
        )
        .await;
    assert_eq!(
        (status, moved["role"].as_str()),
        (200, Some("owner")),
        "{moved}"
    );
    let (_, list) = owner.get(&format!("/api/v1/groups/{sub}/members")).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["username"] == "oscar" && m["role"] == "owner" && m["granted_on"] == "sub"),
        "{list}"
    );
    // Anonymous: sign in first.
    assert_eq!(app.browser().get("/api/v1/groups").await.0, 401);
    app.stop().await;
}
on_all_backends!(roles_are_inherited_and_hidden_is_404);

async fn bad_input_is_named(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.max_body_bytes = 4096).await;
    let user = app.browser();
    user.sign_up("bea").await;
    let cases = [
        (json!({"slug": "Bad Slug"}), 422, "slug"),
        (json!({"slug": "ok", "name": "x".repeat(101)}), 422, "name"),
        (
            json!({"slug": "ok", "visibility": "public"}),
            422,
            "visibility",
        ),
        (json!({"slug": 5}), 422, "slug"),
        (json!({"name": "no slug"}), 422, "slug"),
        (json!({"slug": "ok", "colour": "red"}), 422, "colour"),
        (json!({"slug": "ok", "parent_id": 987654}), 422, "parent_id"),
    ];
    for (body, status, field) in cases {
        let (got, answer) = user.post("/api/v1/groups", body.clone()).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
    }
    // Malformed JSON says where.
    let response = user
        .request(reqwest::Method::POST, "/api/v1/groups")
        .header("content-type", "application/json")
        .body("{\"slug\": \"a\",,}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("column"),
        "{body}"
    );
    // Over the body limit: 413.
    let response = user
        .request(reqwest::Method::POST, "/api/v1/groups")
        .json(&json!({"slug": "a", "description": "x".repeat(10_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Bad query and path parameters.
    assert_eq!(
        user.get("/api/v1/groups?limit=0").await.1["error"]["field"],
        "limit"
    );
    assert_eq!(user.get("/api/v1/groups?limit=abc").await.0, 422);
    assert_eq!(user.get("/api/v1/groups/abc").await.0, 400);
    // Nothing was half-written.
    assert_eq!(user.get("/api/v1/groups").await.1["items"], json!([]));
    app.stop().await;
}
on_all_backends!(bad_input_is_named);

async fn lists_page_with_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.browser();
    user.sign_up("paula").await;
    for i in 0..5 {
        user.group(&format!("g{i}"), None).await;
    }
    let (_, first) = user.get("/api/v1/groups?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = user
        .get(&format!("/api/v1/groups?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["items"][0]["slug"], "g2");
    let (_, last) = user
        .get(&format!(
            "/api/v1/groups?limit=2&cursor={}",
            second["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert!(last["next_cursor"].is_null());
    app.stop().await;
}
on_all_backends!(lists_page_with_cursors);
