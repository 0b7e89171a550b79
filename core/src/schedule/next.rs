//! When an expression fires in a time zone: Kiln's daylight-saving rule on
//! top of croner's matching. croner is asked only about wall-clock times
//! (it matches on a clock without changes); this module turns each matching
//! wall-clock time (a *slot*) into instants:
//!
//! - An expression whose hour field is fixed (no `*`, no step) fires once
//!   per slot: a slot that the clock skips (spring forward) fires at the
//!   first instant after the gap, a slot that occurs twice (fall back) at
//!   its first occurrence. Slots in the same gap share that instant, and so
//!   one firing.
//! - An expression with `*` or a step in the hour field keeps its real-time
//!   rhythm: it fires at every instant whose wall-clock time matches, so a
//!   repeated hour fires twice and a skipped one not at all.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::expr::CronExpr;

/// How far the clock can go back in a change (Antarctic stations and
/// historic rules aside, it is at most 1 h; 3 h bounds the search).
const LONGEST_SHIFT: TimeDelta = TimeDelta::hours(3);

/// The earliest instant (ms since the epoch) after `after_ms` at which
/// `expr` fires in `zone`; `None` past the end of time croner knows.
pub fn next_after(expr: &CronExpr, zone: Tz, after_ms: i64) -> Option<i64> {
    let after = DateTime::<Utc>::from_timestamp_millis(after_ms)?;
    let local = after.with_timezone(&zone).naive_local();
    // A fall-back ahead repeats wall-clock times already behind `after`:
    // the search starts that much earlier.
    let ahead = after + LONGEST_SHIFT;
    let shift = offset_seconds(zone, after) - offset_seconds(zone, ahead);
    let mut cursor = local - TimeDelta::seconds(shift.max(0)) - TimeDelta::seconds(1);
    let mut best: Option<i64> = None;
    loop {
        let slot = expr
            .cron
            .find_next_occurrence(&cursor.and_utc(), false)
            .ok()?
            .naive_utc();
        // Later slots never stand for instants before this slot's
        // earliest one: once that is past the best found, it stays best.
        let earliest = earliest_of(slot, zone);
        if let (Some(found), Some(earliest)) = (best, earliest)
            && earliest > found
        {
            return best;
        }
        for instant in instants_of(slot, zone, expr.hour_rhythm) {
            if instant > after_ms && best.is_none_or(|b| instant < b) {
                best = Some(instant);
            }
        }
        // Slot mode stands for the earliest instant only, so the first one
        // found is the next; so is, in either mode, a slot's earliest.
        if best.is_some() && (!expr.hour_rhythm || best == earliest) {
            return best;
        }
        cursor = slot;
    }
}

/// The next `count` instants after `after_ms`.
pub fn upcoming(expr: &CronExpr, zone: Tz, after_ms: i64, count: usize) -> Vec<i64> {
    let mut instants = Vec::with_capacity(count);
    let mut cursor = after_ms;
    while instants.len() < count {
        let Some(next) = next_after(expr, zone, cursor) else {
            break;
        };
        instants.push(next);
        cursor = next;
    }
    instants
}

/// The first instant `slot` stands for, or the end of the gap it is in.
fn earliest_of(slot: NaiveDateTime, zone: Tz) -> Option<i64> {
    match zone.from_local_datetime(&slot) {
        LocalResult::Single(at) => Some(at.timestamp_millis()),
        LocalResult::Ambiguous(first, second) => {
            Some(first.timestamp_millis().min(second.timestamp_millis()))
        }
        LocalResult::None => gap_end(slot, zone),
    }
}

/// The instants (ms) that wall-clock time `slot` stands for in `zone`.
fn instants_of(slot: NaiveDateTime, zone: Tz, rhythm: bool) -> Vec<i64> {
    match zone.from_local_datetime(&slot) {
        LocalResult::Single(at) => vec![at.timestamp_millis()],
        LocalResult::Ambiguous(first, second) => {
            let (a, b) = (first.timestamp_millis(), second.timestamp_millis());
            if rhythm {
                vec![a.min(b), a.max(b)]
            } else {
                vec![a.min(b)]
            }
        }
        LocalResult::None if rhythm => Vec::new(),
        LocalResult::None => gap_end(slot, zone).into_iter().collect(),
    }
}

/// The first instant whose wall-clock time is at or after `slot`, which
/// the clock skipped: the instant of the change.
fn gap_end(slot: NaiveDateTime, zone: Tz) -> Option<i64> {
    let as_utc = slot.and_utc().timestamp();
    // Offsets are within ±15 h: the change lies in this window.
    let (mut low, mut high) = (as_utc - 15 * 3600, as_utc + 15 * 3600);
    let wall = |seconds: i64| -> Option<NaiveDateTime> {
        Some(
            DateTime::<Utc>::from_timestamp(seconds, 0)?
                .with_timezone(&zone)
                .naive_local(),
        )
    };
    if wall(high)? < slot {
        return None;
    }
    while low + 1 < high {
        let middle = low + (high - low) / 2;
        if wall(middle)? >= slot {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(high * 1000)
}

fn offset_seconds(zone: Tz, at: DateTime<Utc>) -> i64 {
    i64::from(
        zone.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}
