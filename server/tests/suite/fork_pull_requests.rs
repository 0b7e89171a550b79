//! Pull requests from forks, delivered by GitHub to a project linked to a
//! real monorepo: the run starts, but its steps get none of the project's
//! secrets (one that asks for them fails, saying why) until a maintainer
//! approves it; approving re-runs what failed, now with the secrets, and
//! is refused a second time or for another commit than the one reviewed.
//! The run page offers the approval. A fork's `concurrency:` is ignored; a
//! run started by hand at a commit only a pull request ref holds is a
//! fork's too. A pull request from the repository itself gets its secrets
//! at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Backend;
use crate::common::engine::{log, step, wait_end};
use crate::common::hooks::{Hooked, deliver, hooked, hooked_with};
use kiln_core::hooks::signature::sign;
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-value-for-forks";

const PIPELINE: &str = "when:
  event: [pull_request, manual]
concurrency: {group: deploy, cancel_in_progress: true}
steps:
  - name: build
    run: echo built
  - name: publish
    secrets: [TOKEN]
    run: test \"$TOKEN\" = s3cr3t-value-for-forks && echo \"published $TOKEN\"
";

/// A pull request's head commit, reachable only as GitHub serves it to the
/// base repository: `refs/pull/{number}/head`, no branch.
fn pull_request_head(h: &Hooked, number: u64) -> String {
    h.repo.git(&["checkout", "-q", "-b", "contribution"]);
    let head = h
        .repo
        .commit(&[(".kiln/fork.yml", PIPELINE)], "add a pipeline");
    h.repo.git(&["checkout", "-q", "main"]);
    h.repo
        .git(&["update-ref", &format!("refs/pull/{number}/head"), &head]);
    h.repo.git(&["branch", "-q", "-D", "contribution"]);
    head
}

/// GitHub's `pull_request` delivery of `head`, opened from `head_repo`.
async fn pull_request(h: &Hooked, number: u64, head: &str, head_repo: &str) -> (u16, Value) {
    let body = json!({
        "action": "opened", "number": number,
        "pull_request": {
            "number": number, "title": "Add a pipeline", "user": {"login": "mallory"},
            "head": {"ref": "contribution", "sha": head, "repo": {"id": 2, "full_name": head_repo}},
            "base": {"ref": "main", "sha": h.first, "repo": {"id": 1, "full_name": "team/app"}}
        },
        "repository": {"full_name": "team/app"}
    })
    .to_string();
    let headers = vec![
        ("X-GitHub-Event", "pull_request".to_owned()),
        ("X-GitHub-Delivery", format!("pr-{number}")),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign(h.secret.as_bytes(), body.as_bytes())),
        ),
    ];
    deliver(h, "github", &headers, body.as_bytes()).await
}

/// The run a pull request started.
async fn opened(h: &Hooked, number: u64, head: &str, head_repo: &str) -> i64 {
    let (status, answer) = pull_request(h, number, head, head_repo).await;
    assert_eq!(status, 202, "{answer}");
    let runs = answer["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "only fork.yml matches: {answer}");
    runs[0].as_i64().unwrap()
}

async fn approve(h: &Hooked, run: i64, body: Value) -> (u16, Value) {
    h.api
        .send_lenient("POST", &format!("/api/v1/runs/{run}/approve"), Some(body))
        .await
}

async fn forks_get_secrets_only_once_approved(backend: Backend) {
    let h = hooked(backend, "github").await;
    let (status, body) = h
        .api
        .send(
            "PUT",
            &format!("/api/v1/projects/{}/secrets/TOKEN", h.project),
            Some(json!({"value": SECRET})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let head = pull_request_head(&h, 7);

    let run = opened(&h, 7, &head, "mallory/app").await;
    let done = wait_end(&h.api, run).await;
    assert_eq!(done["state"], "failed", "{done:#}");
    assert_eq!(done["commit"]["from_fork"], true, "{done:#}");
    assert_eq!(done["approval"]["secrets_withheld"], true, "{done:#}");
    assert_eq!(step(&done, "build")["state"], "success", "{done:#}");
    let publish = step(&done, "publish");
    assert_eq!(publish["state"], "failed", "{done:#}");
    let message = publish["message"].as_str().unwrap();
    assert!(
        message.contains("secrets TOKEN withheld") && message.contains("fork"),
        "{message}"
    );
    // The run page says why, and offers the owner the approval.
    let (status, page) = h.api.raw("GET", &format!("/runs/{run}"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"fork-approval\"") && page.contains("id=\"approve-run\""));

    // Its group is ignored: a fork must not cancel the project's deploys.
    assert!(done.get("concurrency_group").is_none(), "{done:#}");
    // Only the commit that was reviewed.
    let (status, other) = approve(&h, run, json!({"commit": h.first})).await;
    assert_eq!(status, 409, "{other}");
    let (status, approved) = approve(&h, run, json!({"commit": head})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approval"]["secrets_withheld"], false);
    assert!(approved["approval"]["approved_by"].is_i64(), "{approved}");
    let done = wait_end(&h.api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    let publish = step(&done, "publish");
    assert_eq!(publish["attempt"], 2, "{done:#}");
    let text = log(&h.api, run, "publish").await;
    assert!(text.contains("published ***"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    // Once only.
    let (status, again) = approve(&h, run, json!({})).await;
    assert_eq!(status, 409, "{again}");

    // The repository's own pull request: secrets at once, nothing to approve.
    let own = pull_request_head(&h, 8);
    let run = opened(&h, 8, &own, "team/app").await;
    let done = wait_end(&h.api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert!(done.get("approval").is_none(), "{done:#}");
    assert_eq!(done["concurrency_group"], "deploy", "{done:#}");
    let (status, refused) = approve(&h, run, json!({})).await;
    assert_eq!(status, 409, "{refused}");

    // Started by hand at the fork's commit (only a pull request ref holds
    // it): still a fork's run, whoever starts it.
    let (status, manual) = h
        .api
        .send(
            "POST",
            &format!("/api/v1/projects/{}/pipelines/fork/runs", h.project),
            Some(json!({"commit": head})),
        )
        .await;
    assert_eq!(status, 201, "{manual}");
    let done = wait_end(&h.api, manual["id"].as_i64().unwrap()).await;
    assert_eq!(done["commit"]["from_fork"], true, "{done:#}");
    assert_eq!(step(&done, "publish")["state"], "failed", "{done:#}");
    h.app.stop().await;
}
on_sqlite_and_postgres!(forks_get_secrets_only_once_approved);

/// Without a sandbox a step runs as Kiln's own user and could read its data
/// directory: withheld secrets would mean nothing, so a fork starts nothing.
async fn forks_start_nothing_without_a_sandbox(backend: Backend) {
    let h = hooked_with(backend, "github", |c| {
        c.step_sandbox = kiln_server::config::StepSandbox::None;
    })
    .await;
    let head = pull_request_head(&h, 9);
    let (status, answer) = pull_request(&h, 9, &head, "mallory/app").await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], json!([]), "{answer}");
    let (_, list) = h
        .api
        .get(&format!("/api/v1/projects/{}/deliveries", h.project))
        .await;
    let fork = list["items"][0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "fork")
        .unwrap();
    let reason = fork["reason"].as_str().unwrap();
    assert!(reason.contains("without a sandbox"), "{reason}");
    h.app.stop().await;
}
on_sqlite_and_postgres!(forks_start_nothing_without_a_sandbox);
