//! The commit a pipeline run works on, as its run JSON and its steps'
//! environment carry it. Every field is data from a payload or from git:
//! shown escaped, given to steps as environment variables, never spliced
//! into a command.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub sha: String,
    /// `refs/heads/…` or `refs/tags/…`.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    /// push, pull_request, tag, manual or schedule.
    pub event: String,
    pub pr_number: Option<u64>,
    pub message: String,
    pub author: String,
    /// A pull request from another repository (a fork): its code runs
    /// without the project's secrets until a maintainer approves the run.
    #[serde(default)]
    pub from_fork: bool,
}

/// Why a run of a pull request from a fork gets no secrets yet.
pub const FORK_WITHHELD: &str =
    "this run is a pull request from a fork; a maintainer approves it on the run page";

impl CommitInfo {
    /// Why a run on this commit gets none of the project's secrets, or
    /// `None` when it gets them: a pull request from a fork gets them once
    /// a maintainer has approved its run, and never before.
    pub fn secrets_withheld(&self, approved: bool) -> Option<&'static str> {
        (self.from_fork && !approved).then_some(FORK_WITHHELD)
    }

    /// The variables a step of a run on this commit gets.
    pub fn step_env(&self, repo_url: &str) -> Vec<(String, String)> {
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("CI".to_owned(), "true".to_owned()),
            ("KILN_COMMIT_SHA".to_owned(), self.sha.clone()),
            ("KILN_BRANCH".to_owned(), or_empty(&self.branch)),
            ("KILN_TAG".to_owned(), or_empty(&self.tag)),
            ("KILN_EVENT".to_owned(), self.event.clone()),
            (
                "KILN_PR_NUMBER".to_owned(),
                self.pr_number.map(|n| n.to_string()).unwrap_or_default(),
            ),
            ("KILN_REPO_URL".to_owned(), repo_url.to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unapproved_fork_is_refused_secrets() {
        let own = CommitInfo::default();
        let fork = CommitInfo {
            from_fork: true,
            ..CommitInfo::default()
        };
        assert_eq!(own.secrets_withheld(false), None);
        assert_eq!(fork.secrets_withheld(false), Some(FORK_WITHHELD));
        assert_eq!(fork.secrets_withheld(true), None);
        // Runs stored before the field existed are not forks.
        let old: CommitInfo =
            serde_json::from_str(r#"{"sha":"a","ref":null,"branch":null,"tag":null,"event":"push","pr_number":null,"message":"","author":""}"#).unwrap();
        assert!(!old.from_fork);
    }
}
