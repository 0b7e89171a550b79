//! Who may start a new top-level group (create one, or move a group to the
//! top): instance admins, and every signed-in user only when the operator
//! allows it (`allow_user_top_level_groups`). Whoever makes a top-level group
//! owns it, so letting anyone do it would let any stranger who registers
//! build a tree of their own and run code in it.

use super::action::Action;
use super::decision::Caller;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TopLevelRefusal {
    #[error("sign in or send an API token")]
    NotSignedIn,
    #[error("this API token's scope does not allow creating groups")]
    TokenScope,
    #[error(
        "only instance admins create top-level groups: ask one to create a group for you \
         (or to set allow_user_top_level_groups)"
    )]
    AdminsOnly,
}

/// Whether `caller` may make a group with no parent.
pub fn check_top_level_group(caller: Caller, allow_users: bool) -> Result<(), TopLevelRefusal> {
    let instance_admin = match caller {
        Caller::Anonymous => return Err(TopLevelRefusal::NotSignedIn),
        Caller::User { instance_admin } => instance_admin,
        Caller::Token {
            instance_admin,
            scope,
        } => {
            if !scope.permits(Action::CreateChildren) {
                return Err(TopLevelRefusal::TokenScope);
            }
            instance_admin
        }
    };
    if instance_admin || allow_users {
        Ok(())
    } else {
        Err(TopLevelRefusal::AdminsOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Scope;

    const USER: Caller = Caller::User {
        instance_admin: false,
    };
    const ADMIN: Caller = Caller::User {
        instance_admin: true,
    };

    fn token(instance_admin: bool, scope: Scope) -> Caller {
        Caller::Token {
            instance_admin,
            scope,
        }
    }

    #[test]
    fn admins_only_by_default() {
        assert_eq!(check_top_level_group(ADMIN, false), Ok(()));
        assert_eq!(
            check_top_level_group(USER, false),
            Err(TopLevelRefusal::AdminsOnly)
        );
        assert_eq!(
            check_top_level_group(token(false, Scope::Admin), false),
            Err(TopLevelRefusal::AdminsOnly)
        );
        assert_eq!(
            check_top_level_group(token(true, Scope::Write), false),
            Ok(())
        );
    }

    #[test]
    fn the_setting_opens_it_to_every_user() {
        assert_eq!(check_top_level_group(USER, true), Ok(()));
        assert_eq!(
            check_top_level_group(token(false, Scope::Write), true),
            Ok(())
        );
    }

    #[test]
    fn never_anonymous_nor_a_read_token() {
        for allow in [false, true] {
            assert_eq!(
                check_top_level_group(Caller::Anonymous, allow),
                Err(TopLevelRefusal::NotSignedIn)
            );
            for admin in [false, true] {
                assert_eq!(
                    check_top_level_group(token(admin, Scope::Read), allow),
                    Err(TopLevelRefusal::TokenScope)
                );
            }
        }
    }
}
