//! Commit statuses reach each git host's API exactly as it documents them:
//! a local HTTP server stands in for Gitea, GitHub and GitLab and records
//! every request (method, path, auth header, body). A pipeline run reports
//! when it starts and when it ends; a host that fails is tried again with
//! backoff and never fails the run; without a status token nothing is sent
//! and the run says why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::engine::{owner, wait_end, wait_until};
use crate::common::git::monorepo;
use crate::common::{Api, Backend, TestApp};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

/// One request as the stand-in host received it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
}

/// A stand-in git host: records requests and answers each with the next
/// status of `answers` (201 once they run out).
#[derive(Clone, Default)]
struct Host {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Host {
    async fn start(answers: &[u16]) -> (Host, String) {
        let host = Host {
            seen: Arc::default(),
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
        };
        let state = host.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    // Echoes the credentials, as a careless host might.
                    let echo = format!(
                        "bad credentials {:?} {:?}",
                        headers.get("authorization"),
                        headers.get("private-token")
                    );
                    state.seen.lock().unwrap().push(Seen {
                        method,
                        path: uri.path().to_owned(),
                        headers,
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    });
                    let code = state.answers.lock().unwrap().pop().unwrap_or(201);
                    let body = if code < 300 { "{}".to_owned() } else { echo };
                    (StatusCode::from_u16(code).unwrap(), body)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (host, format!("http://{addr}"))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<Seen> {
        let began = std::time::Instant::now();
        while self.seen().len() < count {
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "{count} requests expected: {:#?}",
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.seen()
    }
}

const CI: &str = "when: { event: [manual] }\nsteps:\n  - name: build\n    run: 'true'\n";
const BROKEN: &str = "when: { event: [manual] }\nsteps:\n  - name: build\n    run: 'false'\n";

/// A project linked to a fresh repository with pipelines `ci` and `broken`;
/// the repository's owner/name as the host sees it.
async fn linked(app: &TestApp, link: Value) -> (Api, i64, String) {
    let (api, project) = owner(app).await;
    let root = tempfile::tempdir().unwrap().keep();
    let (repo, _) = monorepo(&root);
    repo.commit(
        &[(".kiln/ci.yml", CI), (".kiln/broken.yml", BROKEN)],
        "add ci",
    );
    let mut body = json!({"url": repo.dir.to_string_lossy(), "default_branch": "main"});
    body.as_object_mut()
        .unwrap()
        .extend(link.as_object().unwrap().clone());
    let (status, answer) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/repository"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("status_token").is_none(), "{answer}");
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    (api, project, format!("{name}/monorepo"))
}

async fn start(api: &Api, project: i64, pipeline: &str) -> (i64, Value) {
    let (status, run) = api
        .post(
            &format!("/api/v1/projects/{project}/pipelines/{pipeline}/runs"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    (id, wait_end(api, id).await)
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn each_host_gets_its_own_request(backend: Backend) {
    for (provider, api_path) in [("gitea", "/api/v1"), ("github", ""), ("gitlab", "/api/v4")] {
        let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
        let (host, base) = Host::start(&[]).await;
        let (api, project, repository) = linked(
            &app,
            json!({"provider": provider, "status_token": "tok-123", "api_url": format!("{base}{api_path}")}),
        )
        .await;
        let (run, done) = start(&api, project, "ci").await;
        assert_eq!(done["state"], "success", "{done:#}");
        let sha = done["commit"]["sha"].as_str().unwrap().to_owned();
        let seen = host.wait_for(2).await;
        assert_eq!(seen.len(), 2, "{provider}: {seen:#?}");
        let path = match provider {
            "gitlab" => format!(
                "/api/v4/projects/{}/statuses/{sha}",
                repository.replace('/', "%2F")
            ),
            _ => format!("{api_path}/repos/{repository}/statuses/{sha}"),
        };
        let states: Vec<&str> = seen
            .iter()
            .map(|s| s.body["state"].as_str().unwrap())
            .collect();
        let expected = match provider {
            "gitlab" => ["running", "success"],
            _ => ["pending", "success"],
        };
        assert_eq!(states, expected, "{provider}");
        for request in &seen {
            assert_eq!(request.method, Method::POST, "{provider}");
            assert_eq!(request.path, path, "{provider}");
            assert_eq!(header(request, "content-type"), Some("application/json"));
            let auth = match provider {
                "gitea" => header(request, "authorization") == Some("token tok-123"),
                "github" => header(request, "authorization") == Some("Bearer tok-123"),
                _ => {
                    header(request, "private-token") == Some("tok-123")
                        && header(request, "authorization").is_none()
                }
            };
            assert!(auth, "{provider}: {:?}", request.headers);
            let link = request.body["target_url"].as_str().unwrap();
            assert!(link.ends_with(&format!("/runs/{run}")), "{link}");
            let context = if provider == "gitlab" {
                "name"
            } else {
                "context"
            };
            assert_eq!(request.body[context], "kiln/ci", "{provider}");
        }
        // A failed run reports failure in the host's own word.
        let (_, done) = start(&api, project, "broken").await;
        assert_eq!(done["state"], "failed");
        let seen = host.wait_for(4).await;
        let failed = if provider == "gitlab" {
            "failed"
        } else {
            "failure"
        };
        assert_eq!(seen[3].body["state"], failed, "{provider}");
        assert_eq!(
            seen[3].body[if provider == "gitlab" {
                "name"
            } else {
                "context"
            }],
            "kiln/broken"
        );
        let status = wait_status(&api, run, |s| s["reported"] == true).await;
        assert_eq!(status["state"], "success", "{status}");
        assert_eq!(status["error"], Value::Null);
        app.stop().await;
    }
}
on_sqlite_and_postgres!(each_host_gets_its_own_request);

/// The run's `commit_status` once `done` holds.
async fn wait_status(api: &Api, run: i64, done: impl Fn(&Value) -> bool) -> Value {
    let body = wait_until(api, run, Duration::from_secs(30), |r| {
        done(&r["commit_status"])
    })
    .await;
    body["commit_status"].clone()
}

async fn a_failing_host_is_tried_again_and_the_run_stays_green(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    // The first two requests fail: the pending status once, then the end once.
    let (host, base) = Host::start(&[503, 500]).await;
    let (api, project, _) = linked(
        &app,
        json!({"provider": "gitea", "status_token": "t0ken", "api_url": format!("{base}/api/v1")}),
    )
    .await;
    let (run, done) = start(&api, project, "ci").await;
    assert_eq!(done["state"], "success", "{done:#}");
    let failing = wait_status(&api, run, |s| s["attempts"].as_i64() >= Some(1)).await;
    let error = failing["error"].as_str().unwrap();
    assert!(error.contains("500") || error.contains("503"), "{failing}");
    // The host's answer is shown, its echo of the token is not.
    assert!(error.contains("***") && !error.contains("t0ken"), "{error}");
    assert!(failing["next_try_at"].is_string(), "{failing}");
    let settled = wait_status(&api, run, |s| s["reported"] == true).await;
    assert_eq!(settled["state"], "success");
    assert_eq!(settled["error"], Value::Null);
    let seen = host.seen();
    assert_eq!(
        seen.last().unwrap().body["state"],
        "success",
        "the end is sent last: {seen:#?}"
    );
    // The run itself never changed because of it.
    let (_, body) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(body["state"], "success");
    app.stop().await;
}
on_sqlite_and_postgres!(a_failing_host_is_tried_again_and_the_run_stays_green);

async fn without_a_token_nothing_is_sent_and_the_run_says_why(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (host, base) = Host::start(&[]).await;
    let (api, project, _) = linked(&app, json!({"provider": "github", "api_url": base})).await;
    let (run, done) = start(&api, project, "ci").await;
    assert_eq!(done["state"], "success");
    let status = wait_status(&api, run, |s| {
        s["error"]
            .as_str()
            .is_some_and(|e| e.contains("status_token"))
            && s["state"] == "success"
    })
    .await;
    assert_eq!(status["reported"], false, "{status}");
    assert!(host.seen().is_empty());
    app.stop().await;
}
on_sqlite_and_postgres!(without_a_token_nothing_is_sent_and_the_run_says_why);

async fn bad_status_settings_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = monorepo(root.path());
    let url = repo.dir.to_string_lossy().into_owned();
    for (body, field) in [
        (
            json!({"url": url, "provider": "gitea", "api_url": "ftp://x/y"}),
            "api_url",
        ),
        (
            json!({"url": url, "provider": "gitea", "api_url": "http://u:p@h/api"}),
            "api_url",
        ),
        // A token for a local repository needs somewhere to send statuses.
        (
            json!({"url": url, "provider": "gitea", "status_token": "t"}),
            "api_url",
        ),
    ] {
        let (status, answer) = api
            .send(
                "PUT",
                &format!("/api/v1/projects/{project}/repository"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert!(answer.to_string().contains(field), "{answer}");
    }
    app.stop().await;
}
on_sqlite_and_postgres!(bad_status_settings_are_refused);
