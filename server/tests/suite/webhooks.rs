//! Webhooks from Gitea, GitHub and GitLab on SQLite, PostgreSQL and MariaDB: a
//! signed delivery is recorded once (a redelivery answers with the first),
//! decided against the pushed commit's pipeline files and the changed paths
//! git reports, and listed for maintainers without its signature; a missing
//! or wrong signature is 401 and records nothing, a malformed body 400, a
//! body over the limit 413, the wrong provider 404; a branch named as shell
//! stays data; a pipeline file that does not load gives a failed run that
//! shows its errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Backend;
use crate::common::git::ZERO;
use crate::common::hooks::{Hooked, deliver, deliveries, hooked};
use kiln_core::hooks::signature::sign;
use serde_json::{Value, json};

fn gitea_push(branch: &str, before: &str, after: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"), "before": before, "after": after,
        "compare_url": "https://evil.example/compare",
        "commits": [{"id": after, "message": "touch a\n", "author": {"name": "Ann", "username": "ann"}}],
        "head_commit": {"id": after, "message": "touch a\n", "author": {"name": "Ann", "username": "ann"}},
        "repository": {"full_name": "team/app", "clone_url": "https://evil.example/other.git"},
        "pusher": {"login": "ann"}
    })
}

/// The status line answering a 10 MB delivery's head.
async fn oversized(h: &Hooked) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = h.app.url("");
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /hooks/gitea/{} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nX-Gitea-Event: push\r\nContent-Length: {}\r\n\r\n",
        h.project,
        10 * 1024 * 1024
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = socket.read(&mut buffer).await.unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap_or_default().to_owned()
}

async fn gitea_pushes_are_decided_and_recorded_once(backend: Backend) {
    let h = hooked(backend, "gitea").await;
    let c1 = h.repo.commit(&[("services/a/main.rs", "a1")], "touch a");
    let body = gitea_push("main", &h.first, &c1).to_string();
    let signed = |id: &str| {
        vec![
            ("X-Gitea-Event", "push".to_owned()),
            ("X-Gitea-Delivery", id.to_owned()),
            (
                "X-Gitea-Signature",
                sign(h.secret.as_bytes(), body.as_bytes()),
            ),
        ]
    };
    let (status, answer) = deliver(&h, "gitea", &signed("d-1"), body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["delivery"], "d-1");
    assert!(
        answer["outcome"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 pipelines match"),
        "{answer}"
    );
    let runs = answer["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1, "{answer}");
    let (status, run) = h.api.get(&format!("/api/v1/runs/{}", runs[0])).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["pipeline"], "a");
    assert_eq!(run["trigger"], "webhook");
    assert_eq!(run["commit"]["sha"], c1.as_str());
    assert_eq!(run["commit"]["branch"], "main");
    assert_eq!(run["commit"]["event"], "push");
    assert_eq!(run["commit"]["author"], "ann");
    assert_eq!(run["commit"]["message"], "touch a\n");

    let list = deliveries(&h).await;
    assert_eq!(list.len(), 1);
    let recorded = &list[0];
    assert_eq!(
        (recorded["event"].as_str(), recorded["provider"].as_str()),
        (Some("push"), Some("gitea"))
    );
    assert_eq!(recorded["decisions"][0]["name"], "a");
    assert_eq!(recorded["decisions"][0]["start"], true);
    assert_eq!(recorded["decisions"][0]["run"], runs[0]);
    assert_eq!(recorded["runs"], json!(runs));
    assert_eq!(recorded["decisions"][1]["rule"], "paths");
    assert_eq!(recorded["headers"]["x-gitea-delivery"], "d-1");
    assert!(
        recorded["headers"].get("x-gitea-signature").is_none(),
        "{recorded}"
    );

    // A redelivery answers with the first and records nothing new.
    let (status, again) = deliver(&h, "gitea", &signed("d-1"), body.as_bytes()).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["delivery"], "d-1");
    assert_eq!(again["runs"], json!(runs), "the first delivery's runs");
    assert_eq!(deliveries(&h).await.len(), 1);
    let (_, listed) = h
        .api
        .get(&format!("/api/v1/projects/{}/runs", h.project))
        .await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "no new run: {listed}"
    );

    // Forgejo's header and the hub header sign the same way.
    let hub = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "d-2".to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign(h.secret.as_bytes(), body.as_bytes())),
        ),
    ];
    assert_eq!(deliver(&h, "gitea", &hub, body.as_bytes()).await.0, 202);

    // Unsigned, wrongly signed, the wrong provider: refused, nothing recorded.
    let wrong = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "d-3".to_owned()),
        (
            "X-Gitea-Signature",
            sign(b"not the secret", body.as_bytes()),
        ),
    ];
    assert_eq!(deliver(&h, "gitea", &wrong, body.as_bytes()).await.0, 401);
    assert_eq!(
        deliver(&h, "gitea", &wrong[..2], body.as_bytes()).await.0,
        401
    );
    assert_eq!(
        deliver(&h, "github", &signed("d-4"), body.as_bytes())
            .await
            .0,
        404
    );
    assert_eq!(
        deliver(&h, "bitbucket", &signed("d-4"), body.as_bytes())
            .await
            .0,
        404
    );
    assert_eq!(deliveries(&h).await.len(), 2);

    // Malformed but signed: 400.
    let junk = b"{\"ref\": 12";
    let junk_headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Signature", sign(h.secret.as_bytes(), junk)),
    ];
    assert_eq!(deliver(&h, "gitea", &junk_headers, junk).await.0, 400);

    // Over the limit (5 MB by default): 413 before the body is read. Sent
    // by hand: the answer comes before the 10 MB would be written, and a
    // client still writing would be cut off.
    assert_eq!(oversized(&h).await, "HTTP/1.1 413 Payload Too Large");

    // A branch named as shell is data: recorded, nothing created.
    let shell = "x$(touch${IFS}pwned)`id`";
    h.repo.git(&["checkout", "-q", "-b", shell]);
    let s1 = h
        .repo
        .commit(&[("services/b/main.rs", "shell")], "shell branch");
    let body = gitea_push(shell, ZERO, &s1).to_string();
    let headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "d-6".to_owned()),
        (
            "X-Gitea-Signature",
            sign(h.secret.as_bytes(), body.as_bytes()),
        ),
    ];
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert!(
        answer["outcome"].as_str().unwrap().starts_with("1 of 2"),
        "{answer}"
    );
    assert!(!h.repo.dir.join("pwned").exists() && !h.app.db.data_dir().join("pwned").exists());
    h.app.stop().await;
}
on_all_backends!(gitea_pushes_are_decided_and_recorded_once);

