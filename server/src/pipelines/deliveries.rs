//! The project's received deliveries, newest first, for maintainers (the
//! Deliveries page): event, outcome, per-pipeline decisions, runs.

use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::delivery;
use crate::engine::Engine;

/// One delivery as a page or the API shows it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub delivery: String,
    pub provider: String,
    pub event: String,
    pub outcome: String,
    pub headers: serde_json::Value,
    pub decisions: serde_json::Value,
    pub runs: Vec<i64>,
    pub received_at_ms: i64,
    /// Whether its event was kept, so that it can be replayed.
    pub replayable: bool,
}

pub async fn list(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    limit: u64,
) -> Result<Vec<Delivery>, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::EditSettings,
    )
    .await?;
    let rows = delivery::Entity::find()
        .filter(delivery::Column::ProjectId.eq(project))
        .order_by_desc(delivery::Column::Id)
        .limit(limit.clamp(1, 200))
        .all(&engine.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Delivery {
            id: row.id,
            delivery: row.delivery_id,
            provider: row.provider,
            event: row.event,
            outcome: row.outcome,
            headers: serde_json::from_str(&row.headers).unwrap_or_default(),
            decisions: serde_json::from_str(&row.decisions).unwrap_or_default(),
            runs: serde_json::from_str(&row.runs).unwrap_or_default(),
            received_at_ms: row.received_at_ms,
            replayable: row.event_json.is_some(),
        })
        .collect())
}
