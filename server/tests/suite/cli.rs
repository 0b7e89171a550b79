//! The `kiln` binary as an operator meets it: bad flags, bad configuration,
//! an unreachable database, a busy port — each one line on stderr and a
//! non-zero exit; `serve` stopping cleanly on SIGTERM; `migrate` walking the
//! schema up, down to empty and up again on all three backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::{Backend, TestDb};

fn kiln() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    // The test's own environment must not leak settings into the binary.
    for (key, _) in std::env::vars() {
        if key.starts_with("KILN_") {
            command.env_remove(key);
        }
    }
    command.env("KILN_LOG_LEVEL", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("kiln runs")
}

/// Asserts the process failed with exactly one `error:` line naming `cause`.
fn assert_one_line_error(output: &Output, code: i32, cause: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code; stderr:\n{stderr}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("error: "),
        "stderr ends in an error line:\n{stderr}"
    );
    assert!(
        last.contains(cause),
        "error line names {cause:?}:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("backtrace")
            && !stderr.contains("RUST_BACKTRACE"),
        "no panic:\n{stderr}"
    );
    let error_lines = lines.iter().filter(|l| l.starts_with("error")).count();
    assert_eq!(error_lines, 1, "one error line:\n{stderr}");
}

#[test]
fn version_prints_the_version() {
    let output = run(kiln().arg("version"));
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("kiln {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_flag_is_one_line() {
    let output = run(kiln().args(["serve", "--bogus"]));
    assert_one_line_error(&output, 2, "--bogus");
}

#[test]
fn a_bad_config_value_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(kiln()
        .args(["serve"])
        .env("KILN_LISTEN", "not-an-address")
        .current_dir(dir.path()));
    assert_one_line_error(&output, 1, "listen");

    let config = dir.path().join("kiln.toml");
    std::fs::write(&config, "worker_concurrency = \"lots\"\n").unwrap();
    let output = run(kiln()
        .args(["serve", "--config"])
        .arg(&config)
        .current_dir(dir.path()));
    assert_one_line_error(&output, 1, "worker_concurrency");

    std::fs::write(&config, "listn = \"127.0.0.1:1\"\n").unwrap();
    let output = run(kiln()
        .args(["serve", "--config"])
        .arg(&config)
        .current_dir(dir.path()));
    assert_one_line_error(&output, 1, "listn");

    let output = run(kiln().args(["serve", "--config", "/nonexistent/kiln.toml"]));
    assert_one_line_error(&output, 1, "/nonexistent/kiln.toml");
}

#[test]
fn an_unknown_allocator_is_named() {
    let output = run(kiln().arg("version").env("KILN_ALLOCATOR", "jemalloc"));
    assert_one_line_error(&output, 1, "KILN_ALLOCATOR");
    let output = run(kiln().arg("version").env("KILN_ALLOCATOR", "system"));
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn an_unreachable_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(kiln()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "postgres://kiln:secret@127.0.0.1:1/kiln",
        ])
        .env("KILN_DATABASE_CONNECT_TIMEOUT_SECONDS", "2")
        .current_dir(dir.path()));
    assert_one_line_error(
        &output,
        1,
        "cannot connect to database postgres://kiln:***@127.0.0.1:1/kiln",
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("secret"),
        "password is not shown"
    );

    let output = run(kiln()
        .args(["serve", "--database-url", "redis://localhost/0"])
        .current_dir(dir.path()));
    assert_one_line_error(&output, 1, "unsupported database URL scheme");
}

#[test]
fn a_busy_port_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run(kiln()
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(dir.path()));
    assert_one_line_error(&output, 1, &format!("cannot listen on {addr}"));
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = kiln()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("KILN_LOG_LEVEL", "info")
        .env("KILN_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "kiln exited early: {lines:?}"
        );
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
        lines.push(line);
        if let Some(addr) = event["addr"].as_str() {
            break addr.to_owned();
        }
    };
    // A request made through the JSON logger carries its request id.
    let response = reqwest::blocking_get(&format!("http://{addr}/healthz"));
    assert_eq!(response, 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_with_timeout(&mut child, Duration::from_secs(15));
    assert_eq!(exit, Some(0), "exit code after SIGTERM");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(rest.contains("\"stopped\""), "logs the stop:\n{rest}");
    let request_line = rest
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|event| event["span"]["path"] == "/healthz")
        .unwrap_or_else(|| panic!("a log line for the request:\n{rest}"));
    assert_eq!(
        request_line["span"]["request_id"].as_str().map(str::len),
        Some(36),
        "{request_line}"
    );
    assert!(
        dir.path().join("kiln.db").exists(),
        "SQLite file in the data directory"
    );
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// A tiny blocking GET without pulling in reqwest's blocking feature.
mod reqwest {
    pub fn blocking_get(url: &str) -> u16 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}

