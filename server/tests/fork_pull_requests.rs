//! Pull requests from forks, delivered by GitHub to a project linked to a
//! real monorepo: the run starts, but its steps get none of the project's
//! secrets (one that asks for them fails, saying why) until a maintainer
//! approves it; approving re-runs what failed, now with the secrets, and
//! is refused a second time. The run page offers the approval. A pull
//! request from the repository itself gets its secrets at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Backend;
use common::engine::{log, step, wait_end};
use common::hooks::{Hooked, deliver, hooked};
use kiln_core::hooks::signature::sign;
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-value-for-forks";

const PIPELINE: &str = "when:
  event: [pull_request]
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

/// GitHub's `pull_request` delivery; the run it started.
async fn opened(h: &Hooked, number: u64, head: &str, head_repo: &str) -> i64 {
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
    let (status, answer) = deliver(h, "github", &headers, body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    let runs = answer["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "only fork.yml matches: {answer}");
    runs[0].as_i64().unwrap()
}

async fn approve(h: &Hooked, run: i64) -> (u16, Value) {
    h.api
        .send_lenient(
            "POST",
            &format!("/api/v1/runs/{run}/approve"),
            Some(json!({})),
        )
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

    let (status, approved) = approve(&h, run).await;
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
    let (status, again) = approve(&h, run).await;
    assert_eq!(status, 409, "{again}");

    // The repository's own pull request: secrets at once, nothing to approve.
    let own = pull_request_head(&h, 8);
    let run = opened(&h, 8, &own, "team/app").await;
    let done = wait_end(&h.api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert!(done.get("approval").is_none(), "{done:#}");
    let (status, refused) = approve(&h, run).await;
    assert_eq!(status, 409, "{refused}");
    h.app.stop().await;
}
on_sqlite_and_postgres!(forks_get_secrets_only_once_approved);
