//! The schedules part of the pages' data port (see [`crate::backend`]): the
//! server crate implements it over the same services as the REST API.

use http::request::Parts;

use super::data::*;
use crate::accounts::data::Loaded;

#[async_trait::async_trait]
pub trait SchedulesPort: Send + Sync {
    /// A project's schedules, or (`None`) every schedule the viewer sees.
    async fn schedules(&self, request: &Parts, project: Option<i64>) -> Loaded<SchedulesPage>;
    async fn schedule(&self, request: &Parts, id: i64) -> Loaded<SchedulePage>;
    /// The next five instants of `expr` in zone `tz`, from now.
    fn preview_cron(&self, expr: &str, tz: &str) -> PreviewView;
}
