//! The shell runner against real processes: output line by line on the
//! right stream, exit codes, only the given environment, timeouts and
//! cancellation killing the whole process group (even a child that ignores
//! SIGTERM), a missing command, long lines and binary output. Each test
//! runs both ways a step can start: forked from this process, and through
//! the resident launcher (the `kiln` binary), as the server starts them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::shell_output::{run_collect, text};
use kiln_core::sandbox::Limit;
use kiln_server::engine::launcher;
use kiln_server::engine::shell::{Ending, MAX_LINE_BYTES, ShellStep, Stream, run};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Generates `name::forked` and `name::launched` for the test `name`.
macro_rules! both_ways {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn forked() {
                super::$name().await;
            }

            #[tokio::test]
            async fn launched() {
                super::launcher::enable(env!("CARGO_BIN_EXE_kiln").into());
                super::$name().await;
            }
        }
    )*};
}

both_ways!(
    output_streams_exit_codes_and_environment,
    limits_are_in_place_when_the_program_starts,
    a_missing_command_exits_127,
    a_timeout_kills_the_whole_group,
    sigterm_ignored_means_sigkill_after_the_grace,
    cancelling_stops_it,
    long_lines_are_split_and_bytes_kept,
    a_program_that_cannot_start_is_reported,
    many_at_once_keep_their_own_output,
    a_cancel_at_the_start_reaches_it,
    background_processes_end_with_the_step,
    a_nul_byte_in_the_environment_is_refused,
    an_oversized_environment_is_refused_and_others_run_on,
);

fn step(dir: &tempfile::TempDir, command: &str) -> ShellStep {
    ShellStep {
        grace: Duration::from_millis(300),
        ..ShellStep::plain(
            command,
            dir.path().to_owned(),
            vec![("KILN_TASK".into(), "build".into())],
        )
    }
}

/// Process `pid` exists and is neither dead nor waiting to be reaped (by
/// whoever adopted it).
fn still_runs(pid: u32) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    state
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
}

async fn output_streams_exit_codes_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    // CARGO_PKG_NAME is set for this test process: the step must not see it.
    let s = step(
        &dir,
        "echo one; echo two >&2; echo task=$KILN_TASK leak=${CARGO_PKG_NAME:-none}; pwd; exit 3",
    );
    let (ending, lines) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(3));
    let out = text(&lines, Stream::Stdout);
    assert_eq!(out[0], "one");
    assert_eq!(out[1], "task=build leak=none");
    assert_eq!(
        std::path::Path::new(&out[2]).canonicalize().unwrap(),
        dir.path().canonicalize().unwrap()
    );
    assert_eq!(text(&lines, Stream::Stderr), ["two"]);
}

async fn limits_are_in_place_when_the_program_starts() {
    let dir = tempfile::tempdir().unwrap();
    let s = ShellStep {
        limits: vec![(Limit::OpenFiles, 64), (Limit::CoreBytes, 0)],
        ..step(&dir, "ulimit -n; ulimit -c; ulimit -H -n")
    };
    let (ending, lines) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0));
    assert_eq!(text(&lines, Stream::Stdout), ["64", "0", "64"]);
}

async fn a_missing_command_exits_127() {
    let dir = tempfile::tempdir().unwrap();
    let (ending, lines) = run_collect(
        &step(&dir, "no-such-command-here"),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(ending, Ending::Exited(127));
    assert!(
        text(&lines, Stream::Stderr)
            .join("\n")
            .contains("not found")
    );
}

async fn a_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let mut s = step(
        &dir,
        &format!("sleep 30 & echo $! > {}; wait", pid_file.display()),
    );
    s.timeout = Some(Duration::from_millis(300));
    let started = Instant::now();
    let (ending, _) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::TimedOut);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let child: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!still_runs(child), "background child {child} still runs");
}

async fn sigterm_ignored_means_sigkill_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = step(
        &dir,
        "trap '' TERM; echo ready; while true; do sleep 0.1; done",
    );
    s.timeout = Some(Duration::from_millis(300));
    s.grace = Duration::from_millis(300);
    let started = Instant::now();
    let (ending, lines) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::TimedOut);
    assert_eq!(text(&lines, Stream::Stdout), ["ready"]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

async fn cancelling_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (ending, _) = run_collect(&step(&dir, "sleep 30"), cancel).await;
    assert_eq!(ending, Ending::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

async fn long_lines_are_split_and_bytes_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = step(
        &dir,
        "head -c 40000 /dev/zero | tr '\\0' 'a'; echo; printf '\\377\\376binary\\n'",
    );
    let (ending, lines) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0));
    let sizes: Vec<usize> = lines.iter().map(|l| l.bytes.len()).collect();
    assert_eq!(
        sizes,
        [
            MAX_LINE_BYTES,
            MAX_LINE_BYTES,
            40000 - 2 * MAX_LINE_BYTES,
            8
        ]
    );
    assert_eq!(lines[3].bytes, b"\xff\xfebinary");
}

