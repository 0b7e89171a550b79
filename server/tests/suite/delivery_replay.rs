//! Replay of a recorded delivery on SQLite, PostgreSQL and MariaDB: a push
//! that failed because the repository could not be fetched is replayed once
//! the repository is back, and starts its pipeline as a new delivery that
//! names the one it replays and who replayed it; the first delivery stays as
//! it was; a commit force-pushed away is not replayed (409); another
//! project's delivery, or one that does not exist, is 404.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Backend;
use crate::common::hooks::{deliver, deliveries, hooked};
use kiln_core::hooks::signature::sign;
use serde_json::json;

fn push(branch: &str, before: &str, after: &str) -> String {
    json!({
        "ref": format!("refs/heads/{branch}"), "before": before, "after": after,
        "head_commit": {"id": after, "message": "touch a\n", "author": {"name": "Ann", "username": "ann"}},
        "repository": {"full_name": "team/app"},
        "pusher": {"login": "ann"}
    })
    .to_string()
}

async fn a_failed_delivery_is_replayed_once_the_repository_is_back(backend: Backend) {
    let h = hooked(backend, "gitea").await;
    let c1 = h.repo.commit(&[("services/a/main.rs", "a1")], "touch a");
    let body = push("main", &h.first, &c1);
    let headers = vec![
        ("X-Gitea-Event", "push".to_owned()),
        ("X-Gitea-Delivery", "r-1".to_owned()),
        (
            "X-Gitea-Signature",
            sign(h.secret.as_bytes(), body.as_bytes()),
        ),
    ];

    // The repository is away: the delivery is recorded as failed.
    let away = h.repo.dir.with_extension("away");
    std::fs::rename(&h.repo.dir, &away).unwrap();
    let (status, answer) = deliver(&h, "gitea", &headers, body.as_bytes()).await;
    assert_eq!(status, 502, "{answer}");
    let list = deliveries(&h).await;
    assert_eq!(list.len(), 1);
    let first = list[0]["id"].as_i64().unwrap();
    assert!(
        list[0]["outcome"].as_str().unwrap().starts_with("failed: "),
        "{list:?}"
    );
    std::fs::rename(&away, &h.repo.dir).unwrap();

    let replay = format!("/api/v1/projects/{}/deliveries/{first}/replay", h.project);
    let (status, answer) = h.api.send("POST", &replay, None).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["delivery"].as_str().unwrap();
    assert!(id.starts_with("replay-"), "{answer}");
    let runs = answer["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1, "{answer}");
    let (_, run) = h.api.get(&format!("/api/v1/runs/{}", runs[0])).await;
    assert_eq!(run["pipeline"], "a");
    assert_eq!(run["trigger"], "webhook");
    assert_eq!(run["commit"]["sha"], c1.as_str());
    assert_eq!(run["commit"]["author"], "ann");

    let list = deliveries(&h).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let (newest, oldest) = (&list[0], &list[1]);
    assert_eq!(newest["delivery"], id);
    assert_eq!(newest["event"], "push");
    assert_eq!(newest["headers"]["x-kiln-replay-of"], "r-1");
    assert_eq!(newest["headers"]["x-kiln-replayed-by"], "alice");
    assert_eq!(newest["runs"], json!(runs));
    assert_eq!(newest["decisions"][0]["run"], runs[0]);
    assert_eq!(oldest["id"], first, "the failed delivery stays as it was");
    assert_eq!(oldest["runs"], json!([]));

    // Each replay is a delivery of its own.
    let (status, again) = h.api.send("POST", &replay, None).await;
    assert_eq!(status, 202, "{again}");
    assert_ne!(again["delivery"], answer["delivery"]);
    assert_eq!(again["runs"].as_array().unwrap().len(), 1, "{again}");

    // Force-pushed away: the commit is on no branch now, and a replay
    // would hand it the project's secrets; refused.
    h.repo.git(&["reset", "-q", "--hard", &h.first]);
    let (status, body) = h.api.send("POST", &replay, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer on a branch or tag"),
        "{body}"
    );

    // No such delivery, and another project's delivery: 404.
    let missing = format!("/api/v1/projects/{}/deliveries/999999/replay", h.project);
    let (status, body) = h.api.send("POST", &missing, None).await;
    assert_eq!(status, 404, "{body}");
    let elsewhere = h.api.group("elsewhere", None).await;
    let other = h.api.project("other", elsewhere).await;
    let (status, body) = h
        .api
        .send(
            "POST",
            &format!("/api/v1/projects/{other}/deliveries/{first}/replay"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    h.app.stop().await;
}
on_all_backends!(a_failed_delivery_is_replayed_once_the_repository_is_back);
