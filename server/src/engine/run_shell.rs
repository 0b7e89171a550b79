//! A `run:` step on this machine: its place (a fresh or spare working
//! directory, `$KILN_OUTPUT` beside it; see `places`), the process started
//! in the sandbox and its step slot given back when it ends, output
//! streamed into the step's log, outputs read back when it succeeds, and
//! the place removed or kept afterwards.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_core::engine::AttemptEnd;
use kiln_core::engine::outputs::parse_outputs;
use kiln_core::workflow::Task;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::definitions::Definition;
use super::finish::Ended;
use super::logs::StepLog;
use super::places::{self, Place, Places};
use super::shell::{self, Ending};
use super::slots::Slot;
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
    slot: &mut Slot<'_>,
) -> Result<Ended, ServiceError> {
    let run_dir = engine.settings.work_dir.join(run.id.to_string());
    let mut place = {
        let (places, run_dir) = (engine.places.clone(), run_dir.clone());
        let workdir = run_dir.join(format!("{}-{}", row.id, row.attempt));
        // Beside the working directory, so the step cannot mistake it for its own.
        let output = run_dir.join(format!("{}-{}.out", row.id, row.attempt));
        tokio::task::spawn_blocking(move || places.make(&run_dir, workdir, output))
            .await
            .map_err(std::io::Error::other)??
    };
    let (workdir, output_file) = (place.workdir.clone(), place.output.clone());
    let sandbox = &engine.settings.sandbox;
    if let Some(commit) = checkout::commit_of(run) {
        // A pipeline step starts from a clean checkout of its commit.
        let url = match checkout::checkout(engine, run.project_id, &commit, &workdir).await {
            Ok(url) => url,
            Err(error) => {
                release(&engine.places, place).await;
                return Ok(Ended::failed(format!("the checkout failed: {error}")));
            }
        };
        log.note(&format!("checked out {}", commit.sha)).await?;
        env.extend(commit.step_env(&url));
        if let Err(message) =
            artifacts::restore(engine, row, workflow, task, &workdir, &run_dir, log).await?
        {
            release(&engine.places, place).await;
            return Ok(Ended::failed(message));
        }
        sandbox.hand_over_tree(row.id, &workdir).await?;
    }
    sandbox.hand_over(row.id, &[&workdir, &output_file])?;
    place.note_start();
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
    // Its process has ended: what follows is bookkeeping, outside the slot.
    slot.give_back();
    log.end_output().await?;
    if !matches!(ending, Ok(Ending::Exited(_))) {
        // Its processes may not all be gone yet (see `places`).
        place.not_to_keep();
    }
    // Artifacts are collected from the directory after the outputs are
    // read; without any, the outputs are read and the place released in
    // one trip off the async threads.
    let collect_artifacts = !task.artifacts.is_empty();
    // Taken here when released early.
    let mut place = Some(place);
    let ended = match ending {
        Err(error) => Ended::failed(format!("could not start the step's shell: {error}")),
        Ok(Ending::Exited(0)) => {
            let read = match place.take_if(|_| !collect_artifacts) {
                Some(place) => read_and_release(&engine.places, place).await,
                None => read_only(&output_file).await,
            };
            match read {
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
                if let Some(place) = place {
                    release(&engine.places, place).await;
                }
                return Err(error);
            }
        }
    } else {
        ended
    };
    if let Some(place) = place {
        release(&engine.places, place).await;
    }
    Ok(ended)
}

/// Removes or keeps a step's place, in one trip off the async threads.
async fn release(places: &Arc<Places>, place: Place) {
    let places = places.clone();
    let _ = tokio::task::spawn_blocking(move || places.release(place)).await;
}

/// The outputs, read off the async threads.
async fn read_only(output: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let output = output.to_owned();
    tokio::task::spawn_blocking(move || places::read_outputs(&output))
        .await
        .map_err(std::io::Error::other)?
}

/// The outputs, then the place removed or kept, in one trip off the async
/// threads (a step without artifacts needs its place no longer).
async fn read_and_release(places: &Arc<Places>, place: Place) -> std::io::Result<Vec<u8>> {
    let (places, workdir, output) = (places.clone(), place.workdir.clone(), place.output.clone());
    let trip = tokio::task::spawn_blocking(move || {
        let read = places::read_outputs(&place.output);
        places.release(place);
        read
    })
    .await;
    match trip {
        Ok(read) => read,
        Err(error) => {
            // The trip went wrong before the place was released.
            let _ = tokio::task::spawn_blocking(move || places::remove(&workdir, &output)).await;
            Err(std::io::Error::other(error))
        }
    }
}
