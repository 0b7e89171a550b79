//! JSON bodies of the workflow, run, log and secret routes.

use std::collections::BTreeMap;

use kiln_core::engine::{RunState, RunTrigger, StepState};
use kiln_core::workflow::{Action, Workflow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::entities::{commit_status, run, step};
use crate::engine::repo::runs::RunView;
use crate::engine::repo::statuses::NEVER_MS;

pub use crate::clock::ms_to_rfc3339;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSource {
    /// The workflow's YAML.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParamBody {
    pub name: String,
    /// string, integer, number or boolean.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default: Option<String>,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskBody {
    pub id: String,
    /// `run` or `http`.
    pub kind: &'static str,
    pub needs: Vec<String>,
    pub trigger_rule: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowBody {
    pub project_id: i64,
    pub name: String,
    pub version: i32,
    pub source: String,
    pub description: String,
    pub params: Vec<ParamBody>,
    pub tasks: Vec<TaskBody>,
    /// RFC 3339.
    pub updated_at: String,
}

impl WorkflowBody {
    pub fn new(
        project_id: i64,
        name: String,
        version: i32,
        source: String,
        updated_at_ms: i64,
    ) -> Self {
        let parsed: Option<Workflow> = kiln_core::workflow::load(&source).ok();
        let (description, params, tasks) = match parsed {
            Some(w) => (
                w.description.clone(),
                w.params
                    .iter()
                    .map(|p| ParamBody {
                        name: p.name.clone(),
                        kind: p.kind.as_str(),
                        default: p.default.clone(),
                        description: p.description.clone(),
                    })
                    .collect(),
                w.tasks
                    .iter()
                    .map(|t| TaskBody {
                        id: t.id.clone(),
                        kind: match t.action {
                            Action::Run(_) => "run",
                            Action::Http(_) => "http",
                        },
                        needs: t.needs.iter().map(|(n, _)| n.clone()).collect(),
                        trigger_rule: t.trigger_rule.as_str(),
                    })
                    .collect(),
            ),
            None => (String::new(), Vec::new(), Vec::new()),
        };
        WorkflowBody {
            project_id,
            name,
            version,
            source,
            description,
            params,
            tasks,
            updated_at: ms_to_rfc3339(updated_at_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowSummary {
    pub name: String,
    pub version: i32,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowSummary>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    /// Param values by name: strings, numbers or booleans as the param's
    /// type says.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepBody {
    pub id: i64,
    pub task: String,
    /// queued, running, success, failed, skipped, upstream_failed,
    /// cancelled or timed_out.
    #[schema(value_type = String)]
    pub state: StepState,
    pub attempt: i32,
    pub retries_left: i32,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// When a retry is due.
    pub not_before: Option<String>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i32>,
    pub worker: Option<String>,
    pub message: String,
    #[schema(value_type = Object)]
    pub outputs: BTreeMap<String, String>,
    /// What the succeeded attempt saved (`artifacts:` of a pipeline step),
    /// downloadable at `…/steps/{task}/artifacts`; `null` when nothing.
    pub artifacts: Option<ArtifactsBody>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtifactsBody {
    pub files: usize,
    pub bytes: u64,
}

impl From<&step::Model> for StepBody {
    fn from(s: &step::Model) -> Self {
        StepBody {
            id: s.id,
            task: s.task.clone(),
            state: s.state,
            attempt: s.attempt,
            retries_left: s.retries_left,
            queued_at: ms_to_rfc3339(s.queued_at_ms),
            started_at: s.started_at_ms.map(ms_to_rfc3339),
            finished_at: s.finished_at_ms.map(ms_to_rfc3339),
            not_before: s.not_before_ms.map(ms_to_rfc3339),
            duration_ms: s.started_at_ms.zip(s.finished_at_ms).map(|(a, b)| b - a),
            exit_code: s.exit_code,
            worker: s.worker.clone(),
            message: s.message.clone(),
            outputs: s
                .outputs
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default(),
            artifacts: crate::engine::artifacts::stored_of(s).map(|a| ArtifactsBody {
                files: a.files,
                bytes: a.bytes,
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunBody {
    pub id: i64,
    pub project_id: i64,
    /// The project's full path, in lists across projects. Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub workflow: Option<String>,
    pub version: Option<i32>,
    /// workflow or pipeline.
    pub kind: String,
    /// A pipeline run's pipeline; absent for workflow runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// A pipeline run's commit: sha, ref, branch, tag, event, pr_number,
    /// message, author. Absent for workflow runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub commit: Option<kiln_core::pipeline::commit::CommitInfo>,
    /// A pipeline run's concurrency group: its runs do not overlap (a
    /// newer one cancels or waits for the older). Absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_group: Option<String>,
    /// Since when a running run waits for its concurrency group (another
    /// run of the group runs or waited longer). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
    /// manual, api, schedule or webhook.
    #[schema(value_type = String)]
    pub trigger: RunTrigger,
    /// running, success, failed or cancelled.
    #[schema(value_type = String)]
    pub state: RunState,
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// Absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepBody>>,
    /// A successful run some of whose `allow_failure` steps failed ("passed
    /// with allowed failures"). Absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_failures: Option<bool>,
    /// A pipeline run's report to its git host. Absent in lists and for
    /// workflow runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_status: Option<CommitStatusBody>,
    /// A run of a pull request from a fork: whether its steps still go
    /// without secrets, and who approved it. Absent for other runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalBody>,
    /// The failed run of a pipeline file that does not load: each error
    /// with its line and column. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// A pipeline run's steps that its event's `when:` left out (they are
    /// not among `steps`), each with the rule's reason. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<Vec<LeftOutBody>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeftOutBody {
    pub step: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalBody {
    /// True until a maintainer approves the run.
    pub secrets_withheld: bool,
    pub approved_by: Option<i64>,
    pub approved_at: Option<String>,
}

impl ApprovalBody {
    fn of(run: &run::Model) -> Option<Self> {
        let commit = crate::engine::checkout::commit_of(run)?;
        commit.from_fork.then(|| ApprovalBody {
            secrets_withheld: commit.secrets_withheld(run.approved_by.is_some()).is_some(),
            approved_by: run.approved_by,
            approved_at: run.approved_at_ms.map(ms_to_rfc3339),
        })
    }
}

/// The commit status a pipeline run owes its git host.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitStatusBody {
    /// The run state to report: running, success, failed or cancelled.
    #[schema(value_type = String)]
    pub state: RunState,
    /// Whether the host has accepted it.
    pub reported: bool,
    /// Failed tries of this state.
    pub attempts: i32,
    /// Why the last try failed, or why nothing is sent.
    pub error: Option<String>,
    /// When it is tried again (absent once accepted or given up).
    pub next_try_at: Option<String>,
}

impl From<&commit_status::Model> for CommitStatusBody {
    fn from(s: &commit_status::Model) -> Self {
        let reported = s.reported == Some(s.state);
        let waiting = !reported && s.next_at_ms < NEVER_MS;
        CommitStatusBody {
            state: s.state,
            reported,
            attempts: s.attempts,
            error: s.error.clone(),
            next_try_at: waiting.then(|| ms_to_rfc3339(s.next_at_ms)),
        }
    }
}

impl RunBody {
    pub fn summary(run: &run::Model, workflow: Option<String>) -> Self {
        RunBody {
            id: run.id,
            project_id: run.project_id,
            project: None,
            workflow,
            version: None,
            kind: run.kind.to_string(),
            pipeline: run.pipeline.clone(),
            commit: crate::engine::checkout::commit_of(run),
            concurrency_group: run.concurrency_group.clone(),
            waiting_since: run
                .waiting_since_ms
                .filter(|_| run.state == RunState::Running)
                .map(ms_to_rfc3339),
            trigger: run.trigger,
            state: run.state,
            params: serde_json::from_str(&run.params).unwrap_or_default(),
            created_by: run.created_by,
            created_at: ms_to_rfc3339(run.created_at_ms),
            finished_at: run.finished_at_ms.map(ms_to_rfc3339),
            duration_ms: run.finished_at_ms.map(|f| f - run.created_at_ms),
            steps: None,
            allowed_failures: None,
            commit_status: None,
            approval: ApprovalBody::of(run),
            errors: None,
            left_out: None,
        }
    }

    pub fn full(view: &RunView) -> Self {
        // The run only succeeds with a failed step if that step may fail.
        let allowed_failures = view.run.state == RunState::Success
            && view
                .steps
                .iter()
                .any(|s| matches!(s.state, StepState::Failed | StepState::TimedOut));
        RunBody {
            version: view.version,
            steps: Some(view.steps.iter().map(StepBody::from).collect()),
            allowed_failures: Some(allowed_failures),
            commit_status: view.commit_status.as_ref().map(CommitStatusBody::from),
            errors: (!view.errors.is_empty()).then(|| view.errors.clone()),
            left_out: view.run.pipeline.as_ref().map(|_| {
                view.left_out
                    .iter()
                    .map(|(step, reason)| LeftOutBody {
                        step: step.clone(),
                        reason: reason.clone(),
                    })
                    .collect()
            }),
            ..RunBody::summary(&view.run, view.workflow.clone())
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunBody>,
    pub next_cursor: Option<String>,
}

/// Runs the caller can see changed (`GET /api/v1/runs/events`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunsChangedBody {
    /// The runs created or moved since the last event, ascending.
    pub runs: Vec<i64>,
    /// More changed than an event names, or the stream fell behind: read
    /// the list again whole.
    pub everything: bool,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllRunsQuery {
    /// Only this project's runs.
    pub project: Option<i64>,
    /// running, success, failed or cancelled.
    pub state: Option<String>,
    /// workflow or pipeline.
    pub kind: Option<String>,
    /// manual, api, schedule or webhook.
    pub trigger: Option<String>,
    /// Only runs this user started.
    pub created_by: Option<i64>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListQuery {
    /// running, success, failed or cancelled.
    pub state: Option<String>,
    /// A workflow's name.
    pub workflow: Option<String>,
    /// manual, api, schedule or webhook.
    pub trigger: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// `failed` (default): the failed steps and what follows them; `all`:
    /// every step.
    pub steps: Option<String>,
    /// One step (its task name) to run again, with the steps that follow
    /// it; instead of `steps`.
    pub task: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The commit that was reviewed: the approval is refused (409) if the
    /// run is of another one.
    pub commit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryAnswer {
    /// The tasks that run again.
    pub reset: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Which attempt (default: the latest).
    pub attempt: Option<i32>,
    /// Start at this byte offset.
    pub offset: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    /// Stored encrypted; never returned.
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretBody {
    pub name: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretList {
    pub items: Vec<SecretBody>,
}

/// One change of a run or of one of its steps, as a live stream sends it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunEventBody {
    /// The stream's cursor: send it back as `Last-Event-ID` (or `after`).
    pub id: i64,
    pub run: i64,
    /// The step's task; absent for the run's own changes.
    pub task: Option<String>,
    pub attempt: Option<i32>,
    /// The state left (absent when the run was created).
    pub from: Option<String>,
    pub to: String,
    pub at: String,
    /// The step as it is now, for the page's other columns.
    pub step: Option<StepBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunEventsQuery {
    /// Only events after this id (default: all of the run's).
    pub after: Option<i64>,
}