async fn github_and_gitlab_events(backend: Backend) {
    let h = hooked(backend, "github").await;
    let ping = json!({"zen": "Design for failure.", "hook_id": 7}).to_string();
    let headers = vec![
        ("X-GitHub-Event", "ping".to_owned()),
        ("X-GitHub-Delivery", "g-1".to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", sign(h.secret.as_bytes(), ping.as_bytes())),
        ),
    ];
    let (status, answer) = deliver(&h, "github", &headers, ping.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "ping answered");

    // A deleted branch starts nothing; an unknown event is recorded with why.
    for (event, body, outcome) in [
        (
            "push",
            gitea_push("old", &h.first, ZERO),
            "old was deleted: nothing starts",
        ),
        (
            "star",
            json!({"action": "created"}),
            "event \"star\" starts nothing",
        ),
    ] {
        let body = body.to_string();
        let headers = vec![
            ("X-GitHub-Event", event.to_owned()),
            ("X-GitHub-Delivery", format!("g-{event}")),
            (
                "X-Hub-Signature-256",
                format!("sha256={}", sign(h.secret.as_bytes(), body.as_bytes())),
            ),
        ];
        let (status, answer) = deliver(&h, "github", &headers, body.as_bytes()).await;
        assert_eq!(
            (status, answer["outcome"].as_str()),
            (202, Some(outcome)),
            "{answer}"
        );
    }
    assert_eq!(deliveries(&h).await.len(), 3);
    h.app.stop().await;

    let h = hooked(backend, "gitlab").await;
    let c1 = h
        .repo
        .commit(&[("libs/common/lib.rs", "c1")], "touch common");
    let body = json!({
        "object_kind": "push", "before": h.first, "after": c1, "ref": "refs/heads/main",
        "user_username": "dana", "commits": [{"id": c1, "message": "touch common"}]
    })
    .to_string();
    let token = |t: &str| {
        vec![
            ("X-Gitlab-Event", "Push Hook".to_owned()),
            ("X-Gitlab-Event-UUID", "l-1".to_owned()),
            ("X-Gitlab-Token", t.to_owned()),
        ]
    };
    assert_eq!(
        deliver(&h, "gitlab", &token("guess"), body.as_bytes())
            .await
            .0,
        401
    );
    let (status, answer) = deliver(&h, "gitlab", &token(&h.secret), body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert!(
        answer["outcome"]
            .as_str()
            .unwrap()
            .starts_with("2 of 2 pipelines match"),
        "{answer}"
    );
    let list = deliveries(&h).await;
    assert!(list[0]["headers"].get("x-gitlab-token").is_none());
    h.app.stop().await;
}
on_all_backends!(github_and_gitlab_events);

async fn a_delivery_that_failed_is_decided_again(backend: Backend) {
    let h = hooked(backend, "gitea").await;
    let c1 = h.repo.commit(&[("services/a/main.rs", "a1")], "touch a");
    let body = gitea_push("main", &h.first, &c1).to_string();
    let headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "retry-1".to_owned()),
        (
            "X-Gitea-Signature",
            sign(h.secret.as_bytes(), body.as_bytes()),
        ),
    ];
    // The git host is down (the repository has moved away): 502, recorded.
    let moved = h.repo.dir.with_extension("moved");
    std::fs::rename(&h.repo.dir, &moved).unwrap();
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 502, "{answer}");
    let list = deliveries(&h).await;
    assert!(
        list[0]["outcome"].as_str().unwrap().starts_with("failed: "),
        "{list:?}"
    );
    // Back again: the host's redelivery is decided afresh and starts a run.
    std::fs::rename(&moved, &h.repo.dir).unwrap();
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(deliveries(&h).await.len(), 1);
    h.app.stop().await;
}
on_all_backends!(a_delivery_that_failed_is_decided_again);

