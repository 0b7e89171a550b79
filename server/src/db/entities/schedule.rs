//! `kiln_schedules`: a cron expression in a time zone that starts a
//! workflow (or a pipeline on a branch), its policies, and the first
//! instant not yet handled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub cron: String,
    /// IANA name.
    pub timezone: String,
    /// `workflow` or `pipeline`.
    pub target: String,
    pub workflow: Option<String>,
    /// JSON object of params, as given.
    #[sea_orm(column_type = "Text")]
    pub params: String,
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    /// An `Overlap` name.
    pub concurrency: String,
    /// A `Catchup` name.
    pub catchup: String,
    pub starting_deadline_ms: Option<i64>,
    pub paused: bool,
    /// The first instant not yet handled; `None` when it never fires again.
    pub next_at_ms: Option<i64>,
    /// The server preparing the due pass, and until when (see `fire`).
    pub lease_by: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
