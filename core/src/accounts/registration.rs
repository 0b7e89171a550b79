//! Who may create an account: the instance's registration mode, and the rule
//! that the very first account can always be made (it becomes the admin).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone may register.
    #[default]
    Open,
    /// Only instance admins create accounts.
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

/// Whether a sign-up through the web may go ahead. `by_admin` is an instance
/// admin creating the account for someone. On an empty instance the first
/// account may sign up (and becomes the admin), except when registration is
/// closed: then even the first account comes from the operator's CLI, so
/// nobody who finds a fresh server first can claim it.
pub fn may_register(mode: RegistrationMode, instance_is_empty: bool, by_admin: bool) -> bool {
    match mode {
        RegistrationMode::Open => true,
        RegistrationMode::Invite => by_admin || instance_is_empty,
        RegistrationMode::Closed => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationMode::*;

    #[test]
    fn the_first_account_can_be_made_unless_closed() {
        assert!(may_register(Open, true, false));
        assert!(may_register(Invite, true, false));
        assert!(!may_register(Closed, true, false), "closed: only the CLI");
    }

    #[test]
    fn later_accounts_follow_the_mode() {
        assert!(may_register(Open, false, false));
        assert!(!may_register(Invite, false, false));
        assert!(may_register(Invite, false, true));
        assert!(!may_register(Closed, false, false));
        assert!(!may_register(Closed, false, true));
    }

    #[test]
    fn modes_parse() {
        for mode in [Open, Invite, Closed] {
            assert_eq!(mode.as_str().parse::<RegistrationMode>(), Ok(mode));
        }
        assert!("public".parse::<RegistrationMode>().is_err());
    }
}
