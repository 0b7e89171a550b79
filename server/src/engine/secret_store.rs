//! Secrets of groups and projects: set (sealed with the instance key, bound
//! to node and name), listed by name only, deleted, and resolved for a run:
//! a project sees its own and its groups' secrets, the nearest one winning.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kiln_core::engine::mask::MIN_MASKED_LEN;
use kiln_core::engine::secret_name::check_secret_name;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::secrets::SecretKey;
use crate::ServiceError;
use crate::accounts::nodes::lineage_rows;
use crate::db::entities::secret;

/// Longest secret value accepted.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

fn aad(node_id: i64, name: &str) -> Vec<u8> {
    format!("kiln-secret:{node_id}:{name}").into_bytes()
}

/// Creates or replaces `name` on node `node_id`.
pub async fn set(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    node_id: i64,
    name: &str,
    value: &str,
) -> Result<(), ServiceError> {
    check_secret_name(name).map_err(|m| ServiceError::invalid("name", m))?;
    // Shorter values could not be masked in logs without wrecking them.
    if value.len() < MIN_MASKED_LEN || value.len() > MAX_VALUE_BYTES {
        return Err(ServiceError::invalid(
            "value",
            format!("a secret's value is {MIN_MASKED_LEN} to {MAX_VALUE_BYTES} bytes"),
        ));
    }
    let sealed = STANDARD.encode(key.seal(value.as_bytes(), &aad(node_id, name)));
    let row = secret::ActiveModel {
        node_id: Set(node_id),
        name: Set(name.to_owned()),
        sealed: Set(sealed),
        updated_at: Set(crate::clock::now_s()),
        ..Default::default()
    };
    secret::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([secret::Column::NodeId, secret::Column::Name])
                .update_columns([secret::Column::Sealed, secret::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// The node's own secrets: names and when they changed, never values.
pub async fn list(
    db: &impl ConnectionTrait,
    node_id: i64,
) -> Result<Vec<(String, i64)>, ServiceError> {
    Ok(secret::Entity::find()
        .filter(secret::Column::NodeId.eq(node_id))
        .order_by_asc(secret::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.name, s.updated_at))
        .collect())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    node_id: i64,
    name: &str,
) -> Result<(), ServiceError> {
    let gone = secret::Entity::delete_many()
        .filter(secret::Column::NodeId.eq(node_id))
        .filter(secret::Column::Name.eq(name))
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(ServiceError::NotFound("secret"));
    }
    Ok(())
}

/// The values of `names` visible at the project `project_path`: its own,
/// else the nearest group's. Names set nowhere are absent from the answer.
pub async fn resolve(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    project_path: &str,
    names: &[String],
) -> Result<BTreeMap<String, String>, ServiceError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let nodes: Vec<(i64, String)> = lineage_rows(db, project_path)
        .await?
        .into_iter()
        .map(|n| (n.id, n.full_path))
        .collect();
    let depth = |id: i64| {
        nodes
            .iter()
            .find(|(n, _)| *n == id)
            .map_or(0, |(_, path)| path.len())
    };
    let mut rows = secret::Entity::find()
        .filter(secret::Column::NodeId.is_in(nodes.iter().map(|(id, _)| *id)))
        .filter(secret::Column::Name.is_in(names.iter().cloned()))
        .all(db)
        .await?;
    // Shallowest first, so deeper ones overwrite them.
    rows.sort_by_key(|row| depth(row.node_id));
    let mut out = BTreeMap::new();
    for row in rows {
        let sealed = STANDARD
            .decode(&row.sealed)
            .map_err(|_| super::secrets::SecretsError::Open)?;
        let value = key.open(&sealed, &aad(row.node_id, &row.name))?;
        out.insert(row.name, String::from_utf8_lossy(&value).into_owned());
    }
    Ok(out)
}
