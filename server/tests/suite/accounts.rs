//! Accounts over real HTTP on SQLite, PostgreSQL and MariaDB: sign-up (first
//! account is admin), sign-in and out, sessions across a restart, password
//! change ending other sessions, API tokens (scope, expiry, revocation),
//! login throttling, CSRF, and the quota headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Api, Backend, TestApp};
use kiln_server::db::entities::api_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

async fn sign_up_in_out_and_restart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.browser();
    assert_eq!(alice.get("/api/v1/me").await.0, 401);
    alice.sign_up("Alice").await;
    let (status, me) = alice.get("/api/v1/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "Alice");
    assert_eq!(me["is_admin"], true, "the first account is the admin");
    assert_eq!(me["authenticated_by"], "session");
    assert!(me["csrf_token"].as_str().unwrap().len() >= 32);

    let bob = app.browser();
    bob.sign_up("bob").await;
    assert_eq!(bob.get("/api/v1/me").await.1["is_admin"], false);
    // Usernames are unique whatever their case.
    let (status, body) = app
        .browser()
        .post(
            "/api/v1/auth/register",
            json!({"username": "ALICE", "password": "another one"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["field"], "username");

    // Unknown user and wrong password look the same.
    let stranger = app.browser();
    let wrong = stranger
        .post(
            "/api/v1/auth/login",
            json!({"username": "alice", "password": "wrong password"}),
        )
        .await;
    let unknown = stranger
        .post(
            "/api/v1/auth/login",
            json!({"username": "nobody", "password": "wrong password"}),
        )
        .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown);

    // The session survives a restart of the server.
    let app = app.restart().await;
    let alice = alice.at(&app.base);
    assert_eq!(alice.get("/api/v1/me").await.0, 200);

    // Logging out ends it on the server.
    assert_eq!(alice.post("/api/v1/auth/logout", json!({})).await.0, 204);
    assert_eq!(alice.get("/api/v1/me").await.0, 401);
    alice.sign_in("alice").await;
    assert_eq!(alice.get("/api/v1/me").await.0, 200);
    app.stop().await;
}
on_all_backends!(sign_up_in_out_and_restart);

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let laptop = app.browser();
    laptop.sign_up("carol").await;
    let phone = app.browser();
    phone.sign_in("carol").await;
    let (status, body) = laptop
        .send(
            "PUT",
            "/api/v1/me/password",
            Some(json!({"current_password": "nope nope", "new_password": "a new secret"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "current_password");
    let (status, body) = laptop
        .send(
            "PUT",
            "/api/v1/me/password",
            Some(json!({"current_password": "correct horse", "new_password": "short"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "new_password");
    let (status, _) = laptop
        .send(
            "PUT",
            "/api/v1/me/password",
            Some(json!({"current_password": "correct horse", "new_password": "a new secret"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(laptop.get("/api/v1/me").await.0, 200, "this session stays");
    assert_eq!(phone.get("/api/v1/me").await.0, 401, "the other one ends");
    app.stop().await;
}
on_all_backends!(password_change_ends_other_sessions);

async fn api_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dana = app.browser();
    dana.sign_up("dana").await;
    let read = dana.token("read").await;
    assert!(read.starts_with("kiln_") && read.len() == 45, "{read}");
    let write = dana.token("write").await;

    let reader = Api::with_token(&app.base, &read);
    let (status, me) = reader.get("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["authenticated_by"], "token");
    assert!(me["csrf_token"].is_null());
    // A read token cannot write, whatever the user may do.
    let (status, body) = reader
        .post("/api/v1/groups", json!({"slug": "from-read"}))
        .await;
    assert_eq!(status, 403, "{body}");
    let writer = Api::with_token(&app.base, &write);
    assert_eq!(
        writer
            .post("/api/v1/groups", json!({"slug": "from-write"}))
            .await
            .0,
        201
    );
    // Tokens cannot manage tokens unless admin-scoped.
    assert_eq!(
        writer
            .post("/api/v1/me/tokens", json!({"name": "x", "scope": "read"}))
            .await
            .0,
        403
    );

    // The dashboard's forms take sessions only: a token cannot use them to
    // step outside its scope.
    let via_form = reqwest::Client::new()
        .post(format!("{}/ui/account/tokens", app.base))
        .bearer_auth(&read)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=escalate&scope=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(via_form.status(), 403);

    // Listed without secrets, with last use.
    let (_, list) = dana.get("/api/v1/me/tokens").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|t| t.get("secret").is_none()));
    assert!(items[0]["last_used_at"].is_string(), "{list}");
    assert!(
        !list.to_string().contains(&read[5..]),
        "no secret in the list"
    );

    // Revoked: refused at once, even with a session cookie elsewhere.
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(
        dana.send("DELETE", &format!("/api/v1/me/tokens/{id}"), None)
            .await
            .0,
        204
    );
    let (status, body) = reader.get("/api/v1/me").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        dana.send("DELETE", &format!("/api/v1/me/tokens/{id}"), None)
            .await
            .0,
        404
    );

    // Expired: refused.
    api_token::Entity::update_many()
        .col_expr(api_token::Column::ExpiresAt, Expr::value(1_i64))
        .filter(api_token::Column::Name.eq("write token"))
        .exec(&app.server.database().conn)
        .await
        .unwrap();
    assert_eq!(writer.get("/api/v1/me").await.0, 401);
    // Garbage bearer: refused, never treated as anonymous.
    let garbage = Api::with_token(&app.base, "kiln_nope");
    assert_eq!(garbage.get("/api/v1/version").await.0, 401);

    // Bad fields are named.
    let (status, body) = dana
        .post("/api/v1/me/tokens", json!({"name": "t", "scope": "root"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("scope"))
    );
    let (status, body) = dana
        .post(
            "/api/v1/me/tokens",
            json!({"name": "t", "scope": "read", "expires_in_days": 0}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("expires_in_days"))
    );
    app.stop().await;
}
on_all_backends!(api_tokens);

async fn login_is_throttled(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_attempts_per_minute = 3).await;
    let eve = app.browser();
    eve.sign_up("eve").await;
    let attacker = app.browser();
    for _ in 0..3 {
        let (status, _) = attacker
            .post(
                "/api/v1/auth/login",
                json!({"username": "eve", "password": "guess guess"}),
            )
            .await;
        assert_eq!(status, 401);
    }
    let response = attacker
        .request(reqwest::Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "eve", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    app.stop().await;
}
on_all_backends!(login_is_throttled);

async fn csrf_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let frank = app.browser();
    frank.sign_up("frank").await;
    let create = |origin: Option<&'static str>, site: Option<&'static str>, slug: &str| {
        let mut request = frank
            .client
            .post(format!("{}/api/v1/groups", app.base))
            .json(&json!({"slug": slug}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request
    };
    let forged = create(Some("http://evil.example"), None, "a")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged = create(None, Some("cross-site"), "b").send().await.unwrap();
    assert_eq!(forged.status(), 403);
    // No browser headers and no token: refused for a cookie session.
    let silent = create(None, None, "c").send().await.unwrap();
    assert_eq!(silent.status(), 403);
    let (_, me) = frank.get("/api/v1/me").await;
    let with_token = create(None, None, "d")
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 201);
    let same_origin = create(None, Some("same-origin"), "e").send().await.unwrap();
    assert_eq!(same_origin.status(), 201);
    // Nothing forged was written.
    let (_, groups) = frank.get("/api/v1/groups").await;
    let slugs: Vec<&str> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["d", "e"]);
    // A bearer token needs no origin.
    let secret = frank.token("write").await;
    let bare = reqwest::Client::new()
        .post(format!("{}/api/v1/groups", app.base))
        .bearer_auth(secret)
        .json(&json!({"slug": "f"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 201);
    app.stop().await;
}
on_all_backends!(csrf_is_refused);

async fn quota_is_enforced(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.quota_anonymous_per_minute = 5).await;
    let anon = app.browser();
    let first = anon
        .request(reqwest::Method::GET, "/api/v1/version")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let header = |r: &reqwest::Response, name: &str| -> u64 {
        r.headers()[name].to_str().unwrap().parse().unwrap()
    };
    assert_eq!(header(&first, "ratelimit-limit"), 5);
    assert_eq!(header(&first, "ratelimit-remaining"), 4);
    assert!(header(&first, "ratelimit-reset") <= 60);
    let mut refused = None;
    for _ in 0..10 {
        let r = anon
            .request(reqwest::Method::GET, "/api/v1/version")
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the quota runs out");
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);
    assert!(header(&refused, "retry-after") >= 1);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    // A bad credential is charged to its address, and told so with headers.
    let bad = Api::with_token(&app.base, "kiln_not_a_token")
        .request(reqwest::Method::GET, "/api/v1/version")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 429, "the same address's budget is spent");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("kiln_quota_rejections_total{caller=\"anonymous\"}"),
        "{metrics}"
    );
    app.stop().await;

    // Each operation spends its declared cost: signing in costs 20.
    let app = TestApp::spawn_with(backend, |c| c.quota_admin_per_minute = 120).await;
    let user = app.browser();
    user.sign_up("gina").await;
    let spent = |r: &reqwest::Response| -> u64 {
        r.headers()["ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = user
        .request(reqwest::Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    let login = user
        .request(reqwest::Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "gina", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let after = user
        .request(reqwest::Method::GET, "/api/v1/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        404,
        "unknown routes under /api/v1 are metered too"
    );
    // The session quota after login is the user's; the difference spans the
    // login (20) and this request (1), give or take refill.
    assert!(
        spent(&before) >= spent(&after) + 20,
        "{} {}",
        spent(&before),
        spent(&after)
    );
    app.stop().await;
}
on_all_backends!(quota_is_enforced);

async fn registration_modes(backend: Backend) {
    use kiln_core::accounts::RegistrationMode;
    let app = TestApp::spawn_with(backend, |c| c.registration = RegistrationMode::Invite).await;
    let admin = app.browser();
    admin.sign_up("boss").await; // the first account is always allowed
    let stranger = app.browser();
    let creds = json!({"username": "walk-in", "password": "correct horse"});
    let (status, body) = stranger.post("/api/v1/auth/register", creds.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invitation")
    );
    // An instance admin creates the account; the admin stays signed in as themself.
    let (status, body) = admin.post("/api/v1/auth/register", creds).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(admin.get("/api/v1/me").await.1["username"], "boss");
    stranger.sign_in("walk-in").await;
    app.stop().await;

    // Closed: not even the first account signs up on the web.
    let app = TestApp::spawn_with(backend, |c| c.registration = RegistrationMode::Closed).await;
    let (status, _) = app
        .browser()
        .post(
            "/api/v1/auth/register",
            json!({"username": "first", "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, 403);
    app.stop().await;
}
on_all_backends!(registration_modes);

async fn session_cookie_attributes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some("https://kiln.example.com".into());
    })
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", app.base))
        .header("host", "kiln.example.com")
        .header("origin", "https://kiln.example.com")
        .json(&json!({"username": "hana", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("kiln_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    // A new id at sign-in: the pre-login session id is not kept.
    let first_id = cookie.split(';').next().unwrap().to_owned();
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("host", "kiln.example.com")
        .header("origin", "https://kiln.example.com")
        .header("cookie", &first_id)
        .json(&json!({"username": "hana", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    let renewed = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_ne!(renewed.split(';').next().unwrap(), first_id);
    app.stop().await;
}
on_all_backends!(session_cookie_attributes);
