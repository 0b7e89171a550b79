//! The matrix's requests for the engine's routes (workflows, runs, logs,
//! secrets), and the workflows and runs they need made by the owner.

use serde_json::{Value, json};

use std::sync::LazyLock;

use super::{Fixture, OK_WORKFLOW};

static REPOSITORY: LazyLock<Value> =
    LazyLock::new(|| json!({"url": "https://git.example/team/app.git", "provider": "gitea"}));

impl Fixture {
    /// The request for an engine route; `None` for any other route.
    pub(super) async fn engine_request(&self, route: &str) -> Option<(String, Option<Value>)> {
        let (g, p) = (self.group, self.project);
        Some(match route {
            "GET /api/v1/projects/{id}/workflows" => {
                (format!("/api/v1/projects/{p}/workflows"), None)
            }
            "GET /api/v1/projects/{id}/workflows/{name}" => {
                (format!("/api/v1/projects/{p}/workflows/ok"), None)
            }
            "PUT /api/v1/projects/{id}/workflows/{name}" => (
                format!("/api/v1/projects/{p}/workflows/{}", self.fresh("wf")),
                Some(json!({"source": OK_WORKFLOW})),
            ),
            "DELETE /api/v1/projects/{id}/workflows/{name}" => {
                let name = self.fresh("doomed");
                self.save_workflow(&name, OK_WORKFLOW).await;
                (format!("/api/v1/projects/{p}/workflows/{name}"), None)
            }
            "POST /api/v1/projects/{id}/workflows/{name}/runs" => (
                format!("/api/v1/projects/{p}/workflows/ok/runs"),
                Some(json!({})),
            ),
            "GET /api/v1/projects/{id}/deliveries" => {
                (format!("/api/v1/projects/{p}/deliveries"), None)
            }
            "POST /api/v1/projects/{id}/deliveries/{delivery}/replay" => (
                format!("/api/v1/projects/{p}/deliveries/999999/replay"),
                None,
            ),
            "GET /api/v1/projects/{id}/repository" => (self.link_repository().await, None),
            "PUT /api/v1/projects/{id}/repository" => (
                format!("/api/v1/projects/{p}/repository"),
                Some(REPOSITORY.clone()),
            ),
            "POST /api/v1/projects/{id}/repository/rotate-secret" => (
                format!("{}/rotate-secret", self.link_repository().await),
                None,
            ),
            "POST /api/v1/projects/{id}/pipelines/dry-run" => {
                self.link_local_repository().await;
                (
                    format!("/api/v1/projects/{p}/pipelines/dry-run"),
                    Some(json!({"event": "push", "paths": ["x"]})),
                )
            }
            "POST /api/v1/projects/{id}/pipelines/{name}/runs" => {
                self.link_local_repository().await;
                (
                    format!("/api/v1/projects/{p}/pipelines/default/runs"),
                    Some(json!({})),
                )
            }
            "GET /api/v1/projects/{id}/runs" => (format!("/api/v1/projects/{p}/runs"), None),
            "GET /api/v1/runs/{id}" => (format!("/api/v1/runs/{}", self.run), None),
            "GET /api/v1/runs/{id}/steps" => (format!("/api/v1/runs/{}/steps", self.run), None),
            // The run has ended: its stream sends its story and ends.
            "GET /api/v1/runs/{id}/events" => (format!("/api/v1/runs/{}/events", self.run), None),
            "GET /api/v1/runs/{id}/steps/{task}/artifacts" => (
                format!("/api/v1/runs/{}/steps/only/artifacts", self.run),
                None,
            ),
            "GET /api/v1/runs/{id}/steps/{task}/log" => {
                (format!("/api/v1/runs/{}/steps/only/log", self.run), None)
            }
            "POST /api/v1/runs/{id}/cancel" => {
                // Its step needs a label no worker has: it waits, harmlessly.
                let run = self.start_run("stuck").await;
                (format!("/api/v1/runs/{run}/cancel"), Some(json!({})))
            }
            "POST /api/v1/runs/{id}/retry" => {
                let run = self.start_run("failing").await;
                self.wait_run(run).await;
                (format!("/api/v1/runs/{run}/retry"), Some(json!({})))
            }
            "POST /api/v1/runs/{id}/approve" => (
                format!("/api/v1/runs/{}/approve", self.run),
                Some(json!({})),
            ),
            "GET /api/v1/projects/{id}/secrets" => (format!("/api/v1/projects/{p}/secrets"), None),
            "GET /api/v1/groups/{id}/secrets" => (format!("/api/v1/groups/{g}/secrets"), None),
            "PUT /api/v1/projects/{id}/secrets/{name}" => (
                format!("/api/v1/projects/{p}/secrets/MATRIX"),
                Some(json!({"value": "vvvv"})),
            ),
            "PUT /api/v1/groups/{id}/secrets/{name}" => (
                format!("/api/v1/groups/{g}/secrets/MATRIX"),
                Some(json!({"value": "vvvv"})),
            ),
            "DELETE /api/v1/projects/{id}/secrets/{name}" => {
                self.owner
                    .send(
                        "PUT",
                        &format!("/api/v1/projects/{p}/secrets/DOOMED"),
                        Some(json!({"value": "vvvv"})),
                    )
                    .await;
                (format!("/api/v1/projects/{p}/secrets/DOOMED"), None)
            }
            "DELETE /api/v1/groups/{id}/secrets/{name}" => {
                self.owner
                    .send(
                        "PUT",
                        &format!("/api/v1/groups/{g}/secrets/DOOMED"),
                        Some(json!({"value": "vvvv"})),
                    )
                    .await;
                (format!("/api/v1/groups/{g}/secrets/DOOMED"), None)
            }
            _ => return None,
        })
    }

