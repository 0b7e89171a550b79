//! "Nobody owns the instance by registering", probe by probe, against a real
//! server: concurrent sign-ups on an empty instance make one admin; after it,
//! sign-up is by invitation unless opened; top-level groups are for admins
//! unless allowed; session ids are stored hashed; a password change revokes
//! API tokens (API, dashboard form, CLI); the database, the secrets key and
//! the logs are private files; names refuse invisible format characters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use crate::common::engine;
use crate::common::{Api, Backend, TestApp};
use kiln_core::accounts::RegistrationMode;
use kiln_server::config::Config;
use kiln_server::db::entities::{session, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

const SIGN_UPS: usize = 8;

/// `SIGN_UPS` strangers register at once on a fresh instance; the statuses,
/// and how many admins the database holds afterwards.
async fn sign_up_race(app: &TestApp) -> (Vec<u16>, u64) {
    let attempts = (0..SIGN_UPS).map(|i| {
        let api = app.browser();
        async move {
            api.post(
                "/api/v1/auth/register",
                json!({"username": format!("racer{i}"), "password": "correct horse"}),
            )
            .await
        }
    });
    let answers = futures::future::join_all(attempts).await;
    for (status, body) in &answers {
        assert!(
            matches!(status, 201 | 403),
            "a refused sign-up is a 403, never a 500: {status} {body}"
        );
        if *status == 403 {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("invitation"),
                "{body}"
            );
        }
    }
    let admins = user::Entity::find()
        .filter(user::Column::IsAdmin.eq(true))
        .count(&app.server.database().conn)
        .await
        .unwrap();
    (answers.into_iter().map(|(s, _)| s).collect(), admins)
}

