//! Schedules: cron expressions (parsed by croner), their time zones, when
//! they fire (Kiln's daylight-saving rule on top of croner), and what a
//! schedule does with due instants (catch-up, starting deadline, overlap
//! with its previous run). Plain functions over plain types: the scheduler
//! loop that claims firings lives in the server.

pub mod expr;
pub mod next;
pub mod policy;
pub mod spec;
pub mod zone;

#[cfg(test)]
mod tests;

pub use chrono_tz::Tz;
pub use expr::{CronError, CronExpr, parse};
pub use next::{next_after, upcoming};
pub use policy::{
    Catchup, FiringOutcome, OnOverlap, Overlap, Pass, Verdict, on_overlap, plan_pass,
};
pub use spec::{ScheduleInput, ScheduleSpec, SpecError, Target, check};
pub use zone::{DEFAULT_ZONE, ZoneError, parse_zone};
