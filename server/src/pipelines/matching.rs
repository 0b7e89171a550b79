//! Starting the runs a decided delivery matched: the commit the runs
//! carry, a failed run per invalid pipeline file (a few per delivery), and
//! what each decision records (its run, or why none started).

use kiln_core::hooks::HookEvent;
use kiln_core::pipeline::EventKind;
use kiln_core::pipeline::commit::CommitInfo;
use serde_json::json;

use super::dry_run::DryRun;
use crate::engine::Engine;
use crate::engine::invalid_run::record_invalid;
use crate::engine::sandbox::Sandbox;
use crate::engine::start::{NewRun, PipelineSource, RunSource, Starter, start};

/// The commit as runs of this event carry it.
pub(super) fn commit_of(event: &HookEvent, sha: &str) -> CommitInfo {
    let base = CommitInfo {
        sha: sha.to_owned(),
        ..CommitInfo::default()
    };
    match event {
        HookEvent::Push(push) => CommitInfo {
            reference: Some(format!("refs/heads/{}", push.branch)),
            branch: Some(push.branch.clone()),
            event: EventKind::Push.as_str().to_owned(),
            message: push.head.message.clone(),
            author: push.head.author.clone(),
            ..base
        },
        HookEvent::Tag { tag, head, .. } => CommitInfo {
            reference: Some(format!("refs/tags/{tag}")),
            tag: Some(tag.clone()),
            event: EventKind::Tag.as_str().to_owned(),
            message: head.message.clone(),
            author: head.author.clone(),
            ..base
        },
        HookEvent::PullRequest(pr) => CommitInfo {
            reference: Some(format!("refs/heads/{}", pr.head_branch)),
            branch: Some(pr.target_branch.clone()),
            event: EventKind::PullRequest.as_str().to_owned(),
            pr_number: Some(pr.number),
            message: pr.head.message.clone(),
            author: pr.author.clone(),
            from_fork: pr.from_fork,
            ..base
        },
        _ => base,
    }
}

/// Failed runs written for invalid pipeline files by one delivery.
const MAX_INVALID_RUNS: usize = 10;

/// Starts a run of every pipeline that matched; each decision records its
/// run, or why none was started. A pull request from a fork starts too:
/// its run gets no secrets until a maintainer approves it. A file that
/// does not load gives a failed run that shows its errors.
pub(super) async fn start_matching(
    engine: &Engine,
    project: i64,
    event: &HookEvent,
    decided: &DryRun,
    decisions: &mut serde_json::Value,
) -> Vec<i64> {
    let from_fork = matches!(event, HookEvent::PullRequest(pr) if pr.from_fork);
    let mut runs = Vec::new();
    let mut invalid_runs = 0;
    for (i, p) in decided.pipelines.iter().enumerate() {
        let recorded = &mut decisions[i];
        if p.verdict.rule == Some("invalid") {
            if invalid_runs >= MAX_INVALID_RUNS {
                // A push of thousands of broken files writes a few runs,
                // not thousands; the delivery lists every file's errors.
                recorded["reason"] = json!(format!(
                    "no failed run: a delivery records at most {MAX_INVALID_RUNS} for invalid files"
                ));
                continue;
            }
            invalid_runs += 1;
            // A file that does not load gives a failed run showing why.
            let source = PipelineSource {
                name: p.name.clone(),
                file: p.file.clone(),
                text: p.source.clone().unwrap_or_default(),
                excluded: Vec::new(),
                commit: commit_of(event, &decided.commit),
                concurrency: None,
            };
            match record_invalid(engine, project, Starter::Webhook, source, p.errors.clone()).await
            {
                Ok(run) => {
                    recorded["run"] = json!(run.id);
                    runs.push(run.id);
                }
                Err(error) => {
                    recorded["reason"] =
                        json!(format!("the failed run could not be written: {error}"));
                }
            }
            continue;
        }
        let (true, Some(text)) = (p.verdict.start, &p.source) else {
            continue;
        };
        if from_fork && matches!(engine.settings.sandbox, Sandbox::None) {
            // Withheld secrets mean nothing to a step that runs as Kiln's
            // own user and can read its data directory.
            recorded["start"] = json!(false);
            recorded["reason"] = json!(
                "a pull request from a fork starts nothing while steps run without a sandbox (step_sandbox = \"none\")"
            );
            continue;
        }
        let excluded: Vec<(String, String)> = p
            .steps
            .iter()
            .filter(|(_, v)| !v.start)
            .map(|(id, v)| (id.clone(), v.reason.clone().unwrap_or_default()))
            .collect();
        if excluded.len() == p.steps.len() {
            recorded["start"] = json!(false);
            recorded["reason"] = json!("every step's when: leaves it out");
            continue;
        }
        let new = NewRun {
            project,
            source: RunSource::Pipeline(Box::new(PipelineSource {
                name: p.name.clone(),
                file: p.file.clone(),
                text: text.clone(),
                excluded,
                commit: commit_of(event, &decided.commit),
                // A fork's file must not cancel or hold up the project's
                // own runs by naming their group.
                concurrency: if from_fork {
                    None
                } else {
                    p.concurrency.clone()
                },
            })),
            by: Starter::Webhook,
        };
        match start(engine, new).await {
            Ok(run) => {
                recorded["run"] = json!(run.id);
                if from_fork {
                    recorded["secrets"] = json!(
                        "withheld: a pull request from a fork, until a maintainer approves the run"
                    );
                }
                runs.push(run.id);
            }
            Err(error) => {
                recorded["start"] = json!(false);
                recorded["reason"] = json!(format!("the run could not start: {error}"));
            }
        }
    }
    runs
}

pub(super) fn decisions_json(decided: &DryRun) -> serde_json::Value {
    decided
        .pipelines
        .iter()
        .map(|p| {
            json!({
                "file": p.file,
                "name": p.name,
                "start": p.verdict.start,
                "rule": p.verdict.rule,
                "reason": p.verdict.reason,
                "errors": p.errors,
            })
        })
        .collect()
}
