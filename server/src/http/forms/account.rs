//! Forms about the account itself: sign-in, sign-up and sign-out, password,
//! API tokens, and an admin creating an account.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::{Posted, back, caller, field, handle, optional, safe_next};
use crate::accounts::credentials;
use crate::accounts::tokens::{self, NewToken};
use crate::accounts::users::{self, NewUser};
use crate::http::auth::{client_addr, renew_epoch, sign_in, sign_out};
use crate::http::error::ApiError;
use crate::http::pages::{ACCOUNT_NOTICE, NEW_TOKEN_SECRET};
use crate::http::state::AppState;

pub(super) async fn login(
    State(state): State<AppState>,
    session: Session,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let username = field(&fields, "username");
    let principal = match caller(&state, &parts).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let _ = &principal;
        state.throttle.attempt(&username, client_addr(&parts))?;
        let user =
            users::check_login(&state.db.conn, &username, &field(&fields, "password")).await?;
        sign_in(&session, &user).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(safe_next(&field(&fields, "next"))).into_response(),
        Err(error) => back("/login", "login", error, &[("username", username)]),
    }
}

pub(super) async fn register(
    State(state): State<AppState>,
    session: Session,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    let username = field(&fields, "username");
    let principal = match caller(&state, &parts).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let user = users::register(
            &state.db.conn,
            state.config.registration,
            false,
            NewUser {
                username: username.clone(),
                password: field(&fields, "password"),
                admin: false,
            },
        )
        .await?;
        if principal.user().is_none() {
            sign_in(&session, &user).await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/projects").into_response(),
        Err(error) => back("/register", "register", error, &[("username", username)]),
    }
}

pub(super) async fn logout(session: Session) -> Response {
    match sign_out(&session).await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(error) => error.into_response(),
    }
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    session: Session,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "password",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            let changed = credentials::change_password(
                &state.db.conn,
                me,
                &field(&fields, "current_password"),
                field(&fields, "new_password"),
            )
            .await?;
            renew_epoch(&session, changed.epoch).await?;
            session
                .insert(ACCOUNT_NOTICE, credentials::describe(changed))
                .await?;
            Ok("/account".to_owned())
        },
    )
    .await
}

pub(super) async fn create_token(
    State(state): State<AppState>,
    session: Session,
    posted: Posted,
) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "token",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            let expires_in_days = match optional(&fields, "expires_in_days") {
                None => None,
                Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid("expires_in_days", "must be a whole number of days")
                })?),
            };
            let (_, secret) = tokens::create(
                &state.db.conn,
                me,
                NewToken {
                    name: field(&fields, "name"),
                    scope: field(&fields, "scope"),
                    expires_in_days,
                    quota_per_minute: None,
                },
            )
            .await?;
            session.insert(NEW_TOKEN_SECRET, secret).await?;
            Ok("/account".to_owned())
        },
    )
    .await
}

pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    handle(
        &state,
        &parts,
        "token",
        "/account",
        |principal, state| async move {
            let me = principal.user().map_or(0, |u| u.id);
            tokens::revoke(&state.db.conn, me, id).await?;
            Ok("/account".to_owned())
        },
    )
    .await
}

/// An instance admin makes an account for someone (any registration mode
/// except closed, where only the operator's CLI does).
pub(super) async fn admin_create_user(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    handle(
        &state,
        &parts,
        "user",
        "/admin",
        |principal, state| async move {
            if !principal.is_admin_with(kiln_core::access::Scope::Admin) {
                return Err(ApiError::Forbidden(
                    "only instance admins create accounts".into(),
                ));
            }
            users::register(
                &state.db.conn,
                state.config.registration,
                true,
                NewUser {
                    username: field(&fields, "username"),
                    password: field(&fields, "password"),
                    admin: false,
                },
            )
            .await?;
            Ok("/admin".to_owned())
        },
    )
    .await
}
