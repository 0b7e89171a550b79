//! The daylight-saving rule checked against a minute-by-minute oracle at
//! every change of UTC offset of 2020–2035 in five zones.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::super::*;
use super::{ms, text};

/// Every change of UTC offset in `zone` during 2020–2035, to the second.
fn changes(zone: Tz) -> Vec<i64> {
    let offset = |at: i64| {
        use chrono::Offset;
        zone.offset_from_utc_datetime(&DateTime::<Utc>::from_timestamp(at, 0).unwrap().naive_utc())
            .fix()
            .local_minus_utc()
    };
    let start = ms("2020-01-01T00:00:00Z") / 1000;
    let end = ms("2036-01-01T00:00:00Z") / 1000;
    let mut found = Vec::new();
    let mut day = start;
    while day < end {
        if offset(day) != offset(day + 86_400) {
            let (mut low, mut high) = (day, day + 86_400);
            while low + 1 < high {
                let middle = (low + high) / 2;
                if offset(middle) == offset(day) {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            found.push(high);
        }
        day += 86_400;
    }
    found
}

fn wall(zone: Tz, at_seconds: i64) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(at_seconds, 0)
        .unwrap()
        .with_timezone(&zone)
        .naive_local()
}

/// What the rule says, found minute by minute without the code under test:
/// for a fixed hour field, each wall-clock slot once (its first real
/// minute, or the first minute after a skipped slot); otherwise every real
/// minute whose wall-clock time matches.
fn oracle(expr: &CronExpr, zone: Tz, from: i64, to: i64) -> Vec<i64> {
    let matches = |local: NaiveDateTime| expr.cron.is_time_matching(&local.and_utc()).unwrap();
    let minutes: Vec<i64> = (from / 60..=to / 60).map(|m| m * 60).collect();
    let mut fires = Vec::new();
    if expr.keeps_rhythm() {
        fires.extend(minutes.iter().filter(|&&m| matches(wall(zone, m))));
    } else {
        let first_local = wall(zone, from).min(wall(zone, to)) - chrono::TimeDelta::hours(3);
        let last_local = wall(zone, to).max(wall(zone, from));
        let mut slot = first_local;
        while slot <= last_local {
            if matches(slot) {
                // The first real minute at or past the slot on the wall.
                if let Some(&at) = minutes.iter().find(|&&m| wall(zone, m) >= slot) {
                    let in_window = minutes.first().is_some_and(|&f| wall(zone, f) < slot);
                    if in_window && !fires.contains(&at) {
                        fires.push(at);
                    }
                }
            }
            slot += chrono::TimeDelta::minutes(1);
        }
        fires.sort_unstable();
    }
    fires.into_iter().filter(|&m| m > from && m <= to).collect()
}

#[test]
fn every_change_of_2020_to_2035_keeps_the_rule() {
    let zones = [
        Tz::America__New_York,
        Tz::Europe__Berlin,
        Tz::Australia__Sydney,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kolkata,
    ];
    let expressions = [
        "30 2 * * *",
        "30 1,13 * * *",
        "30 2,14 * * *",
        "0,20,40 0-4 * * *",
        "15 2 * * *",
        "0 * * * *",
        "*/15 * * * *",
        "30 */2 * * *",
    ];
    let mut checked = 0;
    for zone in zones {
        let changes = changes(zone);
        if zone == Tz::Asia__Kolkata {
            assert!(changes.is_empty());
        } else {
            assert!(changes.len() >= 30, "{zone}: {} changes", changes.len());
        }
        for change in changes {
            let (from, to) = (change - 6 * 3600, change + 6 * 3600);
            for text in expressions {
                let expr = parse(text).unwrap();
                let mut fires = Vec::new();
                let mut at = from * 1000;
                while let Some(next) = next_after(&expr, zone, at).filter(|&n| n <= to * 1000) {
                    fires.push(next / 1000);
                    at = next;
                }
                assert_eq!(
                    fires,
                    oracle(&expr, zone, from, to),
                    "{text} in {zone} around {}",
                    text_of(change)
                );
                // Once per slot: no wall-clock time fires twice.
                if !expr.keeps_rhythm() {
                    let walls: std::collections::BTreeSet<_> =
                        fires.iter().map(|&f| wall(zone, f)).collect();
                    assert_eq!(walls.len(), fires.len(), "{text} in {zone}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 900, "{checked}");
}

fn text_of(seconds: i64) -> String {
    text(seconds * 1000)
}
