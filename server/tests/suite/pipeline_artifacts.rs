//! Artifacts of pipeline steps, on SQLite and PostgreSQL with a real git
//! repository: a step's `artifacts:` are saved when it succeeds (regular
//! files only: a link to `/etc/passwd` or a FIFO is skipped and said so)
//! and restored into the checkouts of the steps after it; the archive
//! downloads as tar; artifacts over `step_artifacts_max_bytes` fail the
//! step with the setting's name, and so do those past ten times it in one
//! run; a link committed to the repository never
//! lets a restored file be written outside the checkout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Backend;
use crate::common::engine::{log, step, wait_end};
use crate::common::hooks::hooked_with;
use serde_json::{Value, json};

const BUILD: &str = "when:
  event: [manual]
steps:
  - name: build
    run: |
      mkdir -p dist/deep
      echo built > dist/app.txt
      echo deep > dist/deep/x
      ln -s /etc/passwd dist/passwd
      mkfifo dist/pipe
      echo not saved > notes.txt
    artifacts: [dist/]
  - name: test
    run: cat dist/app.txt dist/deep/x && test ! -e dist/passwd && test ! -e notes.txt && echo restored
";

const BIG: &str = "when:
  event: [manual]
steps:
  - name: big
    run: head -c 300000 /dev/zero > big.bin
    artifacts: [big.bin]
";

/// Eleven steps, one after the other, of 99,000 bytes each: a run's steps
/// save at most ten times the step cap (100,000 in this test) between them.
fn many() -> String {
    let mut text = String::from("when:\n  event: [manual]\nsteps:\n");
    for i in 0..11 {
        text.push_str(&format!(
            "  - name: s{i}\n    run: head -c 99000 /dev/zero > f\n    artifacts: [f]\n"
        ));
    }
    text
}

/// `out` is committed as a link to a directory outside; `make` saves a
/// real `out/f`, which must not land there when `next` gets it back.
const SNEAKY: &str = "when:
  event: [manual]
steps:
  - name: make
    run: rm out && mkdir out && echo pwned > out/f
    artifacts: [out]
  - name: next
    run: test -L out && echo still a link
";

async fn start(h: &crate::common::hooks::Hooked, pipeline: &str) -> i64 {
    let (status, run) = h
        .api
        .send(
            "POST",
            &format!("/api/v1/projects/{}/pipelines/{pipeline}/runs", h.project),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    run["id"].as_i64().unwrap()
}

async fn artifacts_are_saved_restored_and_downloaded(backend: Backend) {
    let escape = tempfile::Builder::new()
        .prefix("kiln-artifact-escape-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let h = hooked_with(backend, "gitea", |c| c.step_artifacts_max_bytes = 100_000).await;
    h.repo.write(".kiln/build.yml", BUILD);
    h.repo.write(".kiln/big.yml", BIG);
    h.repo.write(".kiln/sneaky.yml", SNEAKY);
    h.repo.write(".kiln/many.yml", &many());
    std::os::unix::fs::symlink(escape.path(), h.repo.dir.join("out")).unwrap();
    h.repo.commit(&[], "pipelines with artifacts");

    // Saved, restored, downloadable.
    let run = start(&h, "build").await;
    let ended = wait_end(&h.api, run).await;
    assert_eq!(ended["state"], "success", "{ended:#}");
    let build = step(&ended, "build");
    assert_eq!(
        build["artifacts"],
        json!({"files": 2, "bytes": 11}),
        "{build}"
    );
    assert!(step(&ended, "test")["artifacts"].is_null());
    let build_log = log(&h.api, run, "build").await;
    for skipped in ["skipped \"dist/passwd\"", "skipped \"dist/pipe\""] {
        assert!(build_log.contains(skipped), "{build_log}");
    }
    assert!(
        build_log.contains("artifacts: saved 2 file(s), 11 bytes"),
        "{build_log}"
    );
    let test_log = log(&h.api, run, "test").await;
    assert!(
        test_log.contains("artifacts of build: restored 2 file(s)"),
        "{test_log}"
    );
    assert!(
        test_log.contains("built") && test_log.contains("restored"),
        "{test_log}"
    );

    let response = h
        .api
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/runs/{run}/steps/build/artifacts"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-tar");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("run-{run}-build-artifacts.tar"))
    );
    let bytes = response.bytes().await.unwrap();
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["dist/app.txt", "dist/deep/x"]);
    let (status, body) = h
        .api
        .get(&format!("/api/v1/runs/{run}/steps/test/artifacts"))
        .await;
    assert_eq!(status, 404, "{body}");

    // Over the cap: the step fails and names the setting.
    let run = start(&h, "big").await;
    let ended = wait_end(&h.api, run).await;
    assert_eq!(ended["state"], "failed", "{ended:#}");
    let big = step(&ended, "big");
    assert!(
        big["message"]
            .as_str()
            .unwrap()
            .contains("step_artifacts_max_bytes"),
        "{big}"
    );
    assert!(big["artifacts"].is_null());

    // The run's own cap: ten steps fit, the eleventh does not.
    let run = start(&h, "many").await;
    let ended = wait_end(&h.api, run).await;
    let steps = ended["steps"].as_array().unwrap();
    let failed: Vec<&Value> = steps.iter().filter(|s| s["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{ended:#}");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("10 × step_artifacts_max_bytes"),
        "{}",
        failed[0]
    );

    // The checkout's link is never written through.
    let run = start(&h, "sneaky").await;
    let ended = wait_end(&h.api, run).await;
    assert_eq!(ended["state"], "success", "{ended:#}");
    let next_log = log(&h.api, run, "next").await;
    assert!(
        next_log.contains("skipped \"out/f\": the checkout has a symbolic link"),
        "{next_log}"
    );
    assert!(next_log.contains("still a link"), "{next_log}");
    assert!(
        std::fs::read_dir(escape.path()).unwrap().next().is_none(),
        "nothing was written outside the checkout"
    );
    h.app.stop().await;
}
on_sqlite_and_postgres!(artifacts_are_saved_restored_and_downloaded);
