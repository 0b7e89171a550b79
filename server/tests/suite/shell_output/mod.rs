//! Running a shell step to its end and reading what it said: shared by the
//! shell runner's tests and the sandboxed launcher's.

use kiln_server::engine::shell::{Ending, OutputLine, ShellStep, Stream, run};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs `step` to its end, collecting every line it printed.
pub async fn run_collect(step: &ShellStep, cancel: CancellationToken) -> (Ending, Vec<OutputLine>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let collector = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = rx.recv().await {
            lines.push(line);
        }
        lines
    });
    let ending = run(step, tx, cancel).await.expect("the step starts");
    (ending, collector.await.expect("the collector ends"))
}

/// The lines of one stream, as text.
pub fn text(lines: &[OutputLine], stream: Stream) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .collect()
}
