//! Settings from the environment: which `KILN_*` variables are settings
//! (not the config file's location, Kubernetes' service variables or what a
//! step receives), parsed like TOML scalars by a figment provider.

/// Environment variables with Kiln's prefix that are not settings: the config
/// file's own location, the allocator (chosen before any setting is read,
/// see `memory::allocator`), and what a step's process receives from its
/// worker.
/// Kubernetes also adds `KILN_SERVICE_HOST`, `KILN_PORT_3000_TCP`, … for a
/// Service named `kiln`.
const NON_SETTING_VARS: &[&str] = &[
    "config",
    "allocator",
    "run_id",
    "task",
    "attempt",
    "output",
    "port",
];
const NON_SETTING_PREFIXES: &[&str] = &["param_", "value_", "service_", "port_"];

/// `KILN_*` variables as a figment provider; values are parsed like TOML
/// scalars (`8080` is a number, `true` a bool). Errors name the variable's
/// setting and say it came from the environment.
pub(super) struct EnvVars(Vec<(String, String)>);

impl figment::Provider for EnvVars {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named("KILN_* environment variable")
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        let dict: figment::value::Dict = self
            .0
            .iter()
            .map(|(key, value)| {
                let parsed: figment::value::Value =
                    value.parse().unwrap_or_else(|never| match never {});
                (key.clone(), parsed)
            })
            .collect();
        Ok(figment::Profile::Default.collect(dict))
    }
}

impl EnvVars {
    /// The `KILN_*` variables of `env` that are settings, named as in TOML.
    pub(super) fn settings(env: impl IntoIterator<Item = (String, String)>) -> EnvVars {
        EnvVars(
            env.into_iter()
                .filter_map(|(key, value)| {
                    let name = key.strip_prefix("KILN_")?.to_ascii_lowercase();
                    let is_setting = !NON_SETTING_VARS.contains(&name.as_str())
                        && !NON_SETTING_PREFIXES.iter().any(|p| name.starts_with(p));
                    is_setting.then_some((name, value))
                })
                .collect(),
        )
    }
}
