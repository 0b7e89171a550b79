//! Known answers (both daylight-saving changes in five zones, month ends,
//! leap days), refused expressions and zones, hostile starting points.

use super::super::*;
use super::{ms, preview, text};

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
