//! GitHub's payloads, by `X-GitHub-Event`: `push` (branches, new branches
//! and tags), `pull_request` (`opened`, `reopened`, `synchronize`), `ping`,
//! `delete`; anything else is ignored with its name.

use super::event::HookEvent;
use super::gitea::{pull_request_fields, push};
use super::payload::{json, required};

pub fn read(event: &str, body: &[u8]) -> Result<HookEvent, String> {
    let v = json(body)?;
    match event {
        "push" => push(&v),
        "ping" => Ok(HookEvent::Ping),
        "delete" => Ok(HookEvent::Deleted {
            name: required(&v, &["ref"])?.to_owned(),
        }),
        "create" => Ok(HookEvent::Ignored(
            "a created branch or tag starts from its push event".to_owned(),
        )),
        "pull_request" => {
            let action = required(&v, &["action"])?;
            if matches!(action, "opened" | "reopened" | "synchronize") {
                pull_request_fields(&v)
            } else {
                Ok(HookEvent::Ignored(format!(
                    "pull request action {action:?} starts nothing"
                )))
            }
        }
        "" => Err("no X-GitHub-Event header".to_owned()),
        other => Ok(HookEvent::Ignored(format!(
            "event {other:?} starts nothing"
        ))),
    }
}