/// A pipeline file that does not load gives a failed run, without steps,
/// whose JSON and page show each error with its line and column; the
/// other pipelines of the push run as usual.
async fn an_invalid_pipeline_file_gives_a_failed_run_showing_why(backend: Backend) {
    let h = hooked(backend, "gitea").await;
    let c1 = h.repo.commit(
        &[
            (
                ".kiln/bad.yml",
                "when:\n  event: [push, commit]\nsteps:\n  - name: x\n    run: 'true'\n",
            ),
            ("services/a/main.rs", "a1"),
        ],
        "add a broken pipeline",
    );
    let body = gitea_push("main", &h.first, &c1).to_string();
    let headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "bad-1".to_owned()),
        (
            "X-Gitea-Signature",
            sign(h.secret.as_bytes(), body.as_bytes()),
        ),
    ];
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    let runs: Vec<i64> = answer["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_i64().unwrap())
        .collect();
    assert_eq!(runs.len(), 2, "a, and the failed run of bad: {answer}");
    let mut by_name = std::collections::BTreeMap::new();
    for run in runs {
        let (_, body) = h.api.get(&format!("/api/v1/runs/{run}")).await;
        by_name.insert(body["pipeline"].as_str().unwrap().to_owned(), body);
    }
    let bad = &by_name["bad"];
    assert_eq!(bad["state"], "failed", "{bad:#}");
    assert!(bad["finished_at"].is_string(), "{bad:#}");
    assert_eq!(bad["steps"], json!([]), "{bad:#}");
    let error = bad["errors"][0].as_str().unwrap();
    assert!(error.starts_with("line 2, column 17:"), "{error}");
    assert!(by_name["a"].get("errors").is_none());
    let (status, page) = h
        .api
        .raw("GET", &format!("/runs/{}", bad["id"]), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"pipeline-errors\"") && page.contains("line 2, column 17:"),
        "{page}"
    );
    // The delivery names the run.
    let decisions = &deliveries(&h).await[0]["decisions"];
    let recorded = decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "bad")
        .unwrap();
    assert_eq!(recorded["run"], bad["id"], "{decisions:#}");

    // Twelve broken files in one push: ten failed runs, the rest recorded.
    let broken: Vec<(String, &str)> = (0..12)
        .map(|i| (format!(".kiln/x{i:02}.yml"), "steps: 7\n"))
        .collect();
    let files: Vec<(&str, &str)> = broken.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let c2 = h.repo.commit(&files, "break twelve more");
    let body = gitea_push("main", &c1, &c2).to_string();
    let headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "bad-2".to_owned()),
        (
            "X-Gitea-Signature",
            sign(h.secret.as_bytes(), body.as_bytes()),
        ),
    ];
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"].as_array().unwrap().len(), 10, "{answer}");
    let decisions = &deliveries(&h).await[0]["decisions"];
    let unrecorded = decisions
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("no failed run"))
        })
        .count();
    assert_eq!(unrecorded, 3, "bad and two of the twelve: {decisions:#}");
    h.app.stop().await;
}
on_all_backends!(an_invalid_pipeline_file_gives_a_failed_run_showing_why);
