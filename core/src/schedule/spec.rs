//! A schedule as the API and the form give it, checked: each error names
//! its field. What it starts (a workflow with params, or a pipeline on a
//! branch) is only checked for shape here; whether the workflow exists is
//! the server's question.

use chrono_tz::Tz;

use super::expr::{CronExpr, parse};
use super::policy::{Catchup, Overlap};
use super::zone::{DEFAULT_ZONE, parse_zone};
use crate::accounts::names::check_name;
use crate::hooks::refs::is_ref_name;
use crate::workflow::duration::parse_duration;

/// The fields as given (absent ones take their defaults).
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub name: String,
    pub cron: String,
    pub timezone: Option<String>,
    pub workflow: Option<String>,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub concurrency: Option<String>,
    pub catchup: Option<String>,
    pub starting_deadline: Option<String>,
}

/// What a schedule starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Workflow(String),
    /// On `branch`, or the repository's default branch.
    Pipeline {
        name: String,
        branch: Option<String>,
    },
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Workflow(_) => "workflow",
            Target::Pipeline { .. } => "pipeline",
        }
    }
}

/// A checked schedule.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub name: String,
    pub cron: CronExpr,
    pub zone: Tz,
    pub zone_name: String,
    pub target: Target,
    pub overlap: Overlap,
    pub catchup: Catchup,
    pub deadline_ms: Option<i64>,
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: &'static str,
    pub message: String,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn error(field: &'static str, message: impl ToString) -> SpecError {
    SpecError {
        field,
        message: message.to_string(),
    }
}

pub fn check(input: &ScheduleInput) -> Result<ScheduleSpec, SpecError> {
    let name = check_name(&input.name).map_err(|e| error("name", e))?;
    let cron = parse(&input.cron).map_err(|e| error("cron", e))?;
    let zone_name = input
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .unwrap_or(DEFAULT_ZONE);
    let zone = parse_zone(zone_name).map_err(|e| error("timezone", e))?;
    let target = match (present(&input.workflow), present(&input.pipeline)) {
        (Some(workflow), None) => {
            if present(&input.branch).is_some() {
                return Err(error("branch", "only a pipeline schedule has a branch"));
            }
            Target::Workflow(workflow.to_owned())
        }
        (None, Some(pipeline)) => {
            let branch = present(&input.branch).map(str::to_owned);
            if let Some(b) = &branch
                && !is_ref_name(b)
            {
                return Err(error("branch", format!("{b:?} is not a branch name")));
            }
            Target::Pipeline {
                name: pipeline.to_owned(),
                branch,
            }
        }
        (Some(_), Some(_)) => {
            return Err(error("workflow", "give a workflow or a pipeline, not both"));
        }
        (None, None) => {
            return Err(error(
                "workflow",
                "give the workflow (or pipeline) to start",
            ));
        }
    };
    for (field, value) in [
        ("workflow", present(&input.workflow)),
        ("pipeline", present(&input.pipeline)),
    ] {
        if let Some(v) = value
            && (v.len() > 100 || v.chars().any(|c| c.is_control() || c == '/'))
        {
            return Err(error(field, format!("{v:?} is not a {field} name")));
        }
    }
    let overlap = match present(&input.concurrency) {
        Some(text) => Overlap::parse(text).map_err(|e| error("concurrency", e))?,
        None => Overlap::default(),
    };
    let catchup = match present(&input.catchup) {
        Some(text) => Catchup::parse(text).map_err(|e| error("catchup", e))?,
        None => Catchup::default(),
    };
    let deadline_ms = match present(&input.starting_deadline) {
        Some(text) => {
            let duration = parse_duration(text).map_err(|e| error("starting_deadline", e))?;
            let ms = i64::try_from(duration.as_millis())
                .ok()
                .filter(|&ms| ms > 0 && ms <= 366 * 86_400_000)
                .ok_or_else(|| error("starting_deadline", "must be between 1ms and 366d"))?;
            Some(ms)
        }
        None => None,
    };
    Ok(ScheduleSpec {
        name,
        cron,
        zone,
        zone_name: zone_name.to_owned(),
        target,
        overlap,
        catchup,
        deadline_ms,
    })
}
