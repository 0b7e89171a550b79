//! A password change or reset, as one act: the new hash stored, the
//! account's epoch bumped (every other session ends) and every API token of
//! the account revoked, in one transaction. Whoever had the old password may
//! have made tokens with it; a new password must shut them out too.

use kiln_core::accounts::check_password;
use sea_orm::ConnectionTrait;

use super::{passwords, tokens, users};
use crate::ServiceError;

/// What a password change did, for the caller to say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChanged {
    /// The account's new epoch, for the caller's own session.
    pub epoch: i64,
    /// How many live API tokens were revoked.
    pub tokens_revoked: u64,
}

/// Sets a new password without asking for the old one: the operator's
/// `kiln user reset-password`, or an admin's reset.
pub async fn reset_password(
    db: &(impl ConnectionTrait + crate::db::write_txn::Writer),
    id: i64,
    new_password: String,
) -> Result<PasswordChanged, ServiceError> {
    check_password(&new_password).map_err(|e| ServiceError::invalid("new_password", e))?;
    // Hashed before the transaction, which then holds its locks for two
    // short statements only.
    let hash = passwords::hash(new_password).await?;
    let txn = crate::db::write_txn::begin(db).await?;
    let epoch = users::store_password(&txn, id, hash).await?;
    let tokens_revoked = tokens::revoke_all(&txn, id).await?;
    txn.commit().await?;
    Ok(PasswordChanged {
        epoch,
        tokens_revoked,
    })
}

/// The account holder changes their password, proving they know the
/// current one.
pub async fn change_password(
    db: &(impl ConnectionTrait + crate::db::write_txn::Writer),
    id: i64,
    current: &str,
    new_password: String,
) -> Result<PasswordChanged, ServiceError> {
    users::verify_password(db, id, current).await?;
    reset_password(db, id, new_password).await
}

/// The sentence pages and the CLI show after a change.
pub fn describe(changed: PasswordChanged) -> String {
    match changed.tokens_revoked {
        0 => "Password changed; your other sessions have ended.".to_owned(),
        1 => "Password changed; your other sessions have ended and your API token was revoked."
            .to_owned(),
        n => format!(
            "Password changed; your other sessions have ended and your {n} API tokens were revoked."
        ),
    }
}
