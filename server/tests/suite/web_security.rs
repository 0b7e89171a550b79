//! The web surface's defences on a real server, on SQLite, PostgreSQL and
//! MariaDB: security headers on pages, API answers and errors (the page CSP
//! naming the nonce its inline script carries); the Host check when
//! `public_url` is set (DNS rebinding); dashboard "not found" pages answered
//! 404; the client address taken from `X-Forwarded-For` only behind
//! `trusted_proxies`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Backend, TestApp};
use serde_json::json;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} on {}", response.url()))
        .to_str()
        .unwrap()
}

fn assert_common_headers(response: &reqwest::Response) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "same-origin");
    let csp = header(response, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

/// The nonce of the page's inline hydration script.
fn inline_script_nonce(html: &str) -> String {
    let at = html
        .find("<script type=\"module\" nonce=\"")
        .expect("the bootstrap script");
    let rest = &html[at + "<script type=\"module\" nonce=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn security_headers_on_every_response(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.max_body_bytes = 1024).await;

    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert_common_headers(&page);
    let csp = header(&page, "content-security-policy").to_owned();
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    let html = page.text().await.unwrap();
    let nonce = inline_script_nonce(&html);
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        csp.contains(&format!("'nonce-{nonce}'")),
        "{csp} vs {nonce}"
    );
    // Every inline script of the page carries it.
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(
            tag.contains(" src=") || tag.contains(&format!("nonce=\"{nonce}\"")),
            "{tag}"
        );
    }
    let again = app.get("/").await;
    let other = header(&again, "content-security-policy").to_owned();
    assert_ne!(other, csp, "a fresh nonce per response");

    let missing_page = app.get("/no/such/page").await;
    assert_eq!(missing_page.status(), 404);
    assert_common_headers(&missing_page);
    assert!(header(&missing_page, "content-security-policy").contains("'nonce-"));

    // Everything else loads nothing.
    let json_404 = app.get("/api/v1/nope").await;
    assert_eq!(json_404.status(), 404);
    assert_common_headers(&json_404);
    assert!(header(&json_404, "content-security-policy").starts_with("default-src 'none'"));
    for path in [
        "/healthz",
        "/metrics",
        "/api/v1/openapi.json",
        "/pkg/kiln.css",
    ] {
        let response = app.get(path).await;
        assert_common_headers(&response);
    }
    let too_big = app
        .client
        .post(app.url("/api/v1/version"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_common_headers(&too_big);
    assert_eq!(header(&too_big, "x-frame-options"), "DENY");
    app.stop().await;
}
on_all_backends!(security_headers_on_every_response);

async fn host_is_checked_when_public_url_is_set(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some("http://kiln.test:8080/".into());
    })
    .await;
    let with_host = |method: reqwest::Method, path: &str, host: &str| {
        app.client
            .request(method, app.url(path))
            .header("host", host)
    };

    // The name users reach Kiln by works (the default port may be written).
    let page = with_host(reqwest::Method::GET, "/", "kiln.test:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let register = with_host(
        reqwest::Method::POST,
        "/api/v1/auth/register",
        "KILN.test:8080",
    )
    .header("origin", "http://kiln.test:8080")
    .json(&json!({"username": "owner", "password": "correct horse"}))
    .send()
    .await
    .unwrap();
    assert_eq!(register.status(), 201);

    // A rebound name (or the bare address): refused before anything else,
    // even with an Origin that matches the Host it names.
    for (method, path) in [
        (reqwest::Method::GET, "/"),
        (reqwest::Method::GET, "/api/v1/me"),
        (reqwest::Method::POST, "/api/v1/auth/login"),
        (reqwest::Method::POST, "/ui/login"),
    ] {
        for host in ["evil.test", "kiln.test", "kiln.test:8081", "127.0.0.1"] {
            let response = with_host(method.clone(), path, host)
                .header("origin", format!("http://{host}"))
                .json(&json!({"username": "owner", "password": "correct horse"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 421, "{method} {path} Host: {host}");
            assert_common_headers(&response);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "misdirected_request");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("kiln.test:8080")
            );
        }
    }

    // Probes address the machine by IP: health and metrics answer any Host.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = with_host(reqwest::Method::GET, path, "10.1.2.3:3000")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }

    // The right Host with another Origin is still cross-site.
    let forged = with_host(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        "kiln.test:8080",
    )
    .header("origin", "http://evil.test")
    .json(&json!({"username": "owner", "password": "correct horse"}))
    .send()
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
    app.stop().await;
}
on_all_backends!(host_is_checked_when_public_url_is_set);

async fn dashboard_not_found_pages_answer_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = app.browser();
    api.sign_up("alice").await;
    let group = api.group("team", None).await;
    api.project("app", group).await;
    let page = |path: &str| api.client.get(format!("{}{path}", app.base)).send();

    let found = page("/g/team").await.unwrap();
    assert_eq!(found.status(), 200);
    // What one viewer sees is not kept by a shared cache or the back button.
    assert_eq!(header(&found, "cache-control"), "no-cache, no-store");
    for path in [
        "/g/nope",
        "/p/team/nope",
        "/runs/999999",
        "/projects/999999/runs",
        "/projects/999999/workflows/nope",
        "/no/such/page",
    ] {
        let response = page(path).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Not found") || html.contains("Page not found"),
            "{path}: {html}"
        );
    }
    app.stop().await;
}
on_all_backends!(dashboard_not_found_pages_answer_404);

/// The anonymous quota is kept per client address; `ratelimit-remaining`
/// shows whose budget a request spent.
async fn remaining(app: &TestApp, forwarded_for: &str) -> u32 {
    let response = app
        .client
        .get(app.url("/api/v1/nope"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap();
    header(&response, "ratelimit-remaining").parse().unwrap()
}

async fn forwarded_for_only_from_trusted_proxies(backend: Backend) {
    // The test client connects from 127.0.0.1: here it is a trusted proxy.
    let behind = TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = "127.0.0.1/32, 10.0.0.0/8".parse().unwrap();
        c.quota_anonymous_per_minute = 10;
    })
    .await;
    assert_eq!(remaining(&behind, "203.0.113.1").await, 9);
    assert_eq!(remaining(&behind, "203.0.113.2").await, 9, "another client");
    // A forged entry left of the proxy's own is not believed; trusted hops
    // on the right are skipped.
    assert_eq!(remaining(&behind, "6.6.6.6, 203.0.113.1").await, 8);
    assert_eq!(remaining(&behind, "203.0.113.1, 10.0.0.7").await, 7);
    behind.stop().await;

    // Not trusted: the header is ignored, everyone is the socket's peer.
    let direct = TestApp::spawn_with(backend, |c| c.quota_anonymous_per_minute = 10).await;
    assert_eq!(remaining(&direct, "203.0.113.1").await, 9);
    assert_eq!(remaining(&direct, "203.0.113.2").await, 8);
    direct.stop().await;
}
on_all_backends!(forwarded_for_only_from_trusted_proxies);
