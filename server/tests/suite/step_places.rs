//! Steps' places kept for later steps (see the engine's `places`), in the
//! sandbox: clean steps of a chain run one after another in the same
//! place, emptied each time; a step that leaves its place changed (a file,
//! its mode, an inode flag) hands the next step a fresh one, so nothing of
//! one step reaches the next through it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::engine::{log, owner, save, start, step, wait_end};
use crate::common::{Backend, TestApp};
use kiln_server::engine::launcher;
use serde_json::json;

/// `first` and `second` leave their place clean; each of `mode`, `flags`
/// and `file` changes it in one way, and the step after each checks that
/// none of it reached its own (inode numbers with birth times name a
/// place: a fresh one may get a freed inode number).
const CHAIN: &str = r#"
tasks:
  first:
    run: |
      [ ! -s "$KILN_OUTPUT" ] || { echo "BREACH: output not empty"; exit 1; }
      echo "place=$(stat -c %i-%W .)/$(stat -c %i-%W "$KILN_OUTPUT")" >> "$KILN_OUTPUT"
  second:
    needs: [first]
    run: |
      [ ! -s "$KILN_OUTPUT" ] || { echo "BREACH: output not empty"; exit 1; }
      echo "place=$(stat -c %i-%W .)/$(stat -c %i-%W "$KILN_OUTPUT")" >> "$KILN_OUTPUT"
  mode:
    needs: [second]
    run: chmod 0751 .
  after_mode:
    needs: [mode]
    run: |
      [ "$(stat -c %a .)" = 700 ] || { echo "BREACH: mode $(stat -c %a .)"; exit 1; }
  flags:
    needs: [after_mode]
    run: chattr +d . && lsattr -d .
  after_flags:
    needs: [flags]
    run: |
      case "$(lsattr -d . | cut -d' ' -f1)" in
        *d*) echo "BREACH: flags $(lsattr -d .)"; exit 1 ;;
      esac
  file:
    needs: [after_flags]
    run: echo "a secret of file" > .left
  after_file:
    needs: [file]
    run: |
      [ -z "$(ls -A)" ] || { echo "BREACH: left behind: $(ls -A)"; exit 1; }
      [ ! -s "$KILN_OUTPUT" ] || { echo "BREACH: output not empty"; exit 1; }
"#;

async fn a_place_is_kept_only_as_it_was_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, body) = save(&api, project, "places", CHAIN).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "places", json!({})).await;
    let done = wait_end(&api, run).await;
    let tasks = [
        "first",
        "second",
        "mode",
        "after_mode",
        "flags",
        "after_flags",
        "file",
        "after_file",
    ];
    for task in tasks {
        let log = log(&api, run, task).await;
        assert!(!log.contains("BREACH"), "{task}: {log}");
        assert_eq!(step(&done, task)["state"], "success", "{task}: {log}");
    }
    let place = |task: &str| step(&done, task)["outputs"]["place"].clone();
    if launcher::scope_abi().is_some() {
        // Kept: the same directory and file, one step after the other.
        assert_eq!(place("first"), place("second"), "{done:#}");
    }
    // What `file` left went with its place.
    let work = app.db.data_dir().join("work");
    let left = crate::common::engine::walk(&work)
        .into_iter()
        .filter(|p| p.ends_with(".left"))
        .count();
    assert_eq!(left, 0);
    app.stop().await;
}
crate::on_backends!(a_place_is_kept_only_as_it_was_made: sqlite => Sqlite);
