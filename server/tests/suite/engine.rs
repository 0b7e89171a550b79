//! The engine end to end, on SQLite, PostgreSQL and MariaDB: runs of real
//! workflows saved through the API with real `/bin/sh` steps — outputs,
//! retries, timeouts, cancel, re-run, restarts, planning. Each test waits
//! for runs through the API as a client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::engine::{
    attempt_log, grant_label, log, owner, processes_running, save, start, step, wait_end,
    wait_until,
};
use crate::common::{Backend, TestApp};
use serde_json::json;

const DIAMOND: &str = r#"
params:
  who: { type: string, default: "world; rm -rf /" }
  count: { type: integer, default: "2" }
tasks:
  start:
    run: |
      echo hello {{ params.who }}
      echo "version=1.$KILN_PARAM_COUNT" >> "$KILN_OUTPUT"
  left:
    needs: [start]
    run: echo "left=L{{ tasks.start.outputs.version }}" >> "$KILN_OUTPUT"
  right:
    needs: [start]
    run: echo "right=R{{ tasks.start.outputs.version }}" >> "$KILN_OUTPUT"
  join:
    needs: [left, right]
    run: echo "joined={{ tasks.left.outputs.left }}+{{ tasks.right.outputs.right }}" >> "$KILN_OUTPUT"
"#;

async fn diamond_passes_outputs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(&api, project, "diamond", DIAMOND).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    let run = start(&api, project, "diamond", json!({"count": 7})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(done["version"], 1);
    assert_eq!(done["trigger"], "manual");
    assert_eq!(step(&done, "join")["outputs"]["joined"], "L1.7+R1.7");
    // Nothing of the run's working directories is left behind.
    assert!(
        !app.db
            .data_dir()
            .join("work")
            .join(run.to_string())
            .exists()
    );
    let text = log(&api, run, "start").await;
    // The param went in quoted: printed, never executed.
    assert!(text.contains(" O hello world; rm -rf /"), "{text}");
    let join = step(&done, "join");
    let (left, right) = (step(&done, "left"), step(&done, "right"));
    assert!(join["started_at"].as_str() >= left["finished_at"].as_str());
    assert!(join["started_at"].as_str() >= right["finished_at"].as_str());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for needle in [
        "kiln_runs_total{kind=\"workflow\",state=\"success\"} 1",
        "kiln_steps_total{state=\"success\"} 4",
        "kiln_step_duration_seconds_bucket",
        "kiln_job_wait_seconds_bucket",
        "kiln_queue_depth",
        // Four steps, each in a slot for a while and back.
        "kiln_step_slot_wait_seconds_bucket",
        "kiln_step_slot_held_seconds_bucket",
        "kiln_step_slots ",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from:\n{metrics}"
        );
    }
    app.stop().await;
}
on_all_backends!(diamond_passes_outputs);

async fn retries_then_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  flaky:
    retries: 2
    retry_delay: 1s
    run: |
      echo "try $KILN_ATTEMPT"
      [ "$KILN_ATTEMPT" -ge 2 ]
"#;
    assert_eq!(save(&api, project, "flaky", source).await.0, 200);
    let run = start(&api, project, "flaky", json!({})).await;
    let done = wait_end(&api, run).await;
    let flaky = step(&done, "flaky");
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(flaky["attempt"], 2);
    assert_eq!(flaky["retries_left"], 1);
    let text = attempt_log(&api, run, "flaky", 1).await;
    assert!(
        text.contains("try 1") && text.contains("failed: exited with code 1"),
        "{text}"
    );
    app.stop().await;
}
on_all_backends!(retries_then_succeeds);

async fn timeouts_kill_and_fail_downstream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  slow:
    timeout: 1s
    run: sleep 30
  after:
    needs: [slow]
    run: echo never
  cleanup:
    needs: [slow]
    trigger_rule: all_done
    run: echo cleaning
"#;
    assert_eq!(save(&api, project, "slow", source).await.0, 200);
    let began = Instant::now();
    let run = start(&api, project, "slow", json!({})).await;
    let done = wait_end(&api, run).await;
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(step(&done, "slow")["state"], "timed_out");
    assert_eq!(step(&done, "after")["state"], "upstream_failed");
    assert_eq!(step(&done, "cleanup")["state"], "success");
    // Any failure fails the run, whatever the cleanup leaf did.
    assert_eq!(done["state"], "failed");
    app.stop().await;
}
on_all_backends!(timeouts_kill_and_fail_downstream);

