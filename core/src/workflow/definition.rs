//! A workflow as the engine uses it: parameters, and tasks keyed by id with
//! what they run, what they wait for and how they are retried. Built from
//! YAML by `parse`, checked by `validate`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::engine::TriggerRule;

/// Where something is in the file, for error messages (1-based).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub name: Option<String>,
    pub description: String,
    pub params: Vec<Param>,
    pub env: BTreeMap<String, String>,
    /// In file order.
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
        }
    }

    pub fn parse(raw: &str) -> Option<ParamType> {
        [
            ParamType::String,
            ParamType::Integer,
            ParamType::Number,
            ParamType::Boolean,
        ]
        .into_iter()
        .find(|t| t.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    /// As written; checked against `kind` when parsed.
    pub default: Option<String>,
    pub description: String,
    pub at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A shell command line (a template).
    Run(String),
    Http(HttpCall),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// Statuses that count as success; default 200–299.
    pub expect: Vec<u16>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub retries: u32,
    pub delay: Duration,
    /// Double the delay after each attempt, up to `max_delay`.
    pub exponential: bool,
    pub max_delay: Option<Duration>,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 0,
            delay: Duration::from_secs(10),
            exponential: false,
            max_delay: None,
        }
    }
}

impl Retry {
    /// The wait before attempt `attempt` (2 = the first retry).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        if !self.exponential || attempt <= 2 {
            return self.delay;
        }
        let factor = 2u32.saturating_pow(attempt - 2);
        let grown = self.delay.saturating_mul(factor);
        match self.max_delay {
            Some(cap) => grown.min(cap),
            None => grown,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub action: Action,
    pub needs: Vec<(String, Position)>,
    pub trigger_rule: TriggerRule,
    pub retry: Retry,
    pub timeout: Option<Duration>,
    pub env: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    /// Worker labels this task requires.
    pub runs_on: Vec<String>,
    /// Whether its `run:` steps reach the network (`host`) or not (`none`).
    pub network: crate::sandbox::Network,
    /// `allow_failure: true` (GitLab's name): its failure does not fail
    /// the run or stop its downstream steps.
    pub allow_failure: bool,
    /// A pipeline step's `artifacts:`: paths or globs inside its checkout,
    /// saved when it succeeds and restored for the steps after it.
    pub artifacts: Vec<String>,
    pub at: Position,
}

impl Task {
    /// Every template rendered when the task starts, with the field it is
    /// in: its command or request, and its `env:` values.
    pub fn templates(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        match &self.action {
            Action::Run(command) => out.push(("run", command.as_str())),
            Action::Http(call) => {
                out.push(("http.url", call.url.as_str()));
                if let Some(body) = &call.body {
                    out.push(("http.body", body.as_str()));
                }
                for value in call.headers.values() {
                    out.push(("http.headers", value.as_str()));
                }
            }
        }
        for value in self.env.values() {
            out.push(("env", value.as_str()));
        }
        out
    }

    /// Whether its templates can read upstream outputs: those are reached
    /// through the `tasks` variable, which a template has to name, or by
    /// printing the whole context (`debug()`, refused when a workflow is
    /// saved, counted here all the same). When none does, a worker need
    /// not load them.
    pub fn may_read_outputs(&self) -> bool {
        self.templates()
            .iter()
            .any(|(_, t)| t.contains("tasks") || t.contains("debug"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_template_naming_tasks_may_read_outputs() {
        let source = r#"
tasks:
  a:
    run: echo hi {{ run.id }}
  b:
    run: echo b
    env:
      V: "{{ tasks.a.outputs.v }}"
    needs: [a]
  c:
    http:
      url: http://example.test/
      body: "v={{ tasks.a.outputs.v }}"
    needs: [a]
"#;
        let workflow = crate::workflow::load(source).unwrap();
        let reads = |id: &str| {
            let task = workflow.tasks.iter().find(|t| t.id == id).unwrap();
            task.may_read_outputs()
        };
        assert!(!reads("a"));
        assert!(reads("b"), "an env: value names tasks");
        assert!(reads("c"), "a request body names tasks");
    }

    #[test]
    fn exponential_backoff_is_capped() {
        let retry = Retry {
            retries: 5,
            delay: Duration::from_secs(10),
            exponential: true,
            max_delay: Some(Duration::from_secs(60)),
        };
        let delays: Vec<u64> = (2..=6).map(|a| retry.delay_before(a).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60]);
        let flat = Retry {
            exponential: false,
            ..retry
        };
        assert_eq!(flat.delay_before(5), Duration::from_secs(10));
    }
}
