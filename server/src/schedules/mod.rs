//! Cron schedules: the service the API and dashboard call, the SQL, one
//! pass over a due schedule, and the loop every `kiln serve` runs. When a
//! schedule fires and what it does with due instants are the domain's
//! (`kiln_core::schedule`); this is where they meet the database and the
//! engine's one way to start a run.

pub mod fire;
pub mod scheduler;
pub mod service;
pub mod store;
