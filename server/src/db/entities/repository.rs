//! `kiln_repositories`: a project's linked git repository; the hook secret
//! and the status token are sealed with the instance key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kiln_repositories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: i64,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    pub provider: String,
    pub default_branch: String,
    #[sea_orm(column_type = "Text")]
    pub hook_secret: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_token: Option<String>,
    /// Where the host's API lives, when not at the host's usual address.
    pub api_url: Option<String>,
    pub updated_at_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
