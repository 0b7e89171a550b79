//! Each pipeline's last run per branch (or tag), for the project's
//! pipelines page: read from the newest pipeline runs, kept the newest of
//! each (pipeline, branch).

use std::collections::HashSet;

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::engine::RunState;
use kiln_core::pipeline::commit::CommitInfo;

use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::run;
use crate::engine::Engine;
use crate::engine::repo::runs;

/// Pipeline runs read: the last run of a branch untouched for longer than
/// this many runs is not shown.
const RECENT_RUNS: u64 = 500;

/// A pipeline's last run on one branch or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchStatus {
    pub pipeline: String,
    /// The branch, `tag v1`, or `—` when the run names neither.
    pub reference: String,
    pub run_id: i64,
    pub state: RunState,
    pub sha: String,
    pub event: String,
    pub created_at_ms: i64,
}

/// Who may see the project's runs sees this.
pub async fn last_per_branch(
    engine: &Engine,
    principal: &Principal,
    project: i64,
) -> Result<Vec<BranchStatus>, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::View,
    )
    .await?;
    let newest_first = runs::recent_pipeline_runs(&engine.db, project, RECENT_RUNS).await?;
    Ok(newest_per_branch(&newest_first))
}

/// The first (newest) run of each (pipeline, reference), sorted by
/// pipeline then reference.
fn newest_per_branch(newest_first: &[run::Model]) -> Vec<BranchStatus> {
    let mut seen = HashSet::new();
    let mut out: Vec<BranchStatus> = newest_first
        .iter()
        .filter_map(|row| {
            let pipeline = row.pipeline.clone()?;
            let commit: CommitInfo = row
                .commit_info
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_default();
            // A pull request's run is its own line, not its target branch's:
            // a fork's change does not decide what `main` shows.
            let reference = match (commit.pr_number, &commit.branch, &commit.tag) {
                (Some(number), _, _) => format!("pull request #{number}"),
                (None, Some(branch), _) => branch.clone(),
                (None, None, Some(tag)) => format!("tag {tag}"),
                (None, None, None) => "—".to_owned(),
            };
            seen.insert((pipeline.clone(), reference.clone()))
                .then(|| BranchStatus {
                    pipeline,
                    reference,
                    run_id: row.id,
                    state: row.state,
                    sha: commit.sha.chars().take(12).collect(),
                    event: commit.event,
                    created_at_ms: row.created_at_ms,
                })
        })
        .collect();
    out.sort_by(|a, b| (&a.pipeline, &a.reference).cmp(&(&b.pipeline, &b.reference)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::engine::{RunKind, RunTrigger};

    fn row(
        id: i64,
        pipeline: &str,
        branch: Option<&str>,
        tag: Option<&str>,
        state: &str,
    ) -> run::Model {
        let commit = CommitInfo {
            sha: format!("{id:040}"),
            branch: branch.map(str::to_owned),
            tag: tag.map(str::to_owned),
            event: "push".into(),
            ..CommitInfo::default()
        };
        run::Model {
            id,
            project_id: 1,
            workflow_id: None,
            version_id: None,
            definition_id: None,
            kind: RunKind::Pipeline,
            trigger: RunTrigger::Webhook,
            params: "{}".into(),
            state: state.parse().unwrap_or(RunState::Failed),
            created_by: None,
            created_at_ms: id,
            finished_at_ms: None,
            updated_at_ms: id,
            pipeline: Some(pipeline.into()),
            commit_info: Some(serde_json::to_string(&commit).unwrap_or_default()),
            concurrency_group: None,
            approved_by: None,
            approved_at_ms: None,
            left_out: None,
            waiting_since_ms: None,
        }
    }

    #[test]
    fn the_newest_run_of_each_pipeline_and_branch_is_kept() {
        let newest_first = [
            row(9, "a", Some("main"), None, "running"),
            row(8, "a", Some("main"), None, "failed"),
            row(7, "b", Some("main"), None, "success"),
            row(6, "a", Some("topic"), None, "failed"),
            row(5, "a", None, Some("v1"), "success"),
            row(4, "b", Some("main"), None, "failed"),
        ];
        let got: Vec<(String, String, i64, RunState)> = newest_per_branch(&newest_first)
            .into_iter()
            .map(|s| (s.pipeline, s.reference, s.run_id, s.state))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".into(), "main".into(), 9, RunState::Running),
                ("a".into(), "tag v1".into(), 5, RunState::Success),
                ("a".into(), "topic".into(), 6, RunState::Failed),
                ("b".into(), "main".into(), 7, RunState::Success),
            ]
        );
    }

    #[test]
    fn a_run_with_an_unreadable_commit_still_shows() {
        let mut broken = row(3, "a", Some("main"), None, "failed");
        broken.commit_info = Some("{not json".into());
        let got = newest_per_branch(&[broken]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].reference, "—");
        assert_eq!(got[0].sha, "");
    }
}
