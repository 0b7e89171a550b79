//! The pipelines part of the pages' data port (see [`crate::backend`]): the
//! server crate implements it over the same services as the REST API.

use http::request::Parts;

use super::data::*;
use crate::accounts::data::Loaded;

#[async_trait::async_trait]
pub trait PipelinesPort: Send + Sync {
    /// A project's pipelines page; `query` is the dry-run form as sent.
    async fn pipelines(
        &self,
        request: &Parts,
        project: i64,
        query: DryRunQuery,
    ) -> Loaded<PipelinesPage>;
    async fn deliveries(&self, request: &Parts, project: i64) -> Loaded<DeliveriesPage>;
}
