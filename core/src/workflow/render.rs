//! Filling in a task's templates when it is about to run. In a `run:`
//! command every inserted value is shell-quoted, so a parameter, a branch
//! name or an upstream output can never become shell syntax; elsewhere (URLs,
//! bodies, env values) values go in as they are. A name with no value is an
//! error, not an empty string.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior, Value};

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

/// `'…'`-quotes `value` for a POSIX shell, unless it is made only of
/// characters no shell treats specially.
pub fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn environment(quote: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if quote {
        env.set_formatter(|out, _state, value| {
            let text = if value.is_none() || value.is_undefined() {
                String::new()
            } else {
                value.to_string()
            };
            write!(out, "{}", shell_quote(&text)).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write")
            })
        });
    }
    env
}

fn render_with(
    env: &Environment<'_>,
    template: &str,
    context: &RenderContext,
) -> Result<String, RenderError> {
    env.render_str(template, context.value())
        .map_err(|e| RenderError(e.detail().map_or_else(|| e.to_string(), str::to_owned)))
}

/// A `run:` command line, every value shell-quoted.
pub fn render_command(template: &str, context: &RenderContext) -> Result<String, RenderError> {
    render_with(&environment(true), template, context)
}

/// Any other templated text (URL, body, header, env value), values as is.
pub fn render_text(template: &str, context: &RenderContext) -> Result<String, RenderError> {
    render_with(&environment(false), template, context)
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
    fn values_never_become_shell_syntax() {
        let cmd = render_command(
            "deploy {{ params.branch }} --name {{ params.name }}",
            &context(),
        )
        .unwrap();
        assert_eq!(
            cmd,
            r#"deploy 'main; rm -rf / #' --name 'it'\''s $(whoami) `id`'"#
        );
    }

    #[test]
    fn plain_values_stay_readable() {
        let cmd = render_command(
            "tar x {{ tasks.build.outputs.artifact }} {{ params.plain }} {{ run.id }}",
            &context(),
        )
        .unwrap();
        assert_eq!(cmd, "tar x dist/app.tar.gz v1.2.3 42");
        assert_eq!(shell_quote(""), "''");
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
