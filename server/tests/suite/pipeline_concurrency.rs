//! `concurrency:` groups of pipeline runs, against a real repository: a
//! newer run of a group waits until the older has ended (and then starts by
//! itself), or with `cancel_in_progress` cancels it; other groups (another
//! branch) are not held up; a re-run waits for the group's newer run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::engine::{owner, step, wait_end, wait_until};
use crate::common::git::monorepo;
use crate::common::{Api, Backend, TestApp};
use serde_json::{Value, json};

const DEPLOY: &str = "when: { event: [manual] }\nconcurrency: { group: 'deploy-{{ branch }}' }\nsteps:\n  - name: deploy\n    run: sleep 2\n";
const SHIP: &str = "when: { event: [manual] }\nconcurrency:\n  group: ship\n  cancel_in_progress: true\nsteps:\n  - name: ship\n    run: sleep 60\n";

async fn start(api: &Api, project: i64, pipeline: &str, branch: &str) -> i64 {
    let (status, run) = api
        .post(
            &format!("/api/v1/projects/{project}/pipelines/{pipeline}/runs"),
            json!({"branch": branch}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    run["id"].as_i64().unwrap()
}

fn ms(stamp: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(stamp.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

async fn linked(app: &TestApp) -> (Api, i64, tempfile::TempDir) {
    let (api, project) = owner(app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = monorepo(root.path());
    repo.commit(
        &[(".kiln/deploy.yml", DEPLOY), (".kiln/ship.yml", SHIP)],
        "add pipelines",
    );
    repo.git(&["branch", "feature"]);
    let (status, answer) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/repository"),
            Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitea"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    (api, project, root)
}

async fn a_newer_run_of_a_group_waits_for_the_older(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project, _root) = linked(&app).await;
    let first = start(&api, project, "deploy", "main").await;
    let second = start(&api, project, "deploy", "main").await;
    // Another branch is another group: not held up.
    let other = start(&api, project, "deploy", "feature").await;
    let (_, waiting) = api.get(&format!("/api/v1/runs/{second}")).await;
    assert_eq!(waiting["concurrency_group"], "deploy-main", "{waiting:#}");
    assert_eq!(step(&waiting, "deploy")["state"], "queued", "{waiting:#}");
    let other_run = wait_until(&api, other, Duration::from_secs(30), |r| {
        step(r, "deploy")["state"] != "queued"
    })
    .await;
    let a = wait_end(&api, first).await;
    assert_eq!(a["state"], "success", "{a:#}");
    let b = wait_end(&api, second).await;
    assert_eq!(b["state"], "success", "{b:#}");
    // It started only after the older run of its group had ended…
    assert!(
        ms(&step(&b, "deploy")["started_at"]) >= ms(&a["finished_at"]),
        "{a:#} {b:#}"
    );
    // …while the other branch's ran beside the first.
    assert!(
        ms(&step(&other_run, "deploy")["started_at"]) < ms(&a["finished_at"]),
        "{other_run:#}"
    );
    app.stop().await;
}
on_sqlite_and_postgres!(a_newer_run_of_a_group_waits_for_the_older);

async fn cancel_in_progress_cancels_the_older_run(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project, _root) = linked(&app).await;
    let first = start(&api, project, "ship", "main").await;
    wait_until(&api, first, Duration::from_secs(30), |r| {
        step(r, "ship")["state"] == "running"
    })
    .await;
    let second = start(&api, project, "ship", "feature").await;
    let a = wait_end(&api, first).await;
    assert_eq!(a["state"], "cancelled", "{a:#}");
    let message = step(&a, "ship")["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains(&format!("run #{second} of concurrency group ship")),
        "{message}"
    );
    let b = wait_until(&api, second, Duration::from_secs(30), |r| {
        step(r, "ship")["state"] == "running"
    })
    .await;
    assert_eq!(b["state"], "running");
    let (status, _) = api
        .post(&format!("/api/v1/runs/{second}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    app.stop().await;
}
on_sqlite_and_postgres!(cancel_in_progress_cancels_the_older_run);

/// Runs of one group started at the same moment still take turns (their
/// group decisions are made one at a time).
async fn simultaneous_runs_of_a_group_take_turns(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project, _root) = linked(&app).await;
    let (a, b, c) = tokio::join!(
        start(&api, project, "deploy", "main"),
        start(&api, project, "deploy", "main"),
        start(&api, project, "deploy", "main"),
    );
    let mut spans = Vec::new();
    for run in [a, b, c] {
        let done = wait_end(&api, run).await;
        assert_eq!(done["state"], "success", "{done:#}");
        let deploy = step(&done, "deploy");
        spans.push((ms(&deploy["started_at"]), ms(&deploy["finished_at"]), run));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "runs overlapped: {spans:?}");
        assert!(pair[1].2 > pair[0].2, "not oldest first: {spans:?}");
    }
    app.stop().await;
}
on_sqlite_and_postgres!(simultaneous_runs_of_a_group_take_turns);

/// A re-run of an older run waits while a newer run of its group runs (its
/// earlier attempt having run does not count as its turn now), and starts
/// by itself when that one ends.
async fn a_rerun_waits_for_its_group(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project, _root) = linked(&app).await;
    let first = start(&api, project, "deploy", "main").await;
    assert_eq!(wait_end(&api, first).await["state"], "success");
    let second = start(&api, project, "deploy", "main").await;
    wait_until(&api, second, Duration::from_secs(30), |r| {
        step(r, "deploy")["state"] == "running"
    })
    .await;
    let (status, answer) = api
        .post(
            &format!("/api/v1/runs/{first}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, waiting) = api.get(&format!("/api/v1/runs/{first}")).await;
    assert_eq!(waiting["state"], "running", "{waiting:#}");
    assert_eq!(step(&waiting, "deploy")["state"], "queued", "{waiting:#}");
    assert!(waiting["waiting_since"].is_string(), "{waiting:#}");
    let (_, page) = api.raw("GET", &format!("/runs/{first}"), None).await;
    assert!(page.contains("id=\"group-wait\""), "{page}");
    let b = wait_end(&api, second).await;
    assert_eq!(b["state"], "success", "{b:#}");
    let a = wait_end(&api, first).await;
    assert_eq!(a["state"], "success", "{a:#}");
    assert!(a.get("waiting_since").is_none(), "{a:#}");
    assert_eq!(step(&a, "deploy")["attempt"], 2, "{a:#}");
    assert!(
        ms(&step(&a, "deploy")["started_at"]) >= ms(&b["finished_at"]),
        "the re-run overlapped the newer run: {a:#} {b:#}"
    );
    app.stop().await;
}
on_sqlite_and_postgres!(a_rerun_waits_for_its_group);
