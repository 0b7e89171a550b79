//! Cron schedules through the API on a real server: the contract (create
//! answers `id` and `next`, read, list, edit, pause, resume, run now,
//! firings, delete), errors that name their field, who may see and change
//! them, the preview, the overlap policies (forbid skips, replace
//! cancels), and catch-up after instants passed with no server handling
//! them (none, last, all, the starting deadline).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::engine::{owner, save, wait_end};
use crate::common::{Api, Backend, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// Limits, history pruning and the lease on a pass, apart.
mod limits;

const HELLO: &str = "tasks:\n  hello:\n    run: echo hello\n";
const SLOW: &str = "tasks:\n  slow:\n    run: sleep 30\n";

async fn create(api: &Api, project: i64, body: Value) -> Value {
    let (status, answer) = api
        .post(&format!("/api/v1/projects/{project}/schedules"), body)
        .await;
    assert_eq!(status, 201, "{answer}");
    answer
}

async fn firings(api: &Api, schedule: i64) -> Vec<Value> {
    let (status, answer) = api
        .get(&format!("/api/v1/schedules/{schedule}/firings?limit=200"))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["items"].as_array().unwrap().clone()
}

/// Polls the firings until `done` holds (at most `limit`).
async fn wait_firings(
    api: &Api,
    schedule: i64,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let began = Instant::now();
    loop {
        let found = firings(api, schedule).await;
        if done(&found) {
            return found;
        }
        assert!(began.elapsed() < limit, "firings: {found:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn outcomes(found: &[Value], outcome: &str) -> usize {
    found.iter().filter(|f| f["outcome"] == outcome).count()
}

fn ms(stamp: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(stamp.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

async fn the_contract_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let made = create(
        &api,
        project,
        json!({"name": "every second", "cron": "* * * * * *", "workflow": "hello", "timezone": "Europe/Berlin"}),
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let next = made["next"].as_array().unwrap();
    assert_eq!(next.len(), 5, "{made:#}");
    for pair in next.windows(2) {
        assert!(pair[0].as_str().unwrap().ends_with('Z'));
        assert_eq!(ms(&pair[1]) - ms(&pair[0]), 1000, "{made:#}");
    }
    assert_eq!(made["concurrency"], "forbid");
    assert_eq!(made["catchup"], "last");
    // It fires by itself, as the system: runs triggered by the schedule.
    let found = wait_firings(&api, id, Duration::from_secs(30), |f| {
        outcomes(f, "fired") + outcomes(f, "skipped_running") >= 2
    })
    .await;
    let fired = found.iter().find(|f| f["outcome"] == "fired").unwrap();
    assert!(fired["lateness_ms"].as_i64().unwrap() >= 0);
    assert_eq!(fired["manual"], false);
    let run = wait_end(&api, fired["run_id"].as_i64().unwrap()).await;
    assert_eq!(run["trigger"], "schedule", "{run:#}");
    assert_eq!(run["state"], "success", "{run:#}");
    // Listed in the project and across projects, with the last firing.
    let (_, listed) = api
        .get(&format!("/api/v1/projects/{project}/schedules"))
        .await;
    assert_eq!(listed["items"][0]["id"], id);
    assert!(listed["items"][0]["last_firing"]["outcome"].is_string());
    let (_, all) = api.get("/api/v1/schedules").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all:#}");
    // Paused: nothing more fires (`next` says when it would if resumed).
    let (status, paused) = api
        .post(&format!("/api/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["next"].as_array().unwrap().len(), 5);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = firings(&api, id).await.len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(firings(&api, id).await.len(), before, "fired while paused");
    // Edited: the next instants follow the new expression and zone.
    let (status, edited) = api
        .send(
            "PATCH",
            &format!("/api/v1/schedules/{id}"),
            Some(json!({"cron": "30 2 1 1 *", "timezone": "America/New_York", "starting_deadline": "10m"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["cron"], "30 2 1 1 *");
    assert_eq!(edited["starting_deadline"], "10m");
    let (status, resumed) = api
        .post(&format!("/api/v1/schedules/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, 200, "{resumed}");
    let first = resumed["next"][0].as_str().unwrap();
    assert!(first.ends_with("-01-01T07:30:00Z"), "{resumed:#}");
    // Run now: a manual firing and a manual run, whatever the clock says.
    let (status, run) = api
        .post(&format!("/api/v1/schedules/{id}/run"), json!({}))
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["trigger"], "manual", "{run:#}");
    let latest = firings(&api, id).await;
    assert_eq!(latest[0]["manual"], true);
    assert_eq!(latest[0]["run_id"], run["id"]);
    // Deleted: gone, its runs stay.
    let (status, _) = api
        .send("DELETE", &format!("/api/v1/schedules/{id}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.get(&format!("/api/v1/schedules/{id}")).await.0, 404);
    assert_eq!(api.get(&format!("/api/v1/runs/{}", run["id"])).await.0, 200);
    app.stop().await;
}
on_all_backends!(the_contract_holds);

async fn mistakes_are_named_and_strangers_see_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let url = format!("/api/v1/projects/{project}/schedules");
    let base = json!({"name": "n", "cron": "0 3 * * *", "workflow": "hello"});
    for (change, status, wanted) in [
        (
            json!({"cron": "0 25 * * *"}),
            422,
            "hour: 25 is outside 0–23",
        ),
        (json!({"cron": "0 0 30 2 *"}), 422, "can never fire"),
        (json!({"cron": "@reboot"}), 422, "not a known macro"),
        (
            json!({"timezone": "Mars/Olympus"}),
            422,
            "not a known IANA time zone",
        ),
        (json!({"workflow": "missing"}), 422, "no workflow"),
        (
            json!({"pipeline": "ci", "workflow": null}),
            422,
            "no repository",
        ),
        (json!({"concurrency": "queue"}), 422, "forbid"),
        (json!({"catchup": "sometimes"}), 422, "none, last, all"),
        (json!({"starting_deadline": "soon"}), 422, "not a duration"),
        (json!({"name": "a\u{202e}b"}), 422, "invisible"),
        (json!({"cron": "$(id) * * * *"}), 422, "minute"),
        (json!({"unknown": 1}), 422, "unknown"),
        (
            json!({"params": {"big": "x".repeat(70_000)}}),
            422,
            "at most 64 KiB of params",
        ),
    ] {
        let mut body = base.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let (got, answer) = api.post(&url, body.clone()).await;
        let text = answer.to_string();
        assert!(
            got == status && text.contains(wanted),
            "{body}: {got} {answer}"
        );
    }
    let made = create(&api, project, base.clone()).await;
    let (status, answer) = api.post(&url, base.clone()).await;
    assert_eq!(status, 409, "{answer}");
    // Someone else: the schedule does not exist for them.
    let stranger = app.browser();
    stranger.sign_up("mallory").await;
    let id = made["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/schedules/{id}"),
        format!("/api/v1/schedules/{id}/firings"),
    ] {
        assert_eq!(stranger.get(&path).await.0, 404, "{path}");
    }
    assert_eq!(
        stranger
            .post(&format!("/api/v1/schedules/{id}/run"), json!({}))
            .await
            .0,
        404
    );
    let (_, theirs) = stranger.get("/api/v1/schedules").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0, "{theirs}");
    assert_eq!(stranger.post(&url, base).await.0, 404);
    app.stop().await;
}
on_sqlite_and_postgres!(mistakes_are_named_and_strangers_see_nothing);

#[tokio::test]
async fn the_preview_answers_and_names_the_bad_field() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let api = app.browser();
    let (status, answer) = api
        .get("/api/v1/cron/preview?expr=30%202%20*%20*%20*&tz=America/New_York&after=2026-03-07T12:00:00Z&count=2")
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["next"],
        json!(["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"])
    );
    assert_eq!(answer["local"][0], "2026-03-08T03:00:00-04:00");
    for (query, field) in [
        ("expr=0%2025%20*%20*%20*", "expr: hour"),
        ("expr=", "expr:"),
        ("expr=*%20*%20*%20*%20*&tz=Nowhere", "tz:"),
        ("expr=*%20*%20*%20*%20*&after=yesterday", "after:"),
        ("expr=*%20*%20*%20*%20*&count=1000", "count:"),
        ("expr=*%20*%20*%20*%20*&count=-1", "count:"),
        // Alaska's clocks went back a whole day in 1867: not searched.
        (
            "expr=*%20*%20*%20*%20*%20*&tz=America/Sitka&after=1867-10-18T22:00:00Z&count=100",
            "after:",
        ),
    ] {
        let (status, answer) = api.get(&format!("/api/v1/cron/preview?{query}")).await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(answer.to_string().contains(field), "{query}: {answer}");
    }
    app.stop().await;
}

async fn forbid_skips_and_replace_cancels(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "slow", SLOW).await.0, 200);
    let forbid = create(
        &api,
        project,
        json!({"name": "forbid", "cron": "* * * * * *", "workflow": "slow"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let found = wait_firings(&api, forbid, Duration::from_secs(30), |f| {
        outcomes(f, "skipped_running") >= 2
    })
    .await;
    assert_eq!(outcomes(&found, "fired"), 1, "{found:#?}");
    api.post(&format!("/api/v1/schedules/{forbid}/pause"), json!({}))
        .await;
    let replace = create(
        &api,
        project,
        json!({"name": "replace", "cron": "*/2 * * * * *", "workflow": "slow", "concurrency": "replace"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let found = wait_firings(&api, replace, Duration::from_secs(30), |f| {
        outcomes(f, "replaced") >= 1
    })
    .await;
    // The oldest firing started a run that the next replaced: cancelled.
    let oldest = found.last().unwrap();
    let first_run = wait_end(&api, oldest["run_id"].as_i64().unwrap()).await;
    assert_eq!(first_run["state"], "cancelled", "{first_run:#}");
    api.post(&format!("/api/v1/schedules/{replace}/pause"), json!({}))
        .await;
    app.stop().await;
}
on_sqlite_and_postgres!(forbid_skips_and_replace_cancels);

/// Moves a schedule's next instant into the past, as if no server had run
/// since then.
async fn rewind(app: &TestApp, schedule: i64, to_ms: i64) {
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE kiln_schedules SET next_at_ms = {to_ms}, paused = false WHERE id = {schedule}"
    ))
    .await
    .unwrap();
}

async fn catch_up_follows_the_policy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let now = chrono::Utc::now().timestamp();
    // Fires at one second of each minute, 40 s before now: its most recent
    // instant is late beyond "on time" (30 s).
    let second = (now - 40).rem_euclid(60);
    let cron = format!("{second} * * * * *");
    let latest = (now - 40) * 1000;
    let mut ids = Vec::new();
    for (name, catchup, deadline) in [
        ("none", "none", None),
        ("last", "last", None),
        ("all", "all", None),
        ("deadline", "all", Some("120s")),
    ] {
        let mut body = json!({"name": name, "cron": cron, "workflow": "hello", "catchup": catchup, "paused": true, "concurrency": "allow"});
        if let Some(d) = deadline {
            body["starting_deadline"] = json!(d);
        }
        let id = create(&api, project, body).await["id"].as_i64().unwrap();
        // Three instants were due while "nobody ran": 2 min 40 s, 1 min 40 s
        // and 40 s ago.
        rewind(&app, id, latest - 120_000).await;
        ids.push((name, id));
    }
    for (name, id) in ids {
        let found = wait_firings(&api, id, Duration::from_secs(20), |f| f.len() >= 3).await;
        let mut by_instant: Vec<(i64, String)> = found
            .iter()
            .map(|f| (ms(&f["instant"]), f["outcome"].as_str().unwrap().to_owned()))
            .collect();
        by_instant.sort();
        by_instant.truncate(3);
        let got: Vec<&str> = by_instant.iter().map(|(_, o)| o.as_str()).collect();
        let want = match name {
            "none" => ["missed", "missed", "missed"],
            "last" => ["missed", "missed", "fired"],
            "all" => ["fired", "fired", "fired"],
            _ => ["missed", "fired", "fired"],
        };
        assert_eq!(got, want, "{name}: {found:#?}");
        assert_eq!(by_instant[2].0, latest, "{name}");
    }
    app.stop().await;
}
on_all_backends!(catch_up_follows_the_policy);

const NIGHTLY: &str = "when: { event: [schedule] }\nsteps:\n  - name: check\n    run: echo \"$KILN_EVENT on $KILN_BRANCH\"\n";

/// A pipeline schedule runs the pipeline file of the branch's head, as a
/// `schedule` event; deleting the project takes its schedules along.
async fn pipeline_schedules_read_the_branch(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.allow_local_repositories = true).await;
    let (api, project) = owner(&app).await;
    let root = tempfile::tempdir().unwrap();
    let (repo, _) = crate::common::git::monorepo(root.path());
    repo.commit(&[(".kiln/nightly.yml", NIGHTLY)], "nightly");
    repo.git(&["branch", "release"]);
    let (status, answer) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/repository"),
            Some(json!({"url": repo.dir.to_string_lossy(), "provider": "gitea"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let made = create(
        &api,
        project,
        json!({"name": "nightly", "cron": "* * * * * *", "pipeline": "nightly", "branch": "release"}),
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let found = wait_firings(&api, id, Duration::from_secs(30), |f| {
        outcomes(f, "fired") >= 1
    })
    .await;
    let fired = found.iter().find(|f| f["outcome"] == "fired").unwrap();
    let run = wait_end(&api, fired["run_id"].as_i64().unwrap()).await;
    assert_eq!(run["state"], "success", "{run:#}");
    assert_eq!(run["pipeline"], "nightly", "{run:#}");
    assert_eq!(run["commit"]["branch"], "release", "{run:#}");
    assert_eq!(run["commit"]["event"], "schedule", "{run:#}");
    let log = crate::common::engine::log(&api, run["id"].as_i64().unwrap(), "check").await;
    assert!(log.contains("schedule on release"), "{log}");
    // A branch that does not exist: the firing fails and says why.
    let (status, _) = api
        .send(
            "PATCH",
            &format!("/api/v1/schedules/{id}"),
            Some(json!({"branch": "gone"})),
        )
        .await;
    assert_eq!(status, 200);
    let found = wait_firings(&api, id, Duration::from_secs(30), |f| {
        outcomes(f, "failed") >= 1
    })
    .await;
    let failed = found.iter().find(|f| f["outcome"] == "failed").unwrap();
    assert!(
        failed["error"].as_str().unwrap().contains("gone"),
        "{failed:#}"
    );
    let (status, answer) = api
        .send("DELETE", &format!("/api/v1/projects/{project}"), None)
        .await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(api.get(&format!("/api/v1/schedules/{id}")).await.0, 404);
    app.stop().await;
}
on_sqlite_and_postgres!(pipeline_schedules_read_the_branch);

/// A pass that finds its instant already recorded (an edit raced an
/// earlier pass and set the next instant back onto it) skips it and goes
/// on: nothing is recorded twice and the schedule does not stop.
async fn a_recorded_instant_is_skipped_not_stuck(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let id = create(
        &api,
        project,
        json!({"name": "s", "cron": "* * * * * *", "workflow": "hello", "concurrency": "allow", "catchup": "all"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let found = wait_firings(&api, id, Duration::from_secs(30), |f| f.len() >= 2).await;
    let recorded = ms(&found.last().unwrap()["instant"]);
    rewind(&app, id, recorded).await;
    let later = wait_firings(&api, id, Duration::from_secs(30), |f| {
        f.len() >= found.len() + 3
    })
    .await;
    let same = later
        .iter()
        .filter(|f| ms(&f["instant"]) == recorded)
        .count();
    assert_eq!(same, 1, "{later:#?}");
    // Nobody signed in sees no list.
    assert_eq!(Api::new(&app.base).get("/api/v1/schedules").await.0, 401);
    app.stop().await;
}
on_all_backends!(a_recorded_instant_is_skipped_not_stuck);
