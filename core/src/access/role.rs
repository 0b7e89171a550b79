//! The four roles, ordered from least to most powerful, and how grants along
//! a path combine: the effective role on a node is the highest one granted
//! on it or on any ancestor.

use std::fmt;
use std::str::FromStr;

/// A role granted to a user on a group or a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Developer,
    Maintainer,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Developer, Role::Maintainer, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Maintainer => "maintainer",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use viewer, developer, maintainer or owner")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The effective role from the grants on a node and all its ancestors (in
/// any order): the highest, or none when nothing was granted.
pub fn effective_role(grants: impl IntoIterator<Item = Role>) -> Option<Role> {
    grants.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Developer);
        assert!(Role::Developer < Role::Maintainer);
        assert!(Role::Maintainer < Role::Owner);
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!("Owner".parse::<Role>().is_err(), "names are lower case");
    }

    #[test]
    fn the_highest_grant_along_the_path_wins() {
        assert_eq!(effective_role([]), None);
        assert_eq!(effective_role([Role::Viewer]), Some(Role::Viewer));
        // Maintainer on a grandparent group, viewer on the project itself.
        assert_eq!(
            effective_role([Role::Viewer, Role::Maintainer]),
            Some(Role::Maintainer)
        );
        assert_eq!(
            effective_role([Role::Developer, Role::Owner, Role::Viewer]),
            Some(Role::Owner)
        );
    }
}
