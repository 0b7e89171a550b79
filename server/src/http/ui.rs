//! The dashboard: Leptos renders each UI route on the server, `/pkg` serves
//! the compiled WASM, JS and CSS, and `not_found` renders the app's own
//! "not found" page with status 404 for paths nothing else matched. Every
//! rendered page carries a Content-Security-Policy admitting its inline
//! hydration script by the nonce Leptos put on it. Pages and data calls are
//! compressed unless another site sent the request (`page_compression`).

use axum::Router;
use axum::http::{HeaderValue, header};
use kiln_app::bundle::Head;
use kiln_app::{App, shell};
use kiln_core::net::headers::page_policy;
use leptos::config::LeptosOptions;
use leptos::nonce::use_nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, ResponseOptions, generate_route_list};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use super::site_assets::{self, SiteAssets};
use super::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let head = state.head.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let backend = super::pages::backend(state.clone());
    let render_backend = backend.clone();
    let config = state.config.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            state,
            routes,
            move || {
                provide_context(config.clone());
                kiln_app::backend::provide_ports(&render_backend);
                page_security();
            },
            move || shell(head.clone()),
        )
        // Pages' data calls spend the caller's quota too (a cron preview
        // or a list across projects is work for the server).
        .route(
            "/ui/fn/{*name}",
            axum::routing::post(move |request: axum::extract::Request| {
                let backend = backend.clone();
                async move {
                    leptos_axum::handle_server_fns_with_context(
                        move || kiln_app::backend::provide_ports(&backend),
                        request,
                    )
                    .await
                }
            })
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                super::quota_gate::gate,
            )),
        )
        // Forms spend the poster's quota like the API (sign-ups hash a
        // password: unmetered, they would be a cheap way to burn the CPU).
        .merge(
            super::forms::router().layer(axum::middleware::from_fn_with_state(
                state.clone(),
                super::quota_gate::gate,
            )),
        )
        .layer(axum::middleware::from_fn(super::pages::remember_viewer))
        // Pages and forms know who is looking through the session cookie.
        .layer(super::sessions::layer(state))
        .layer(super::page_compression::layer());
    let assets = state.site_assets.clone();
    // Precompressed twins first (a release build's `--precompress`), then
    // compression on the fly for whatever has none.
    let files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    let pkg = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(move |request, next| {
            site_assets::cache_headers(assets.clone(), request, next)
        }))
        // Brotli's default (quality 11) costs seconds of CPU for the WASM:
        // on the fly, a middle quality; the build's twins are the best.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        .service(files);
    pages.nest_service("/pkg", pkg)
}

/// Renders the app for a path no route matched: its fallback view is the
/// "not found" page, answered with 404.
pub async fn not_found(
    state: AppState,
    request: axum::extract::Request,
) -> axum::response::Response {
    // The same context as every page: the header asks who is signed in.
    let backend = super::pages::backend(state.clone());
    let config = state.config.clone();
    let head = state.head.clone();
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        move || {
            provide_context(config.clone());
            kiln_app::backend::provide_ports(&backend);
            page_security();
        },
        move |_| shell(head.clone()),
    );
    handler(request.uri().clone(), axum::extract::State(state), request).await
}

/// Inside a page's render: its CSP, naming the nonce Leptos generated for
/// this response (it puts it on the hydration script and the resource
/// data). Outside a render (no nonce) nothing happens, and the security
/// headers layer gives the answer the strict policy.
fn page_security() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Options Leptos needs to render (where the site lives and what the
/// compiled bundle is called), and the head of every page, which names the
/// bundle's files: `kiln.js`, `kiln.wasm`, `kiln.css` in `/pkg`, or
/// `kiln.<hash>.js` and so on when the build hashed them. The hash file is
/// read here once; `/pkg`'s cache headers use what was read.
pub fn site(site_root: &std::path::Path) -> Site {
    let assets = SiteAssets::load(&site_root.join(PKG_DIR), OUTPUT_NAME);
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir(PKG_DIR)
        .hash_files(assets.is_hashed())
        .hash_file(std::sync::Arc::from(site_assets::HASH_FILE))
        .build();
    let head = Head::new(assets.bundle(PKG_DIR, OUTPUT_NAME), &options);
    Site {
        options,
        head,
        assets,
    }
}

/// What pages and `/pkg` are made from, worked out once at start.
pub struct Site {
    pub options: LeptosOptions,
    pub head: std::sync::Arc<Head>,
    /// Which files of `/pkg` are hashed (their cache headers).
    pub assets: SiteAssets,
}

const OUTPUT_NAME: &str = "kiln";
const PKG_DIR: &str = "pkg";
