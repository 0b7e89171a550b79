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

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::expr::CronExpr;

/// Instants searched: 1970 to 4000 (time zone rules and croner's year
/// limit end around there; earlier dates have offsets of over 15 hours).
pub const EARLIEST_MS: i64 = 0;
pub const LATEST_MS: i64 = 64_060_588_800_000;

/// Longest stretch assumed to hold at most one change of offset.
const ONE_CHANGE_AT_MOST_MS: i64 = 20 * 86_400_000;

/// The earliest instant (ms since the epoch) after `after_ms` at which
/// `expr` fires in `zone`; `None` outside 1970–4000.
pub fn next_after(expr: &CronExpr, zone: Tz, after_ms: i64) -> Option<i64> {
    if !(EARLIEST_MS..LATEST_MS).contains(&after_ms) {
        return None;
    }
    let found = if expr.hour_rhythm {
        rhythm_next(expr, zone, after_ms)
    } else {
        slot_next(expr, zone, after_ms)
    }?;
    (found < LATEST_MS).then_some(found)
}

/// Slot mode: the first slot whose earliest instant is after `after_ms`.
/// Slots' earliest instants grow with their wall-clock time, so the search
/// walks forward from the wall-clock time of `after_ms`; only a repeated
/// span (after a fall-back, `after_ms` in its second pass) is jumped over
/// whole, its slots having fired in the first.
fn slot_next(expr: &CronExpr, zone: Tz, after_ms: i64) -> Option<i64> {
    let mut cursor = wall(zone, after_ms)?;
    for _ in 0..4 {
        let slot = next_slot(expr, cursor)?;
        match zone.from_local_datetime(&slot) {
            LocalResult::Single(at) if at.timestamp_millis() > after_ms => {
                return Some(at.timestamp_millis());
            }
            LocalResult::None => {
                let end = gap_end(slot, zone)?;
                if end > after_ms {
                    return Some(end);
                }
                cursor = slot;
            }
            LocalResult::Ambiguous(first, second) => {
                let (a, b) = ordered(first.timestamp_millis(), second.timestamp_millis());
                if a > after_ms {
                    return Some(a);
                }
                // Past the span's end on the old offset's clock.
                let change = change_between(zone, a, b)?;
                cursor = wall_with(change, offset_seconds(zone, a)?)? - TimeDelta::seconds(1);
            }
            LocalResult::Single(_) => cursor = slot,
        }
    }
    None
}

/// Rhythm mode: real time in stretches of one UTC offset; in each, the
/// matching instants are the matching wall-clock times minus the offset.
fn rhythm_next(expr: &CronExpr, zone: Tz, after_ms: i64) -> Option<i64> {
    let mut from = after_ms;
    // Searching from `from` itself (a change of offset) or strictly after.
    let mut inclusive = false;
    // Each round ends at a change of offset, a few a year at most.
    for _ in 0..20_000 {
        let offset = offset_seconds(zone, from)?;
        let start = wall_with(from, offset)?;
        let start = if inclusive {
            start - TimeDelta::seconds(1)
        } else {
            start
        };
        let slot = next_slot(expr, start)?;
        let candidate = (slot.and_utc() - TimeDelta::seconds(offset)).timestamp_millis();
        match first_change(zone, from, candidate, offset)? {
            None => return Some(candidate),
            Some(change) => {
                from = change;
                inclusive = true;
            }
        }
        if from >= LATEST_MS {
            return None;
        }
    }
    None
}

/// The first matching wall-clock time strictly after `after` (whole
/// seconds: croner keeps a fraction it is given).
fn next_slot(expr: &CronExpr, after: NaiveDateTime) -> Option<NaiveDateTime> {
    let after = after.with_nanosecond(0)?;
    expr.cron
        .find_next_occurrence(&after.and_utc(), false)
        .ok()
        .map(|at| at.naive_utc())
}

/// The first instant in `(from, to]` whose offset is not `offset`.
fn first_change(zone: Tz, from: i64, to: i64, offset: i64) -> Option<Option<i64>> {
    let mut low = from;
    while low < to {
        let high = (low.saturating_add(ONE_CHANGE_AT_MOST_MS)).min(to);
        if offset_seconds(zone, high)? != offset {
            return change_between(zone, low, high).map(Some);
        }
        low = high;
    }
    Some(None)
}

/// The first instant in `(low, high]` whose offset differs from `low`'s
/// (`high`'s does), to the second.
fn change_between(zone: Tz, low: i64, high: i64) -> Option<i64> {
    let before = offset_seconds(zone, low)?;
    let (mut low, mut high) = (low.div_euclid(1000), high.div_euclid(1000) + 1);
    while low + 1 < high {
        let middle = low + (high - low) / 2;
        if offset_seconds(zone, middle * 1000)? == before {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(high * 1000)
}

fn ordered(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

fn wall(zone: Tz, at_ms: i64) -> Option<NaiveDateTime> {
    Some(
        DateTime::<Utc>::from_timestamp_millis(at_ms)?
            .with_timezone(&zone)
            .naive_local(),
    )
}

/// The wall-clock time of `at_ms` on a clock `offset` seconds from UTC.
fn wall_with(at_ms: i64, offset: i64) -> Option<NaiveDateTime> {
    Some((DateTime::<Utc>::from_timestamp_millis(at_ms)? + TimeDelta::seconds(offset)).naive_utc())
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

fn offset_seconds(zone: Tz, at_ms: i64) -> Option<i64> {
    let at = DateTime::<Utc>::from_timestamp_millis(at_ms)?;
    Some(i64::from(
        zone.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}
