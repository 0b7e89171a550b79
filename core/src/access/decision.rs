//! The one authorization decision every route goes through: a caller, their
//! effective role on the node, the node's visibility and an action in; allow,
//! deny (403) or hidden (404, so that existence does not leak) out.

use super::action::Action;
use super::role::Role;
use super::scope::Scope;

/// Who sees a node without a role on it; ordered from fewest viewers to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Visibility {
    /// Members only.
    Private,
    /// Any signed-in user may view.
    Internal,
}

impl Visibility {
    pub const ALL: [Visibility; 2] = [Visibility::Private, Visibility::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
        }
    }

    /// A child may not be seen by more people than its parent: an internal
    /// project in a private group would reveal the group's path.
    pub fn allowed_under(self, parent: Visibility) -> bool {
        self <= parent
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown visibility {0:?}: use private or internal")]
pub struct UnknownVisibility(pub String);

impl std::str::FromStr for Visibility {
    type Err = UnknownVisibility;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Visibility::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVisibility(s.to_owned()))
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    Anonymous,
    /// A browser session.
    User {
        instance_admin: bool,
    },
    /// An API token; never more than its scope allows.
    Token {
        instance_admin: bool,
        scope: Scope,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    /// The caller may see the node but not do this: 403.
    Deny,
    /// The caller may not know the node exists: 404.
    Hidden,
}

/// The permission table: what each role may do on a node it holds the role
/// on (directly or inherited).
pub fn role_allows(role: Role, action: Action) -> bool {
    let needed = match action {
        Action::View => Role::Viewer,
        Action::Run | Action::EditDefinitions => Role::Developer,
        Action::CreateChildren
        | Action::ManageSecrets
        | Action::ManageMembers
        | Action::EditSettings => Role::Maintainer,
        Action::ManageOwners | Action::Move | Action::Delete => Role::Owner,
    };
    role >= needed
}

/// Decides `action` for `caller`, whose effective role on the node is `role`.
pub fn decide(
    caller: Caller,
    role: Option<Role>,
    visibility: Visibility,
    action: Action,
) -> Decision {
    let (instance_admin, scope) = match caller {
        Caller::Anonymous => return Decision::Hidden,
        Caller::User { instance_admin } => (instance_admin, None),
        Caller::Token {
            instance_admin,
            scope,
        } => (instance_admin, Some(scope)),
    };
    let can_see = instance_admin || role.is_some() || visibility == Visibility::Internal;
    if !can_see {
        return Decision::Hidden;
    }
    if scope.is_some_and(|scope| !scope.permits(action)) {
        return Decision::Deny;
    }
    let allowed = instance_admin
        || match role {
            Some(role) => role_allows(role, action),
            None => action == Action::View,
        };
    if allowed {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    /// The whole table, spelled out: a change to `role_allows` must change
    /// this too.
    const EXPECTED: [(Action, [bool; 4]); 10] = [
        //                 viewer developer maintainer owner
        (View, [true, true, true, true]),
        (Run, [false, true, true, true]),
        (EditDefinitions, [false, true, true, true]),
        (CreateChildren, [false, false, true, true]),
        (ManageSecrets, [false, false, true, true]),
        (ManageMembers, [false, false, true, true]),
        (EditSettings, [false, false, true, true]),
        (ManageOwners, [false, false, false, true]),
        (Move, [false, false, false, true]),
        (Delete, [false, false, false, true]),
    ];

    #[test]
    fn the_permission_table_is_exactly_as_documented() {
        assert_eq!(EXPECTED.len(), Action::ALL.len());
        for (action, row) in EXPECTED {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(role_allows(role, action), expected, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn more_power_never_allows_less() {
        for action in Action::ALL {
            for pair in Role::ALL.windows(2) {
                assert!(!role_allows(pair[0], action) || role_allows(pair[1], action));
            }
        }
    }

    fn callers() -> Vec<Caller> {
        let mut all = vec![Caller::Anonymous];
        for instance_admin in [false, true] {
            all.push(Caller::User { instance_admin });
            for scope in Scope::ALL {
                all.push(Caller::Token {
                    instance_admin,
                    scope,
                });
            }
        }
        all
    }

    #[test]
    fn every_combination_follows_the_rules() {
        let roles = [
            None,
            Some(Role::Viewer),
            Some(Role::Developer),
            Some(Role::Maintainer),
            Some(Role::Owner),
        ];
        for caller in callers() {
            for role in roles {
                for visibility in [Visibility::Private, Visibility::Internal] {
                    for action in Action::ALL {
                        let got = decide(caller, role, visibility, action);
                        let expected = match caller {
                            Caller::Anonymous => Decision::Hidden,
                            Caller::User { instance_admin }
                            | Caller::Token { instance_admin, .. } => {
                                let sees = instance_admin
                                    || role.is_some()
                                    || visibility == Visibility::Internal;
                                let scope_ok = match caller {
                                    Caller::Token { scope, .. } => scope.permits(action),
                                    _ => true,
                                };
                                let role_ok = instance_admin
                                    || role.map_or(action == View, |r| role_allows(r, action));
                                if !sees {
                                    Decision::Hidden
                                } else if scope_ok && role_ok {
                                    Decision::Allow
                                } else {
                                    Decision::Deny
                                }
                            }
                        };
                        assert_eq!(
                            got, expected,
                            "{caller:?} {role:?} {visibility:?} {action:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn private_nodes_are_hidden_from_non_members() {
        let user = Caller::User {
            instance_admin: false,
        };
        assert_eq!(
            decide(user, None, Visibility::Private, View),
            Decision::Hidden
        );
        assert_eq!(
            decide(user, None, Visibility::Private, Delete),
            Decision::Hidden
        );
        assert_eq!(
            decide(user, None, Visibility::Internal, View),
            Decision::Allow
        );
        assert_eq!(
            decide(user, None, Visibility::Internal, Run),
            Decision::Deny
        );
    }

    #[test]
    fn tokens_never_exceed_their_scope() {
        let read_token = Caller::Token {
            instance_admin: true,
            scope: Scope::Read,
        };
        assert_eq!(
            decide(read_token, Some(Role::Owner), Visibility::Private, View),
            Decision::Allow
        );
        assert_eq!(
            decide(read_token, Some(Role::Owner), Visibility::Private, Run),
            Decision::Deny
        );
        let write_token = Caller::Token {
            instance_admin: false,
            scope: Scope::Write,
        };
        assert_eq!(
            decide(write_token, Some(Role::Owner), Visibility::Private, Run),
            Decision::Allow
        );
        assert_eq!(
            decide(write_token, Some(Role::Owner), Visibility::Private, Delete),
            Decision::Deny
        );
    }

    #[test]
    fn children_are_never_more_visible_than_parents() {
        use Visibility::*;
        assert!(Private.allowed_under(Private));
        assert!(Private.allowed_under(Internal));
        assert!(Internal.allowed_under(Internal));
        assert!(!Internal.allowed_under(Private));
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(v));
        }
        assert!("public".parse::<Visibility>().is_err());
    }

    #[test]
    fn instance_admins_see_and_do_everything() {
        let admin = Caller::User {
            instance_admin: true,
        };
        for action in Action::ALL {
            assert_eq!(
                decide(admin, None, Visibility::Private, action),
                Decision::Allow
            );
        }
    }
}
