//! Pages compressed on a real server, and never where compression would let
//! another site read a secret by the page's size (BREACH): the pipelines
//! page shows the hook secret beside the dry-run form's query, which anyone
//! can plant in a link. Requests another site sent are answered as they
//! are; Kiln's own (`Sec-Fetch-Site: same-origin`) and the user's (`none`)
//! are compressed, as are cookie-less clients'.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use crate::common::hooks::hooked;
use crate::common::{Backend, TestApp};

/// `GET url` with `accept-encoding` and, if given, `sec-fetch-site`; the
/// answer's status, `Content-Encoding` and body as sent.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    encoding: &str,
    site: Option<&[u8]>,
) -> (u16, Option<String>, Vec<u8>) {
    let mut request = client.get(url).header("accept-encoding", encoding);
    if let Some(site) = site {
        request = request.header(
            "sec-fetch-site",
            reqwest::header::HeaderValue::from_bytes(site).unwrap(),
        );
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let sent = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    if sent.is_some() {
        assert!(
            response.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding"),
            "{url}: a compressed answer varies by Accept-Encoding"
        );
    }
    (status, sent, response.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn pages_are_compressed_unless_another_site_asked() {
    let h = hooked(Backend::Sqlite, "gitea").await;
    let client = &h.api.client;
    // The owner's pipelines page: the hook secret, and a query the page
    // writes back (the dry run's branch), as a guess would be planted.
    let page = format!(
        "{}/projects/{}/pipelines?event=push&branch=guess{}",
        h.app.base,
        h.project,
        &h.secret[..4]
    );

    let (status, plain_encoding, plain) = fetch(client, &page, "identity", None).await;
    assert_eq!((status, plain_encoding), (200, None));
    let plain = text(plain);
    assert!(
        plain.contains(&h.secret),
        "the owner's page shows the secret"
    );

    // Kiln's own requests and the user's: compressed, and the same page.
    for site in [&b"same-origin"[..], b"none"] {
        let (status, encoding, body) = fetch(client, &page, "gzip", Some(site)).await;
        assert_eq!((status, encoding.as_deref()), (200, Some("gzip")));
        let html = gunzip(&body);
        assert!(html.contains(&h.secret) && html.starts_with("<!DOCTYPE html>"));
        assert!(
            body.len() * 3 < plain.len(),
            "{} of {}",
            body.len(),
            plain.len()
        );
        let (_, encoding, _) = fetch(client, &page, "gzip, deflate, br", Some(site)).await;
        assert_eq!(encoding.as_deref(), Some("br"));
    }

    // Another site's request, or one that names its site in a way Kiln
    // does not know, or a cookie-bearing client that says nothing: the
    // page as it is, whatever encodings the request offers.
    for site in [
        Some(&b"cross-site"[..]),
        Some(b"same-site"),
        Some(b"same-origin\xff"),
        Some(b""),
        None,
    ] {
        let (status, encoding, body) = fetch(client, &page, "gzip, deflate, br", site).await;
        assert_eq!((status, encoding), (200, None), "{site:?}");
        assert!(text(body).contains(&h.secret), "{site:?}");
    }

    // The UI's data calls from Kiln's pages are compressed too; one that
    // names another site is not.
    for (site, compressed) in [("same-origin", true), ("cross-site", false)] {
        let call = h
            .api
            .request(reqwest::Method::POST, "/ui/fn/home")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-encoding", "gzip")
            .header("sec-fetch-site", site)
            .send()
            .await
            .unwrap();
        let encoding = call.headers().get("content-encoding").cloned();
        let body = call.bytes().await.unwrap();
        let data = match encoding {
            Some(gzip) => {
                assert!(compressed && gzip == "gzip", "{site}: {gzip:?}");
                gunzip(&body)
            }
            None => {
                assert!(!compressed, "{site}: not compressed");
                String::from_utf8(body.to_vec()).unwrap()
            }
        };
        assert!(
            data.starts_with('{') || data.starts_with('['),
            "{site}: {data}"
        );
    }
    h.app.stop().await;
}

#[tokio::test]
async fn the_signed_out_pages_and_the_404_page() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // A client without cookies: nobody's secrets, compressed.
    let (status, encoding, body) = fetch(&app.client, &app.url("/login"), "gzip", None).await;
    assert_eq!((status, encoding.as_deref()), (200, Some("gzip")));
    assert!(gunzip(&body).contains("<form"));

    // The 404 page is the app's too, with the same rule.
    let missing = app.url("/no/such/page");
    let (status, encoding, body) = fetch(&app.client, &missing, "gzip", Some(b"none")).await;
    assert_eq!((status, encoding.as_deref()), (404, Some("gzip")));
    assert!(gunzip(&body).starts_with("<!DOCTYPE html>"));
    let (status, encoding, _) = fetch(&app.client, &missing, "gzip", Some(b"cross-site")).await;
    assert_eq!((status, encoding), (404, None));

    app.stop().await;
}
