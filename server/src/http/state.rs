//! What every handler can ask for, typed: a handler takes the whole
//! `State<AppState>`, or names the part it needs (`State<Database>`,
//! `State<Metrics>`, `State<PoolHealth>`) and `FromRef` hands it over.
//! The parts sit behind one `Arc`: the state is cloned by every middleware
//! that has it and into every page render's context. Cloned part by part,
//! that was a reference count for each of its thirteen parts and more inside
//! some (the Leptos options hold several), counted up and down by both
//! cores' threads; one count is far cheaper (a fifth of `/login`'s server
//! CPU under load in bench/pages, a sixth of `/`'s).

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use kiln_app::bundle::Head;
use leptos::config::LeptosOptions;

use crate::accounts::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Database;
use crate::engine::Engine;
use crate::http::api::runs::log_streams::LogStreams;
use crate::http::metrics::Metrics;
use crate::http::pages::run_cache::RunPages;
use crate::http::quota::Quotas;
use crate::http::site_assets::SiteAssets;
use crate::jobs::{JobQueue, PoolHealth};

/// The server's shared parts, one `Arc` (see the module comment); reads
/// like [`Shared`], whose fields it derefs to.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Hands part `$field` to handlers that name its type.
macro_rules! part_from_state {
    ($($part:ty => $field:ident),+ $(,)?) => {
        $(impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        })+
    };
}

// `/readyz` and `/metrics` take these; Leptos' router asks for its options.
part_from_state!(
    Database => db,
    Metrics => metrics,
    PoolHealth => pool,
    LeptosOptions => leptos_options,
);

/// The parts themselves, made once by `serve` (or a test's server) and
/// shared by every request until the process ends.
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Database,
    pub jobs: JobQueue,
    /// Whether this process's job workers run.
    pub pool: PoolHealth,
    pub engine: Arc<Engine>,
    pub metrics: Metrics,
    pub leptos_options: LeptosOptions,
    /// Every page's head: the bundle's names, worked out at start.
    pub head: Arc<Head>,
    /// Which files of `/pkg` are hashed, read at start with the head.
    pub site_assets: SiteAssets,
    pub throttle: Arc<LoginThrottle>,
    pub quotas: Quotas,
    pub log_streams: LogStreams,
    /// The run lists' live streams (`GET /api/v1/runs/events`).
    pub list_streams: LogStreams,
    /// Finished runs' pages, kept for the next view.
    pub run_pages: Arc<RunPages>,
}
