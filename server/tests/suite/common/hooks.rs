//! A project linked to a real local monorepo, and deliveries to its hook
//! URL, for the webhook tests.
#![allow(dead_code)]

use serde_json::Value;

use super::engine::owner;
use super::git::{Repo, monorepo};
use super::{Api, Backend, TestApp};
use serde_json::json;

/// A project linked to a fresh monorepo for `provider`, with its hook secret
/// and first commit.
pub struct Hooked {
    pub app: TestApp,
    pub api: Api,
    pub project: i64,
    pub repo: Repo,
    pub secret: String,
    pub first: String,
    _root: tempfile::TempDir,
}

pub async fn hooked(backend: Backend, provider: &str) -> Hooked {
    hooked_with(backend, provider, |_| {}).await
}

/// [`hooked`], with the server's configuration adjusted.
pub async fn hooked_with(
    backend: Backend,
    provider: &str,
    adjust: impl FnOnce(&mut kiln_server::config::Config),
) -> Hooked {
    let app = TestApp::spawn_with(backend, |c| {
        c.allow_local_repositories = true;
        adjust(c);
    })
    .await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, first) = monorepo(root.path());
    let (status, linked) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/repository"),
            Some(json!({"url": repo.dir.to_string_lossy(), "provider": provider})),
        )
        .await;
    assert_eq!(status, 200, "{linked}");
    Hooked {
        app,
        api,
        project,
        repo,
        secret: linked["hook_secret"].as_str().unwrap().to_owned(),
        first,
        _root: root,
    }
}

/// Posts `body` to the hook URL with `headers`; status and answer.
pub async fn deliver(
    h: &Hooked,
    provider: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .post(h.app.url(&format!("/hooks/{provider}/{}", h.project)))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The project's recorded deliveries, newest first.
pub async fn deliveries(h: &Hooked) -> Vec<Value> {
    let (status, list) = h
        .api
        .get(&format!("/api/v1/projects/{}/deliveries", h.project))
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}
