//! The pipeline pages with hostile input, on SQLite and PostgreSQL: the
//! dry-run form's query (an unknown event, a branch written as shell, a
//! commit that is not one) answers the page with the reason, never a 500;
//! a caller without the project sees neither page, nor the hook secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Backend;
use crate::common::hooks::hooked;

async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn hostile_queries_get_the_page_with_the_reason(backend: Backend) {
    let h = hooked(backend, "gitea").await;
    let base = format!("{}/projects/{}/pipelines", h.app.base, h.project);
    for (query, reason) in [
        (
            "event=nope",
            "expected push, pull_request, tag, manual or schedule",
        ),
        (
            "event=push&branch=%24(touch%20pwned)",
            "is not a name git accepts",
        ),
        (
            "event=push&branch=main&after=%3Brm%20-rf",
            "a commit id is 40 or 64 hex digits",
        ),
        ("event=tag&tag=..%2F..%2Fetc", "is not a name git accepts"),
    ] {
        let (status, html) = page(&h.api.client, format!("{base}?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert!(html.contains("dry-run-error"), "{query}: no error shown");
        assert!(html.contains(reason), "{query}: {reason} not in the page");
    }
    assert!(!h.repo.dir.join("pwned").exists());

    // The owner sees the hook secret; a stranger sees no page at all.
    let (_, html) = page(&h.api.client, base.clone()).await;
    assert!(html.contains(&h.secret), "the owner sees the secret");
    let stranger = reqwest::Client::new();
    for path in ["pipelines", "deliveries"] {
        let url = format!("{}/projects/{}/{path}", h.app.base, h.project);
        let (status, html) = page(&stranger, url).await;
        assert_ne!(status, 500, "{path}");
        assert!(!html.contains(&h.secret), "{path} shows the secret");
        assert!(!html.contains("hook-secret"), "{path}");
    }
    h.app.stop().await;
}
on_sqlite_and_postgres!(hostile_queries_get_the_page_with_the_reason);
