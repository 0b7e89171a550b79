//! Who may create an account: the instance's registration mode, and the rule
//! that the very first account can be made by signing up (it becomes the
//! admin). Whether an account is the first is decided where it is stored, in
//! one step with storing it, so two sign-ups can never both be first.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone may register.
    Open,
    /// Only instance admins create accounts (the default: after the first
    /// account, nobody owns a piece of the instance by finding it).
    #[default]
    Invite,
    /// Nobody registers; the operator uses `kiln user create`.
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationMode::Open => "open",
            RegistrationMode::Invite => "invite",
            RegistrationMode::Closed => "closed",
        }
    }
}

impl fmt::Display for RegistrationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RegistrationMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(RegistrationMode::Open),
            "invite" => Ok(RegistrationMode::Invite),
            "closed" => Ok(RegistrationMode::Closed),
            other => Err(format!(
                "unknown registration mode {other:?}: use open, invite or closed"
            )),
        }
    }
}

/// What a sign-up through the web may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUp {
    /// Make an account now.
    Allowed,
    /// Make the account only if it is the instance's first (the one that
    /// becomes admin); otherwise refuse.
    FirstOnly,
    /// Refuse; the message says why.
    Refused(&'static str),
}

/// Whether a sign-up through the web may go ahead. `by_admin` is an instance
/// admin creating the account for someone. On an empty instance the first
/// account may sign up (and becomes the admin), except when registration is
/// closed: then even the first account comes from the operator's CLI, so
/// nobody who finds a fresh server first can claim it.
pub fn sign_up(mode: RegistrationMode, by_admin: bool) -> SignUp {
    match mode {
        RegistrationMode::Open => SignUp::Allowed,
        RegistrationMode::Invite if by_admin => SignUp::Allowed,
        RegistrationMode::Invite => SignUp::FirstOnly,
        RegistrationMode::Closed => SignUp::Refused(CLOSED),
    }
}

/// Why a sign-up that was not the first account is refused.
pub const BY_INVITATION: &str = "registration is by invitation: ask an instance admin";
pub const CLOSED: &str =
    "registration is closed: the operator creates accounts with kiln user create";

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationMode::*;

    #[test]
    fn the_first_account_can_be_made_unless_closed() {
        assert_eq!(sign_up(Open, false), SignUp::Allowed);
        assert_eq!(sign_up(Invite, false), SignUp::FirstOnly);
        assert_eq!(
            sign_up(Closed, false),
            SignUp::Refused(CLOSED),
            "closed: only the CLI"
        );
    }

    #[test]
    fn admins_make_accounts_unless_closed() {
        assert_eq!(sign_up(Invite, true), SignUp::Allowed);
        assert_eq!(sign_up(Open, true), SignUp::Allowed);
        assert_eq!(sign_up(Closed, true), SignUp::Refused(CLOSED));
    }

    #[test]
    fn the_default_is_by_invitation() {
        assert_eq!(RegistrationMode::default(), Invite);
    }

    #[test]
    fn modes_parse() {
        for mode in [Open, Invite, Closed] {
            assert_eq!(mode.as_str().parse::<RegistrationMode>(), Ok(mode));
        }
        assert!("public".parse::<RegistrationMode>().is_err());
    }
}
