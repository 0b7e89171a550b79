//! What every handler can ask for, typed: a handler names the part it needs
//! (`State<Database>`, `State<Metrics>`, …) and `FromRef` hands it over.

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
use crate::jobs::{JobQueue, PoolHealth};

#[derive(Clone, FromRef)]
pub struct AppState {
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
    pub throttle: Arc<LoginThrottle>,
    pub quotas: Quotas,
    pub log_streams: LogStreams,
    /// The run lists' live streams (`GET /api/v1/runs/events`).
    #[from_ref(skip)]
    pub list_streams: LogStreams,
    /// Finished runs' pages, kept for the next view.
    pub run_pages: Arc<RunPages>,
}
