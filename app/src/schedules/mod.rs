//! Schedules: lists, one schedule with its history, and the preview of an
//! expression.

pub mod data;
pub mod load;
#[cfg(feature = "ssr")]
pub mod port;
