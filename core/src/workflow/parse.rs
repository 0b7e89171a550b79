//! YAML text to a [`Workflow`]: every key checked (unknown ones are errors,
//! not ignored), values typed, positions kept. It collects every error it can
//! find rather than stopping at the first.

use std::collections::BTreeMap;

use marked_yaml::Node;

use super::definition::{Action, HttpCall, Param, ParamType, Position, Retry, Task, Workflow};
use super::error::DefinitionError;
use super::reader::{self, Reader, at};
use crate::engine::TriggerRule;
use crate::sandbox::Network;

const WORKFLOW_KEYS: &[&str] = &["name", "description", "params", "env", "tasks"];
const PARAM_KEYS: &[&str] = &["type", "default", "description"];
/// The keys every kind of step shares (a pipeline's steps add their own).
pub(crate) const TASK_KEYS: &[&str] = &[
    "run",
    "http",
    "needs",
    "trigger_rule",
    "retries",
    "retry_delay",
    "retry_backoff",
    "retry_max_delay",
    "timeout",
    "env",
    "secrets",
    "runs_on",
    "network",
    "allow_failure",
    "description",
];
const HTTP_KEYS: &[&str] = &["method", "url", "headers", "body", "expect", "timeout"];
const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Parses a workflow file: the workflow as far as it could be read, and
/// what was wrong on the way. `Err` only when the YAML itself is unreadable.
pub fn parse(source: &str) -> Result<(Workflow, Vec<DefinitionError>), DefinitionError> {
    parse_with(source, false)
}

/// [`parse`], for a definition stored earlier when `stored`.
pub fn parse_with(
    source: &str,
    stored: bool,
) -> Result<(Workflow, Vec<DefinitionError>), DefinitionError> {
    let root = reader::load(source)?;
    let mut p = Reader {
        stored,
        ..Reader::default()
    };
    let workflow = p.workflow(&root);
    Ok((workflow, p.errors))
}

impl Reader {
    fn workflow(&mut self, root: &Node) -> Workflow {
        let mut workflow = Workflow {
            name: None,
            description: String::new(),
            params: Vec::new(),
            env: BTreeMap::new(),
            tasks: Vec::new(),
        };
        let mut saw_tasks = false;
        for (key, _, value) in self.entries(root, "the workflow", WORKFLOW_KEYS) {
            match key {
                "name" => workflow.name = self.display_name(value),
                "description" => {
                    workflow.description = self.string(value, "description").unwrap_or_default()
                }
                "params" => workflow.params = self.params(value),
                "env" => workflow.env = self.env_map(value, "env"),
                "tasks" => {
                    saw_tasks = true;
                    workflow.tasks = self.tasks(value);
                }
                _ => {}
            }
        }
        if !saw_tasks {
            self.error(at(root), "a workflow needs tasks:");
        }
        workflow
    }

    fn params(&mut self, node: &Node) -> Vec<Param> {
        let mut out = Vec::new();
        for (name, pos, spec) in self.entries(node, "params", &[]) {
            if !is_identifier(name) {
                self.error(pos, format!("param name {name:?} must be letters, digits and _, not starting with a digit"));
                continue;
            }
            let mut param = Param {
                name: name.to_owned(),
                kind: ParamType::String,
                default: None,
                description: String::new(),
                at: pos,
            };
            let mut default_at = pos;
            for (key, _, value) in self.entries(spec, &format!("param {name}"), PARAM_KEYS) {
                match key {
                    "type" => {
                        if let Some(raw) = self.string(value, "type") {
                            match ParamType::parse(&raw) {
                                Some(kind) => param.kind = kind,
                                None => self.error(
                                    at(value),
                                    format!("unknown param type {raw:?}: use string, integer, number or boolean"),
                                ),
                            }
                        }
                    }
                    "default" => {
                        default_at = at(value);
                        param.default = self.string(value, "default");
                    }
                    "description" => {
                        param.description = self.string(value, "description").unwrap_or_default()
                    }
                    _ => {}
                }
            }
            if let Some(default) = &param.default
                && let Err(message) = check_param_value(param.kind, default)
            {
                self.error(default_at, format!("default of {name}: {message}"));
            }
            out.push(param);
        }
        out
    }

    fn tasks(&mut self, node: &Node) -> Vec<Task> {
        let mut out = Vec::new();
        for (id, pos, spec) in self.entries(node, "tasks", &[]) {
            if !is_task_id(id) {
                self.error(
                    pos,
                    format!("task id {id:?} must be 1 to 64 letters, digits, - or _"),
                );
                continue;
            }
            let what = format!("task {id}");
            if let Some(task) = self.task(id, pos, spec, &what, TASK_KEYS, &mut |_, _, _| {}) {
                out.push(task);
            }
        }
        if out.is_empty() && self.errors.is_empty() {
            self.error(at(node), "tasks: is empty");
        }
        out
    }

