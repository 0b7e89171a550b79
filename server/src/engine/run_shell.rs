//! A `run:` step on this machine: a fresh working directory per attempt,
//! `$KILN_OUTPUT` beside it, output streamed into the step's log, outputs
//! read back when it succeeds, and the directory removed afterwards.

use std::collections::BTreeMap;

use kiln_core::engine::AttemptEnd;
use kiln_core::engine::outputs::parse_outputs;
use kiln_core::workflow::Task;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::finish::Ended;
use super::logs::StepLog;
use super::shell::{self, Ending, ShellStep};
use super::{Engine, EngineError};
use crate::db::entities::step;

#[allow(clippy::too_many_arguments)]
pub async fn run(
    engine: &Engine,
    run_id: i64,
    row: &step::Model,
    task: &Task,
    command: String,
    mut env: Vec<(String, String)>,
    log: &mut StepLog<'_>,
    cancel: &CancellationToken,
) -> Result<Ended, EngineError> {
    let run_dir = engine.settings.work_dir.join(run_id.to_string());
    let workdir = run_dir.join(format!("{}-{}", row.id, row.attempt));
    // Beside the working directory, so the step cannot mistake it for its own.
    let output_file = run_dir.join(format!("{}-{}.out", row.id, row.attempt));
    tokio::fs::create_dir_all(&run_dir).await?;
    // Fresh: whatever a crashed earlier try of this attempt left goes first.
    if let Err(error) = tokio::fs::create_dir(&workdir).await {
        if error.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(error.into());
        }
        tokio::fs::remove_dir_all(&workdir).await?;
        tokio::fs::create_dir(&workdir).await?;
    }
    let _ = tokio::fs::remove_file(&output_file).await;
    env.push(("KILN_OUTPUT".into(), output_file.display().to_string()));
    let step = ShellStep {
        command,
        workdir: workdir.clone(),
        env,
        timeout: task.timeout,
        grace: engine.settings.kill_grace,
    };
    let (tx, mut rx) = mpsc::channel(256);
    let process = shell::run(&step, tx, cancel.clone());
    tokio::pin!(process);
    // A quiet step's last lines still reach the log within a tick.
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(250));
    let ending = loop {
        tokio::select! {
            ending = &mut process => break ending,
            Some(line) = rx.recv() => log.line(&line).await?,
            _ = ticker.tick() => log.tick().await?,
        }
    };
    // Lines still buffered after the process ended.
    while let Some(line) = rx.recv().await {
        log.line(&line).await?;
    }
    let ended = match ending {
        Err(error) => Ended::failed(format!("could not start /bin/sh: {error}")),
        Ok(Ending::Exited(0)) => match read_outputs(&output_file).await {
            Ok(bytes) => match parse_outputs(&bytes) {
                Ok(outputs) => Ended {
                    end: AttemptEnd::Succeeded,
                    exit_code: Some(0),
                    outputs,
                },
                Err(error) => Ended::failed(format!("$KILN_OUTPUT: {error}")),
            },
            Err(error) => Ended::failed(format!("$KILN_OUTPUT could not be read: {error}")),
        },
        Ok(Ending::Exited(code)) => Ended {
            end: AttemptEnd::Failed {
                code: Some(code),
                message: match code {
                    127 => "exited with code 127: command not found".to_owned(),
                    126 => "exited with code 126: command not executable".to_owned(),
                    code => format!("exited with code {code}"),
                },
            },
            exit_code: Some(code),
            outputs: BTreeMap::new(),
        },
        Ok(Ending::TimedOut) => Ended {
            end: AttemptEnd::TimedOut,
            exit_code: None,
            outputs: BTreeMap::new(),
        },
        Ok(Ending::Cancelled) => Ended::failed("cancelled".into()),
    };
    if let Err(error) = tokio::fs::remove_dir_all(&workdir).await {
        tracing::warn!(dir = %workdir.display(), %error, "could not remove a step's directory");
    }
    let _ = tokio::fs::remove_file(&output_file).await;
    Ok(ended)
}

/// The `$KILN_OUTPUT` file; a step that wrote none has no outputs.
async fn read_outputs(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    match tokio::fs::read(path).await {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}
