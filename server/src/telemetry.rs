//! Logging set-up: human-readable lines by default, one JSON object a line with
//! `log_format = "json"` (Loki ingests it as is). Request, run and step ids
//! travel as span fields, so every line inside a request carries its id.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Config, LogFormat};

/// Installs the global subscriber once; later calls (tests starting several
/// servers in one process) keep the first.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Text => registry
            .with(fmt::layer().with_target(true).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already installed: a second server in the same test process.
    drop(result);
}
