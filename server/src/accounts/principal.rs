//! Who a request comes from, resolved once per request (session cookie,
//! bearer token, or nobody) and handed to handlers, the quota and the
//! authorization check.

use std::net::IpAddr;

use kiln_core::access::{Caller, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous { addr: Option<IpAddr> },
    User(UserPrincipal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// Set when the request came with an API token rather than a session.
    pub token: Option<TokenGrant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: i64,
    pub scope: Scope,
    pub quota_per_minute: Option<u32>,
}

impl Principal {
    /// The caller as the permission table sees it.
    pub fn caller(&self) -> Caller {
        match self {
            Principal::Anonymous { .. } => Caller::Anonymous,
            Principal::User(user) => match user.token {
                None => Caller::User {
                    instance_admin: user.is_admin,
                },
                Some(token) => Caller::Token {
                    instance_admin: user.is_admin,
                    scope: token.scope,
                },
            },
        }
    }

    pub fn user(&self) -> Option<&UserPrincipal> {
        match self {
            Principal::User(user) => Some(user),
            Principal::Anonymous { .. } => None,
        }
    }

    /// Whether this caller is an instance admin whose credential allows
    /// `needed` (a session allows everything; a token, its scope).
    pub fn is_admin_with(&self, needed: Scope) -> bool {
        self.user().is_some_and(|user| {
            user.is_admin && user.token.is_none_or(|token| token.scope >= needed)
        })
    }
}
