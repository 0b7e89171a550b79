//! API tokens: made with a random secret shown once, stored as its SHA-256,
//! listed with their last use, revoked. Looking one up is a single indexed
//! query; `last_used_at` is written at most once a minute per token.

use kiln_core::access::Scope;
use kiln_core::accounts::token::TOKEN_RANDOM_CHARS;
use kiln_core::accounts::{TOKEN_PREFIX, check_name, looks_like_token, token_hint};
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::users::{self, User};
use super::{TokenGrant, now};
use crate::ServiceError;
use crate::db::entities::api_token;

/// The smallest quota a token may set (the dearest operation costs 20).
pub const MIN_QUOTA: u32 = 60;

/// The longest a token may live.
pub const MAX_LIFETIME_DAYS: i64 = 3650;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub hint: String,
    pub scope: Scope,
    pub quota_per_minute: Option<u32>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewToken {
    pub name: String,
    pub scope: String,
    pub expires_in_days: Option<i64>,
    pub quota_per_minute: Option<u32>,
}

fn from_model(m: api_token::Model) -> Result<Token, ServiceError> {
    let scope = m
        .scope
        .parse::<Scope>()
        .map_err(|e| ServiceError::Database(sea_orm::DbErr::Custom(e.to_string())))?;
    Ok(Token {
        id: m.id,
        name: m.name,
        hint: m.hint,
        scope,
        quota_per_minute: m.quota_per_minute.and_then(|q| u32::try_from(q).ok()),
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
        created_at: m.created_at,
    })
}

fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token for `user_id`; returns it with the secret, which is not
/// stored and cannot be shown again.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: i64,
    new: NewToken,
) -> Result<(Token, String), ServiceError> {
    let name = check_name(&new.name).map_err(|e| ServiceError::invalid("name", e))?;
    let scope = new
        .scope
        .parse::<Scope>()
        .map_err(|e| ServiceError::invalid("scope", e))?;
    let expires_at = match new.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_LIFETIME_DAYS).contains(&days) => Some(now() + days * 86_400),
        Some(_) => {
            return Err(ServiceError::invalid(
                "expires_in_days",
                format!("must be between 1 and {MAX_LIFETIME_DAYS}"),
            ));
        }
    };
    let quota = match new.quota_per_minute {
        None => None,
        // At least the dearest operation's cost, or that one could never run.
        Some(q) if (MIN_QUOTA..=1_000_000).contains(&q) => Some(q as i32),
        Some(_) => {
            return Err(ServiceError::invalid(
                "quota_per_minute",
                format!("must be between {MIN_QUOTA} and 1000000"),
            ));
        }
    };
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(TOKEN_RANDOM_CHARS)
        .map(char::from)
        .collect();
    let secret = format!("{TOKEN_PREFIX}{random}");
    let model = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name),
        secret_hash: Set(digest(&secret)),
        hint: Set(token_hint(&secret)),
        scope: Set(scope.as_str().to_owned()),
        quota_per_minute: Set(quota),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((from_model(model)?, secret))
}

pub async fn list(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Token>, ServiceError> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Revokes one of the user's tokens; another user's token is "not found".
pub async fn revoke(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<(), ServiceError> {
    let updated = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now()))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(ServiceError::NotFound("token"));
    }
    Ok(())
}

/// Revokes every live token of the user (a password change does); returns
/// how many. Expired ones are dead already and left as they are.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, ServiceError> {
    let now = now();
    let updated = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(api_token::Column::ExpiresAt.is_null())
                .add(api_token::Column::ExpiresAt.gt(now)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// The user and grant behind a bearer secret, if it is live.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<(User, TokenGrant), ServiceError> {
    const INVALID: ServiceError =
        ServiceError::Unauthenticated("invalid, expired or revoked API token");
    if !looks_like_token(secret) {
        return Err(INVALID);
    }
    let Some(model) = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(digest(secret)))
        .one(db)
        .await?
    else {
        return Err(INVALID);
    };
    let now = now();
    if model.revoked_at.is_some() || model.expires_at.is_some_and(|at| at <= now) {
        return Err(INVALID);
    }
    let user = users::get(db, model.user_id).await?.ok_or(INVALID)?;
    if model.last_used_at.is_none_or(|at| now - at >= 60) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(model.id))
            .exec(db)
            .await?;
    }
    let token = from_model(model)?;
    Ok((
        user,
        TokenGrant {
            id: token.id,
            scope: token.scope,
            quota_per_minute: token.quota_per_minute,
        },
    ))
}
