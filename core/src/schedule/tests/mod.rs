//! The schedule domain's tests: known answers and refusals, the
//! daylight-saving rule at every change of 2020–2035, and the policies.

use chrono::{DateTime, Utc};

use super::*;

pub(super) fn ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

pub(super) fn text(at: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(super) fn preview(expr: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    let expr = parse(expr).unwrap();
    let zone = parse_zone(zone).unwrap();
    upcoming(&expr, zone, ms(after), count)
        .into_iter()
        .map(text)
        .collect()
}

mod answers;
mod changes;
mod policies;
