//! Configuration layering, validation and the environment's settings.

use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_need_no_configuration() {
    let config = Config::load(None, env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(
        config.database_url().unwrap().expose(),
        "sqlite://data/kiln.db?mode=rwc"
    );
}

#[test]
fn layers_override_in_order() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "listen = \"0.0.0.0:4000\"\nlog_level = \"debug\"\nworker_concurrency = 3"
    )
    .unwrap();
    let config = Config::load(
        Some(file.path()),
        env(&[
            ("KILN_LOG_LEVEL", "warn"),
            ("KILN_LISTEN", "0.0.0.0:5000"),
            ("PATH", "/bin"),
        ]),
        &Overrides {
            listen: Some("127.0.0.1:6000".parse().unwrap()),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(config.listen.port(), 6000, "flag beats env and file");
    assert_eq!(config.log_level, "warn", "env beats file");
    assert_eq!(config.worker_concurrency, 3, "file beats default");
}

#[test]
fn unknown_keys_are_named() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "listne = \"0.0.0.0:4000\"").unwrap();
    let err = Config::load(Some(file.path()), env(&[]), &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("listne"), "{err}");

    let err = Config::load(
        None,
        env(&[("KILN_DATABSE_URL", "x")]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("databse_url"), "{err}");
}

#[test]
fn step_variables_are_not_settings() {
    let vars = env(&[
        ("KILN_RUN_ID", "1"),
        ("KILN_PARAM_X", "y"),
        ("KILN_CONFIG", "k.toml"),
        ("KILN_ALLOCATOR", "mimalloc"),
        ("KILN_SERVICE_HOST", "10.0.0.1"),
        ("KILN_PORT", "tcp://10.0.0.1:3000"),
        ("KILN_PORT_3000_TCP_ADDR", "10.0.0.1"),
    ]);
    assert!(Config::load(None, vars, &Overrides::default()).is_ok());
}

#[test]
fn invalid_values_are_named() {
    let cases = [
        ("KILN_LISTEN", "not-an-address", "listen"),
        ("KILN_WORKER_CONCURRENCY", "many", "worker_concurrency"),
        ("KILN_LOG_FORMAT", "xml", "log_format"),
        ("KILN_DATABASE_URL", "redis://x", "database_url"),
        ("KILN_PUBLIC_URL", "ftp://x", "public_url"),
        ("KILN_PUBLIC_URL", "https://", "public_url"),
        (
            "KILN_HTTP_STEP_ALLOW_NETWORKS",
            "10.0.0.0/8,nope",
            "http_step_allow_networks",
        ),
        ("KILN_TRUSTED_PROXIES", "10.0.0.0/33", "trusted_proxies"),
        ("KILN_LOG_STREAMS_PER_USER", "0", "log_streams_per_user"),
        (
            "KILN_REQUEST_TIMEOUT_SECONDS",
            "0",
            "request_timeout_seconds",
        ),
        ("KILN_STEP_SANDBOX", "docker", "step_sandbox"),
        ("KILN_WEBHOOK_MAX_BYTES", "0", "webhook_max_bytes"),
        ("KILN_WEBHOOK_MAX_BYTES", "lots", "webhook_max_bytes"),
        (
            "KILN_ALLOW_LOCAL_REPOSITORIES",
            "perhaps",
            "allow_local_repositories",
        ),
        ("KILN_STEP_MAX_PROCESSES", "-1", "step_max_processes"),
        ("KILN_WORKFLOW_MAX_TASKS", "0", "workflow_max_tasks"),
    ];
    for (key, value, named) in cases {
        let err = Config::load(None, env(&[(key, value)]), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains(named), "{key}={value}: {err}");
    }
}

#[test]
fn network_lists_from_env_or_toml() {
    let config = Config::load(
        None,
        env(&[
            ("KILN_HTTP_STEP_ALLOW_NETWORKS", "127.0.0.0/8, fd00::/8"),
            ("KILN_TRUSTED_PROXIES", "10.0.0.1"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.http_step_allow_networks.to_string(),
        "127.0.0.0/8,fd00::/8"
    );
    assert_eq!(config.trusted_proxies.to_string(), "10.0.0.1/32");

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "http_step_allow_networks = [\"10.1.0.0/16\", \"192.168.0.0/24\"]\ntrusted_proxies = \"10.0.0.0/8\""
    )
    .unwrap();
    let config = Config::load(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    assert_eq!(
        config.http_step_allow_networks.to_string(),
        "10.1.0.0/16,192.168.0.0/24"
    );
    assert_eq!(config.trusted_proxies.to_string(), "10.0.0.0/8");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let err = Config::load(
        Some(Path::new("/nonexistent/kiln.toml")),
        env(&[]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/kiln.toml"));
}
