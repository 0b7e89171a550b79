//! Replay: a maintainer hands a recorded delivery's event back to the
//! pipelines as a new delivery, decided again from the repository as it is
//! now (the same commits), as GitHub's and Gitea's "Redeliver" would do but
//! without the host: what Kiln read from the payload was kept (never the
//! raw body, never a signature). A pull request from a fork
//! stays a fork's run, without secrets until approved.

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::hooks::HookEvent;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::hooks::{Delivered, HookRefusal, process};
use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::{delivery, repository};
use crate::engine::Engine;
use crate::engine::mirror::Mirror;

/// Replays delivery `id` (Kiln's row id) of `project`.
pub async fn replay(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    id: i64,
) -> Result<Delivered, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::EditSettings,
    )
    .await?;
    let original = delivery::Entity::find_by_id(id)
        .filter(delivery::Column::ProjectId.eq(project))
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("delivery"))?;
    let event: HookEvent = original
        .event_json
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(|| ServiceError::Conflict {
            field: "delivery",
            message: "this delivery was recorded without its event (before Replay existed, or too large to keep)".into(),
        })?;
    let link = repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("repository"))?;
    if link.provider != original.provider {
        return Err(ServiceError::Conflict {
            field: "delivery",
            message: format!(
                "the repository is linked to {} now; this delivery came from {}",
                link.provider, original.provider
            ),
        });
    }
    // A push or tag replayed gets the project's secrets: its commit must
    // still be on a branch or tag of the repository linked now (not one
    // force-pushed away, nor one of a repository linked before).
    let pushed = match &event {
        HookEvent::Push(push) => Some(push.after.clone()),
        HookEvent::Tag { sha, .. } => Some(sha.clone()),
        _ => None,
    };
    if let Some(sha) = pushed {
        let mirror = Mirror::for_link(engine, &link);
        mirror.fetch().await?;
        if !mirror.is_on_branch_or_tag(&sha).await {
            return Err(ServiceError::Conflict {
                field: "delivery",
                message: format!(
                    "commit {sha} is no longer on a branch or tag of the repository; it is not replayed"
                ),
            });
        }
    }
    let by = match principal {
        Principal::User(user) => user.username.clone(),
        Principal::Anonymous { .. } => String::new(),
    };
    let mut headers = serde_json::Map::new();
    headers.insert("x-kiln-replay-of".into(), json!(original.delivery_id));
    headers.insert("x-kiln-replayed-by".into(), json!(by));
    let delivery_id = format!("replay-{}", uuid::Uuid::new_v4());
    process(engine, &link, delivery_id, headers, event)
        .await
        .map_err(|refusal| match refusal {
            HookRefusal::Engine(error) => error,
            other => ServiceError::invalid("delivery", other),
        })
}
