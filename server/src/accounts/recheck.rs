//! Whether a caller who authenticated a while ago still holds what they
//! held then, for answers that outlive their request (a live stream): the
//! account still exists with the same admin flag and the same
//! authentication epoch (a password change or sign-out everywhere moves
//! it), and the API token, if one was used, is neither revoked nor expired.

use sea_orm::{ConnectionTrait, EntityTrait};

use super::{Principal, now, users};
use crate::ServiceError;
use crate::db::entities::api_token;

/// What is checked again later: read when the stream opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    is_admin: bool,
    auth_epoch: i64,
}

/// What `principal` holds now; `None` for an anonymous caller or a user
/// who no longer exists.
pub async fn held(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<Option<Held>, ServiceError> {
    let Some(user) = principal.user() else {
        return Ok(None);
    };
    let Some(row) = users::get(db, user.id).await? else {
        return Ok(None);
    };
    if let Some(token) = &user.token {
        let Some(model) = api_token::Entity::find_by_id(token.id).one(db).await? else {
            return Ok(None);
        };
        let now = now();
        if model.revoked_at.is_some() || model.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
    }
    Ok(Some(Held {
        is_admin: row.is_admin,
        auth_epoch: row.auth_epoch,
    }))
}

/// Whether `principal` still holds `then` (read by [`held`] earlier).
pub async fn still_holds(
    db: &impl ConnectionTrait,
    principal: &Principal,
    then: Held,
) -> Result<bool, ServiceError> {
    Ok(held(db, principal).await? == Some(then))
}
