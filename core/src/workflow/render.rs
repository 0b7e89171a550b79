//! Filling in a task's templates when it is about to run. In a `run:`
//! command no value is ever written into the text the shell parses: each
//! `{{ … }}` becomes a reference to an environment variable holding its
//! value (see [`super::shell_refs`]), so a parameter, a branch name or an
//! upstream output stays data whatever quotes the author put around it.
//! Elsewhere (URLs, bodies, env values) values go in as they are. A name
//! with no value is an error, not an empty string.

use std::collections::BTreeMap;

use std::sync::{Arc, Mutex, PoisonError};

use minijinja::{Environment, UndefinedBehavior, Value};

use super::shell_refs::{SENTINEL, place_references, value_variable};

/// What templates can see.
#[derive(Debug, Clone, Default)]
pub struct RenderContext {
    pub params: BTreeMap<String, String>,
    pub run: BTreeMap<String, String>,
    /// task id → output name → value.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl RenderContext {
    fn value(&self) -> Value {
        let tasks: BTreeMap<String, Value> = self
            .outputs
            .iter()
            .map(|(id, outputs)| {
                let task = BTreeMap::from([("outputs".to_owned(), Value::from(outputs.clone()))]);
                (id.clone(), Value::from(task))
            })
            .collect();
        minijinja::context! {
            params => self.params.clone(),
            run => self.run.clone(),
            tasks => tasks,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {0}")]
pub struct RenderError(pub String);

/// Most values one command may carry: each is an environment variable,
/// and the kernel bounds a process's environment.
pub const MAX_COMMAND_VALUES: usize = 1000;

/// A `run:` command ready for the shell: the text, and the variables its
/// references name (`KILN_VALUE_1`, …) with their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub text: String,
    pub values: Vec<(String, String)>,
}

/// Instructions one rendering may execute: far more than any real
/// template needs, few enough that a nested loop stops in milliseconds.
pub const TEMPLATE_FUEL: u64 = 200_000;

/// Largest value one `{{ … }}` may produce, and largest rendered text:
/// the kernel refuses bigger environment entries anyway, and a template
/// must not be a way to make Kiln build gigabytes.
pub const MAX_VALUE_BYTES: usize = 128 * 1024;
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env
}

fn too_large(what: &str, limit: usize) -> minijinja::Error {
    minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!("{what} is larger than {limit} bytes"),
    )
}

fn printable(value: &Value) -> String {
    if value.is_none() || value.is_undefined() {
        String::new()
    } else {
        value.to_string()
    }
}

fn render_with(
    env: &Environment<'_>,
    template: &str,
    context: &RenderContext,
) -> Result<String, RenderError> {
    let text = env
        .render_str(template, context.value())
        .map_err(|e| RenderError(e.detail().map_or_else(|| e.to_string(), str::to_owned)))?;
    if text.len() > MAX_RENDERED_BYTES {
        return Err(RenderError(format!(
            "the rendered text is larger than {MAX_RENDERED_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// A `run:` command: every value becomes a variable reference.
pub fn render_command(template: &str, context: &RenderContext) -> Result<Command, RenderError> {
    if template.contains(SENTINEL) {
        return Err(RenderError(
            "a command cannot contain NUL characters".into(),
        ));
    }
    let values = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut env = environment();
    let sink = values.clone();
    env.set_formatter(move |out, _state, value| {
        let mut values = sink.lock().unwrap_or_else(PoisonError::into_inner);
        if values.len() >= MAX_COMMAND_VALUES {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("more than {MAX_COMMAND_VALUES} values in one command"),
            ));
        }
        let text = printable(value);
        if text.len() > MAX_VALUE_BYTES {
            return Err(too_large("a value", MAX_VALUE_BYTES));
        }
        values.push(text);
        write!(out, "{SENTINEL}{}{SENTINEL}", values.len())
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write"))
    });
    let rendered = render_with(&env, template, context)?;
    let values = std::mem::take(&mut *values.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(Command {
        text: place_references(&rendered).map_err(RenderError)?,
        values: values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (value_variable(i + 1), v))
            .collect(),
    })
}

/// Any other templated text (URL, body, header, env value), values as is.
pub fn render_text(template: &str, context: &RenderContext) -> Result<String, RenderError> {
    render_with(&environment(), template, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RenderContext {
        let mut ctx = RenderContext::default();
        ctx.params
            .insert("branch".into(), "main; rm -rf / #".into());
        ctx.params
            .insert("name".into(), "it's $(whoami) `id`".into());
        ctx.params.insert("plain".into(), "v1.2.3".into());
        ctx.run.insert("id".into(), "42".into());
        ctx.outputs
            .entry("build".into())
            .or_default()
            .insert("artifact".into(), "dist/app.tar.gz".into());
        ctx
    }

    #[test]
    fn values_never_reach_the_command_text() {
        let cmd = render_command(
            "deploy {{ params.branch }} --name \"{{ params.name }}\" '{{ run.id }}'",
            &context(),
        )
        .unwrap();
        assert_eq!(
            cmd.text,
            r#"deploy "${KILN_VALUE_1}" --name "${KILN_VALUE_2}" '${KILN_VALUE_3}'"#
        );
        assert_eq!(
            cmd.values,
            vec![
                ("KILN_VALUE_1".to_owned(), "main; rm -rf / #".to_owned()),
                ("KILN_VALUE_2".to_owned(), "it's $(whoami) `id`".to_owned()),
                ("KILN_VALUE_3".to_owned(), "42".to_owned()),
            ]
        );
    }

    #[test]
    fn loops_and_limits() {
        let cmd = render_command(
            "{% for t in [tasks.build.outputs.artifact, params.plain] %}tar x {{ t }};{% endfor %}",
            &context(),
        )
        .unwrap();
        assert_eq!(
            cmd.text,
            r#"tar x "${KILN_VALUE_1}";tar x "${KILN_VALUE_2}";"#
        );
        let many = render_command("{% for i in range(5000) %}{{ i }}{% endfor %}", &context())
            .unwrap_err();
        assert!(many.0.contains("values in one command"), "{many}");
        assert!(
            render_command("echo \0", &context()).is_err(),
            "NUL is refused"
        );
    }

    #[test]
    fn text_is_not_quoted_and_missing_names_fail() {
        assert_eq!(
            render_text("https://x/{{ run.id }}?b={{ params.plain }}", &context()).unwrap(),
            "https://x/42?b=v1.2.3"
        );
        let err = render_command("echo {{ tasks.test.outputs.x }}", &context()).unwrap_err();
        assert!(err.0.contains("undefined"), "{err}");
    }
}
