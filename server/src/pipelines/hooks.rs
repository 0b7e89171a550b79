//! Receiving a git host's webhook for a project: the provider must be the
//! one linked, the signature must hold (constant time), the payload is read
//! into one event, and the delivery is recorded once per delivery id (a
//! redelivery answers with the first one's runs). For a push, tag or pull
//! request the project's pipelines are decided against the commit's files
//! and the changed paths git reports; each decision is recorded.

use kiln_core::hooks::{HookEvent, Provider, SignatureError, verify};
use kiln_core::pipeline::EventKind;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::dry_run::{DryRun, DryRunRequest, decide};
use super::repository::hook_secret_of;
use crate::db::entities::{delivery, repository};
use crate::engine::{Engine, EngineError};

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
    Engine(#[from] EngineError),
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

/// A delivery as it arrived.
pub struct Incoming<'a> {
    pub provider: &'a str,
    pub project: i64,
    /// Header lookup by lower-case name.
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Every header, for the record (secrets are left out here).
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

fn count(provider: &str, outcome: &'static str) {
    metrics::counter!("kiln_webhook_deliveries_total", "provider" => provider.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub async fn receive(engine: &Engine, incoming: Incoming<'_>) -> Result<Delivered, HookRefusal> {
    let provider: Provider = incoming
        .provider
        .parse()
        .map_err(|_| HookRefusal::NotFound)?;
    let link = repository::Entity::find_by_id(incoming.project)
        .one(&engine.db)
        .await?
        .filter(|link| link.provider == provider.as_str())
        .ok_or(HookRefusal::NotFound)?;
    let secret = hook_secret_of(engine, &link)?;
    if let Err(error) = verify(provider, incoming.header, secret.as_bytes(), incoming.body) {
        count(provider.as_str(), "refused_signature");
        return Err(match error {
            SignatureError::Missing => HookRefusal::MissingSignature,
            SignatureError::Wrong => HookRefusal::WrongSignature,
        });
    }
    let event = provider.read(incoming.header, incoming.body).map_err(|e| {
        count(provider.as_str(), "malformed");
        HookRefusal::Malformed(e)
    })?;
    let delivery_id = provider
        .delivery_id(incoming.header)
        .unwrap_or_else(|| format!("kiln-{}", uuid::Uuid::new_v4()));
    let headers: serde_json::Map<String, serde_json::Value> = incoming
        .headers
        .iter()
        .filter(|(name, _)| !SECRET_HEADERS.contains(&name.as_str()))
        .take(64)
        .map(|(name, value)| (name.clone(), json!(clip(value, 512))))
        .collect();
    let row = delivery::ActiveModel {
        project_id: Set(link.project_id),
        provider: Set(provider.as_str().to_owned()),
        delivery_id: Set(delivery_id.clone()),
        event: Set(event.kind().to_owned()),
        headers: Set(serde_json::Value::Object(headers).to_string()),
        outcome: Set("received".to_owned()),
        decisions: Set("[]".to_owned()),
        runs: Set("[]".to_owned()),
        received_at_ms: Set(crate::clock::now_ms()),
        ..Default::default()
    };
    // The unique key decides which of two copies of a delivery is first.
    let inserted = match delivery::Entity::insert(row).exec(&engine.db).await {
        Ok(done) => done.last_insert_id,
        Err(error)
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            count(provider.as_str(), "redelivered");
            return first_delivery(engine, link.project_id, &delivery_id).await;
        }
        Err(error) => return Err(error.into()),
    };
    count(provider.as_str(), "accepted");
    let (outcome, decisions) = match decision_for(&event) {
        None => (describe(&event), json!([])),
        Some(request) => match decide(engine, &link, request).await {
            Ok(decided) => (summary(&decided), decisions_json(&decided)),
            Err(error) => (format!("not decided: {error}"), json!([])),
        },
    };
    let mut done: delivery::ActiveModel = delivery::Entity::find_by_id(inserted)
        .one(&engine.db)
        .await?
        .ok_or(EngineError::NotFound("delivery"))?
        .into();
    done.outcome = Set(outcome.clone());
    done.decisions = Set(decisions.to_string());
    delivery::Entity::update(done).exec(&engine.db).await?;
    Ok(Delivered {
        delivery: delivery_id,
        runs: Vec::new(),
        outcome,
    })
}

async fn first_delivery(engine: &Engine, project: i64, id: &str) -> Result<Delivered, HookRefusal> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let first = delivery::Entity::find()
        .filter(delivery::Column::ProjectId.eq(project))
        .filter(delivery::Column::DeliveryId.eq(id))
        .one(&engine.db)
        .await?
        .ok_or(EngineError::NotFound("delivery"))?;
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

fn summary(decided: &DryRun) -> String {
    let starting = decided.pipelines.iter().filter(|p| p.verdict.start).count();
    format!(
        "{starting} of {} pipelines match commit {}; starting pipeline runs from webhooks is not built yet, so none was started",
        decided.pipelines.len(),
        &decided.commit[..decided.commit.len().min(12)]
    )
}

fn decisions_json(decided: &DryRun) -> serde_json::Value {
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

fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