/// The program itself cannot be started: forked, the start fails; through
/// the launcher, the step exits 126 with the reason on stderr, as a shell
/// reports it.
async fn a_program_that_cannot_start_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let s = ShellStep {
        argv: vec!["/no/such/program".into()],
        ..step(&dir, "")
    };
    let (tx, mut rx) = mpsc::channel(64);
    match run(&s, tx, CancellationToken::new()).await {
        Err(error) => assert!(launcher::binary().is_none(), "{error}"),
        Ok(ending) => {
            assert_eq!(ending, Ending::Exited(126));
            let mut said = String::new();
            while let Some(line) = rx.recv().await {
                said.push_str(&String::from_utf8_lossy(&line.bytes));
            }
            assert!(said.contains("cannot start the step"), "{said}");
            assert!(said.contains("/no/such/program"), "{said}");
        }
    }
}

/// Many steps at once through one launcher: each gets its own output and
/// its own exit code.
async fn many_at_once_keep_their_own_output() {
    let dir = tempfile::tempdir().unwrap();
    let runs = (0..40).map(|i| {
        let s = step(
            &dir,
            &format!("echo out-{i}; echo err-{i} >&2; exit {}", i % 7),
        );
        async move { (i, run_collect(&s, CancellationToken::new()).await) }
    });
    for (i, (ending, lines)) in futures::future::join_all(runs).await {
        assert_eq!(ending, Ending::Exited(i % 7));
        assert_eq!(text(&lines, Stream::Stdout), [format!("out-{i}")]);
        assert_eq!(text(&lines, Stream::Stderr), [format!("err-{i}")]);
    }
}

/// The resident launcher killed under a running step: the step's process
/// dies with it, the step ends with an error instead of hanging, and the
/// next step starts on a new launcher.
#[tokio::test]
async fn a_killed_launcher_takes_its_steps_and_is_replaced() {
    launcher::enable(env!("CARGO_BIN_EXE_kiln").into());
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("step.pid");
    let s = step(
        &dir,
        &format!("echo $$ > {}; exec sleep 30", pid_file.display()),
    );
    let running = tokio::spawn(async move {
        let (tx, _rx) = mpsc::channel(64);
        run(&s, tx, CancellationToken::new()).await
    });
    let started = Instant::now();
    while !pid_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the step never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ours = std::process::id().to_string();
    let launchers: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let parent = stat
                .rsplit_once(") ")
                .and_then(|(_, r)| r.split(' ').nth(1));
            String::from_utf8_lossy(&cmdline).contains(launcher::MODE) && parent == Some(&ours)
        })
        .collect();
    assert_eq!(launchers.len(), 1, "{launchers:?}");
    // In a process group of its own: a signal to Kiln's group (a
    // terminal's Ctrl-C) does not take the steps with it.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", launchers[0])).unwrap();
    let group = stat
        .rsplit_once(") ")
        .and_then(|(_, r)| r.split(' ').nth(2));
    assert_eq!(group, Some(launchers[0].to_string().as_str()));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(launchers[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the step ends when its launcher dies")
        .unwrap();
    assert!(ended.is_err(), "{ended:?}");
    let step_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!still_runs(step_pid), "the step outlived its launcher");
    let (ending, lines) = run_collect(&step(&dir, "echo again"), CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0));
    assert_eq!(text(&lines, Stream::Stdout), ["again"]);
}

/// Already cancelled when it starts: the stop reaches the step although
/// it has barely begun (its process group exists before its start is
/// reported).
async fn a_cancel_at_the_start_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (ending, _) = run_collect(&step(&dir, "sleep 1; touch late"), cancel).await;
    assert_eq!(ending, Ending::Cancelled);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!dir.path().join("late").exists(), "the step ran on");
}

/// What a step leaves running in the background ends with it.
async fn background_processes_end_with_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let s = step(
        &dir,
        &format!(
            "sleep 30 >/dev/null 2>&1 & echo $! > {}",
            pid_file.display()
        ),
    );
    let (ending, _) = run_collect(&s, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0));
    let child: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!still_runs(child), "background child {child} still runs");
}

/// A value with a NUL byte (a param may carry "\u0000") cannot be passed
/// to a program: the start fails with an error, nothing runs.
async fn a_nul_byte_in_the_environment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = step(&dir, "touch ran");
    s.env.push(("KILN_PARAM_X".into(), "a\0b".into()));
    let (tx, _rx) = mpsc::channel(64);
    let started = run(&s, tx, CancellationToken::new()).await;
    assert!(started.is_err(), "{started:?}");
    assert!(!dir.path().join("ran").exists());
}

/// An environment too large to hand to the launcher is refused before
/// anything is written to it: a step already running is not disturbed.
async fn an_oversized_environment_is_refused_and_others_run_on() {
    let dir = tempfile::tempdir().unwrap();
    let long = step(&dir, "sleep 0.5; echo survived");
    let running = tokio::spawn(async move { run_collect(&long, CancellationToken::new()).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut huge = step(&dir, "touch ran");
    huge.env.push(("BIG".into(), "x".repeat(17 << 20)));
    let (tx, _rx) = mpsc::channel(64);
    let refused = run(&huge, tx, CancellationToken::new()).await;
    // Forked, the kernel refuses it (E2BIG) as the program starts: exit 126
    // or a start error; never a run.
    assert!(!matches!(refused, Ok(Ending::Exited(0))), "{refused:?}");
    assert!(!dir.path().join("ran").exists());
    let (ending, lines) = running.await.unwrap();
    assert_eq!(ending, Ending::Exited(0));
    assert_eq!(text(&lines, Stream::Stdout), ["survived"]);
}
