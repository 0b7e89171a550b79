//! How a chain's steps pass from one to the next: a worker whose step ends
//! and starts the next one on the same queue runs it itself, without the
//! queue's round trip, on SQLite, PostgreSQL and MariaDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::engine::{on_jobs_table, owner, save, start, step, wait_end};
use crate::common::{Backend, TestApp};
use serde_json::json;

/// A step whose end starts the next one runs it on the same worker, with
/// no job of its own: a chain of four stores one job, for its first step.
/// A step that starts two runs one and queues the other.
async fn a_chain_goes_from_step_to_step_without_the_queue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let source = r#"
tasks:
  a:
    run: echo "n=1" >> "$KILN_OUTPUT"
  b:
    needs: [a]
    run: echo "n={{ tasks.a.outputs.n }}2" >> "$KILN_OUTPUT"
  c:
    needs: [b]
    run: echo "n={{ tasks.b.outputs.n }}3" >> "$KILN_OUTPUT"
  d:
    needs: [c]
    run: echo "n={{ tasks.c.outputs.n }}4" >> "$KILN_OUTPUT"
  e:
    needs: [c]
    run: "true"
"#;
    let (status, body) = save(&api, project, "chain", source).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "chain", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "success", "{done:#}");
    assert_eq!(step(&done, "d")["outputs"]["n"], "1234");
    for (before, after) in [("a", "b"), ("b", "c"), ("c", "d"), ("c", "e")] {
        assert!(
            step(&done, after)["started_at"].as_str()
                >= step(&done, before)["finished_at"].as_str()
        );
    }
    let stored = on_jobs_table(
        &app,
        backend,
        "SELECT COUNT(*) FROM {jobs} WHERE idempotency_key LIKE 'step:%'",
    )
    .await;
    assert_eq!(stored, 2, "a's job and one of d and e");
    app.stop().await;
}
on_all_backends!(a_chain_goes_from_step_to_step_without_the_queue);
