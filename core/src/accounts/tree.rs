//! The group tree's rules: full paths like `platform/backend/api` (slugs
//! joined by `/`), and which moves keep it a tree.

use std::fmt;

use super::slug::{Slug, SlugError};

/// A node's place in the tree: its ancestors' slugs, then its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FullPath(Vec<Slug>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
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
    }

    /// The path of a child named `slug` under this one.
    pub fn child(&self, slug: Slug) -> FullPath {
        let mut segments = self.0.clone();
        segments.push(slug);
        FullPath(segments)
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
        let child = path.child(Slug::parse("v2").unwrap());
        assert_eq!(child.to_string(), "platform/backend/api/v2");
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
