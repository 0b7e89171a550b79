//! The monorepo question, answered without running anything: for an event
//! (a branch or tag, and changed paths given or asked of git between two
//! commits), which of the commit's pipelines and steps would start, and
//! for the others the rule that left them out.

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::hooks::refs::{commit_id, is_ref_name, is_zero};
use kiln_core::pipeline::{self, Change, Concurrency, EventKind};
use sea_orm::EntityTrait;

use super::changes::{Compare, changed_files};
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::repository;
use crate::engine::Engine;
use crate::engine::mirror::Mirror;

#[derive(Debug, Clone)]
pub struct DryRunRequest {
    pub event: EventKind,
    /// The pushed branch; for a pull request, its target branch.
    pub branch: Option<String>,
    pub tag: Option<String>,
    /// Changed files as given; else asked of git (`before`..`after`).
    pub paths: Option<Vec<String>>,
    pub before: Option<String>,
    /// The commit whose pipeline files are read; default: the branch's head.
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub start: bool,
    /// Why not, in words; `None` when it starts.
    pub reason: Option<String>,
    /// The rule that left it out (`event`, `branch`, `tag`, `paths`, `skip_ci`, `invalid`).
    pub rule: Option<&'static str>,
}

impl Verdict {
    fn starts() -> Verdict {
        Verdict {
            start: true,
            reason: None,
            rule: None,
        }
    }

    fn not(rule: &'static str, reason: String) -> Verdict {
        Verdict {
            start: false,
            reason: Some(reason),
            rule: Some(rule),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PipelineVerdict {
    pub file: String,
    pub name: String,
    pub verdict: Verdict,
    /// Each error with its line and column, when the file does not load.
    pub errors: Vec<String>,
    pub steps: Vec<(String, Verdict)>,
    /// The file's text, when it could be read (what a run of it executes,
    /// or the failed run of an invalid file keeps).
    pub source: Option<String>,
    /// Its `concurrency:`, when it loaded and has one.
    pub concurrency: Option<Concurrency>,
}

#[derive(Debug, Clone)]
pub struct DryRun {
    pub commit: String,
    /// `None` where paths are not evaluated (tags, manual starts).
    pub changed: Option<Vec<String>>,
    pub compared_with: Option<String>,
    pub pipelines: Vec<PipelineVerdict>,
}

/// A branch or tag name from a request, refused unless git accepts it.
pub fn check_name(field: &'static str, value: &Option<String>) -> Result<(), ServiceError> {
    match value {
        Some(name) if !is_ref_name(name) => Err(ServiceError::invalid(
            field,
            format!("{name:?} is not a name git accepts"),
        )),
        _ => Ok(()),
    }
}

fn check_commit(
    field: &'static str,
    value: &Option<String>,
) -> Result<Option<String>, ServiceError> {
    match value.as_deref() {
        None => Ok(None),
        Some(raw) if is_zero(raw) && field == "before" => Ok(None),
        Some(raw) => commit_id(raw)
            .map(Some)
            .ok_or_else(|| ServiceError::invalid(field, "a commit id is 40 or 64 hex digits")),
    }
}

/// The dry run a caller asks for: allowed to whoever may view the project.
pub async fn dry_run(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    request: DryRunRequest,
) -> Result<DryRun, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::View,
    )
    .await?;
    let link = repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("repository"))?;
    decide(engine, &link, request).await
}

