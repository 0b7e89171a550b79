//! Accounts: creating them (the first becomes the instance admin, decided in
//! the transaction that stores it), checking a login, storing a new
//! password, listing. A password change as a whole (tokens revoked too) is
//! in `credentials`.

use kiln_core::accounts::{RegistrationMode, SignUp, Username, check_password, sign_up};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use super::{Page, now, passwords};
use crate::ServiceError;
use crate::db::entities::{instance_owner, user};

/// An account as the rest of Kiln sees it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub auth_epoch: i64,
    pub created_at: i64,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        User {
            id: m.id,
            username: m.username,
            is_admin: m.is_admin,
            auth_epoch: m.auth_epoch,
            created_at: m.created_at,
        }
    }
}

pub struct NewUser {
    pub username: String,
    pub password: String,
    /// Make an instance admin (the CLI's `--admin`).
    pub admin: bool,
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, ServiceError> {
    Ok(user::Entity::find().count(db).await?)
}

/// Creates an account after checking its fields; the first account on the
/// instance is made admin whatever was asked (the operator's `kiln user
/// create`, or an admin making an account).
pub async fn create(
    db: &(impl ConnectionTrait + crate::db::write_txn::Writer),
    new: NewUser,
) -> Result<User, ServiceError> {
    let (username, hash) = checked(db, &new).await?;
    store(db, username, hash, new.admin, false).await
}

/// Sign-up: `create`, if the registration mode lets this caller (an
/// instance admin when `by_admin`) make an account now. When only the first
/// account may sign up, "first" is decided as the account is stored, so of
/// any number of concurrent sign-ups on an empty instance one gets in.
pub async fn register(
    db: &(impl ConnectionTrait + crate::db::write_txn::Writer),
    mode: RegistrationMode,
    by_admin: bool,
    new: NewUser,
) -> Result<User, ServiceError> {
    let first_only = match sign_up(mode, by_admin) {
        SignUp::Allowed => false,
        SignUp::FirstOnly => true,
        SignUp::Refused(why) => return Err(ServiceError::Forbidden(why.into())),
    };
    // Refused without the hashing work when the instance is plainly taken.
    if first_only && count(db).await? > 0 {
        return Err(by_invitation());
    }
    let (username, hash) = checked(db, &new).await?;
    store(db, username, hash, new.admin, first_only).await
}

fn by_invitation() -> ServiceError {
    ServiceError::Forbidden(kiln_core::accounts::registration::BY_INVITATION.into())
}

/// The username parsed and free, the password checked and hashed.
async fn checked(
    db: &impl ConnectionTrait,
    new: &NewUser,
) -> Result<(Username, String), ServiceError> {
    let username =
        Username::parse(&new.username).map_err(|e| ServiceError::invalid("username", e))?;
    check_password(&new.password).map_err(|e| ServiceError::invalid("password", e))?;
    if find_by_username(db, username.as_str()).await?.is_some() {
        return Err(taken());
    }
    let hash = passwords::hash(new.password.clone()).await?;
    Ok((username, hash))
}

/// Stores the account and, in the same transaction, tries to claim the
/// instance (the one row of `kiln_instance_owner`): whoever claims it is the
/// first account and becomes admin. With `first_only`, an account that does
/// not claim it is not stored at all.
async fn store(
    db: &impl crate::db::write_txn::Writer,
    username: Username,
    hash: String,
    admin: bool,
    first_only: bool,
) -> Result<User, ServiceError> {
    let txn = crate::db::write_txn::begin(db).await?;
    // The insert comes first: on SQLite the transaction then starts by
    // taking the write lock (waiting its turn), never by upgrading a read.
    let model = user::ActiveModel {
        username: Set(username.as_str().to_owned()),
        username_key: Set(username.key()),
        password_hash: Set(hash),
        is_admin: Set(admin),
        auth_epoch: Set(0),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| ServiceError::from_unique(e, "username", "username is already taken"))?;
    let owner = claim_instance(&*txn, model.id).await?;
    if first_only && !owner {
        txn.rollback().await?;
        return Err(by_invitation());
    }
    let model = if owner && !model.is_admin {
        user::ActiveModel {
            id: Set(model.id),
            is_admin: Set(true),
            ..Default::default()
        }
        .update(&txn)
        .await?
    } else {
        model
    };
    txn.commit().await?;
    Ok(model.into())
}

/// Claims the instance for `user_id`: true if this is its first account.
/// A savepoint keeps the transaction usable when the row is already there
/// (PostgreSQL aborts a transaction on any failed statement). A concurrent
/// claim not yet committed makes this wait for it, on every backend.
async fn claim_instance(
    db: &impl crate::db::write_txn::Writer,
    user_id: i64,
) -> Result<bool, ServiceError> {
    let savepoint = crate::db::write_txn::begin(db).await?;
    let inserted = instance_owner::ActiveModel {
        id: Set(1),
        user_id: Set(user_id),
        claimed_at: Set(now()),
    }
    .insert(&savepoint)
    .await;
    match inserted {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(e) if is_unique_violation(&e) => {
            savepoint.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn taken() -> ServiceError {
    ServiceError::conflict("username", "username is already taken")
}

async fn find_model(
    db: &impl ConnectionTrait,
    raw_username: &str,
) -> Result<Option<user::Model>, ServiceError> {
    let key = raw_username.trim().to_ascii_lowercase();
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.eq(key))
        .one(db)
        .await?)
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    raw_username: &str,
) -> Result<Option<User>, ServiceError> {
    Ok(find_model(db, raw_username).await?.map(User::from))
}

/// The usernames of `ids` (those that still exist).
pub async fn names_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, ServiceError> {
    Ok(
        crate::db::names::by_id::<user::Entity>(db, user::Column::Id, user::Column::Username, ids)
            .await?,
    )
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<User>, ServiceError> {
    Ok(user::Entity::find_by_id(id).one(db).await?.map(User::from))
}

/// The account whose username and password match; unknown user and wrong
/// password fail alike, after the same hashing work.
pub async fn check_login(
    db: &impl ConnectionTrait,
    raw_username: &str,
    password: &str,
) -> Result<User, ServiceError> {
    let found = find_model(db, raw_username).await?;
    let stored = found.as_ref().map(|m| m.password_hash.clone());
    let ok = passwords::verify(password.to_owned(), stored).await?;
    match found {
        Some(model) if ok => Ok(model.into()),
        _ => Err(ServiceError::Unauthenticated(
            "invalid username or password",
        )),
    }
}

/// Stores an already-checked password hash and bumps the account's epoch,
/// which ends every other session; returns the new epoch for the caller's
/// own session. `credentials` calls this with the token revocation, in one
/// transaction.
pub(super) async fn store_password(
    db: &impl ConnectionTrait,
    id: i64,
    hash: String,
) -> Result<i64, ServiceError> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            user::Column::AuthEpoch,
            Expr::col(user::Column::AuthEpoch).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(ServiceError::NotFound("user"));
    }
    let user = get(db, id).await?.ok_or(ServiceError::NotFound("user"))?;
    Ok(user.auth_epoch)
}

/// Fails unless `current` is the account's password.
pub(super) async fn verify_password(
    db: &impl ConnectionTrait,
    id: i64,
    current: &str,
) -> Result<(), ServiceError> {
    let model = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if !passwords::verify(current.to_owned(), Some(model.password_hash)).await? {
        return Err(ServiceError::invalid(
            "current_password",
            "current password is wrong",
        ));
    }
    Ok(())
}

pub async fn list(db: &impl ConnectionTrait, page: Page) -> Result<Vec<User>, ServiceError> {
    let mut query = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    Ok(query
        .limit(page.limit)
        .all(db)
        .await?
        .into_iter()
        .map(User::from)
        .collect())
}
