//! Hostile steps against the sandbox, on SQLite and PostgreSQL: a workflow
//! whose tasks each try one attack — read the data directory, the secrets
//! key, the database, other processes' environments (the server's and a
//! concurrently running step's secret), write outside their directory, reach
//! the network with `network: none`, fill the disk, fork without end, and
//! turn a template value into shell. Each task prints BREACH and fails if
//! its attack works; the test wants every probe green, no BREACH in any log,
//! the host untouched and the server still serving.
//! `$KILN_OUTPUT` tricks (symlink, FIFO, a huge file) are tried without the
//! sandbox too, where the step can replace the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::engine::{log, owner, save, start, step, wait_end};
use crate::common::{Backend, TestApp};
use kiln_server::config::StepSandbox;
use serde_json::json;

const SECRET: &str = "other-steps-secret-9f3c";

/// The hostile workflow; `DATA` is the server's data directory and
/// `MARK` a file name the host checks for afterwards.
fn hostile_workflow() -> &'static str {
    r#"
params:
  data: { type: string }
  tag: { type: string }
  evil: { type: string, default: "x\"; touch pwned; echo \"$(touch pwned2)`touch pwned3`'; touch pwned4; '" }
tasks:
  holder:
    secrets: [TOKEN]
    run: sleep 3; echo "holder done"
  snoop:
    run: |
      sleep 1
      for f in /proc/[0-9]*/environ; do
        if grep -q "other-steps-secret" "$f" 2>/dev/null; then echo "BREACH: $f"; exit 1; fi
        if grep -q "CARGO_MANIFEST_DIR\|KILN_DATABASE_URL" "$f" 2>/dev/null; then echo "BREACH server env: $f"; exit 1; fi
      done
      n=$(ls -d /proc/[0-9]* | wc -l)
      echo "processes seen: $n"
      [ "$n" -lt 10 ] || { echo "BREACH: host processes visible"; exit 1; }
  read_data:
    run: |
      for f in "{{ params.data }}/secret.key" "{{ params.data }}/kiln.db" "{{ params.data }}/logs"; do
        if cat "$f" >/dev/null 2>&1 || ls "$f" >/dev/null 2>&1; then echo "BREACH: read $f"; exit 1; fi
      done
      echo "data dir holds: $(ls -A "{{ params.data }}" | tr '\n' ' ')"
      [ "$(ls -A "{{ params.data }}")" = "work" ] || { echo "BREACH: data dir listed"; exit 1; }
  identity:
    run: |
      id
      [ "$(id -u)" = 65534 ] || { echo "BREACH: uid $(id -u)"; exit 1; }
      if cat /etc/shadow >/dev/null 2>&1; then echo "BREACH: shadow"; exit 1; fi
      for set in CapInh CapPrm CapEff CapAmb; do
        grep -q "^$set:[[:space:]]*0*$" /proc/self/status || { echo "BREACH: capabilities"; grep Cap /proc/self/status; exit 1; }
      done
      command -v unshare >/dev/null || { echo "no unshare to probe with"; exit 1; }
      if unshare -U true 2>/dev/null; then echo "BREACH: made a user namespace"; exit 1; fi
      if unshare -Urm true 2>/dev/null; then echo "BREACH: made a mount namespace"; exit 1; fi
      # The system call itself (umount(8) refuses a non-root caller first).
      if python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).umount2(sys.argv[1].encode(), 2))' "{{ params.data }}/work"; then
        echo "BREACH: unmounted the cover"; exit 1
      fi
      for f in /proc/1/environ /proc/1/mem /proc/1/maps; do
        if (exec 3<"$f") 2>/dev/null; then echo "BREACH: opened $f"; exit 1; fi
      done
      # (Its descriptor numbers may be listed: the directory is the step
      # user's; where they lead may not be read.)
      for f in /proc/1/exe /proc/1/cwd /proc/1/root /proc/1/fd/0 /proc/1/fd/1; do
        if readlink "$f" >/dev/null 2>&1; then echo "BREACH: followed $f"; exit 1; fi
      done
      if ls /proc/1/root/ >/dev/null 2>&1; then echo "BREACH: the init's root"; exit 1; fi
      # Its init opens a way to its own files; none may reach the step.
      for f in /proc/$$/fd/*; do
        if [ -d "$f" ]; then echo "BREACH: a directory's descriptor $f"; exit 1; fi
      done
      work="{{ params.data }}/work"
      runs=$(ls -A "$work" | wc -l)
      mine=$(ls -A "$work"/* | wc -l)
      echo "work holds $runs run(s), this run's holds $mine entries"
      [ "$runs" = 1 ] && [ "$mine" = 2 ] || { echo "BREACH: other steps' directories"; ls -laR "$work"; exit 1; }
  write_outside:
    run: |
      for f in /etc/kiln-breach /usr/kiln-breach /var/tmp/kiln-breach /dev/kiln-breach /run/kiln-breach "{{ params.data }}/kiln-breach" "$HOME/../kiln-breach"; do
        if touch "$f" 2>/dev/null; then echo "BREACH: wrote $f"; exit 1; fi
      done
      touch inside && echo "tmp: $(touch /tmp/ok && echo writable)"
  output_swap:
    run: |
      if rm -f "$KILN_OUTPUT" 2>/dev/null || ln -sf "{{ params.data }}/secret.key" "$KILN_OUTPUT" 2>/dev/null; then
        echo "BREACH: replaced KILN_OUTPUT"; exit 1
      fi
      echo "safe=yes" >> "$KILN_OUTPUT"
  offline:
    network: none
    run: |
      cat /proc/net/dev
      [ "$(tail -n +3 /proc/net/dev | wc -l)" = 1 ] || { echo "BREACH: network"; exit 1; }
  disk:
    run: |
      if head -c 20000000 /dev/zero > big 2>/dev/null; then echo "BREACH: 20 MB file"; exit 1; fi
      echo "big file stopped at $(stat -c %s big) bytes"
      if head -c 40000000 /dev/zero > /tmp/fill 2>/dev/null; then echo "BREACH: /tmp unbounded"; exit 1; fi
      echo "tmp stopped at $(stat -c %s /tmp/fill) bytes"
  templates:
    run: |
      echo "double: {{ params.evil }}"
      echo 'single: {{ params.evil }}'
      echo single-bare: '{{ params.evil }}'
      echo bare: {{ params.evil }}
      echo "subst: $(echo {{ params.evil }})"
      echo "tick: `echo {{ params.evil }}`"
      cat <<EOF
      heredoc: {{ params.evil }}
      EOF
      for f in pwned pwned2 pwned3 pwned4; do
        if [ -e "$f" ]; then echo "BREACH: $f"; exit 1; fi
      done
  fork_bomb:
    env: { BOMB_TAG: "{{ params.tag }}" }
    needs: [holder, snoop, read_data, identity, write_outside, output_swap, offline, disk, templates]
    trigger_rule: all_done
    timeout: 4s
    # The step's own shell forks once, before the bomb exists: forking
    # the pipeline itself, it raced the bomb's first children for the
    # last free process slots and could exit "can't fork" at once.
    run: |
      bomb() { bomb | bomb & }
      ( bomb ) &
      exec sleep 30
"#
}

async fn hostile_steps_are_contained(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.step_sandbox = StepSandbox::Bwrap;
        config.step_max_processes = 64;
        config.step_max_file_bytes = 10_240_000;
        config.step_tmp_bytes = 16 * 1024 * 1024;
        config.step_kill_grace_seconds = 1;
    })
    .await;
    let (api, project) = owner(&app).await;
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/TOKEN"),
            Some(json!({"value": SECRET})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = save(&api, project, "hostile", hostile_workflow()).await;
    assert_eq!(status, 200, "{body}");
    let data = std::fs::canonicalize(app.db.data_dir()).unwrap();
    let tag = format!("BOMB_TAG=bomb-{}", uuid::Uuid::new_v4().simple());
    let run = start(
        &api,
        project,
        "hostile",
        json!({"data": data.display().to_string(), "tag": &tag["BOMB_TAG=".len()..]}),
    )
    .await;
    let done = wait_end(&api, run).await;
    let mut logs = String::new();
    for task in [
        "holder",
        "snoop",
        "read_data",
        "identity",
        "write_outside",
        "output_swap",
        "offline",
        "disk",
        "templates",
    ] {
        let text = log(&api, run, task).await;
        assert!(!text.contains("BREACH"), "{task}:\n{text}");
        assert_eq!(step(&done, task)["state"], "success", "{task}:\n{text}");
        logs.push_str(&text);
    }
    assert_eq!(step(&done, "output_swap")["outputs"]["safe"], "yes");
    let templates = log(&api, run, "templates").await;
    let evil = "x\"; touch pwned; echo \"$(touch pwned2)`touch pwned3`'; touch pwned4; '";
    for prefix in ["double", "bare", "subst", "tick"] {
        assert!(
            templates.contains(&format!("{prefix}: {evil}")),
            "{prefix} lost the value:\n{templates}"
        );
    }
    assert!(
        templates.contains(&format!("heredoc: {evil}")),
        "{templates}"
    );
    assert!(!logs.contains(SECRET), "a secret reached a log");
    let disk = log(&api, run, "disk").await;
    assert!(
        disk.contains("big file stopped at 10240000 bytes"),
        "{disk}"
    );
    // The bomb is cut off by its timeout; the host keeps nothing of it.
    assert_eq!(step(&done, "fork_bomb")["state"], "timed_out", "{done:#}");
    for path in [
        "/etc/kiln-breach",
        "/usr/kiln-breach",
        "/var/tmp/kiln-breach",
        "/dev/kiln-breach",
        "/run/kiln-breach",
    ] {
        assert!(!std::path::Path::new(path).exists(), "{path}");
    }
    assert!(!data.join("kiln-breach").exists());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .map(|c| String::from_utf8_lossy(&c).contains(&tag))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(left, 0, "fork bomb processes outlived their step");
    let (status, _) = api.get("/api/v1/me").await;
    assert_eq!(status, 200, "the server still serves");
    app.stop().await;
}
on_sqlite_and_postgres!(hostile_steps_are_contained);

/// Without the sandbox a step can replace `$KILN_OUTPUT`: a link to a
/// server file or a FIFO is refused, a huge file is read only up to the
/// cap, and the server stays up.
async fn output_file_tricks_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.step_sandbox = StepSandbox::None;
    })
    .await;
    let (api, project) = owner(&app).await;
    let key = std::fs::canonicalize(app.db.data_dir().join("secret.key")).unwrap();
    let source = format!(
        r#"
tasks:
  link:
    run: rm -f "$KILN_OUTPUT"; ln -s {key} "$KILN_OUTPUT"
  fifo:
    run: rm -f "$KILN_OUTPUT"; mkfifo "$KILN_OUTPUT"
  huge:
    run: head -c 50000000 /dev/zero | tr '\0' 'a' > "$KILN_OUTPUT"
"#,
        key = key.display()
    );
    let (status, body) = save(&api, project, "tricks", &source).await;
    assert_eq!(status, 200, "{body}");
    let run = start(&api, project, "tricks", json!({})).await;
    let done = tokio::time::timeout(Duration::from_secs(30), wait_end(&api, run))
        .await
        .expect("a FIFO must not hang the step");
    let message = |task: &str| step(&done, task)["message"].as_str().unwrap().to_owned();
    assert_eq!(step(&done, "link")["state"], "failed");
    assert!(message("link").contains("symbolic link"), "{done:#}");
    assert_eq!(step(&done, "fifo")["state"], "failed");
    assert!(message("fifo").contains("not a regular file"), "{done:#}");
    assert_eq!(step(&done, "huge")["state"], "failed");
    assert!(message("huge").contains("KILN_OUTPUT"), "{done:#}");
    assert!(
        step(&done, "link")["outputs"]
            .as_object()
            .is_none_or(|o| o.is_empty())
    );
    let (status, _) = api.get("/api/v1/me").await;
    assert_eq!(status, 200);
    app.stop().await;
}
on_sqlite_and_postgres!(output_file_tricks_are_refused);

/// A secret printed across the point where a long line is cut into pieces
/// is still masked.
async fn a_secret_across_a_line_cut_is_masked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (status, _) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/TOKEN"),
            Some(json!({"value": SECRET})),
        )
        .await;
    assert_eq!(status, 204);
    // 16 KiB is where a line is cut: the secret starts 10 bytes before.
    let source = r#"
tasks:
  print:
    secrets: [TOKEN]
    run: |
      head -c 16374 /dev/zero | tr '\0' 'a'; printf '%s' "$TOKEN"; echo " end"
"#;
    assert_eq!(save(&api, project, "straddle", source).await.0, 200);
    let run = start(&api, project, "straddle", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "print")["state"], "success", "{done:#}");
    let text = log(&api, run, "print").await;
    assert!(!text.contains(&SECRET[..10]), "first half leaked");
    assert!(!text.contains(&SECRET[10..]), "second half leaked");
    assert!(
        text.contains("***"),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    app.stop().await;
}
on_sqlite_and_postgres!(a_secret_across_a_line_cut_is_masked);

/// Variables that steer the dynamic loader never reach the programs that
/// build the sandbox (Kiln's launcher runs as root, bubblewrap outside the
/// namespaces): `env:` naming one is refused with line and column, and a
/// secret of that name is not passed on. A library committed beside the
/// workflow would otherwise run outside the sandbox.
async fn loader_variables_never_reach_the_sandbox_builders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    for (name, source) in [
        (
            "preload",
            "tasks:\n  a:\n    run: 'true'\n    env: { LD_PRELOAD: ./evil.so }\n",
        ),
        (
            "tunables",
            "env: { GLIBC_TUNABLES: x }\ntasks:\n  a:\n    run: 'true'\n",
        ),
    ] {
        let (status, body) = save(&api, project, name, source).await;
        assert_eq!(status, 422, "{source} -> {body}");
        let text = body.to_string();
        assert!(
            text.contains("dynamic loader") && text.contains("line"),
            "{text}"
        );
    }
    let (status, _) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/LD_PRELOAD"),
            Some(json!({"value": "/nonexistent/evil.so"})),
        )
        .await;
    assert_eq!(status, 204);
    let source = "tasks:\n  a:\n    secrets: [LD_PRELOAD]\n    run: test -z \"${LD_PRELOAD:-}\"\n";
    assert_eq!(save(&api, project, "secret", source).await.0, 200);
    let run = start(&api, project, "secret", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(step(&done, "a")["state"], "success", "{done:#}");
    app.stop().await;
}
on_sqlite_and_postgres!(loader_variables_never_reach_the_sandbox_builders);

/// A sandbox that cannot start stops start-up with one line saying how to
/// fix it, instead of failing every step later; `none` starts anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_sandbox_stops_start_up() {
    let db = crate::common::TestDb::create(Backend::Sqlite).await;
    let mut config = db.config();
    // Too little memory for the step's shell to start: a sandbox that fails.
    config.step_max_memory_bytes = 100_000;
    let error = kiln_server::serve::Server::start(config.clone())
        .await
        .err()
        .expect("start-up refuses a sandbox that does not work")
        .to_string();
    assert!(error.contains("step sandbox does not work here"), "{error}");
    assert!(error.contains("apt-get install bubblewrap"), "{error}");
    assert!(error.contains("step_sandbox = \"none\""), "{error}");
    config.step_sandbox = StepSandbox::None;
    let server = kiln_server::serve::Server::start(config).await.unwrap();
    server.stop().await.unwrap();
}
