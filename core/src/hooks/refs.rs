//! Commit ids and ref names from payloads, checked before they go near git:
//! a commit id is 40 (SHA-1) or 64 (SHA-256) hex digits; a name follows
//! git's check-ref-format rules and may not start with `-`, so neither can
//! be read as an option or a range.

/// A commit id of all zeros: "no commit" (a new or deleted ref's side).
pub fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// A full commit id, lower-cased.
pub fn commit_id(raw: &str) -> Option<String> {
    let ok = matches!(raw.len(), 40 | 64) && raw.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| raw.to_ascii_lowercase())
}

/// Whether `name` (a branch or tag, without `refs/heads/`) is one git
/// accepts and that cannot be mistaken for an option or a revision range.
pub fn is_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name != "@"
        && !name.split('/').any(|part| part.starts_with('.'))
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
}

/// What a full ref names: `refs/heads/x` a branch, `refs/tags/x` a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefName {
    Branch(String),
    Tag(String),
}

impl RefName {
    /// A full ref from a payload; `None` for other refs or invalid names.
    pub fn parse(full: &str) -> Option<RefName> {
        if let Some(branch) = full.strip_prefix("refs/heads/") {
            return is_ref_name(branch).then(|| RefName::Branch(branch.to_owned()));
        }
        if let Some(tag) = full.strip_prefix("refs/tags/") {
            return is_ref_name(tag).then(|| RefName::Tag(tag.to_owned()));
        }
        None
    }
}
