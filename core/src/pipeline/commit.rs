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
}

impl CommitInfo {
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
