//! Reading a payload's JSON: typed lookups by path, and the ref update
//! (push, tag, deletion) that every provider describes with `ref`,
//! `before` and `after`.

use serde_json::Value;

use super::event::{Commit, HookEvent, Push};
use super::refs::{RefName, commit_id, is_zero};
use crate::text::clip_bytes;

/// The body as JSON, or the error a 400 carries.
pub fn json(body: &[u8]) -> Result<Value, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err("the body is not a JSON object".to_owned())
    }
}

pub fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
}

pub fn number(value: &Value, path: &[&str]) -> Option<u64> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_u64)
}

/// A required string field; its absence makes the body malformed.
pub fn required<'v>(value: &'v Value, path: &[&str]) -> Result<&'v str, String> {
    text(value, path).ok_or_else(|| format!("the payload has no {}", path.join(".")))
}

/// A required commit id.
pub fn sha(value: &Value, path: &[&str]) -> Result<String, String> {
    let raw = required(value, path)?;
    commit_id(raw).ok_or_else(|| format!("{} is not a commit id", path.join(".")))
}

/// Commit text cut to a size a page shows (a payload may carry megabytes).
pub fn commit(message: Option<&str>, author: Option<&str>) -> Commit {
    Commit {
        message: clip(message.unwrap_or_default(), 4096),
        author: clip(author.unwrap_or_default(), 256),
    }
}

fn clip(text: &str, max: usize) -> String {
    clip_bytes(text, max).to_owned()
}

/// `ref`/`before`/`after` as a push to a branch, a tag push, or a deletion.
pub fn ref_update(
    full_ref: &str,
    before: &str,
    after: &str,
    head: Commit,
) -> Result<HookEvent, String> {
    let Some(name) = RefName::parse(full_ref) else {
        return Ok(HookEvent::Ignored(format!(
            "ref {:?} is not a branch or tag name Kiln accepts",
            clip(full_ref, 300)
        )));
    };
    if is_zero(after) {
        let name = match name {
            RefName::Branch(n) | RefName::Tag(n) => n,
        };
        return Ok(HookEvent::Deleted { name });
    }
    let after = commit_id(after).ok_or("after is not a commit id")?;
    let before = if before.is_empty() || is_zero(before) {
        None
    } else {
        Some(commit_id(before).ok_or("before is not a commit id")?)
    };
    Ok(match name {
        RefName::Branch(branch) => HookEvent::Push(Push {
            branch,
            before,
            after,
            head,
        }),
        RefName::Tag(tag) => HookEvent::Tag {
            tag,
            sha: after,
            head,
        },
    })
}