async fn migrate_walks_up_down_and_up(backend: Backend) {
    let db = TestDb::create(backend).await;
    let migrate = |args: &[&str]| {
        let mut command = kiln();
        command
            .arg("migrate")
            .args(args)
            .args(["--database-url", &db.url, "--data-dir"])
            .arg(db.data_dir());
        run(&mut command)
    };
    let stdout = |output: &Output| String::from_utf8_lossy(&output.stdout).into_owned();

    let status = migrate(&["status"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(stdout(&status).contains("pending"), "{}", stdout(&status));
    assert!(!stdout(&status).contains("applied"), "{}", stdout(&status));

    assert!(migrate(&["up"]).status.success());
    let status = migrate(&["status"]);
    assert!(!stdout(&status).contains("pending"), "{}", stdout(&status));

    let down = migrate(&["down", "1000"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let status = migrate(&["status"]);
    assert!(
        !stdout(&status).contains("applied"),
        "back to empty: {}",
        stdout(&status)
    );

    assert!(migrate(&["up"]).status.success());
    let status = migrate(&["status"]);
    assert!(!stdout(&status).contains("pending"), "{}", stdout(&status));
}
on_all_backends!(migrate_walks_up_down_and_up);

/// Runs `kiln` with `input` on stdin.
fn run_with_stdin(command: &mut Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiln runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn operator_creates_users_and_resets_passwords(backend: Backend) {
    let db = TestDb::create(backend).await;
    let url = db.url.clone();
    let data_dir = db.data_dir();
    let user = |args: &[&str]| {
        let mut command = kiln();
        command
            .arg("user")
            .args(args)
            .arg("--database-url")
            .arg(&url)
            .arg("--data-dir")
            .arg(&data_dir);
        command
    };
    let created = run_with_stdin(
        &mut user(&["create", "ops", "--admin", "--password-stdin"]),
        "operator secret\n",
    );
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("created instance admin ops"));

    // Taken names, bad passwords, no password: one line each.
    let taken = run_with_stdin(
        &mut user(&["create", "OPS", "--password-stdin"]),
        "another one\n",
    );
    assert_one_line_error(&taken, 1, "username is already taken");
    let short = run_with_stdin(&mut user(&["create", "kim", "--password-stdin"]), "short\n");
    assert_one_line_error(&short, 1, "password");
    let no_tty = run(&mut user(&["create", "kim"]));
    assert_one_line_error(&no_tty, 1, "--password-stdin");
    let unknown = run_with_stdin(
        &mut user(&["reset-password", "nobody", "--password-stdin"]),
        "whatever it is\n",
    );
    assert_one_line_error(&unknown, 1, "no user named");

    let reset = run_with_stdin(
        &mut user(&["reset-password", "ops", "--password-stdin"]),
        "a brand new secret\n",
    );
    assert!(reset.status.success(), "{reset:?}");

    // The new password works against a real server on the same database.
    let mut config = db.config();
    config.log_level = "warn".into();
    let server = kiln_server::serve::Server::start(config).await.unwrap();
    let api = crate::common::Api::new(&format!("http://{}", server.addr()));
    let (status, body) = api
        .post(
            "/api/v1/auth/login",
            serde_json::json!({"username": "ops", "password": "a brand new secret"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_admin"], true);

    // A reset revokes the account's API tokens, and says so.
    let secret = api.token("read").await;
    let bearer = crate::common::Api::with_token(&api.base, &secret);
    assert_eq!(bearer.get("/api/v1/me").await.0, 200);
    let reset = run_with_stdin(
        &mut user(&["reset-password", "ops", "--password-stdin"]),
        "yet another secret\n",
    );
    assert!(reset.status.success(), "{reset:?}");
    let said = String::from_utf8_lossy(&reset.stdout);
    assert!(said.contains("1 API token was revoked"), "{said}");
    assert_eq!(bearer.get("/api/v1/me").await.0, 401);
    assert_eq!(api.get("/api/v1/me").await.0, 401, "the session ended too");
    server.stop().await.unwrap();
}
on_all_backends!(operator_creates_users_and_resets_passwords);

#[test]
fn lint_points_at_each_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yml");
    std::fs::write(&good, "tasks:\n  a:\n    run: echo hi\n  b:\n    needs: [a]\n    run: echo {{ tasks.a.outputs.x }}\n").unwrap();
    let output = run(kiln().arg("lint").arg(&good));
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok (2 tasks)"));

    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "tasks:\n  a:\n    run: x\n    timeout: soon\n  b:\n    needs: [nope]\n    run: y\n",
    )
    .unwrap();
    let output = run(kiln().arg("lint").arg(&bad));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].ends_with(
            "bad.yml:4:14: timeout: \"soon\" is not a duration: write e.g. 30s, 10m, 1h30m or 500ms"
        ),
        "{stdout}"
    );
    assert!(lines[1].contains("bad.yml:6:13:"), "{stdout}");
    assert_one_line_error(&output, 1, "2 error(s)");

    let missing = run(kiln().arg("lint").arg(dir.path().join("nope.yml")));
    assert_one_line_error(&missing, 1, "cannot read");
}

#[test]
fn lint_reads_pipeline_files_as_pipelines() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(".kiln");
    std::fs::create_dir(&folder).unwrap();
    let good = folder.join("backend.yml");
    std::fs::write(
        &good,
        "when:\n  branch: main\n  paths: ['services/backend/**']\nsteps:\n  - name: test\n    run: cargo test\n  - name: deploy\n    run: ./deploy\n",
    )
    .unwrap();
    let output = run(kiln().arg("lint").arg(&good));
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("ok (pipeline backend (2 steps))"),
        "{output:?}"
    );

    let bad = dir.path().join(".kiln.yml");
    std::fs::write(
        &bad,
        "when:\n  event: [push, commit]\nsteps:\n  - name: a\n    run: x\n    needs: [ghost]\n",
    )
    .unwrap();
    let output = run(kiln().arg("lint").arg(&bad));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains(".kiln.yml:2:17: when.event: unknown event \"commit\""),
        "{stdout}"
    );
    assert!(
        lines[1].contains(".kiln.yml:6:13: step a needs \"ghost\""),
        "{stdout}"
    );
    assert_one_line_error(&output, 1, "2 error(s)");
}
