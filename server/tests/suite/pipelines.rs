//! Which pipelines a push starts, asked through the dry run against a real
//! monorepo made with the git CLI (services/a, services/b, libs/common,
//! docs, a pipeline file per service): changed files come from git in
//! Kiln's own mirror, for plain pushes, a new branch, seven commits, a
//! force push, a pull request and a tag; `[skip ci]` starts nothing; a
//! broken file is reported with line and column; a branch name made of
//! shell stays data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::engine::owner;
use crate::common::git::{ZERO, monorepo};
use crate::common::{Api, Backend, TestApp};
use serde_json::{Value, json};

/// The names of the pipelines that would start.
fn started(answer: &Value) -> Vec<String> {
    answer["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["start"] == true)
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn ask(api: &Api, project: i64, body: Value) -> Value {
    let (status, answer) = api
        .post(
            &format!("/api/v1/projects/{project}/pipelines/dry-run"),
            body.clone(),
        )
        .await;
    assert_eq!(status, 200, "{body} -> {answer}");
    answer
}

async fn a_push_starts_only_the_pipelines_it_touches(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, c0) = monorepo(root.path());
    let (status, linked) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/repository"),
            Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitea"})),
        )
        .await;
    assert_eq!(status, 200, "{linked}");

    let push = |before: &str, after: &str, branch: &str| json!({"event": "push", "branch": branch, "before": before, "after": after});

    // The default branch's first push: every file counts.
    let first = ask(&api, project, push(ZERO, &c0, "main")).await;
    assert_eq!(started(&first), ["a", "b"], "{first:#}");
    assert_eq!(first["compared_with"], Value::Null);

    let c1 = repo.commit(&[("services/a/main.rs", "a1")], "touch a");
    let answer = ask(&api, project, push(&c0, &c1, "main")).await;
    assert_eq!(started(&answer), ["a"], "{answer:#}");
    assert_eq!(answer["changed"], json!(["services/a/main.rs"]));
    let b = &answer["pipelines"][1];
    assert_eq!(b["rule"], "paths");
    assert_eq!(
        b["reason"],
        "none of the 1 changed files is in when.paths (include [services/b/**, libs/common/**], exclude [**/*.md])"
    );
    // Steps say why too: deploy is for main only.
    assert_eq!(answer["pipelines"][0]["steps"][1]["start"], true);

    let c2 = repo.commit(&[("libs/common/lib.rs", "c2")], "touch common");
    assert_eq!(
        started(&ask(&api, project, push(&c1, &c2, "main")).await),
        ["a", "b"]
    );

    let c3 = repo.commit(
        &[("docs/index.md", "d3"), ("services/b/NOTES.md", "n")],
        "docs",
    );
    assert!(started(&ask(&api, project, push(&c2, &c3, "main")).await).is_empty());

    // A new branch: compared with its merge base with main, not with nothing.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let f1 = repo.commit(&[("services/b/main.rs", "b1")], "touch b");
    let answer = ask(&api, project, push(ZERO, &f1, "feature")).await;
    assert_eq!(started(&answer), ["b"], "{answer:#}");
    assert_eq!(answer["compared_with"], c3.as_str());
    assert_eq!(
        answer["pipelines"][1]["steps"][1]["rule"], "branch",
        "deploy is for main"
    );

    // Seven commits, the first touching a: all seven count.
    repo.git(&["checkout", "-q", "-b", "seven", &c3]);
    let mut last = repo.commit(&[("services/a/x.rs", "1")], "1 of 7");
    for n in 2..=7 {
        last = repo.commit(&[("docs/index.md", &format!("{n}"))], &format!("{n} of 7"));
    }
    assert_eq!(
        started(&ask(&api, project, push(&c3, &last, "seven")).await),
        ["a"]
    );

    // A force push: the old head is no ancestor; compared with the merge base.
    repo.git(&["checkout", "-q", "-b", "force", &c3]);
    let old = repo.commit(&[("services/b/main.rs", "old")], "old b");
    repo.git(&["reset", "-q", "--hard", &c3]);
    let new = repo.commit(&[("services/a/main.rs", "new")], "new a");
    assert_eq!(
        started(&ask(&api, project, push(&old, &new, "force")).await),
        ["a"]
    );

    // A pull request from feature into main: against the merge base.
    let pr = json!({"event": "pull_request", "branch": "main", "after": f1});
    assert_eq!(started(&ask(&api, project, pr).await), ["b"]);

    // A tag: paths are not evaluated; b does not take tags.
    let tag = ask(
        &api,
        project,
        json!({"event": "tag", "tag": "v1.0", "after": c3}),
    )
    .await;
    assert_eq!(started(&tag), ["a"]);
    assert_eq!(tag["changed"], Value::Null);
    assert_eq!(tag["pipelines"][1]["rule"], "event");

    // An annotated tag's id names the tag object: its commit is read.
    repo.git(&["tag", "-a", "v2", "-m", "release 2", &c3]);
    let object = repo.git(&["rev-parse", "v2"]);
    assert_ne!(object, c3);
    let peeled = ask(
        &api,
        project,
        json!({"event": "tag", "tag": "v2", "after": object}),
    )
    .await;
    assert_eq!(peeled["commit"], c3.as_str());
    let by_name = ask(&api, project, json!({"event": "tag", "tag": "v2"})).await;
    assert_eq!(by_name["commit"], c3.as_str());

    // Paths given instead of commits.
    let given = json!({"event": "push", "branch": "main", "paths": ["libs/common/x"]});
    assert_eq!(started(&ask(&api, project, given).await), ["a", "b"]);

    // [skip ci] in the head commit's message starts nothing.
    repo.git(&["checkout", "-q", "main"]);
    let skip = repo.commit(&[("services/a/main.rs", "s")], "quick fix [skip ci]");
    let answer = ask(&api, project, push(&c3, &skip, "main")).await;
    assert!(started(&answer).is_empty());
    assert_eq!(answer["pipelines"][0]["rule"], "skip_ci");

    // A broken file is reported with its line and column; the others go on.
    let broken = repo.commit(
        &[
            (
                ".kiln/c.yml",
                "when:\n  event: [push, commit]\nsteps:\n  - name: x\n    run: 'true'\n",
            ),
            ("services/a/main.rs", "z"),
        ],
        "add c",
    );
    let answer = ask(&api, project, push(&skip, &broken, "main")).await;
    assert_eq!(started(&answer), ["a"]);
    let c = &answer["pipelines"][2];
    assert_eq!(
        (c["name"].as_str(), c["rule"].as_str()),
        (Some("c"), Some("invalid"))
    );
    assert!(
        c["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("line 2, column 17:"),
        "{c}"
    );

    // A branch named as shell is data: nothing runs, nothing is created.
    let shell = "x$(touch${IFS}pwned)`id`";
    repo.git(&["checkout", "-q", "-b", shell]);
    let s1 = repo.commit(&[("services/b/main.rs", "shell")], "shell branch");
    let answer = ask(&api, project, push(ZERO, &s1, shell)).await;
    assert_eq!(started(&answer), ["b"]);
    for dir in [repo.dir.as_path(), root.path(), app.db.data_dir().as_path()] {
        assert!(!dir.join("pwned").exists());
    }
    app.stop().await;
}
on_all_backends!(a_push_starts_only_the_pipelines_it_touches);

async fn dry_run_mistakes_are_named(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let path = format!("/api/v1/projects/{project}/pipelines/dry-run");
    let (status, answer) = api.post(&path, json!({"event": "push"})).await;
    assert_eq!(status, 404, "no repository linked: {answer}");

    let root = tempfile::tempdir().unwrap();
    let (repo, _) = monorepo(root.path());
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/repository"),
        Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitea"})),
    )
    .await;
    for (body, field) in [
        (json!({"event": "commit"}), "event"),
        (json!({"branch": "--upload-pack=touch /tmp/x"}), "branch"),
        (json!({"after": "$(id)"}), "after"),
        (
            json!({"after": "1234567890123456789012345678901234567890"}),
            "after",
        ),
        (json!({"before": "HEAD~1"}), "before"),
        (json!({"branch": "nope"}), "branch"),
    ] {
        let (status, answer) = api.post(&path, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
    }

    // A commit with more pipeline files than are read: the rest say so.
    let many: Vec<(String, String)> = (0..105)
        .map(|i| {
            (
                format!(".kiln/p{i:03}.yml"),
                "steps:\n  - name: a\n    run: 'true'\n".to_owned(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    repo.commit(&refs, "many pipelines");
    let (status, answer) = api.post(&path, json!({"event": "manual"})).await;
    assert_eq!(status, 200, "{answer}");
    let pipelines = answer["pipelines"].as_array().unwrap();
    assert_eq!(pipelines.len(), 107, "every file is listed");
    let unread = pipelines.iter().filter(|p| p["rule"] == "invalid").count();
    assert_eq!(unread, 7, "past 100 files, none is read");
    assert!(
        pipelines.iter().any(|p| p["errors"][0]
            .as_str()
            .unwrap_or_default()
            .contains("at most 100 pipeline files")),
        "{answer}"
    );

    // A repository that cannot be fetched is the git host's failure: 502.
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/repository"),
        Some(json!({"url": root.path().join("missing").to_string_lossy(), "provider": "gitea"})),
    )
    .await;
    let (status, answer) = api.post(&path, json!({})).await;
    assert_eq!(status, 502, "{answer}");
    app.stop().await;
}
on_all_backends!(dry_run_mistakes_are_named);

const CI: &str = r#"when:
  event: [push, manual]
steps:
  - name: build
    run: |
      test -f services/a/main.rs
      echo "content=$(cat services/a/main.rs)" >> "$KILN_OUTPUT"
      echo "head=$(git rev-parse HEAD)" >> "$KILN_OUTPUT"
      echo "env=$CI $KILN_EVENT $KILN_BRANCH $KILN_COMMIT_SHA" >> "$KILN_OUTPUT"
      echo "mine" > services/a/main.rs
  - name: deploy
    run: echo deploying
    when: { branch: main }
  - name: after
    run: echo "content=$(cat services/a/main.rs)" >> "$KILN_OUTPUT"
"#;

async fn a_pipeline_runs_on_a_clean_checkout_of_its_commit(backend: Backend) {
    use crate::common::engine::{step, wait_end};
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = monorepo(root.path());
    repo.commit(&[(".kiln/ci.yml", CI)], "add ci");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let feature = repo.commit(&[("services/a/main.rs", "on feature")], "feature work");
    repo.git(&["checkout", "-q", "main"]);
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/repository"),
        Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitea"})),
    )
    .await;
    let runs = format!("/api/v1/projects/{project}/pipelines/ci/runs");

    let (status, run) = api.post(&runs, json!({"branch": "feature"})).await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(
        (run["kind"].as_str(), run["pipeline"].as_str()),
        (Some("pipeline"), Some("ci"))
    );
    let done = wait_end(&api, run["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(done["commit"]["sha"], feature.as_str());
    assert_eq!(done["commit"]["branch"], "feature");
    assert_eq!(done["commit"]["ref"], "refs/heads/feature");
    assert_eq!(done["commit"]["event"], "manual");
    assert_eq!(done["commit"]["author"], "Tess");
    assert_eq!(
        done["commit"]["message"].as_str().unwrap().trim(),
        "feature work"
    );
    // deploy is for main only: left out, and after still waits for build.
    let names: Vec<&str> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["task"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build", "after"]);
    // The run says which steps its event left out, and why.
    assert_eq!(done["left_out"][0]["step"], "deploy", "{done:#}");
    let why = done["left_out"][0]["reason"].as_str().unwrap();
    assert!(why.contains("feature") && why.contains("main"), "{why}");
    let build = step(&done, "build");
    assert_eq!(build["outputs"]["content"], "on feature");
    assert_eq!(build["outputs"]["head"], feature.as_str());
    assert_eq!(
        build["outputs"]["env"],
        format!("true manual feature {feature}")
    );
    // Each step starts from a clean checkout: build's change is not seen.
    assert_eq!(step(&done, "after")["outputs"]["content"], "on feature");

    let (status, run) = api.post(&runs, json!({})).await;
    assert_eq!(status, 201, "{run}");
    let done = wait_end(&api, run["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(
        done["steps"].as_array().unwrap().len(),
        3,
        "deploy runs on main"
    );
    assert_eq!(done["left_out"], json!([]), "nothing left out on main");
    assert_eq!(step(&done, "build")["outputs"]["content"], "a0");

    for (path, body, status) in [
        (runs.clone(), json!({"branch": "nope"}), 422),
        (runs.clone(), json!({"branch": "main", "tag": "v1"}), 422),
        (runs.clone(), json!({"commit": "$(id)"}), 422),
        (
            format!("/api/v1/projects/{project}/pipelines/ghost/runs"),
            json!({}),
            404,
        ),
        // a's when: takes push and tag, not manual starts.
        (
            format!("/api/v1/projects/{project}/pipelines/a/runs"),
            json!({}),
            409,
        ),
    ] {
        let (got, answer) = api.post(&path, body.clone()).await;
        assert_eq!(got, status, "{path} {body} -> {answer}");
    }
    app.stop().await;
}
on_all_backends!(a_pipeline_runs_on_a_clean_checkout_of_its_commit);

const FLAKY: &str = r#"when: { event: [manual] }
steps:
  - name: build
    run: test -f services/a/main.rs
  - name: flaky
    run: |
      test -f services/b/main.rs
      test "$KILN_ATTEMPT" -gt 1
"#;

async fn a_failed_pipeline_run_reruns_its_failed_steps_on_a_fresh_checkout(backend: Backend) {
    use crate::common::engine::{log, step, wait_end};
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = monorepo(root.path());
    repo.commit(&[(".kiln/flaky.yml", FLAKY)], "add flaky");
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/repository"),
        Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitlab"})),
    )
    .await;
    let (status, run) = api
        .post(
            &format!("/api/v1/projects/{project}/pipelines/flaky/runs"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    let first = wait_end(&api, id).await;
    assert_eq!(first["state"], "failed", "{first:#}");
    assert_eq!(step(&first, "flaky")["state"], "failed");
    let (status, body) = api
        .post(&format!("/api/v1/runs/{id}/retry"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], json!(["flaky"]));
    let second = wait_end(&api, id).await;
    assert_eq!(second["state"], "success", "{second:#}");
    assert_eq!(step(&second, "build")["attempt"], 1);
    assert_eq!(step(&second, "flaky")["attempt"], 2);
    assert!(log(&api, id, "flaky").await.contains("checked out"));
    app.stop().await;
}
on_all_backends!(a_failed_pipeline_run_reruns_its_failed_steps_on_a_fresh_checkout);
