//! Browser sessions over time, on SQLite, PostgreSQL and MariaDB: a session
//! in use has its expiry pushed forward (one write now and then, not one a
//! request), and one left past its expiry is over. A session that cannot
//! be saved is answered with a body that says so, and loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Backend, TestApp};
use kiln_server::db::entities::session;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;

/// A session in use outlives its idle time counted from sign-in: using it
/// after a while pushes its expiry forward (one write, not one a request),
/// and a session left past its expiry is over.
async fn a_session_in_use_is_kept_alive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.browser();
    alice.sign_up("alice").await;
    let db = &app.server.database().conn;
    let only_row = || async { session::Entity::find().one(db).await.unwrap().unwrap() };
    let now = || chrono::Utc::now().timestamp();
    let idle_seconds = i64::try_from(app.config.session_idle_minutes * 60).unwrap();
    // As if signed in long ago and last renewed two hours ago: the row
    // expires in two minutes.
    let row = only_row().await;
    let mut data: serde_json::Value = serde_json::from_slice(&row.data).unwrap();
    data["renewed_at_ms"] = json!(chrono::Utc::now().timestamp_millis() - 2 * 3_600_000);
    let mut stale: session::ActiveModel = row.into();
    stale.data = Set(serde_json::to_vec(&data).unwrap());
    stale.expires_at = Set(now() + 120);
    stale.update(db).await.unwrap();

    assert_eq!(alice.get("/api/v1/me").await.0, 200);
    let renewed = only_row().await;
    assert!(
        renewed.expires_at >= now() + idle_seconds - 60,
        "the expiry moved a whole idle time ahead: {} vs now {}",
        renewed.expires_at,
        now()
    );

    // Just renewed: the next requests leave the row alone.
    let mut soon: session::ActiveModel = renewed.into();
    soon.expires_at = Set(now() + 120);
    soon.update(db).await.unwrap();
    for _ in 0..3 {
        assert_eq!(alice.get("/api/v1/me").await.0, 200);
    }
    assert!(
        only_row().await.expires_at <= now() + 120,
        "no write per request"
    );

    let mut over: session::ActiveModel = only_row().await.into();
    over.expires_at = Set(now() - 1);
    over.update(db).await.unwrap();
    assert_eq!(
        alice.get("/api/v1/me").await.0,
        401,
        "an expired session is over"
    );
    app.stop().await;
}
on_all_backends!(a_session_in_use_is_kept_alive);

/// A sign-in whose session the database refuses to keep: the session
/// layer's own answer was a bare 500; it is a JSON error like any other,
/// and once the database takes writes again the same sign-in works.
async fn a_session_that_cannot_be_saved_is_answered_with_an_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.browser();
    alice.sign_up("alice").await;
    let db = &app.server.database().conn;
    for (name, on) in [
        ("no_new_sessions", "INSERT"),
        ("no_session_changes", "UPDATE"),
    ] {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {name} BEFORE {on} ON kiln_sessions \
             BEGIN SELECT RAISE(ABORT, 'sessions are read-only'); END"
        ))
        .await
        .unwrap();
    }
    let creds = json!({"username": "alice", "password": "correct horse"});
    let (status, body) = app
        .browser()
        .post("/api/v1/auth/login", creds.clone())
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    assert!(
        !body.to_string().contains("read-only"),
        "the database's words stay in the log: {body}"
    );

    for name in ["no_new_sessions", "no_session_changes"] {
        db.execute_unprepared(&format!("DROP TRIGGER {name}"))
            .await
            .unwrap();
    }
    let bob = app.browser();
    let (status, body) = bob.post("/api/v1/auth/login", creds).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(bob.get("/api/v1/me").await.0, 200);
    app.stop().await;
}
on_backends!(a_session_that_cannot_be_saved_is_answered_with_an_error: sqlite => Sqlite);
