//! Known answers (both daylight-saving changes in five zones, month ends,
//! leap days), refused expressions and zones, the daylight-saving rule
//! checked against a minute-by-minute oracle at every change of 2020–2035,
//! and the catch-up and overlap policies.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::*;

fn ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

fn text(at: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn preview(expr: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    let expr = parse(expr).unwrap();
    let zone = parse_zone(zone).unwrap();
    upcoming(&expr, zone, ms(after), count)
        .into_iter()
        .map(text)
        .collect()
}

#[test]
fn known_answers() {
    let table: &[(&str, &str, &str, &[&str])] = &[
        // New York: 02:00 EST → 03:00 EDT on 8 March 2026; 02:00 EDT →
        // 01:00 EST on 1 November.
        (
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            &["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"],
        ),
        (
            "30 1 * * *",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            &["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
        ),
        (
            "30 1,13 * * *",
            "America/New_York",
            "2026-10-31T18:00:00Z",
            &[
                "2026-11-01T05:30:00Z",
                "2026-11-01T18:30:00Z",
                "2026-11-02T06:30:00Z",
            ],
        ),
        (
            "30 2,14 * * *",
            "America/New_York",
            "2026-03-07T20:00:00Z",
            &[
                "2026-03-08T07:00:00Z",
                "2026-03-08T18:30:00Z",
                "2026-03-09T06:30:00Z",
            ],
        ),
        (
            "0 * * * *",
            "America/New_York",
            "2026-11-01T04:30:00Z",
            &[
                "2026-11-01T05:00:00Z",
                "2026-11-01T06:00:00Z",
                "2026-11-01T07:00:00Z",
            ],
        ),
        (
            "*/30 * * * *",
            "America/New_York",
            "2026-03-08T06:10:00Z",
            &[
                "2026-03-08T06:30:00Z",
                "2026-03-08T07:00:00Z",
                "2026-03-08T07:30:00Z",
            ],
        ),
        (
            "0,30 2 * * *",
            "America/New_York",
            "2026-03-08T06:00:00Z",
            &["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"],
        ),
        // Berlin: 29 March and 25 October 2026.
        (
            "30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            &["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"],
        ),
        (
            "30 2 * * *",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            &["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
        ),
        // Sydney: 03:00 AEDT → 02:00 AEST on 5 April 2026; 02:00 AEST →
        // 03:00 AEDT on 4 October.
        (
            "30 2 * * *",
            "Australia/Sydney",
            "2026-04-04T00:00:00Z",
            &["2026-04-04T15:30:00Z", "2026-04-05T16:30:00Z"],
        ),
        (
            "30 2 * * *",
            "Australia/Sydney",
            "2026-10-03T00:00:00Z",
            &["2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"],
        ),
        // Lord Howe moves by 30 minutes.
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2026-04-04T00:00:00Z",
            &["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
        ),
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2026-10-03T00:00:00Z",
            &["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"],
        ),
        // Kolkata has no changes.
        (
            "0 9 * * *",
            "Asia/Kolkata",
            "2026-01-01T00:00:00Z",
            &["2026-01-01T03:30:00Z", "2026-01-02T03:30:00Z"],
        ),
        // Month ends, leap days, Vixie's either-day rule, seconds, macros.
        (
            "0 0 31 * *",
            "UTC",
            "2026-01-31T00:00:00Z",
            &[
                "2026-03-31T00:00:00Z",
                "2026-05-31T00:00:00Z",
                "2026-07-31T00:00:00Z",
            ],
        ),
        (
            "0 12 29 2 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"],
        ),
        (
            "0 0 13 * FRI",
            "UTC",
            "2026-02-01T00:00:00Z",
            &[
                "2026-02-06T00:00:00Z",
                "2026-02-13T00:00:00Z",
                "2026-02-20T00:00:00Z",
                "2026-02-27T00:00:00Z",
                "2026-03-06T00:00:00Z",
            ],
        ),
        (
            "*/20 * * * * *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &[
                "2026-01-01T00:00:20Z",
                "2026-01-01T00:00:40Z",
                "2026-01-01T00:01:00Z",
            ],
        ),
        (
            "@midnight",
            "Europe/Berlin",
            "2026-06-01T12:00:00Z",
            &["2026-06-01T22:00:00Z", "2026-06-02T22:00:00Z"],
        ),
        (
            "0 9 * JAN MON",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z"],
        ),
    ];
    for (expr, zone, after, want) in table {
        assert_eq!(
            preview(expr, zone, after, want.len()),
            want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            "{expr} in {zone} after {after}"
        );
    }
}