async fn concurrent_first_sign_ups_make_one_admin(backend: Backend) {
    // The default mode (invite): one gets in, as the admin; the rest are refused.
    let app = TestApp::spawn_with(backend, |c| {
        c.registration = Config::default().registration;
    })
    .await;
    assert_eq!(app.config.registration, RegistrationMode::Invite);
    let (statuses, admins) = sign_up_race(&app).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(admins, 1);
    let users = user::Entity::find()
        .count(&app.server.database().conn)
        .await
        .unwrap();
    assert_eq!(users, 1, "the refused sign-ups left no account behind");
    // Later strangers too.
    let (status, _) = app
        .browser()
        .post(
            "/api/v1/auth/register",
            json!({"username": "later", "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, 403);
    app.stop().await;

    // Open: everyone gets an account, exactly one of them admin.
    let app = TestApp::spawn_with(backend, |c| c.registration = RegistrationMode::Open).await;
    let (statuses, admins) = sign_up_race(&app).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(admins, 1);
    app.stop().await;
}
on_all_backends!(concurrent_first_sign_ups_make_one_admin);

async fn top_level_groups_are_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert!(!app.config.allow_user_top_level_groups, "the default");
    let admin = app.browser();
    admin.sign_up("root").await;
    let platform = admin.group("platform", None).await;
    let user = app.browser();
    user.sign_up("stranger").await;

    let (status, body) = user.post("/api/v1/groups", json!({"slug": "mine"})).await;
    assert_eq!(status, 403, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("only instance admins create top-level groups"),
        "{message}"
    );
    // The same through an API token, whatever its scope.
    let token = user.token("admin").await;
    let (status, _) = Api::with_token(&app.base, &token)
        .post("/api/v1/groups", json!({"slug": "mine"}))
        .await;
    assert_eq!(status, 403);

    // Inside a group where they are maintainer, they may; moving that group
    // to the top would be a top-level group of their own.
    let (status, body) = admin
        .post(
            &format!("/api/v1/groups/{platform}/members"),
            json!({"username": "stranger", "role": "owner"}),
        )
        .await;
    assert!(matches!(status, 200 | 201), "{body}");
    let sub = user.group("sub", Some(platform)).await;
    let (status, body) = user
        .post(
            &format!("/api/v1/groups/{sub}/move"),
            json!({"parent_id": null}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // The admin may move it there.
    let (status, body) = admin
        .post(
            &format!("/api/v1/groups/{sub}/move"),
            json!({"parent_id": null}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;

    // Allowed by the operator: every user may.
    let app = TestApp::spawn_with(backend, |c| c.allow_user_top_level_groups = true).await;
    app.browser().sign_up("root").await;
    let user = app.browser();
    user.sign_up("stranger").await;
    user.group("mine", None).await;
    app.stop().await;
}
on_all_backends!(top_level_groups_are_for_admins);

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn session_ids_are_stored_hashed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/register"))
        .header("origin", &app.base)
        .json(&json!({"username": "hana", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let value = cookie.strip_prefix("kiln_session=").unwrap().to_owned();
    assert!(value.len() >= 16, "{cookie}");

    let rows = session::Entity::find()
        .all(&app.server.database().conn)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in &rows {
        assert_ne!(row.id, value, "the cookie's value is not in the table");
        assert!(
            !String::from_utf8_lossy(&row.data).contains(&value),
            "nor in a session's data"
        );
    }
    assert!(
        rows.iter().any(|row| row.id == sha256_hex(&value)),
        "its SHA-256 is"
    );

    // The cookie still works, and logging out deletes its row.
    let me = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let out = reqwest::Client::new()
        .post(app.url("/api/v1/auth/logout"))
        .header("origin", &app.base)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let left = session::Entity::find_by_id(sha256_hex(&value))
        .one(&app.server.database().conn)
        .await
        .unwrap();
    assert!(left.is_none());
    app.stop().await;
}
on_all_backends!(session_ids_are_stored_hashed);

async fn password_change_revokes_api_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let eve = app.browser();
    eve.sign_up("eve").await;
    let read = eve.token("read").await;
    let admin = eve.token("admin").await;
    let reader = Api::with_token(&app.base, &read);
    assert_eq!(reader.get("/api/v1/me").await.0, 200);

    let (status, body) = eve
        .send(
            "PUT",
            "/api/v1/me/password",
            Some(json!({"current_password": "correct horse", "new_password": "a new secret"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokens_revoked"], 2);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2 API tokens were revoked"),
        "{body}"
    );
    let (status, body) = reader.get("/api/v1/me").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        Api::with_token(&app.base, &admin).get("/api/v1/me").await.0,
        401
    );
    assert_eq!(eve.get("/api/v1/me").await.0, 200, "this session stays");
    let (_, list) = eve.get("/api/v1/me/tokens").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked_at"].is_string()),
        "{list}"
    );

    // The dashboard's form: the same, and the account page says so.
    let fresh = eve.token("write").await;
    let response = eve
        .client
        .post(app.url("/ui/account/password"))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("current_password=a%20new%20secret&new_password=another%20secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/account");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("your API token was revoked"),
        "the account page says so"
    );
    assert_eq!(
        Api::with_token(&app.base, &fresh).get("/api/v1/me").await.0,
        401
    );
    // Said once: the notice is gone on the next visit.
    let again = eve.client.get(app.url("/account")).send().await.unwrap();
    assert!(!again.text().await.unwrap().contains("was revoked"));
    app.stop().await;
}
on_all_backends!(password_change_revokes_api_tokens);

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

async fn data_files_are_private(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = engine::owner(&app).await;
    let (status, body) = engine::save(
        &api,
        project,
        "hello",
        // Long enough for a file of its own (a short log stays in its row).
        "tasks:\n  say:\n    run: echo hello from a step; seq 1 2000\n",
    )
    .await;
    assert!(matches!(status, 200 | 201), "{body}");
    let run = engine::start(&api, project, "hello", json!({})).await;
    let ended = engine::wait_end(&api, run).await;
    assert_eq!(ended["state"], "success", "{ended:#}");
    assert!(
        engine::log(&api, run, "say")
            .await
            .contains("hello from a step")
    );

    let data = app.db.data_dir();
    assert_eq!(mode(&data.join("secret.key")), 0o600);
    let logs = data.join("logs");
    assert_eq!(mode(&logs), 0o700);
    let files = engine::walk(&logs);
    assert!(!files.is_empty(), "the run logged");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
        let mut dir = file.parent().unwrap();
        while dir != logs {
            assert_eq!(mode(dir), 0o700, "{}", dir.display());
            dir = dir.parent().unwrap();
        }
    }
    if backend == Backend::Sqlite {
        for name in ["kiln.db", "kiln.db-wal", "kiln.db-shm"] {
            let path = data.join(name);
            if name == "kiln.db" || path.exists() {
                assert_eq!(mode(&path), 0o600, "{name}");
            }
        }
    }
    app.stop().await;
}
on_all_backends!(data_files_are_private);

async fn names_refuse_invisible_characters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.browser();
    admin.sign_up("root").await;
    let stranger = app.browser();
    for (username, shown) in [
        ("ad\u{200B}min", "U+200B"),
        ("\u{202E}toor", "U+202E"),
        ("root\u{FEFF}", "U+FEFF"),
    ] {
        let (status, body) = stranger
            .post(
                "/api/v1/auth/register",
                json!({"username": username, "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, 422, "{username:?}: {body}");
        assert_eq!(body["error"]["field"], "username");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(shown),
            "{body}"
        );
    }

    let bad = "Plat\u{2066}form";
    let (status, body) = admin
        .post("/api/v1/groups", json!({"slug": "platform", "name": bad}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "name");
    let (status, body) = admin
        .post("/api/v1/groups", json!({"slug": "plat\u{200D}form"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "slug");
    let group = admin.group("platform", None).await;
    let (status, body) = admin
        .post(
            "/api/v1/projects",
            json!({"slug": "api", "group_id": group, "name": "A\u{00AD}PI"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "name");
    let project = admin.project("api", group).await;
    let (status, body) = admin
        .send(
            "PATCH",
            &format!("/api/v1/projects/{project}"),
            Some(json!({"description": "safe \u{202E}txt.exe"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "description");
    let (status, body) = admin
        .post(
            "/api/v1/me/tokens",
            json!({"name": "ci\u{200B}", "scope": "read"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "name");
    let (status, body) = engine::save(
        &admin,
        project,
        "hello",
        "name: \"hel\\u202Elo\"\ntasks:\n  a:\n    run: echo hi\n",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("U+202E"), "{body}");
    app.stop().await;
}
on_all_backends!(names_refuse_invisible_characters);
