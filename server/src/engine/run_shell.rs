//! A `run:` step on this machine: a fresh working directory per attempt,
//! `$KILN_OUTPUT` beside it (made empty beforehand, so the sandbox can bind
//! it), the process started in the sandbox, output streamed into the step's
//! log, outputs read back when it succeeds — without following a link,
//! blocking on a FIFO or reading past the cap — and the directory removed
//! afterwards.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use kiln_core::engine::AttemptEnd;
use kiln_core::engine::outputs::{MAX_OUTPUTS_BYTES, parse_outputs};
use kiln_core::workflow::Task;
use nix::fcntl::OFlag;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::definitions::Definition;
use super::finish::Ended;
use super::logs::StepLog;
use super::shell::{self, Ending};
use super::{Engine, artifacts, checkout};
use crate::ServiceError;
use crate::db::entities::{run, step};

#[allow(clippy::too_many_arguments)]
pub async fn run(
    engine: &Engine,
    run: &run::Model,
    row: &step::Model,
    workflow: &Definition,
    task: &Task,
    command: String,
    mut env: Vec<(String, String)>,
    log: &mut StepLog<'_>,
    cancel: &CancellationToken,
) -> Result<Ended, ServiceError> {
    let run_dir = engine.settings.work_dir.join(run.id.to_string());
    let workdir = run_dir.join(format!("{}-{}", row.id, row.attempt));
    // Beside the working directory, so the step cannot mistake it for its own.
    let output_file = run_dir.join(format!("{}-{}.out", row.id, row.attempt));
    {
        let (run_dir, workdir, output) = (run_dir.clone(), workdir.clone(), output_file.clone());
        tokio::task::spawn_blocking(move || make_place(&run_dir, &workdir, &output))
            .await
            .map_err(std::io::Error::other)??;
    }
    let sandbox = &engine.settings.sandbox;
    if let Some(commit) = checkout::commit_of(run) {
        // A pipeline step starts from a clean checkout of its commit.
        let url = match checkout::checkout(engine, run.project_id, &commit, &workdir).await {
            Ok(url) => url,
            Err(error) => {
                remove_place(workdir, output_file).await;
                return Ok(Ended::failed(format!("the checkout failed: {error}")));
            }
        };
        log.note(&format!("checked out {}", commit.sha)).await?;
        env.extend(commit.step_env(&url));
        if let Err(message) =
            artifacts::restore(engine, row, workflow, task, &workdir, &run_dir, log).await?
        {
            remove_place(workdir, output_file).await;
            return Ok(Ended::failed(message));
        }
        sandbox.hand_over_tree(row.id, &workdir).await?;
    }
    sandbox.hand_over(row.id, &[&workdir, &output_file])?;
    env.push(("KILN_OUTPUT".into(), output_file.display().to_string()));
    let mut step = sandbox.shell_step(row.id, &command, &workdir, &output_file, task.network, env);
    step.timeout = task.timeout;
    step.grace = engine.settings.kill_grace;
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
    log.end_output().await?;
    // Artifacts are collected from the directory after the outputs are
    // read; without any, both happen in one trip off the async threads.
    let collect_artifacts = !task.artifacts.is_empty();
    let removed = matches!(ending, Ok(Ending::Exited(0))) && !collect_artifacts;
    let ended = match ending {
        Err(error) => Ended::failed(format!("could not start the step's shell: {error}")),
        Ok(Ending::Exited(0)) => {
            match read_outputs(&output_file, removed.then(|| workdir.clone())).await {
                Ok(bytes) => match parse_outputs(&bytes) {
                    Ok(outputs) => Ended {
                        end: AttemptEnd::Succeeded,
                        exit_code: Some(0),
                        outputs,
                    },
                    Err(error) => Ended::failed(format!("$KILN_OUTPUT: {error}")),
                },
                Err(error) => Ended::failed(format!("$KILN_OUTPUT could not be read: {error}")),
            }
        }
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
        Ok(Ending::Cancelled) => Ended::cancelled(),
    };
    let ended = if ended.end == AttemptEnd::Succeeded && collect_artifacts {
        match artifacts::save(engine, row, task, &workdir, &run_dir, log).await {
            Ok(Ok(())) => ended,
            Ok(Err(message)) => {
                log.note(&message).await?;
                Ended::failed(message)
            }
            Err(error) => {
                remove_place(workdir, output_file).await;
                return Err(error);
            }
        }
    } else {
        ended
    };
    if !removed {
        remove_place(workdir, output_file).await;
    }
    Ok(ended)
}

/// Deletes a step's directory and output file, in one trip off the async
/// threads. Never kept for a later step: a step's process may have passed
/// a descriptor of either to another step (over an abstract socket), which
/// could then reach whoever reused them.
async fn remove_place(workdir: PathBuf, output: PathBuf) {
    let _ = tokio::task::spawn_blocking(move || remove_now(&workdir, &output)).await;
}

fn remove_now(workdir: &Path, output: &Path) {
    if let Err(error) = std::fs::remove_dir_all(workdir) {
        tracing::warn!(dir = %workdir.display(), %error, "could not remove a step's directory");
    }
    let _ = std::fs::remove_file(output);
}

/// Makes `workdir` fresh and empty below `run_dir`, and `output` beside
/// it (called off the async threads). The run's directory may be passed
/// through, the step's is its own (0700, handed to the step's user): local
/// users read neither. Whatever a crashed earlier try of this attempt left
/// goes first; a run directory swept away as empty meanwhile (see
/// `leftovers`) is made again.
fn make_place(run_dir: &Path, workdir: &Path, output: &Path) -> std::io::Result<()> {
    let mut private = std::fs::DirBuilder::new();
    private.mode(0o700);
    for _ in 0..2 {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(run_dir)?;
        match std::fs::remove_dir_all(workdir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let _ = std::fs::remove_file(output);
        match private.create(workdir) {
            Ok(()) => return create_private_file(output),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        }
    }
    private.create(workdir)?;
    create_private_file(output)
}

/// An empty file only Kiln (and the step it is handed to) can read.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

/// The `$KILN_OUTPUT` file, as the step left it: a regular file read
/// without following a link (a step could point it at Kiln's own files)
/// and without blocking (a FIFO), never more than the outputs cap + 1 byte
/// (so the cap is noticed without holding a huge file in memory). With
/// `then_remove` (the step's directory), the place is removed after, in
/// the same trip off the async threads.
async fn read_outputs(path: &Path, then_remove: Option<PathBuf>) -> std::io::Result<Vec<u8>> {
    let (output, workdir) = (path.to_owned(), then_remove.clone());
    let trip = tokio::task::spawn_blocking(move || {
        let read = read_outputs_now(&output);
        if let Some(workdir) = workdir {
            remove_now(&workdir, &output);
        }
        read
    })
    .await;
    match trip {
        Ok(read) => read,
        Err(error) => {
            // The trip went wrong before it could remove the place.
            if let Some(workdir) = then_remove {
                remove_place(workdir, path.to_owned()).await;
            }
            Err(std::io::Error::other(error))
        }
    }
}

fn read_outputs_now(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(path)
    {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) if error.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(std::io::Error::other("it is a symbolic link"));
        }
        other => other?,
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_OUTPUTS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