#[test]
fn refused_expressions_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("0 25 * * *", "hour: 25 is outside 0–23"),
        ("61 * * * *", "minute: 61 is outside 0–59"),
        ("0 0 32 * *", "day of month: 32 is outside 1–31"),
        ("0 0 * 13 *", "month: 13 is outside 1–12"),
        ("0 0 * * 8", "day of week: 8 is outside 0–7"),
        ("75 0 0 * * *", "second: 75 is outside 0–59"),
        ("", "the expression is empty"),
        ("* * * *", "expected 5 fields"),
        ("* * * * * * *", "expected 5 fields"),
        ("@reboot", "not a known macro"),
        ("0 0 30 2 *", "can never fire"),
        ("0 0 31 4,6 *", "can never fire"),
        ("x * * * *", "minute:"),
        ("* * * * MOX", "day of week:"),
    ];
    for (expr, want) in cases {
        let error = parse(expr).expect_err(expr).to_string();
        assert!(error.contains(want), "{expr}: {error} lacks {want}");
    }
    let long = "1,".repeat(200) + "1 * * * *";
    assert!(
        parse(&long)
            .unwrap_err()
            .to_string()
            .contains("longer than")
    );
    for hostile in [
        "\u{202e}0 * * * *",
        "0 * * * *\u{200b}",
        "０ * * * *",
        "$(id) * * * *",
    ] {
        assert!(parse(hostile).is_err(), "{hostile:?}");
    }
}

#[test]
fn zones_are_iana_names() {
    assert_eq!(parse_zone("").unwrap(), Tz::UTC);
    assert_eq!(parse_zone("Europe/Berlin").unwrap(), Tz::Europe__Berlin);
    for bad in ["Mars/Olympus", "CEST+1", "../etc/passwd", "Europe/Berlin\0"] {
        assert!(
            parse_zone(bad)
                .unwrap_err()
                .to_string()
                .contains("not a known IANA")
        );
    }
}

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

#[test]
fn catch_up_policies() {
    let every_minute = parse("* * * * *").unwrap();
    let now = ms("2026-01-01T00:10:30Z");
    let first = ms("2026-01-01T00:05:00Z");
    let verdicts = |catchup, deadline| {
        plan_pass(&every_minute, Tz::UTC, first, now, catchup, deadline)
            .instants
            .into_iter()
            .map(|(at, v)| (text(at)[11..16].to_owned(), v))
            .collect::<Vec<_>>()
    };
    use Verdict::{Fire, Missed};
    let names = ["00:05", "00:06", "00:07", "00:08", "00:09", "00:10"];
    let with = |v: [Verdict; 6]| {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .zip(v)
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(Catchup::All, None), with([Fire; 6]));
    assert_eq!(
        verdicts(Catchup::Last, None),
        with([Missed, Missed, Missed, Missed, Missed, Fire])
    );
    // 30 s late is on time: `none` still fires the current instant.
    assert_eq!(
        verdicts(Catchup::None, None),
        with([Missed, Missed, Missed, Missed, Missed, Fire])
    );
    // The deadline overrides: older than 2 minutes is missed.
    assert_eq!(
        verdicts(Catchup::All, Some(120_000)),
        with([Missed, Missed, Missed, Missed, Fire, Fire])
    );
    let pass = plan_pass(&every_minute, Tz::UTC, first, now, Catchup::All, None);
    assert_eq!(pass.next_at, Some(ms("2026-01-01T00:11:00Z")));
    // Down for an hour, `none`: the last instant is late, so missed too.
    let late = plan_pass(
        &parse("0 * * * *").unwrap(),
        Tz::UTC,
        ms("2026-01-01T00:00:00Z"),
        ms("2026-01-01T01:20:00Z"),
        Catchup::None,
        None,
    );
    assert!(late.instants.iter().all(|(_, v)| *v == Missed));
}

#[test]
fn a_long_outage_records_a_bounded_number_of_instants() {
    let every_second = parse("* * * * * *").unwrap();
    let first = ms("2026-01-01T00:00:00Z");
    let now = ms("2026-01-02T00:00:00Z");
    let last = plan_pass(&every_second, Tz::UTC, first, now, Catchup::Last, None);
    assert_eq!(last.instants.len(), policy::MAX_RECORDED_PER_PASS + 1);
    assert_eq!(last.instants.last(), Some(&(now, Verdict::Fire)));
    assert_eq!(last.next_at, Some(now + 1000));
    assert_eq!(last.unrecorded, 86_400 - 100);
    let all = plan_pass(&every_second, Tz::UTC, first, now, Catchup::All, None);
    assert_eq!(all.instants.len(), policy::MAX_RECORDED_PER_PASS);
    assert_eq!(all.next_at, Some(first + 100_000));
}

