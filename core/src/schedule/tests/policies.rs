//! Catch-up, the starting deadline, overlap, and the checks of a
//! schedule as given.

use super::super::*;
use super::{ms, text};

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
