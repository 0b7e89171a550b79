//! Kiln's schema, as an ordered list of sea-orm migrations. This crate is the
//! only place a table is created or changed; `kiln migrate` and `kiln serve`
//! apply it on SQLite, PostgreSQL and MySQL/MariaDB alike.

pub use sea_orm_migration::prelude::*;

pub use m20261202_400000_definitions::content_hash;

mod m20261125_000001_sessions;
mod m20261125_000002_mysql_job_queue;
mod m20261125_000003_accounts;
mod m20261125_000004_engine;
mod m20261202_000005_worker_label_grants;
mod m20261202_100000_instance_owner;
mod m20261202_200000_steps_by_run_state;
mod m20261202_300000_run_events;
mod m20261202_400000_definitions;
mod m20261202_500000_repositories;
mod m20261202_600000_deliveries;
mod m20261202_700000_pipeline_runs;
mod m20261202_800000_commit_statuses;
mod m20261202_900000_concurrency_groups;
mod m20261203_000001_schedules;
mod m20261203_000002_schedule_leases;
mod m20261203_000003_run_approvals;
mod m20261203_000004_runs_by_state;
mod m20261203_000005_pipeline_records;
mod m20261203_000006_run_waiting;
mod m20261206_000001_step_short_logs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_sessions::Migration),
            Box::new(m20261125_000002_mysql_job_queue::Migration),
            Box::new(m20261125_000003_accounts::Migration),
            Box::new(m20261125_000004_engine::Migration),
            Box::new(m20261202_000005_worker_label_grants::Migration),
            Box::new(m20261202_100000_instance_owner::Migration),
            Box::new(m20261202_200000_steps_by_run_state::Migration),
            Box::new(m20261202_300000_run_events::Migration),
            Box::new(m20261202_400000_definitions::Migration),
            Box::new(m20261202_500000_repositories::Migration),
            Box::new(m20261202_600000_deliveries::Migration),
            Box::new(m20261202_700000_pipeline_runs::Migration),
            Box::new(m20261202_800000_commit_statuses::Migration),
            Box::new(m20261202_900000_concurrency_groups::Migration),
            Box::new(m20261203_000001_schedules::Migration),
            Box::new(m20261203_000002_schedule_leases::Migration),
            Box::new(m20261203_000003_run_approvals::Migration),
            Box::new(m20261203_000004_runs_by_state::Migration),
            Box::new(m20261203_000005_pipeline_records::Migration),
            Box::new(m20261203_000006_run_waiting::Migration),
            Box::new(m20261206_000001_step_short_logs::Migration),
        ]
    }

    // Kiln's own name, so apalis' and sea-orm's bookkeeping never collide with
    // another application sharing the database.
    fn migration_table_name() -> DynIden {
        "kiln_migrations".into_iden()
    }
}
