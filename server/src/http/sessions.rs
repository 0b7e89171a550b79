//! The dashboard's sessions: the cookie and where sessions are kept.

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::state::AppState;
use crate::db::session_store::DbSessionStore;

/// Browser sessions: stored in the database, cookie `kiln_session`
/// (HttpOnly, SameSite=Lax, Secure behind https), ended after the configured
/// idle time.
pub fn layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let idle = i64::try_from(state.config.session_idle_minutes).unwrap_or(i64::MAX / 60);
    SessionManagerLayer::new(DbSessionStore::new(state.db.conn.clone()))
        .with_name("kiln_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.serves_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(idle)))
}
