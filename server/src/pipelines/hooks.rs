//! Receiving a git host's webhook for a project: the provider must be the
//! one linked, the signature must hold (constant time), the payload is read
//! into one event, and the delivery is recorded once per delivery id (a
//! redelivery answers with the first one's runs). For a push, tag or pull
//! request the project's pipelines are decided against the commit's files
//! and the changed paths git reports; each decision is recorded.

use kiln_core::hooks::{HookEvent, Provider, SignatureError, verify};
use kiln_core::pipeline::EventKind;
use kiln_core::text::clip_bytes as clip;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::dry_run::{DryRun, DryRunRequest, decide};
use super::matching::{decisions_json, start_matching};
use super::repository::hook_secret_of;
use crate::ServiceError;
use crate::db::entities::{delivery, repository};
use crate::engine::Engine;

/// What fits a MariaDB TEXT column, with room to spare.
const MAX_DECISIONS_BYTES: usize = 60 * 1024;

/// Headers never recorded: they prove who sent the delivery.
const SECRET_HEADERS: &[&str] = &[
    "x-gitea-signature",
    "x-forgejo-signature",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-gitlab-token",
    "authorization",
    "cookie",
];

/// Why a delivery is refused before anything is recorded.
#[derive(Debug, thiserror::Error)]
pub enum HookRefusal {
    #[error("no such project with a repository linked for this provider")]
    NotFound,
    #[error("the signature is missing")]
    MissingSignature,
    #[error("the signature does not match the project's hook secret")]
    WrongSignature,
    #[error("{0}")]
    Malformed(String),
    #[error(transparent)]
    Engine(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for HookRefusal {
    fn from(error: sea_orm::DbErr) -> Self {
        HookRefusal::Engine(error.into())
    }
}

/// What the host is answered.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub delivery: String,
    pub runs: Vec<i64>,
    pub outcome: String,
}

/// A delivery as it arrived, owned: it is worked on in a task of its own,
/// which goes on if the host hangs up.
pub struct Incoming {
    /// Every header, names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn count(provider: &str, outcome: &'static str) {
    metrics::counter!("kiln_webhook_deliveries_total", "provider" => provider.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// The project's link for `provider`: looked up before the body is read,
/// so an unknown project or provider costs no upload.
pub async fn link_for(
    engine: &Engine,
    provider: &str,
    project: i64,
) -> Result<(Provider, repository::Model), HookRefusal> {
    let provider: Provider = provider.parse().map_err(|_| HookRefusal::NotFound)?;
    let link = repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .filter(|link| link.provider == provider.as_str())
        .ok_or(HookRefusal::NotFound)?;
    Ok((provider, link))
}

/// An earlier copy that failed (the git host was down) is taken back, so
/// the host's redelivery is decided afresh.
const FAILED: &str = "failed: ";

pub async fn receive(
    engine: &Engine,
    provider: Provider,
    link: repository::Model,
    incoming: Incoming,
) -> Result<Delivered, HookRefusal> {
    let header = |name: &str| {
        incoming
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let secret = hook_secret_of(engine, &link)?;
    if let Err(error) = verify(provider, &header, secret.as_bytes(), &incoming.body) {
        count(provider.as_str(), "refused_signature");
        return Err(match error {
            SignatureError::Missing => HookRefusal::MissingSignature,
            SignatureError::Wrong => HookRefusal::WrongSignature,
        });
    }
    let event = provider.read(&header, &incoming.body).map_err(|e| {
        count(provider.as_str(), "malformed");
        HookRefusal::Malformed(e)
    })?;
    let delivery_id = provider
        .delivery_id(&header)
        .unwrap_or_else(|| format!("kiln-{}", uuid::Uuid::new_v4()));
    let headers: serde_json::Map<String, serde_json::Value> = incoming
        .headers
        .iter()
        // Kiln's own names (a replay's) are Kiln's to write.
        .filter(|(name, _)| {
            !SECRET_HEADERS.contains(&name.as_str()) && !name.starts_with("x-kiln-")
        })
        .take(64)
        .map(|(name, value)| (name.clone(), json!(clip(value, 512))))
        .collect();
    process(engine, &link, delivery_id, headers, event).await
}

/// Records a checked delivery once per delivery id, decides which
/// pipelines it starts and starts them. Webhooks and Replay both come here.
pub(super) async fn process(
    engine: &Engine,
    link: &repository::Model,
    delivery_id: String,
    headers: serde_json::Map<String, serde_json::Value>,
    event: HookEvent,
) -> Result<Delivered, HookRefusal> {
    let provider = link.provider.as_str();
    let row = delivery::ActiveModel {
        project_id: Set(link.project_id),
        provider: Set(provider.to_owned()),
        delivery_id: Set(delivery_id.clone()),
        event: Set(event.kind().to_owned()),
        headers: Set(serde_json::Value::Object(headers).to_string()),
        outcome: Set("received".to_owned()),
        decisions: Set("[]".to_owned()),
        runs: Set("[]".to_owned()),
        received_at_ms: Set(crate::clock::now_ms()),
        // Past what a TEXT column holds, the delivery cannot be replayed.
        event_json: Set(serde_json::to_string(&event)
            .ok()
            .filter(|text| text.len() <= MAX_DECISIONS_BYTES)),
        ..Default::default()
    };
    // The unique key decides which of two copies of a delivery is first.
    let mut retaken = false;
    let inserted = loop {
        match delivery::Entity::insert(row.clone()).exec(&engine.db).await {
            Ok(done) => break done.last_insert_id,
            Err(error)
                if matches!(
                    error.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                if !retaken && take_back_failed(engine, link.project_id, &delivery_id).await? {
                    retaken = true;
                    continue;
                }
                count(provider, "redelivered");
                return first_delivery(engine, link.project_id, &delivery_id).await;
            }
            Err(error) => return Err(error.into()),
        }
    };
    count(provider, "accepted");
    let mut runs = Vec::new();
    let (outcome, decisions) = match decision_for(&event) {
        None => (describe(&event), json!([])),
        Some(request) => match decide(engine, link, request).await {
            Ok(decided) => {
                let mut decisions = decisions_json(&decided);
                let started =
                    start_matching(engine, link.project_id, &event, &decided, &mut decisions).await;
                runs = started;
                (summary(&decided, &runs), decisions)
            }
            Err(ServiceError::Repository(message)) => {
                // The git host failed: recorded as failed, answered 502, and
                // a redelivery is decided again.
                record(
                    engine,
                    inserted,
                    format!("{FAILED}{message}"),
                    json!([]),
                    &[],
                )
                .await?;
                return Err(HookRefusal::Engine(ServiceError::Repository(message)));
            }
            Err(error) => (format!("not decided: {error}"), json!([])),
        },
    };
    record(engine, inserted, outcome.clone(), decisions, &runs).await?;
    Ok(Delivered {
        delivery: delivery_id,
        runs,
        outcome,
    })
}

/// Writes a delivery's outcome, decisions (cut to what a TEXT column
/// holds) and runs.
async fn record(
    engine: &Engine,
    id: i64,
    outcome: String,
    decisions: serde_json::Value,
    runs: &[i64],
) -> Result<(), HookRefusal> {
    let mut decisions = decisions.to_string();
    if decisions.len() > MAX_DECISIONS_BYTES {
        decisions = json!([{"reason": "too many decisions to record"}]).to_string();
    }
    let done = delivery::ActiveModel {
        id: Set(id),
        outcome: Set(clip(&outcome, 4096).to_owned()),
        decisions: Set(decisions),
        runs: Set(json!(runs).to_string()),
        ..Default::default()
    };
    delivery::Entity::update(done).exec(&engine.db).await?;
    Ok(())
}

/// Removes the failed first copy of a delivery; whether there was one.
async fn take_back_failed(engine: &Engine, project: i64, id: &str) -> Result<bool, HookRefusal> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let gone = delivery::Entity::delete_many()
        .filter(delivery::Column::ProjectId.eq(project))
        .filter(delivery::Column::DeliveryId.eq(id))
        .filter(delivery::Column::Outcome.starts_with(FAILED))
        .exec(&engine.db)
        .await?;
    Ok(gone.rows_affected > 0)
}

async fn first_delivery(engine: &Engine, project: i64, id: &str) -> Result<Delivered, HookRefusal> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let first = delivery::Entity::find()
        .filter(delivery::Column::ProjectId.eq(project))
        .filter(delivery::Column::DeliveryId.eq(id))
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("delivery"))?;
    Ok(Delivered {
        delivery: first.delivery_id,
        runs: serde_json::from_str(&first.runs).unwrap_or_default(),
        outcome: format!("a redelivery of {id}: nothing new started"),
    })
}

/// What to decide for an event that may start pipelines.
fn decision_for(event: &HookEvent) -> Option<DryRunRequest> {
    let (kind, branch, tag, before, after) = match event {
        HookEvent::Push(push) => (
            EventKind::Push,
            Some(push.branch.clone()),
            None,
            push.before.clone(),
            push.after.clone(),
        ),
        HookEvent::Tag { tag, sha, .. } => {
            (EventKind::Tag, None, Some(tag.clone()), None, sha.clone())
        }
        HookEvent::PullRequest(pr) => (
            EventKind::PullRequest,
            Some(pr.target_branch.clone()),
            None,
            None,
            pr.head_sha.clone(),
        ),
        HookEvent::Ping | HookEvent::Deleted { .. } | HookEvent::Ignored(_) => return None,
    };
    Some(DryRunRequest {
        event: kind,
        branch,
        tag,
        paths: None,
        before,
        after: Some(after),
    })
}

fn describe(event: &HookEvent) -> String {
    match event {
        HookEvent::Ping => "ping answered".to_owned(),
        HookEvent::Deleted { name } => format!("{name} was deleted: nothing starts"),
        HookEvent::Ignored(reason) => reason.clone(),
        _ => String::new(),
    }
}

fn summary(decided: &DryRun, runs: &[i64]) -> String {
    let starting = decided.pipelines.iter().filter(|p| p.verdict.start).count();
    format!(
        "{starting} of {} pipelines match commit {}; {} run(s) started",
        decided.pipelines.len(),
        &decided.commit[..decided.commit.len().min(12)],
        runs.len()
    )
}