/// A diamond whose `flaky` middle fails and whose `all_done` cleanup
/// succeeds: Airflow's leaf rule called that green. Here the run fails,
/// the runs list's `failed` filter finds it and "re-run failed" resets the
/// failure; with `allow_failure: true` the same run passes, saying so.
async fn a_failed_step_fails_the_run_unless_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let diamond = |allow: &str| {
        format!(
            r#"
tasks:
  a: {{ run: "true" }}
  flaky: {{ needs: [a], run: "exit 3"{allow} }}
  steady: {{ needs: [a], run: "true" }}
  cleanup: {{ needs: [flaky, steady], trigger_rule: all_done, run: "true" }}
"#
        )
    };
    assert_eq!(save(&api, project, "strict", &diamond("")).await.0, 200);
    let run = start(&api, project, "strict", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "flaky")["state"], "failed");
    assert_eq!(step(&done, "cleanup")["state"], "success");
    assert_eq!(done["state"], "failed", "{done:#}");
    assert_eq!(done["allowed_failures"], false);
    let (status, list) = api
        .get(&format!("/api/v1/projects/{project}/runs?state=failed"))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["id"], run, "{list}");
    let (status, retried) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "failed"}),
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["reset"], json!(["flaky", "cleanup"]));
    wait_end(&api, run).await;

    let allowed = diamond(", allow_failure: true");
    assert_eq!(save(&api, project, "lenient", &allowed).await.0, 200);
    let run = start(&api, project, "lenient", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "flaky")["state"], "failed");
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(done["allowed_failures"], true);
    let page = api
        .client
        .get(app.url(&format!("/runs/{run}")))
        .send()
        .await;
    let html = page.unwrap().text().await.unwrap();
    assert!(html.contains("passed with allowed failures"), "{html}");

    let bad = "tasks:\n  a: { run: x, allow_failure: maybe }\n";
    let (status, body) = save(&api, project, "bad", bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["problems"][0]["line"], 2, "{body}");
    assert!(
        body.to_string()
            .contains("allow_failure must be true or false"),
        "{body}"
    );
    app.stop().await;
}
on_all_backends!(a_failed_step_fails_the_run_unless_allowed);

async fn cancel_stops_running_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    // A sleep with an argument no other test uses, found in the host's
    // process table (the step itself sees only its sandbox's PIDs).
    let marker = format!("60.{}", uuid::Uuid::new_v4().as_u128() % 1_000_000_007);
    let source = format!(
        r#"
tasks:
  long:
    run: exec sleep {marker}
  next:
    needs: [long]
    run: echo next
"#
    );
    assert_eq!(save(&api, project, "long", &source).await.0, 200);
    let run = start(&api, project, "long", json!({})).await;
    wait_until(&api, run, Duration::from_secs(20), |r| {
        step(r, "long")["state"] == "running"
    })
    .await;
    while processes_running(&marker).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(step(&body, "next")["state"], "cancelled");
    // The process is gone within two seconds.
    while !processes_running(&marker).is_empty() {
        assert!(
            began.elapsed() < Duration::from_secs(2),
            "step process still alive"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await;
    assert_eq!(status, 409);
    app.stop().await;
}
on_all_backends!(cancel_stops_running_steps);

async fn rerun_failed_keeps_successes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    // What the failing step checks is a secret the test changes between
    // runs: steps see nothing of the host that a test could write.
    let set_flag = |value: &'static str| {
        let api = &api;
        async move {
            let (status, body) = api
                .send(
                    "PUT",
                    &format!("/api/v1/projects/{project}/secrets/FLAG"),
                    Some(json!({ "value": value })),
                )
                .await;
            assert_eq!(status, 204, "{body}");
        }
    };
    set_flag("broken").await;
    let source = r#"
tasks:
  build:
    run: echo "artifact=a1" >> "$KILN_OUTPUT"
  test:
    needs: [build]
    secrets: [FLAG]
    run: test "$FLAG" = fixed
  deploy:
    needs: [test]
    run: echo deploying {{ tasks.build.outputs.artifact }}
