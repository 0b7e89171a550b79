//! A pipeline step's clean checkout of its run's commit: this process's
//! mirror of the project's repository is fetched if it lacks the commit,
//! then the step's directory gets a shallow clone of just that commit (its
//! own `.git`, nothing shared with the mirror, which the sandbox hides),
//! handed to the step's user file by file.

use std::path::Path;

use kiln_core::pipeline::commit::CommitInfo;
use kiln_core::pipeline::repository::redact;
use sea_orm::EntityTrait;

use super::Engine;
use super::git::{Transports, git};
use super::mirror::Mirror;
use crate::ServiceError;
use crate::db::entities::{repository, run};

/// The commit of a pipeline run; `None` for other runs.
pub fn commit_of(run: &run::Model) -> Option<CommitInfo> {
    run.commit_info
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

/// Checks `commit` out into the empty `workdir`; the repository's URL as
/// steps may see it (any password replaced).
pub async fn checkout(
    engine: &Engine,
    project: i64,
    commit: &CommitInfo,
    workdir: &Path,
) -> Result<String, ServiceError> {
    let link = repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("repository"))?;
    let mirror = Mirror::for_link(engine, &link);
    if !mirror.has_commit(&commit.sha).await {
        mirror.fetch().await?;
        if !mirror.has_commit(&commit.sha).await {
            return Err(ServiceError::Repository(format!(
                "commit {} is not in the repository",
                commit.sha
            )));
        }
    }
    // Our own mirror, by path: the one local transport always allowed.
    let local = Transports { local: true };
    let source = mirror.dir.to_string_lossy().into_owned();
    git(workdir, local, &["init", "--quiet"], None).await?;
    git(
        workdir,
        local,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--end-of-options",
            &source,
            &commit.sha,
        ],
        None,
    )
    .await?;
    git(
        workdir,
        local,
        &["checkout", "--quiet", "--detach", "FETCH_HEAD"],
        None,
    )
    .await?;
    Ok(redact(&link.url))
}
