//! Turning a task into what a worker executes, once its inputs are known:
//! templates filled (in commands, values become variable references), and the environment the
//! step sees — workflow and task `env:`, `KILN_RUN_ID`, `KILN_TASK`,
//! `KILN_ATTEMPT`, params as `KILN_PARAM_<NAME>`, and the secrets it asked
//! for. Pure: the worker supplies the values, this decides what they become.

use std::collections::BTreeMap;
use std::time::Duration;

use super::definition::{Action, Task, Workflow};
use super::render::{RenderContext, render_command, render_text};

/// What the run knows when a task starts.
#[derive(Debug, Clone, Default)]
pub struct StepInputs {
    pub run_id: i64,
    pub trigger: String,
    pub started_at: String,
    pub workflow: String,
    pub attempt: i32,
    pub params: BTreeMap<String, String>,
    /// Outputs of the run's finished tasks, by task id.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The secrets visible to the run's project, by name.
    pub secrets: BTreeMap<String, String>,
    /// Why the run gets no secrets, if it gets none (a pull request from a
    /// fork not yet approved): a task that asks for any, or for a labelled
    /// worker, fails with this before anything of it runs.
    pub secrets_withheld: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    Shell {
        command: String,
        env: Vec<(String, String)>,
    },
    Http {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<String>,
        expect: Vec<u16>,
        timeout: Option<Duration>,
    },
}

/// Prepares `task`; the error says which template or secret failed.
pub fn prepare(workflow: &Workflow, task: &Task, inputs: &StepInputs) -> Result<Prepared, String> {
    if let Some(why) = &inputs.secrets_withheld {
        // A labelled worker is a privilege like a secret (a deploy
        // machine): untrusted code does not get there either.
        if !task.secrets.is_empty() {
            return Err(format!(
                "secrets {} withheld: {why}",
                task.secrets.join(", ")
            ));
        }
        if !task.runs_on.is_empty() {
            return Err(format!(
                "runs_on {} withheld: {why}",
                task.runs_on.join(", ")
            ));
        }
    }
    let context = RenderContext {
        params: inputs.params.clone(),
        run: BTreeMap::from([
            ("id".to_owned(), inputs.run_id.to_string()),
            ("trigger".to_owned(), inputs.trigger.clone()),
            ("started_at".to_owned(), inputs.started_at.clone()),
            ("workflow".to_owned(), inputs.workflow.clone()),
        ]),
        outputs: inputs.outputs.clone(),
    };
    match &task.action {
        Action::Run(template) => {
            let command = render_command(template, &context).map_err(|e| format!("run: {e}"))?;
            let mut env = environment(workflow, task, inputs, &context)?;
            // Last, so no `env:` entry can shadow a value the command refers to.
            env.retain(|(name, _)| !name.starts_with("KILN_VALUE_"));
            env.extend(command.values);
            Ok(Prepared::Shell {
                command: command.text,
                env,
            })
        }
        Action::Http(call) => {
            let url = render_text(&call.url, &context).map_err(|e| format!("http.url: {e}"))?;
            let body = call
                .body
                .as_deref()
                .map(|b| render_text(b, &context))
                .transpose()
                .map_err(|e| format!("http.body: {e}"))?;
            let mut headers = Vec::new();
            for (name, value) in &call.headers {
                let value = render_text(value, &context)
                    .map_err(|e| format!("http.headers.{name}: {e}"))?;
                headers.push((name.clone(), value));
            }
            Ok(Prepared::Http {
                method: call.method.clone(),
                url,
                headers,
                body,
                expect: call.expect.clone(),
                timeout: call.timeout.or(task.timeout),
            })
        }
    }
}

/// The name a param has in the environment: `KILN_PARAM_` + upper case.
pub fn param_variable(name: &str) -> String {
    format!("KILN_PARAM_{}", name.to_ascii_uppercase())
}