"#;
    assert_eq!(save(&api, project, "ci", source).await.0, 200, "{source}");
    let run = start(&api, project, "ci", json!({})).await;
    let first = wait_end(&api, run).await;
    assert_eq!(first["state"], "failed");
    assert_eq!(step(&first, "test")["state"], "failed");
    assert_eq!(step(&first, "deploy")["state"], "upstream_failed");
    set_flag("fixed").await;
    let (status, body) = api
        .post(&format!("/api/v1/runs/{run}/retry"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], json!(["test", "deploy"]));
    let second = wait_end(&api, run).await;
    assert_eq!(second["state"], "success", "{second:#}");
    assert_eq!(step(&second, "build")["attempt"], 1);
    assert_eq!(step(&second, "test")["attempt"], 2);
    assert!(log(&api, run, "deploy").await.contains("deploying a1"));
    let (status, _) = api
        .post(&format!("/api/v1/runs/{run}/retry"), json!({}))
        .await;
    assert_eq!(status, 409, "nothing failed any more");
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let third = wait_end(&api, run).await;
    assert_eq!(step(&third, "build")["attempt"], 2);
    // One chosen step: it and what follows it; what came before stays.
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"task": "test"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], json!(["test", "deploy"]));
    let fourth = wait_end(&api, run).await;
    assert_eq!(fourth["state"], "success", "{fourth:#}");
    assert_eq!(step(&fourth, "build")["attempt"], 2);
    assert_eq!(step(&fourth, "test")["attempt"], 4);
    assert!(log(&api, run, "deploy").await.contains("deploying a1"));
    for (body, code) in [
        (json!({"task": "ghost"}), 404),
        (json!({"task": "test", "steps": "all"}), 422),
        (json!({"steps": "some"}), 422),
    ] {
        let (status, answer) = api
            .post(&format!("/api/v1/runs/{run}/retry"), body.clone())
            .await;
        assert_eq!(status, code, "{body} -> {answer}");
    }
    app.stop().await;
}
on_all_backends!(rerun_failed_keeps_successes);

async fn queued_steps_survive_a_restart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    // No worker has the label yet: the steps wait in the queue.
    let source = r#"
tasks:
  first:
    runs_on: [later]
    run: echo "first=1" >> "$KILN_OUTPUT"
  second:
    needs: [first]
    runs_on: [later]
    run: echo second saw {{ tasks.first.outputs.first }}
"#;
    // A label must be granted to the project's group before it is used.
    let (status, body) = save(&api, project, "patient", source).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"later\" is not granted"),
        "{body}"
    );
    grant_label(&api, "later", project).await;
    assert_eq!(save(&api, project, "patient", source).await.0, 200);
    let run = start(&api, project, "patient", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, waiting) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(step(&waiting, "first")["state"], "queued");

    let mut app = app;
    app.config.worker_labels = "later".into();
    let app = app.restart().await;
    let api = api.at(&app.base);
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert!(log(&api, run, "second").await.contains("second saw 1"));
    app.stop().await;
}
on_all_backends!(queued_steps_survive_a_restart);

/// A task loaded only as another's need must not be planned on partial
/// facts: `d` waits for `n`, which waits for the slow `y`.
async fn partial_planning_waits_for_unloaded_upstream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  t: { run: "true" }
  x: { run: "true" }
  y: { run: "sleep 1" }
  n:
    needs: [x, y]
    trigger_rule: one_failed
    run: echo never
  d:
    needs: [t, n, x]
    trigger_rule: none_failed
    run: echo done
"#;
    assert_eq!(save(&api, project, "partial", source).await.0, 200);
    let run = start(&api, project, "partial", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "n")["state"], "skipped", "{done:#}");
    assert_eq!(step(&done, "d")["state"], "success", "{done:#}");
    assert!(
        step(&done, "d")["started_at"].as_str() >= step(&done, "y")["finished_at"].as_str(),
        "d started before y ended: {done:#}"
    );
    app.stop().await;
}
on_all_backends!(partial_planning_waits_for_unloaded_upstream);

/// A run keeps the definition it executed: after its workflow is deleted
/// it is still readable, and re-running it runs that definition again.
async fn a_deleted_workflows_run_can_be_rerun(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = "tasks:\n  first:\n    run: echo one\n  second:\n    needs: [first]\n    run: '[ -e /nonexistent-kiln-flag ] || exit 4'\n";
    let (status, body) = save(&api, project, "gone", source).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "gone", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed", "{done:#}");
    let (status, body) = api
        .send(
            "DELETE",
            &format!("/api/v1/projects/{project}/workflows/gone"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, kept) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(status, 200, "{kept}");
    assert!(kept["workflow"].is_null(), "{kept:#}");
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], json!(["first", "second"]));
    let again = wait_end(&api, run).await;
    assert_eq!(step(&again, "first")["attempt"], 2, "{again:#}");
    assert_eq!(step(&again, "second")["exit_code"], 4, "{again:#}");
    let (status, page) = api.raw("GET", &format!("/runs/{run}"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("(deleted workflow)"), "{page}");
    app.stop().await;
}
on_all_backends!(a_deleted_workflows_run_can_be_rerun);
