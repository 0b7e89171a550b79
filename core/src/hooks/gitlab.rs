//! GitLab's payloads, by `X-Gitlab-Event`: `Push Hook`, `Tag Push Hook`,
//! `Merge Request Hook` (`open`, `reopen`, and `update` when it brought new
//! commits, as GitLab's own pipelines do); anything else is ignored.

use serde_json::Value;

use super::event::{HookEvent, PullRequest};
use super::payload::{commit, json, number, ref_update, required, sha, text};
use super::refs::is_ref_name;

pub fn read(event: &str, body: &[u8]) -> Result<HookEvent, String> {
    let v = json(body)?;
    match event {
        "Push Hook" | "Tag Push Hook" => push(&v),
        "Merge Request Hook" => merge_request(&v),
        "" => Err("no X-Gitlab-Event header".to_owned()),
        other => Ok(HookEvent::Ignored(format!(
            "event {other:?} starts nothing"
        ))),
    }
}

fn push(v: &Value) -> Result<HookEvent, String> {
    let after = required(v, &["after"])?;
    // The pushed head among the (at most 20) commits listed.
    let head = v
        .get("commits")
        .and_then(Value::as_array)
        .and_then(|commits| {
            commits
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(after))
        });
    let message = head
        .and_then(|c| text(c, &["message"]))
        .or_else(|| text(v, &["message"]));
    let author = text(v, &["user_username"]).or_else(|| text(v, &["user_name"]));
    ref_update(
        required(v, &["ref"])?,
        text(v, &["before"]).unwrap_or_default(),
        after,
        commit(message, author),
    )
}

fn merge_request(v: &Value) -> Result<HookEvent, String> {
    let attrs = v
        .get("object_attributes")
        .ok_or("the payload has no object_attributes")?;
    let action = required(attrs, &["action"])?;
    match action {
        "open" | "reopen" => {}
        "update" if attrs.get("oldrev").is_some() => {}
        "update" => {
            return Ok(HookEvent::Ignored(
                "merge request updated without new commits".to_owned(),
            ));
        }
        other => {
            return Ok(HookEvent::Ignored(format!(
                "merge request action {other:?} starts nothing"
            )));
        }
    }
    let head_branch = required(attrs, &["source_branch"])?;
    let target_branch = required(attrs, &["target_branch"])?;
    if !is_ref_name(head_branch) || !is_ref_name(target_branch) {
        return Ok(HookEvent::Ignored(
            "the merge request's branch names are not names Kiln accepts".to_owned(),
        ));
    }
    let author = text(v, &["user", "username"]);
    let title = text(attrs, &["title"]);
    Ok(HookEvent::PullRequest(PullRequest {
        number: number(attrs, &["iid"]).ok_or("the payload has no object_attributes.iid")?,
        title: commit(title, None).message,
        head_sha: sha(attrs, &["last_commit", "id"])?,
        head_branch: head_branch.to_owned(),
        target_branch: target_branch.to_owned(),
        author: commit(None, author).author,
        head: commit(text(attrs, &["last_commit", "message"]), author),
        from_fork: number(attrs, &["source_project_id"]) != number(attrs, &["target_project_id"]),
    }))
}
