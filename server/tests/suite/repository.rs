//! Linking a project to its repository on SQLite, PostgreSQL and MariaDB:
//! maintainers link and see the hook URL and secret, the status token goes
//! in and never comes out, the secret rotates, and hostile URLs (git's
//! command-running transports, the server's own files, options) are refused
//! with the field named (422).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::engine::owner;
use crate::common::{Backend, TestApp};
use sea_orm::EntityTrait;
use serde_json::json;

async fn links_a_repository(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let path = format!("/api/v1/projects/{project}/repository");

    let (status, body) = api.get(&path).await;
    assert_eq!(status, 404, "{body}");

    let (status, linked) = api
        .send(
            "PUT",
            &path,
            Some(json!({
                "url": "https://bot:s3cr3t-pass@git.example/team/app.git",
                "provider": "gitea",
                "default_branch": "main",
                "status_token": "status-token-value-1234"
            })),
        )
        .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["provider"], "gitea");
    assert_eq!(linked["default_branch"], "main");
    assert_eq!(linked["url"], "https://bot:***@git.example/team/app.git");
    assert_eq!(linked["has_status_token"], true);
    let hook_url = linked["hook_url"].as_str().unwrap();
    assert!(
        hook_url.ends_with(&format!("/hooks/gitea/{project}")),
        "{hook_url}"
    );
    let secret = linked["hook_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    let text = linked.to_string();
    assert!(
        !text.contains("status-token-value") && !text.contains("s3cr3t-pass"),
        "{text}"
    );

    // Re-linking keeps the secret and the token; GET shows the same.
    let (status, again) = api
        .send(
            "PUT",
            &path,
            Some(json!({"url": "git@git.example:team/app.git", "provider": "github"})),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["hook_secret"], secret.as_str());
    assert_eq!(again["has_status_token"], true);
    assert_eq!(again["default_branch"], "main");
    let (_, got) = api.get(&path).await;
    assert_eq!(got["hook_secret"], secret.as_str());
    assert!(got["hook_url"].as_str().unwrap().contains("/hooks/github/"));

    // Rotation makes a new secret.
    let (status, rotated) = api.post(&format!("{path}/rotate-secret"), json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["hook_secret"], secret.as_str());
    assert_eq!(rotated["hook_secret"].as_str().unwrap().len(), 64);

    // An empty token removes it.
    let (_, cleared) = api
        .send(
            "PUT",
            &path,
            Some(json!({"url": "https://git.example/team/app.git", "provider": "gitlab", "status_token": ""})),
        )
        .await;
    assert_eq!(cleared["has_status_token"], false);

    // The secret is stored sealed, not as given.
    let stored = kiln_server::db::entities::repository::Entity::find_by_id(project)
        .one(&app.server.database().conn)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .hook_secret
            .contains(rotated["hook_secret"].as_str().unwrap())
    );
    app.stop().await;
}
on_all_backends!(links_a_repository);

async fn hostile_links_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let path = format!("/api/v1/projects/{project}/repository");
    for (body, field) in [
        (
            json!({"url": "ext::sh -c touch% /tmp/pwned", "provider": "gitea"}),
            "url",
        ),
        (json!({"url": "fd::3", "provider": "gitea"}), "url"),
        (json!({"url": "file:///etc", "provider": "gitea"}), "url"),
        (json!({"url": "-uhttps://x/y", "provider": "gitea"}), "url"),
        (
            json!({"url": "http://plain.example/r.git", "provider": "gitea"}),
            "url",
        ),
        // Local paths only where the operator allows them.
        (
            json!({"url": app.db.data_dir().to_string_lossy(), "provider": "gitea"}),
            "url",
        ),
        (
            json!({"url": "https://git.example/o/r.git", "provider": "bitbucket"}),
            "provider",
        ),
        (
            json!({"url": "https://git.example/o/r.git", "provider": "gitea", "default_branch": "--upload-pack=x"}),
            "default_branch",
        ),
        (
            json!({"url": "https://git.example/o/r.git", "provider": "gitea", "default_branch": "a..b"}),
            "default_branch",
        ),
        // Git would reach Kiln's own machine and internal networks.
        (
            json!({"url": "https://127.0.0.1:3000/o/r.git", "provider": "gitea"}),
            "url",
        ),
        (
            json!({"url": "https://169.254.169.254/latest/meta-data.git", "provider": "gitea"}),
            "url",
        ),
        (
            json!({"url": "https://localhost/o/r.git", "provider": "gitlab"}),
            "url",
        ),
        (
            json!({"url": "git@10.0.0.7:o/r.git", "provider": "gitea"}),
            "url",
        ),
    ] {
        let (status, answer) = api.send("PUT", &path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
        if body["url"]
            .as_str()
            .is_some_and(|u| u.contains("127.0.0.1"))
        {
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains("http_step_allow_networks"), "{message}");
        }
    }
    let (status, answer) = api
        .send(
            "PUT",
            &path,
            Some(json!({"url": "https://x/y", "provider": "gitea", "colour": 1})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "colour", "{answer}");
    let (status, _) = api.post(&format!("{path}/rotate-secret"), json!({})).await;
    assert_eq!(status, 404, "nothing linked: nothing to rotate");
    app.stop().await;
}
on_all_backends!(hostile_links_are_refused);

#[tokio::test]
async fn local_paths_where_the_operator_allows_them() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let path = format!("/api/v1/projects/{project}/repository");
    let (status, linked) = api
        .send(
            "PUT",
            &path,
            Some(json!({"url": "/srv/git/app.git", "provider": "gitea"})),
        )
        .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["url"], "/srv/git/app.git");
    let (status, answer) = api
        .send(
            "PUT",
            &path,
            Some(json!({"url": "/srv/../etc", "provider": "gitea"})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    app.stop().await;
}
