//! Gitea's (and Forgejo's) payloads, by `X-Gitea-Event`: `push` (branches,
//! new branches and tags), `delete`, `pull_request` (`opened`, `reopened`,
//! `synchronized`). `create` is covered by the push Gitea sends with it.

use serde_json::Value;

use super::event::{HookEvent, PullRequest};
use super::payload::{commit, json, number, ref_update, required, sha, text};
use super::refs::is_ref_name;

pub fn read(event: &str, body: &[u8]) -> Result<HookEvent, String> {
    let v = json(body)?;
    match event {
        "push" => push(&v),
        "delete" => Ok(HookEvent::Deleted {
            name: required(&v, &["ref"])?.to_owned(),
        }),
        "create" => Ok(HookEvent::Ignored(
            "a created branch or tag starts from its push event".to_owned(),
        )),
        "pull_request" => pull_request(&v),
        "ping" => Ok(HookEvent::Ping),
        "" => Err("no X-Gitea-Event header".to_owned()),
        other => Ok(HookEvent::Ignored(format!(
            "event {other:?} starts nothing"
        ))),
    }
}

/// Also GitHub's push: the same fields.
pub fn push(v: &Value) -> Result<HookEvent, String> {
    let head = commit(
        text(v, &["head_commit", "message"]),
        text(v, &["head_commit", "author", "username"])
            .filter(|s| !s.is_empty())
            .or_else(|| text(v, &["head_commit", "author", "name"]))
            .or_else(|| text(v, &["pusher", "login"]))
            .or_else(|| text(v, &["pusher", "name"])),
    );
    ref_update(
        required(v, &["ref"])?,
        text(v, &["before"]).unwrap_or_default(),
        required(v, &["after"])?,
        head,
    )
}

fn pull_request(v: &Value) -> Result<HookEvent, String> {
    let action = required(v, &["action"])?;
    if !matches!(action, "opened" | "reopened" | "synchronized") {
        return Ok(HookEvent::Ignored(format!(
            "pull request action {action:?} starts nothing"
        )));
    }
    pull_request_fields(v)
}

/// A pull request's fields, the same in Gitea's and GitHub's payloads.
pub fn pull_request_fields(v: &Value) -> Result<HookEvent, String> {
    let pr = v
        .get("pull_request")
        .ok_or("the payload has no pull_request")?;
    let pr_number = number(v, &["number"])
        .or_else(|| number(pr, &["number"]))
        .ok_or("the payload has no pull request number")?;
    let head_branch = required(pr, &["head", "ref"])?;
    let target_branch = required(pr, &["base", "ref"])?;
    if !is_ref_name(head_branch) || !is_ref_name(target_branch) {
        return Ok(HookEvent::Ignored(
            "the pull request's branch names are not names Kiln accepts".to_owned(),
        ));
    }
    let repo = |side: &str| {
        text(pr, &[side, "repo", "full_name"])
            .map(str::to_owned)
            .or_else(|| number(pr, &[side, "repo", "id"]).map(|n| n.to_string()))
    };
    // A deleted fork's head has no repository: still not this one.
    let from_fork = repo("head") != repo("base");
    let author = text(pr, &["user", "login"]).or_else(|| text(pr, &["user", "username"]));
    let title = text(pr, &["title"]);
    Ok(HookEvent::PullRequest(PullRequest {
        number: pr_number,
        title: commit(title, None).message,
        head_sha: sha(pr, &["head", "sha"])?,
        head_branch: head_branch.to_owned(),
        target_branch: target_branch.to_owned(),
        author: commit(None, author).author,
        head: commit(title, author),
        from_fork,
    }))
}
