//! Pages, the UI's data calls, the forms' answers and the 404 page (with
//! the site-root files it serves), compressed on the fly for the requests
//! that `kiln_core::net::compression` allows (never one another site sent:
//! BREACH). Others lose their `Accept-Encoding` before the compression
//! layer sees it, and are answered as they are.

use axum::extract::Request;
use axum::http::header;
use kiln_core::net::compression::{CompressionAsk, may_compress};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower::util::MapRequestLayer;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

/// Brotli or gzip at their fastest real level (nginx's default for the
/// same reason): pages are made anew for each view. At level 4 the 108 KB
/// API page cost 0.5 ms of CPU a view and two fifths of its requests/s under
/// load; level 1 sends about a third more bytes, a few KB a page.
const LEVEL: i32 = 1;

/// The gate on the outside (it runs first), then the compression.
pub type PageCompression = ServiceBuilder<
    Stack<CompressionLayer, Stack<MapRequestLayer<fn(Request) -> Request>, Identity>>,
>;

pub fn layer() -> PageCompression {
    ServiceBuilder::new()
        .layer(MapRequestLayer::new(gate as fn(Request) -> Request))
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(LEVEL)))
}

/// Drops `Accept-Encoding` from a request whose answer must not be
/// compressed.
fn gate(mut request: Request) -> Request {
    let headers = request.headers();
    let ask = CompressionAsk {
        // A value that is not text names no site Kiln trusts.
        sec_fetch_site: headers
            .get("sec-fetch-site")
            .map(|v| v.to_str().unwrap_or("")),
        has_cookie: headers.contains_key(header::COOKIE),
    };
    if !may_compress(ask) {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    request
}