fn environment(
    workflow: &Workflow,
    task: &Task,
    inputs: &StepInputs,
    context: &RenderContext,
) -> Result<Vec<(String, String)>, String> {
    let mut env: BTreeMap<String, String> = workflow.env.clone();
    for (name, template) in &task.env {
        let value = render_text(template, context).map_err(|e| format!("env.{name}: {e}"))?;
        env.insert(name.clone(), value);
    }
    for (name, value) in &inputs.params {
        env.insert(param_variable(name), value.clone());
    }
    for name in &task.secrets {
        let value = inputs.secrets.get(name).ok_or_else(|| {
            format!("secret {name} is not set on this project or any group above it")
        })?;
        env.insert(name.clone(), value.clone());
    }
    env.insert("KILN_RUN_ID".into(), inputs.run_id.to_string());
    env.insert("KILN_TASK".into(), task.id.clone());
    env.insert("KILN_ATTEMPT".into(), inputs.attempt.to_string());
    Ok(env.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::load;

    const SOURCE: &str = r#"
params:
  target: { type: string, default: "a b; rm -rf /" }
env: { GLOBAL: "1" }
tasks:
  build:
    run: echo {{ params.target }} {{ run.id }}
    env: { WHO: "{{ params.target }}" }
    secrets: [TOKEN]
  notify:
    needs: [build]
    http:
      url: "http://example.test/{{ tasks.build.outputs.version }}"
      method: POST
      body: "v={{ tasks.build.outputs.version }}"
"#;

    fn inputs() -> StepInputs {
        StepInputs {
            run_id: 7,
            attempt: 2,
            params: BTreeMap::from([("target".into(), "a b; rm -rf /".into())]),
            outputs: BTreeMap::from([(
                "build".into(),
                BTreeMap::from([("version".into(), "1.2".into())]),
            )]),
            secrets: BTreeMap::from([("TOKEN".into(), "hunter2".into())]),
            ..StepInputs::default()
        }
    }

    #[test]
    fn commands_are_quoted_and_the_environment_complete() {
        let workflow = load(SOURCE).unwrap();
        let Prepared::Shell { command, env } =
            prepare(&workflow, &workflow.tasks[0], &inputs()).unwrap()
        else {
            panic!("a shell step");
        };
        assert_eq!(command, r#"echo "${KILN_VALUE_1}" "${KILN_VALUE_2}""#);
        let env: BTreeMap<_, _> = env.into_iter().collect();
        assert_eq!(env["KILN_VALUE_1"], "a b; rm -rf /");
        assert_eq!(env["KILN_VALUE_2"], "7");
        assert_eq!(env["GLOBAL"], "1");
        assert_eq!(env["WHO"], "a b; rm -rf /");
        assert_eq!(env["KILN_PARAM_TARGET"], "a b; rm -rf /");
        assert_eq!(env["TOKEN"], "hunter2");
        assert_eq!(env["KILN_RUN_ID"], "7");
        assert_eq!(env["KILN_TASK"], "build");
        assert_eq!(env["KILN_ATTEMPT"], "2");
    }

    #[test]
    fn http_templates_see_upstream_outputs() {
        let workflow = load(SOURCE).unwrap();
        let prepared = prepare(&workflow, &workflow.tasks[1], &inputs()).unwrap();
        let Prepared::Http {
            url, body, method, ..
        } = prepared
        else {
            panic!("an http step");
        };
        assert_eq!(url, "http://example.test/1.2");
        assert_eq!(body.as_deref(), Some("v=1.2"));
        assert_eq!(method, "POST");
    }

    #[test]
    fn a_missing_secret_or_output_says_which() {
        let workflow = load(SOURCE).unwrap();
        let mut without = inputs();
        without.secrets.clear();
        let error = prepare(&workflow, &workflow.tasks[0], &without).unwrap_err();
        assert!(error.contains("secret TOKEN"), "{error}");
        without.outputs.clear();
        let error = prepare(&workflow, &workflow.tasks[1], &without).unwrap_err();
        assert!(error.starts_with("http.url"), "{error}");
    }

    #[test]
    fn withheld_secrets_fail_only_the_tasks_that_ask_for_them_or_a_label() {
        let workflow = load(SOURCE).unwrap();
        let mut fork = inputs();
        fork.secrets_withheld = Some("a pull request from a fork".into());
        let error = prepare(&workflow, &workflow.tasks[0], &fork).unwrap_err();
        assert_eq!(
            error, "secrets TOKEN withheld: a pull request from a fork",
            "{error}"
        );
        assert!(prepare(&workflow, &workflow.tasks[1], &fork).is_ok());
        let mut labelled = workflow.clone();
        labelled.tasks[1].runs_on = vec!["deployer".into()];
        let error = prepare(&labelled, &labelled.tasks[1], &fork).unwrap_err();
        assert!(error.starts_with("runs_on deployer withheld"), "{error}");
    }
}
