//! The group tree's rules: full paths like `platform/backend/api` (slugs
//! joined by `/`), and which moves keep it a tree.

use std::fmt;

use super::slug::{Slug, SlugError};

/// The longest full path, in bytes: the unique index on it must fit MySQL's
/// key-length limit.
pub const MAX_FULL_PATH_LEN: usize = 512;

/// What a node of the tree is: groups hold groups and projects; projects
/// hold pipelines, workflows and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Group,
    Project,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Group => "group",
            NodeKind::Project => "project",
        }
    }

    pub fn parse(raw: &str) -> Option<NodeKind> {
        match raw {
            "group" => Some(NodeKind::Group),
            "project" => Some(NodeKind::Project),
            _ => None,
        }
    }
}

/// A node's place in the tree: its ancestors' slugs, then its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FullPath(Vec<Slug>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path is longer than {MAX_FULL_PATH_LEN} characters")]
    TooLong,
    #[error("path segment {index} ({segment:?}): {reason}")]
    Segment {
        index: usize,
        segment: String,
        reason: SlugError,
    },
}

impl FullPath {
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        let trimmed = raw.trim_matches('/');
        if trimmed.is_empty() {
            return Err(PathError::Empty);
        }
        trimmed
            .split('/')
            .enumerate()
            .map(|(index, segment)| {
                Slug::parse(segment).map_err(|reason| PathError::Segment {
                    index,
                    segment: segment.to_owned(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(FullPath)
            .and_then(FullPath::checked)
    }

    /// A top-level node's path.
    pub fn root(slug: Slug) -> FullPath {
        FullPath(vec![slug])
    }

    /// The path of a child named `slug` under this one.
    pub fn child(&self, slug: Slug) -> Result<FullPath, PathError> {
        let mut segments = self.0.clone();
        segments.push(slug);
        FullPath(segments).checked()
    }

    fn checked(self) -> Result<FullPath, PathError> {
        if self.to_string().len() > MAX_FULL_PATH_LEN {
            Err(PathError::TooLong)
        } else {
            Ok(self)
        }
    }

    /// This path and every ancestor's, root first: `a`, `a/b`, `a/b/c`. Roles
    /// granted on any of them apply here.
    pub fn lineage(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.0.len());
        let mut current = String::new();
        for slug in &self.0 {
            if !current.is_empty() {
                current.push('/');
            }
            current.push_str(slug.as_str());
            out.push(current.clone());
        }
        out
    }

    pub fn segments(&self) -> &[Slug] {
        &self.0
    }

    pub fn depth(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for FullPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, slug) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(slug.as_str())?;
        }
        Ok(())
    }
}

/// Where a descendant's path goes when the subtree at `old_root` moves to
/// `new_root`; `None` when `path` is not in that subtree.
pub fn rebase(path: &str, old_root: &str, new_root: &str) -> Option<String> {
    if path == old_root {
        return Some(new_root.to_owned());
    }
    let rest = path.strip_prefix(old_root)?.strip_prefix('/')?;
    Some(format!("{new_root}/{rest}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("a group cannot be moved into itself")]
    IntoItself,
    #[error("a group cannot be moved under one of its own subgroups")]
    IntoOwnDescendant,
}

/// Checks moving group `moving` under `new_parent`, given the new parent's
/// ancestry (its own id, then its parent's, up to the root).
pub fn check_group_move<Id: PartialEq>(
    moving: &Id,
    new_parent_ancestry: &[Id],
) -> Result<(), MoveError> {
    match new_parent_ancestry.iter().position(|id| id == moving) {
        Some(0) => Err(MoveError::IntoItself),
        Some(_) => Err(MoveError::IntoOwnDescendant),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print() {
        let path = FullPath::parse("platform/backend/api").unwrap();
        assert_eq!(path.depth(), 3);
        assert_eq!(path.to_string(), "platform/backend/api");
        assert_eq!(
            FullPath::parse("/platform/").unwrap().to_string(),
            "platform"
        );
        let child = path.child(Slug::parse("v2").unwrap()).unwrap();
        assert_eq!(child.to_string(), "platform/backend/api/v2");
        assert_eq!(
            child.lineage(),
            [
                "platform",
                "platform/backend",
                "platform/backend/api",
                "platform/backend/api/v2"
            ]
        );
    }

    #[test]
    fn paths_have_a_length_limit() {
        let slug = "a".repeat(64);
        let mut path = FullPath::root(Slug::parse(&slug).unwrap());
        for _ in 0..6 {
            path = path.child(Slug::parse(&slug).unwrap()).unwrap();
        }
        assert_eq!(path.to_string().len(), 7 * 64 + 6);
        assert_eq!(
            path.child(Slug::parse(&slug).unwrap()),
            Err(PathError::TooLong)
        );
        assert_eq!(
            FullPath::parse(&vec![slug; 9].join("/")),
            Err(PathError::TooLong)
        );
    }

    #[test]
    fn rebasing_moves_a_subtree_only() {
        assert_eq!(rebase("a/b", "a/b", "x/b").as_deref(), Some("x/b"));
        assert_eq!(rebase("a/b/c/d", "a/b", "x/b").as_deref(), Some("x/b/c/d"));
        assert_eq!(
            rebase("a/bc", "a/b", "x/b"),
            None,
            "a sibling sharing a prefix"
        );
        assert_eq!(rebase("a", "a/b", "x/b"), None);
    }

    #[test]
    fn node_kinds_round_trip() {
        for kind in [NodeKind::Group, NodeKind::Project] {
            assert_eq!(NodeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NodeKind::parse("repo"), None);
    }

    #[test]
    fn bad_paths_name_the_segment() {
        assert_eq!(FullPath::parse("//"), Err(PathError::Empty));
        let err = FullPath::parse("platform/Backend/api").unwrap_err();
        assert!(matches!(err, PathError::Segment { index: 1, .. }), "{err}");
        assert!(err.to_string().contains("Backend"));
        assert!(FullPath::parse("a//b").is_err(), "empty segment");
    }

    #[test]
    fn moves_keep_the_tree_a_tree() {
        // root(1) > platform(2) > backend(3) > api(4)
        let ancestry_of_api = [4, 3, 2, 1];
        assert_eq!(
            check_group_move(&2, &ancestry_of_api),
            Err(MoveError::IntoOwnDescendant)
        );
        assert_eq!(
            check_group_move(&4, &ancestry_of_api),
            Err(MoveError::IntoItself)
        );
        assert_eq!(check_group_move(&5, &ancestry_of_api), Ok(()));
        assert_eq!(check_group_move(&3, &[1]), Ok(()), "up to the root");
    }
}
