//! The JSON of schedules, their firings and the cron preview, as the API
//! sends and takes it (DESIGN.md's contract: `id` and `next` on a
//! schedule; `instant`, `fired_at`, `lateness_ms`, `outcome`, `run_id` on
//! a firing; times in RFC 3339 UTC).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::clock::ms_to_rfc3339;
use crate::db::entities::{schedule, schedule_firing};
use crate::schedules::service::Change;

/// A schedule to create, or the fields to change (PATCH).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInputBody {
    pub name: Option<String>,
    /// Five fields (or six with seconds first), or a macro like `@daily`.
    pub cron: Option<String>,
    /// IANA zone; UTC when absent.
    pub timezone: Option<String>,
    pub workflow: Option<String>,
    #[schema(value_type = Object)]
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    pub pipeline: Option<String>,
    /// The pipeline's branch; the repository's default when absent.
    pub branch: Option<String>,
    /// allow, forbid (default) or replace.
    pub concurrency: Option<String>,
    /// none, last (default) or all.
    pub catchup: Option<String>,
    /// A duration like `10m`: a firing later than this is missed.
    pub starting_deadline: Option<String>,
    pub paused: Option<bool>,
}

impl From<ScheduleInputBody> for Change {
    fn from(body: ScheduleInputBody) -> Change {
        Change {
            name: body.name,
            cron: body.cron,
            timezone: body.timezone,
            workflow: body.workflow,
            params: body.params,
            pipeline: body.pipeline,
            branch: body.branch,
            concurrency: body.concurrency,
            catchup: body.catchup,
            starting_deadline: body.starting_deadline,
            paused: body.paused,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiringBody {
    pub id: i64,
    /// The instant it was due (for "run now", when it was asked).
    pub instant: String,
    pub fired_at: String,
    pub lateness_ms: i64,
    /// fired, skipped_running, replaced, missed or failed.
    pub outcome: String,
    pub run_id: Option<i64>,
    pub manual: bool,
    /// Why a run did not start (`failed`).
    pub error: Option<String>,
}

impl From<&schedule_firing::Model> for FiringBody {
    fn from(f: &schedule_firing::Model) -> FiringBody {
        FiringBody {
            id: f.id,
            instant: ms_to_rfc3339(f.instant_ms),
            fired_at: ms_to_rfc3339(f.fired_at_ms),
            lateness_ms: f.lateness_ms,
            outcome: f.outcome.clone(),
            run_id: f.run_id,
            manual: f.manual,
            error: f.error.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleBody {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub workflow: Option<String>,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub concurrency: String,
    pub catchup: String,
    pub starting_deadline: Option<String>,
    pub paused: bool,
    /// The next five instants (a paused schedule's: if resumed now).
    pub next: Vec<String>,
    pub last_firing: Option<FiringBody>,
    pub created_at: String,
    pub updated_at: String,
}

impl ScheduleBody {
    pub fn new(
        row: &schedule::Model,
        next: &[i64],
        last: Option<&schedule_firing::Model>,
    ) -> ScheduleBody {
        ScheduleBody {
            id: row.id,
            project_id: row.project_id,
            name: row.name.clone(),
            cron: row.cron.clone(),
            timezone: row.timezone.clone(),
            workflow: row.workflow.clone(),
            params: serde_json::from_str(&row.params).unwrap_or_default(),
            pipeline: row.pipeline.clone(),
            branch: row.branch.clone(),
            concurrency: row.concurrency.clone(),
            catchup: row.catchup.clone(),
            starting_deadline: row.starting_deadline_ms.map(duration_text),
            paused: row.paused,
            next: next.iter().copied().map(instant_text).collect(),
            last_firing: last.map(FiringBody::from),
            created_at: ms_to_rfc3339(row.created_at_ms),
            updated_at: ms_to_rfc3339(row.updated_at_ms),
        }
    }
}

/// A cron instant (whole seconds), RFC 3339 UTC.
pub fn instant_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Milliseconds as the largest whole unit a workflow file would write.
pub fn duration_text(ms: i64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub items: Vec<ScheduleBody>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiringList {
    pub items: Vec<FiringBody>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The cron expression.
    pub expr: Option<String>,
    /// IANA zone; UTC when absent.
    pub tz: Option<String>,
    /// RFC 3339; now when absent.
    pub after: Option<String>,
    /// How many instants (1–100, default 5).
    pub count: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewBody {
    pub expr: String,
    pub timezone: String,
    /// The next instants, RFC 3339 UTC.
    pub next: Vec<String>,
    /// The same instants in the zone, with its offset.
    pub local: Vec<String>,
}
