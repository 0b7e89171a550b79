//! Starting a pipeline by hand (or reading one for a schedule's firing): the commit is
//! resolved in the mirror (a commit id, a tag, a branch, or the default
//! branch), the named pipeline's file read there, the steps whose `when:`
//! the event does not meet left out, and the run started through the
//! engine's one entry.

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::hooks::refs::commit_id;
use kiln_core::pipeline::commit::CommitInfo;
use kiln_core::pipeline::{self, Change, EventKind};
use sea_orm::EntityTrait;

use super::dry_run::check_name;
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::{repository, run};
use crate::engine::Engine;
use crate::engine::mirror::Mirror;
use crate::engine::start::{NewRun, PipelineSource, RunSource, Starter, start};

/// Which commit to run on: at most one of the three; none is the default
/// branch's head.
#[derive(Debug, Clone, Default)]
pub struct At {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub commit: Option<String>,
}

pub async fn start_manual(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    name: &str,
    at: At,
) -> Result<run::Model, ServiceError> {
    // Checked before any git work is done for the caller.
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::Run,
    )
    .await?;
    let source = source_at(engine, project, name, at, EventKind::Manual).await?;
    start(
        engine,
        NewRun {
            project,
            source: RunSource::Pipeline(Box::new(source)),
            by: Starter::Caller(principal),
        },
    )
    .await
}

/// Pipeline `name` as read at `at` for an `event` (by hand, or a
/// schedule's firing): the commit resolved in a freshly fetched mirror, the
/// file loaded, the steps its `when:` leaves out listed.
pub async fn source_at(
    engine: &Engine,
    project: i64,
    name: &str,
    at: At,
    event: EventKind,
) -> Result<PipelineSource, ServiceError> {
    let given = [&at.branch, &at.tag, &at.commit]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given > 1 {
        return Err(ServiceError::invalid(
            "branch",
            "give one of branch, tag or commit",
        ));
    }
    check_name("branch", &at.branch)?;
    check_name("tag", &at.tag)?;
    let link = repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("repository"))?;
    let mirror = Mirror::for_link(engine, &link);
    mirror.fetch().await?;
    let (sha, branch, tag) = if let Some(raw) = &at.commit {
        let sha = commit_id(raw)
            .ok_or_else(|| ServiceError::invalid("commit", "a commit id is 40 or 64 hex digits"))?;
        let sha = mirror.peel(&sha).await.ok_or_else(|| {
            ServiceError::invalid("commit", "that commit is not in the repository")
        })?;
        (sha, None, None)
    } else if let Some(tag) = &at.tag {
        let sha = mirror.tag_commit(tag).await.ok_or_else(|| {
            ServiceError::invalid("tag", format!("no tag {tag:?} in the repository"))
        })?;
        (sha, None, Some(tag.clone()))
    } else {
        let branch = at
            .branch
            .clone()
            .unwrap_or_else(|| link.default_branch.clone());
        let sha = mirror.branch_head(&branch).await.ok_or_else(|| {
            ServiceError::invalid("branch", format!("no branch {branch:?} in the repository"))
        })?;
        (sha, Some(branch), None)
    };
    let limits = &engine.settings.workflow_limits;
    let mut found = None;
    for file in mirror.pipeline_files(&sha, limits.max_source_bytes).await? {
        if pipeline::parse::name_of_file(&file.path) != name
            && !file.text.as_ref().is_ok_and(|t| t.contains(name))
        {
            continue;
        }
        let Ok(text) = file.text else { continue };
        match pipeline::load(&file.path, &text, limits) {
            Ok(p) if p.name == name => {
                found = Some((file.path, text, p));
                break;
            }
            Ok(_) => {}
            // The file named after it does not load: say why.
            Err(errors) if pipeline::parse::name_of_file(&file.path) == name => {
                return Err(ServiceError::Definition(errors));
            }
            Err(_) => {}
        }
    }
    let (file, text, loaded) = found.ok_or(ServiceError::NotFound("pipeline"))?;
    let change = Change {
        event,
        branch: branch.as_deref(),
        tag: tag.as_deref(),
        paths: None,
    };
    if let Err(excluded) = loaded.when.check(&change) {
        return Err(ServiceError::conflict(
            "pipeline",
            format!("the pipeline does not start for this: {excluded}"),
        ));
    }
    let excluded: Vec<(String, String)> = loaded
        .steps
        .iter()
        .filter_map(|s| {
            let why = s.when.check(&change).err()?;
            Some((s.id.clone(), why.to_string()))
        })
        .collect();
    if excluded.len() == loaded.steps.len() {
        return Err(ServiceError::conflict(
            "pipeline",
            "every step's when: leaves it out for this",
        ));
    }
    let commit = CommitInfo {
        sha: sha.clone(),
        reference: branch
            .as_ref()
            .map(|b| format!("refs/heads/{b}"))
            .or_else(|| tag.as_ref().map(|t| format!("refs/tags/{t}"))),
        branch,
        tag,
        event: event.as_str().to_owned(),
        pr_number: None,
        message: mirror.message(&sha).await.unwrap_or_default(),
        author: mirror.author(&sha).await.unwrap_or_default(),
        // A commit named by id that no branch or tag holds is a pull
        // request's head, perhaps a fork's: it runs as one, without secrets
        // until approved, whoever starts it.
        from_fork: at.commit.is_some() && !mirror.is_on_branch_or_tag(&sha).await,
    };
    Ok(PipelineSource {
        name: loaded.name,
        file,
        text,
        excluded,
        // A fork's file does not get to cancel or hold up the project's runs.
        concurrency: loaded.concurrency.filter(|_| !commit.from_fork),
        commit,
    })
}
