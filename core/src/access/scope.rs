//! API token scopes: a token can never do more than its scope, whatever the
//! roles of the user who made it.

use std::str::FromStr;

use super::action::{AccessKind, Action};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may attempt `action` at all.
    pub fn permits(self, action: Action) -> bool {
        let needed = match action.kind() {
            AccessKind::Read => Scope::Read,
            AccessKind::Write => Scope::Write,
            AccessKind::Admin => Scope::Admin,
        };
        self >= needed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: use read, write or admin")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_tokens_only_read() {
        for action in Action::ALL {
            assert_eq!(
                Scope::Read.permits(action),
                action == Action::View,
                "{action:?}"
            );
            assert!(Scope::Admin.permits(action), "{action:?}");
        }
        assert!(Scope::Write.permits(Action::Run));
        assert!(Scope::Write.permits(Action::EditDefinitions));
        assert!(!Scope::Write.permits(Action::ManageSecrets));
        assert!(!Scope::Write.permits(Action::Delete));
    }

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("root".parse::<Scope>().is_err());
    }
}
