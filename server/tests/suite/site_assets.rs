//! `/pkg` on a real server over a site directory made here: a build's
//! precompressed twins are sent as they are, other files are compressed on
//! the fly, unhashed names are revalidated on each use, and no path under
//! `/pkg` reaches a file outside the site. (Hashed names and their year-long caching
//! need `hash.txt` beside the real binary: the browser tests check them.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Backend, TestApp};

#[tokio::test]
async fn precompressed_twins_then_compression_on_the_fly() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("kiln.css"), "body { color: red }\n".repeat(200)).unwrap();
    // Twins that differ from what compressing the file would give: the
    // answer proves which one was sent.
    std::fs::write(pkg.join("kiln.css.br"), b"brotli twin").unwrap();
    std::fs::write(pkg.join("kiln.css.gz"), b"gzip twin").unwrap();
    std::fs::write(pkg.join("other.js"), "let x = 1;\n".repeat(500)).unwrap();
    std::fs::write(root.path().join("secret.txt"), "outside the site").unwrap();

    let dir = site.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| c.site_dir = Some(dir)).await;
    let get = |path: &str, encoding: &str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };

    for (encoding, body) in [("br", "brotli twin"), ("gzip", "gzip twin")] {
        let response = get("/pkg/kiln.css", encoding).await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-encoding"], encoding);
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["vary"], "accept-encoding");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert_eq!(response.text().await.unwrap(), body);
    }
    let plain = get("/pkg/kiln.css", "identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(
        plain
            .text()
            .await
            .unwrap()
            .starts_with("body { color: red }")
    );

    // No twin: compressed on the fly, and smaller than the file.
    let fly = get("/pkg/other.js", "br").await.unwrap();
    assert_eq!(fly.status(), 200);
    assert_eq!(fly.headers()["content-encoding"], "br");
    assert!(fly.bytes().await.unwrap().len() < 5500 / 4);

    // A file beside the site directory (the site itself is public): no
    // spelling of a path under /pkg reaches it. Sent raw, as a client that
    // does not tidy its paths would.
    for path in [
        "/pkg/../../secret.txt",
        "/pkg/%2e%2e/%2e%2e/secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/pkg/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/pkg/....//....//secret.txt",
        "/pkg/nope.js",
    ] {
        let answer = raw_get(&app.base, path).await;
        assert!(
            !answer.contains("outside the site"),
            "{path} reached the file: {answer}"
        );
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        assert_ne!(status, "200", "{path}: {answer}");
    }
    app.stop().await;
}

/// The whole answer to `GET path`, the path sent exactly as given.
async fn raw_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