#[test]
fn overlap_policies() {
    assert_eq!(on_overlap(Overlap::Forbid, true), OnOverlap::Skip);
    assert_eq!(on_overlap(Overlap::Forbid, false), OnOverlap::Start);
    assert_eq!(
        on_overlap(Overlap::Replace, true),
        OnOverlap::ReplaceThenStart
    );
    assert_eq!(on_overlap(Overlap::Allow, true), OnOverlap::Start);
    assert_eq!(Overlap::parse("replace"), Ok(Overlap::Replace));
    assert!(
        Catchup::parse("sometimes")
            .unwrap_err()
            .contains("none, last, all")
    );
}

#[test]
fn specs_name_the_field_in_error() {
    let good = ScheduleInput {
        name: "nightly".into(),
        cron: "0 3 * * *".into(),
        workflow: Some("build".into()),
        ..Default::default()
    };
    let spec = check(&good).unwrap();
    assert_eq!(spec.zone, Tz::UTC);
    assert_eq!(spec.overlap, Overlap::Forbid);
    assert_eq!(spec.catchup, Catchup::Last);
    assert_eq!(spec.target, Target::Workflow("build".into()));
    let with = |edit: &dyn Fn(&mut ScheduleInput)| {
        let mut input = good.clone();
        edit(&mut input);
        check(&input).map(|_| ()).unwrap_err().field
    };
    assert_eq!(with(&|i| i.cron = "0 24 * * *".into()), "cron");
    assert_eq!(
        with(&|i| i.timezone = Some("Nowhere/Town".into())),
        "timezone"
    );
    assert_eq!(with(&|i| i.name = "a\u{202e}b".into()), "name");
    assert_eq!(with(&|i| i.workflow = None), "workflow");
    assert_eq!(with(&|i| i.pipeline = Some("ci".into())), "workflow");
    assert_eq!(with(&|i| i.branch = Some("main".into())), "branch");
    assert_eq!(
        with(&|i| i.concurrency = Some("queue".into())),
        "concurrency"
    );
    assert_eq!(with(&|i| i.catchup = Some("some".into())), "catchup");
    assert_eq!(
        with(&|i| i.starting_deadline = Some("soon".into())),
        "starting_deadline"
    );
    assert_eq!(
        with(&|i| i.starting_deadline = Some("400d".into())),
        "starting_deadline"
    );
    let pipeline = ScheduleInput {
        workflow: None,
        pipeline: Some("ci".into()),
        branch: Some("release/1.x".into()),
        starting_deadline: Some("10m".into()),
        ..good.clone()
    };
    let spec = check(&pipeline).unwrap();
    assert_eq!(spec.deadline_ms, Some(600_000));
    assert_eq!(
        spec.target,
        Target::Pipeline {
            name: "ci".into(),
            branch: Some("release/1.x".into())
        }
    );
    for bad in ["../x", "-x", "a b", "a..b"] {
        let input = ScheduleInput {
            branch: Some(bad.into()),
            ..pipeline.clone()
        };
        assert_eq!(check(&input).unwrap_err().field, "branch", "{bad}");
    }
}

#[test]
fn hostile_and_fractional_starting_points() {
    let every_second = parse("* * * * * *").unwrap();
    // Before 1970 (offsets of over a day in 1867 Alaska) and after 4000:
    // nothing, at once.
    let sitka = parse_zone("America/Sitka").unwrap();
    assert_eq!(
        next_after(&every_second, sitka, ms("1867-10-18T22:00:00Z")),
        None
    );
    assert_eq!(
        next_after(&every_second, Tz::UTC, ms("4100-01-01T00:00:00Z")),
        None
    );
    // Instants are whole seconds whatever fraction the start has.
    let after = ms("2026-05-01T10:00:00Z") + 500;
    assert_eq!(
        upcoming(&every_second, Tz::Europe__Berlin, after, 2),
        vec![after + 500, after + 1500]
    );
    // In the second pass of a repeated hour, a fixed-hour expression's
    // slots have fired in the first: the next is the next day's.
    let hour_one = parse("* * 1 * * *").unwrap();
    let ny = parse_zone("America/New_York").unwrap();
    assert_eq!(
        next_after(&hour_one, ny, ms("2026-11-01T06:10:00Z") + 500).map(text),
        Some("2026-11-02T06:00:00Z".to_owned())
    );
    // A rhythm expression in that pass goes on second by second.
    assert_eq!(
        next_after(&every_second, ny, ms("2026-11-01T06:10:00Z")).map(text),
        Some("2026-11-01T06:10:01Z".to_owned())
    );
}
