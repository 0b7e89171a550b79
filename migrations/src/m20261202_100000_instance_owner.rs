//! Hardening of accounts. `kiln_instance_owner` holds at most one row (its
//! primary key is always 1): the account that made the instance its own by
//! being first. Storing the first account and claiming this row happen in one
//! transaction, so however many sign-ups race on an empty instance, the
//! unique key lets exactly one become admin. An instance that already has
//! accounts is marked as owned by its oldest one.
//!
//! Session ids are stored hashed from now on; the rows stored before (raw
//! ids, usable by whoever reads the table) are deleted: everyone signs in
//! again once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The one value `kiln_instance_owner.id` takes.
const OWNER_ROW: i32 = 1;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceOwner::Table)
                    .if_not_exists()
                    .col(integer(InstanceOwner::Id).primary_key())
                    .col(big_integer(InstanceOwner::UserId))
                    .col(big_integer(InstanceOwner::ClaimedAt))
                    .to_owned(),
            )
            .await?;
        let oldest = Query::select()
            .expr(Expr::val(OWNER_ROW))
            .column(Users::Id)
            .column(Users::CreatedAt)
            .from(Users::Table)
            .order_by(Users::Id, Order::Asc)
            .limit(1)
            .to_owned();
        let claim = Query::insert()
            .into_table(InstanceOwner::Table)
            .columns([
                InstanceOwner::Id,
                InstanceOwner::UserId,
                InstanceOwner::ClaimedAt,
            ])
            .select_from(oldest)
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(claim).await?;
        manager
            .exec_stmt(Query::delete().from_table(Sessions::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstanceOwner::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum InstanceOwner {
    #[sea_orm(iden = "kiln_instance_owner")]
    Table,
    Id,
    UserId,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum Users {
    #[sea_orm(iden = "kiln_users")]
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    #[sea_orm(iden = "kiln_sessions")]
    Table,
}
