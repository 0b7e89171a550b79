//! Parsed workflow versions, cached: versions never change, so each is
//! parsed once per process however many steps run from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kiln_core::workflow::{self, Workflow};
use sea_orm::{ConnectionTrait, EntityTrait};

use super::EngineError;
use crate::db::entities::workflow_version;

/// Versions kept at most; past it the cache starts over (cheap to refill).
const MAX_CACHED: usize = 256;

#[derive(Default)]
pub struct Definitions(Mutex<HashMap<i64, Arc<Workflow>>>);

impl Definitions {
    /// The workflow of version `id`.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Arc<Workflow>, EngineError> {
        if let Some(found) = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(found.clone());
        }
        let version = workflow_version::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(EngineError::NotFound("workflow version"))?;
        // Stored versions were validated when saved.
        let parsed = Arc::new(workflow::load(&version.source).map_err(EngineError::Definition)?);
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(id, parsed.clone());
        Ok(parsed)
    }
}
