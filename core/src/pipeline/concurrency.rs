//! `concurrency:` groups: the group a run of a pipeline belongs to (its
//! template with `{{ branch }}`, `{{ tag }}`, `{{ event }}` and
//! `{{ pipeline }}` filled in from the run's commit), and what a new run
//! does to the runs already in its group: cancel them, or wait until they
//! have ended, oldest first.

use super::commit::CommitInfo;
use super::definition::Concurrency;

/// What a group template may name.
pub const PLACEHOLDERS: [&str; 4] = ["branch", "tag", "event", "pipeline"];

/// Longest group kept (a branch name can be long).
pub const MAX_GROUP_BYTES: usize = 255;

/// The placeholders of `template` that are not in [`PLACEHOLDERS`], and
/// whether a `{{` is left unclosed.
pub fn unknown_placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a {{ is not closed".to_owned());
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            unknown.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    Ok(unknown)
}

impl Concurrency {
    /// The group of a run of `pipeline` on `commit`. A placeholder with no
    /// value (`{{ tag }}` on a branch push) becomes empty.
    pub fn group_of(&self, pipeline: &str, commit: &CommitInfo) -> String {
        let mut out = String::new();
        let mut rest = self.group.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            out.push_str(match after[..end].trim() {
                "branch" => commit.branch.as_deref().unwrap_or(""),
                "tag" => commit.tag.as_deref().unwrap_or(""),
                "event" => commit.event.as_str(),
                "pipeline" => pipeline,
                _ => "",
            });
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        crate::text::clip_bytes(&out, MAX_GROUP_BYTES).to_owned()
    }
}

/// What a new run does about the runs already running in its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupPolicy {
    /// Cancel these runs, then start.
    CancelThenStart(Vec<i64>),
    /// Wait: start only once no older run of the group is running.
    Wait,
    Start,
}

/// The policy for run `run` given the ids of the group's running runs.
pub fn on_start(concurrency: &Concurrency, run: i64, running: &[i64]) -> GroupPolicy {
    let older: Vec<i64> = running.iter().copied().filter(|&id| id < run).collect();
    if older.is_empty() {
        GroupPolicy::Start
    } else if concurrency.cancel_in_progress {
        GroupPolicy::CancelThenStart(older)
    } else {
        GroupPolicy::Wait
    }
}

/// Whether a re-run of `run` waits, given the ids of the group's running
/// runs: while any other run of the group runs or waits, whatever its age.
/// A re-run never cancels the others, even under `cancel_in_progress`: it
/// is someone's decision about one run, not a newer commit replacing an
/// older one.
pub fn rerun_waits(run: i64, running: &[i64]) -> bool {
    running.iter().any(|&id| id != run)
}

/// The group's run whose turn it is, given its running runs as (id, waiting
/// since): none while one of them is not waiting (it runs), else the one
/// waiting longest (the older run on a tie).
pub fn next_turn(running: &[(i64, Option<i64>)]) -> Option<i64> {
    if running.iter().any(|(_, since)| since.is_none()) {
        return None;
    }
    running
        .iter()
        .filter_map(|&(id, since)| since.map(|since| (since, id)))
        .min()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(branch: Option<&str>, tag: Option<&str>) -> CommitInfo {
        CommitInfo {
            sha: "a".repeat(40),
            reference: None,
            branch: branch.map(str::to_owned),
            tag: tag.map(str::to_owned),
            event: "push".to_owned(),
            pr_number: None,
            message: String::new(),
            author: String::new(),
            from_fork: false,
        }
    }

    fn group(template: &str, cancel: bool) -> Concurrency {
        Concurrency {
            group: template.to_owned(),
            cancel_in_progress: cancel,
        }
    }

    #[test]
    fn placeholders_are_filled_from_the_commit() {
        let c = group(
            "deploy-{{ branch }}-{{tag}}-{{ event }}/{{ pipeline }}",
            false,
        );
        assert_eq!(
            c.group_of("api", &commit(Some("main"), None)),
            "deploy-main--push/api"
        );
        assert_eq!(
            group("plain", false).group_of("api", &commit(None, None)),
            "plain"
        );
        let long = "x".repeat(400);
        assert_eq!(
            group("{{ branch }}", false)
                .group_of("p", &commit(Some(&long), None))
                .len(),
            MAX_GROUP_BYTES
        );
    }

    #[test]
    fn unknown_placeholders_are_named() {
        assert_eq!(
            unknown_placeholders("d-{{ branch }}").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            unknown_placeholders("{{ secrets.X }}-{{sha}}").unwrap(),
            ["secrets.X", "sha"]
        );
        assert!(unknown_placeholders("{{ branch").is_err());
    }

    #[test]
    fn a_new_run_cancels_or_waits_for_older_ones_only() {
        let cancel = group("g", true);
        let wait = group("g", false);
        assert_eq!(on_start(&cancel, 5, &[]), GroupPolicy::Start);
        assert_eq!(
            on_start(&cancel, 5, &[3, 4, 5, 9]),
            GroupPolicy::CancelThenStart(vec![3, 4])
        );
        assert_eq!(on_start(&wait, 5, &[3, 5]), GroupPolicy::Wait);
        assert_eq!(on_start(&wait, 3, &[3, 5]), GroupPolicy::Start);
    }

    #[test]
    fn a_rerun_waits_for_any_other_run_of_its_group() {
        assert!(!rerun_waits(3, &[]));
        assert!(!rerun_waits(3, &[3]));
        // A newer run holds back the re-run of an older one.
        assert!(rerun_waits(3, &[3, 9]));
        assert!(rerun_waits(9, &[3]));
    }

    #[test]
    fn the_turn_goes_to_the_run_waiting_longest_once_none_runs() {
        assert_eq!(next_turn(&[]), None);
        // One runs: nobody's turn.
        assert_eq!(next_turn(&[(4, None), (5, Some(10))]), None);
        // A re-run of run 2 that began waiting after run 7 goes after it.
        assert_eq!(next_turn(&[(2, Some(30)), (7, Some(20))]), Some(7));
        assert_eq!(next_turn(&[(8, Some(20)), (7, Some(20))]), Some(7));
    }
}