    /// One task (or pipeline step) named `what` in messages: the keys in
    /// `allowed` that tasks know are read here, any other allowed key is
    /// handed to `extra`.
    pub(crate) fn task(
        &mut self,
        id: &str,
        pos: Position,
        spec: &Node,
        what: &str,
        allowed: &[&str],
        extra: &mut dyn FnMut(&mut Reader, &str, &Node),
    ) -> Option<Task> {
        let mut run = None;
        let mut http = None;
        let mut wrote_http = false;
        let mut task = Task {
            id: id.to_owned(),
            action: Action::Run(String::new()),
            needs: Vec::new(),
            trigger_rule: TriggerRule::default(),
            retry: Retry::default(),
            timeout: None,
            env: BTreeMap::new(),
            secrets: Vec::new(),
            runs_on: Vec::new(),
            network: Network::default(),
            allow_failure: false,
            artifacts: Vec::new(),
            at: pos,
        };
        for (key, _, value) in self.entries(spec, what, allowed) {
            match key {
                "run" => run = self.string(value, "run"),
                "http" => {
                    wrote_http = true;
                    http = self.http(value, what);
                }
                "needs" => task.needs = self.list(value, "needs"),
                "trigger_rule" => {
                    if let Some(raw) = self.string(value, "trigger_rule") {
                        match raw.parse() {
                            Ok(rule) => task.trigger_rule = rule,
                            Err(message) => self.error(at(value), message),
                        }
                    }
                }
                "retries" => {
                    if let Some(raw) = self.string(value, "retries") {
                        match raw.parse::<u32>() {
                            Ok(n) if n <= 100 => task.retry.retries = n,
                            _ => self.error(
                                at(value),
                                format!(
                                    "retries must be a whole number from 0 to 100, not {raw:?}"
                                ),
                            ),
                        }
                    }
                }
                "retry_delay" => {
                    if let Some(d) = self.duration(value, "retry_delay") {
                        task.retry.delay = d;
                    }
                }
                "retry_backoff" => match self.string(value, "retry_backoff").as_deref() {
                    Some("exponential") => task.retry.exponential = true,
                    Some("fixed") => task.retry.exponential = false,
                    Some(other) => self.error(
                        at(value),
                        format!("retry_backoff must be fixed or exponential, not {other:?}"),
                    ),
                    None => {}
                },
                "retry_max_delay" => task.retry.max_delay = self.duration(value, "retry_max_delay"),
                "timeout" => task.timeout = self.duration(value, "timeout"),
                "env" => task.env = self.env_map(value, "env"),
                "secrets" => {
                    task.secrets = self
                        .list(value, "secrets")
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect()
                }
                "network" => {
                    if let Some(raw) = self.string(value, "network") {
                        match Network::parse(&raw) {
                            Some(network) => task.network = network,
                            None => self.error(
                                at(value),
                                format!("network must be host or none, not {raw:?}"),
                            ),
                        }
                    }
                }
                "allow_failure" => match self.string(value, "allow_failure").as_deref() {
                    Some("true") => task.allow_failure = true,
                    Some("false") => task.allow_failure = false,
                    Some(other) => self.error(
                        at(value),
                        format!("allow_failure must be true or false, not {other:?}"),
                    ),
                    None => {}
                },
                "runs_on" => {
                    task.runs_on = self
                        .list(value, "runs_on")
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect()
                }
                other => extra(self, other, value),
            }
        }
        task.action = match (run, http) {
            (Some(command), None) => Action::Run(command),
            (None, Some(call)) => Action::Http(call),
            (Some(_), Some(_)) => {
                self.error(pos, format!("{what} has both run: and http:; give one"));
                return None;
            }
            // An http: with errors of its own has said so already.
            (None, None) if wrote_http => return None,
            (None, None) => {
                self.error(
                    pos,
                    format!("{what} needs run: (a shell command) or http: (a request)"),
                );
                return None;
            }
        };
        Some(task)
    }

    fn http(&mut self, node: &Node, what: &str) -> Option<HttpCall> {
        let mut call = HttpCall {
            method: "GET".to_owned(),
            url: String::new(),
            headers: BTreeMap::new(),
            body: None,
            expect: Vec::new(),
            timeout: None,
        };
        let mut has_url = false;
        for (key, _, value) in self.entries(node, &format!("{what} http"), HTTP_KEYS) {
            match key {
                "method" => {
                    if let Some(method) = self.string(value, "method") {
                        let upper = method.to_ascii_uppercase();
                        if HTTP_METHODS.contains(&upper.as_str()) {
                            call.method = upper;
                        } else {
                            self.error(at(value), format!("unknown HTTP method {method:?}"));
                        }
                    }
                }
                "url" => {
                    has_url = true;
                    call.url = self.string(value, "url").unwrap_or_default();
                }
                "headers" => call.headers = self.string_map(value, "headers"),
                "body" => call.body = self.string(value, "body"),
                "expect" => {
                    for (raw, pos) in self.list(value, "expect") {
                        match raw.parse::<u16>() {
                            Ok(code) if (100..=599).contains(&code) => call.expect.push(code),
                            _ => self.error(pos, format!("expect: {raw:?} is not an HTTP status")),
                        }
                    }
                }
                "timeout" => call.timeout = self.duration(value, "timeout"),
                _ => {}
            }
        }
        if !has_url {
            self.error(at(node), format!("{what} http: needs url:"));
            return None;
        }
        Some(call)
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_task_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `value` is a valid value for a param of `kind`.
pub fn check_param_value(kind: ParamType, value: &str) -> Result<(), String> {
    let ok = match kind {
        ParamType::String => true,
        ParamType::Integer => value.trim().parse::<i64>().is_ok(),
        ParamType::Number => value.trim().parse::<f64>().is_ok_and(f64::is_finite),
        ParamType::Boolean => matches!(value.trim(), "true" | "false"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a{} {}",
            if kind == ParamType::Integer { "n" } else { "" },
            kind.as_str()
        ))
    }
}
