//! Webhooks from git hosts, as plain functions: the signature check of each
//! provider (constant time), and each provider's payload read into one
//! [`HookEvent`] (push, tag, deletion, pull request, ping, or ignored with
//! the reason). Nothing from a payload is trusted beyond its shape: commit
//! ids must be hex, ref names must be names git accepts, and Kiln fetches
//! only from the project's configured URL, never from one in a payload.

pub mod event;
pub mod gitea;
pub mod github;
pub mod gitlab;
mod payload;
pub mod refs;
pub mod signature;
pub mod status;

pub use event::{Commit, HookEvent, PullRequest, Push};
pub use signature::{SignatureError, verify};

use std::fmt;
use std::str::FromStr;

/// The git host that sends a project's webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Gitea and Forgejo.
    Gitea,
    Github,
    Gitlab,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Gitea, Provider::Github, Provider::Gitlab];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Gitea => "gitea",
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }

    /// The header carrying the delivery's id (GitLab: `Idempotency-Key`,
    /// else `X-Gitlab-Event-UUID`).
    pub fn delivery_id(self, header: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let id = match self {
            Provider::Gitea => header("x-gitea-delivery").or_else(|| header("x-forgejo-delivery")),
            Provider::Github => header("x-github-delivery"),
            Provider::Gitlab => header("idempotency-key").or_else(|| header("x-gitlab-event-uuid")),
        }?;
        let id = id.trim();
        let usable = (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        usable.then(|| id.to_owned())
    }

    /// Reads a delivery's body given its event header; `Err` when the body
    /// is not the JSON the event promises.
    pub fn read(
        self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<HookEvent, String> {
        match self {
            Provider::Gitea => {
                let event = header("x-gitea-event")
                    .or_else(|| header("x-forgejo-event"))
                    .or_else(|| header("x-github-event"))
                    .unwrap_or_default();
                gitea::read(&event, body)
            }
            Provider::Github => github::read(&header("x-github-event").unwrap_or_default(), body),
            Provider::Gitlab => gitlab::read(&header("x-gitlab-event").unwrap_or_default(), body),
        }
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| format!("unknown provider {raw:?}; expected gitea, github or gitlab"))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
