//! The shell runner against real processes: output line by line on the
//! right stream, exit codes, only the given environment, timeouts and
//! cancellation killing the whole process group (even a child that ignores
//! SIGTERM), a missing command, long lines and binary output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use kiln_core::sandbox::Limit;
use kiln_server::engine::shell::{Ending, MAX_LINE_BYTES, OutputLine, ShellStep, Stream, run};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

async fn run_collect(step: &ShellStep, cancel: CancellationToken) -> (Ending, Vec<OutputLine>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let collector = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = rx.recv().await {
            lines.push(line);
        }
        lines
    });
    let ending = run(step, tx, cancel).await.unwrap();
    (ending, collector.await.unwrap())
}

fn text(lines: &[OutputLine], stream: Stream) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .collect()
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
    // Gone, or dead and waiting to be reaped by whoever adopted it.
    let state = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
    let alive = state
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'));
    assert!(!alive, "background child {child} still runs: {state}");
}

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
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