/// Fetches the linked repository and decides, for `request`, every
/// pipeline of the commit.
pub async fn decide(
    engine: &Engine,
    link: &repository::Model,
    request: DryRunRequest,
) -> Result<DryRun, ServiceError> {
    check_name("branch", &request.branch)?;
    check_name("tag", &request.tag)?;
    let before = check_commit("before", &request.before)?;
    let after = check_commit("after", &request.after)?;
    if let Some(paths) = &request.paths
        && paths.len() > 100_000
    {
        return Err(ServiceError::invalid("paths", "at most 100,000 paths"));
    }
    let mirror = Mirror::for_link(engine, link);
    mirror.fetch().await?;
    let branch = request.branch.clone();
    let commit = match after {
        // An annotated tag's id names the tag object: its commit is meant.
        Some(sha) => mirror.peel(&sha).await.ok_or_else(|| {
            ServiceError::invalid("after", "that commit is not in the repository")
        })?,
        None if request.event == EventKind::Tag && request.tag.is_some() => {
            let tag = request.tag.as_deref().unwrap_or_default();
            mirror.tag_commit(tag).await.ok_or_else(|| {
                ServiceError::invalid("tag", format!("no tag {tag:?} in the repository"))
            })?
        }
        None => {
            let name = branch.as_deref().unwrap_or(&link.default_branch);
            mirror.branch_head(name).await.ok_or_else(|| {
                ServiceError::invalid("branch", format!("no branch {name:?} in the repository"))
            })?
        }
    };
    let evaluates_paths = matches!(request.event, EventKind::Push | EventKind::PullRequest);
    let (changed, compared_with) = match (&request.paths, evaluates_paths) {
        (Some(paths), _) => (Some(paths.clone()), None),
        (None, false) => (None, None),
        (None, true) => {
            let compare = match request.event {
                EventKind::PullRequest => Compare::PullRequest {
                    target_branch: branch.as_deref().unwrap_or(&link.default_branch),
                    head: &commit,
                },
                _ => Compare::Push {
                    branch: branch.as_deref().unwrap_or(&link.default_branch),
                    before: before.as_deref(),
                    after: &commit,
                },
            };
            let (files, base) = changed_files(&mirror, &link.default_branch, compare).await?;
            (Some(files), base)
        }
    };
    let skip_ci = mirror
        .message(&commit)
        .await
        .is_some_and(|m| pipeline::skips_ci(&m));
    let change = Change {
        event: request.event,
        branch: branch.as_deref(),
        tag: request.tag.as_deref(),
        paths: changed.as_deref(),
    };
    let limits = &engine.settings.workflow_limits;
    let mut pipelines = Vec::new();
    for file in mirror
        .pipeline_files(&commit, limits.max_source_bytes)
        .await?
    {
        let name = pipeline::parse::name_of_file(&file.path);
        let text = file.text.clone().ok();
        let loaded = file.text.map_err(|e| vec![e]).and_then(|text| {
            pipeline::load(&file.path, &text, limits)
                .map_err(|errors| errors.iter().map(ToString::to_string).collect())
        });
        pipelines.push(match loaded {
            Err(errors) => PipelineVerdict {
                file: file.path,
                name,
                verdict: if skip_ci {
                    Verdict::not(
                        "skip_ci",
                        "[skip ci] in the head commit's message".to_owned(),
                    )
                } else {
                    Verdict::not(
                        "invalid",
                        "the file has errors; a run would fail showing them".to_owned(),
                    )
                },
                errors,
                steps: Vec::new(),
                source: text,
                concurrency: None,
            },
            Ok(p) => {
                let verdict = if skip_ci {
                    Verdict::not(
                        "skip_ci",
                        "[skip ci] in the head commit's message".to_owned(),
                    )
                } else {
                    match p.when.check(&change) {
                        Ok(()) => Verdict::starts(),
                        Err(excluded) => Verdict::not(excluded.rule(), excluded.to_string()),
                    }
                };
                let steps = p
                    .steps
                    .iter()
                    .map(|s| {
                        let v = match s.when.check(&change) {
                            Ok(()) => Verdict::starts(),
                            Err(excluded) => Verdict::not(excluded.rule(), excluded.to_string()),
                        };
                        (s.id.clone(), v)
                    })
                    .collect();
                PipelineVerdict {
                    file: file.path,
                    name: p.name,
                    verdict,
                    errors: Vec::new(),
                    steps,
                    source: text,
                    concurrency: p.concurrency,
                }
            }
        });
    }
    Ok(DryRun {
        commit,
        changed,
        compared_with,
        pipelines,
    })
}