    /// The project linked to a local repository with one pipeline file
    /// (made once per test process), as a dry run needs.
    async fn link_local_repository(&self) {
        static REPO: LazyLock<std::path::PathBuf> = LazyLock::new(|| {
            let dir = tempfile::tempdir().unwrap().keep();
            let git = |args: &[&str]| {
                let ok = std::process::Command::new("git")
                    .args([
                        "-c",
                        "user.name=m",
                        "-c",
                        "user.email=m@x",
                        "-c",
                        "init.defaultBranch=main",
                    ])
                    .arg("-C")
                    .arg(&dir)
                    .args(args)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "git {args:?}");
            };
            git(&["init", "-q"]);
            std::fs::write(
                dir.join(".kiln.yml"),
                "when: { event: [push, manual] }\nsteps:\n  - name: a\n    run: 'true'\n",
            )
            .unwrap();
            git(&["add", "-A"]);
            git(&["commit", "-q", "-m", "one"]);
            dir
        });
        let body = json!({"url": REPO.to_string_lossy(), "provider": "gitea"});
        let path = format!("/api/v1/projects/{}/repository", self.project);
        let (status, answer) = self.owner.send("PUT", &path, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
    }

    /// The project's repository, linked by the owner (idempotent).
    async fn link_repository(&self) -> String {
        let path = format!("/api/v1/projects/{}/repository", self.project);
        let (status, body) = self
            .owner
            .send("PUT", &path, Some(REPOSITORY.clone()))
            .await;
        assert_eq!(status, 200, "{body}");
        path
    }

    pub(super) async fn save_workflow(&self, name: &str, source: &str) {
        let (status, body) = self
            .owner
            .send(
                "PUT",
                &format!("/api/v1/projects/{}/workflows/{name}", self.project),
                Some(json!({"source": source})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub(super) async fn start_run(&self, workflow: &str) -> i64 {
        let (status, body) = self
            .owner
            .post(
                &format!(
                    "/api/v1/projects/{}/workflows/{workflow}/runs",
                    self.project
                ),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    pub(super) async fn wait_run(&self, run: i64) {
        for _ in 0..600 {
            let (_, body) = self.owner.get(&format!("/api/v1/runs/{run}")).await;
            if body["state"] != "running" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("run {run} never ended");
    }
}
