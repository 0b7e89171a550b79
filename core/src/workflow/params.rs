//! The values a run is started with, checked against the workflow's params:
//! unknown names, missing required ones and wrong types are errors naming
//! the param; defaults fill the rest. Form fields arrive as text and count
//! when they read as the param's type; JSON values must have the type.

use std::collections::BTreeMap;

use super::definition::{ParamType, Workflow};
use super::parse::check_param_value;

/// A value as given when a run is triggered.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamInput {
    Text(String),
    Integer(i64),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("param {param}: {message}")]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

fn error(param: &str, message: impl Into<String>) -> ParamError {
    ParamError {
        param: param.to_owned(),
        message: message.into(),
    }
}

/// Every param's value as text (what templates and `KILN_PARAM_*` see).
pub fn resolve_params(
    workflow: &Workflow,
    given: &BTreeMap<String, ParamInput>,
) -> Result<BTreeMap<String, String>, Vec<ParamError>> {
    let mut errors = Vec::new();
    let mut values = BTreeMap::new();
    for name in given.keys() {
        if !workflow.params.iter().any(|p| &p.name == name) {
            errors.push(error(name, "this workflow has no such param"));
        }
    }
    for param in &workflow.params {
        let value = match (given.get(&param.name), &param.default) {
            (Some(input), _) => match as_text(param.kind, input) {
                Ok(text) => text,
                Err(message) => {
                    errors.push(error(&param.name, message));
                    continue;
                }
            },
            (None, Some(default)) => default.clone(),
            (None, None) => {
                errors.push(error(&param.name, "is required (it has no default)"));
                continue;
            }
        };
        values.insert(param.name.clone(), value);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn as_text(kind: ParamType, input: &ParamInput) -> Result<String, String> {
    let expected = || format!("expected {}", kind.as_str());
    match (kind, input) {
        (_, ParamInput::Text(text)) => {
            check_param_value(kind, text).map(|()| text.trim().to_owned())
        }
        (ParamType::Integer, ParamInput::Integer(n)) => Ok(n.to_string()),
        (ParamType::Number, ParamInput::Integer(n)) => Ok(n.to_string()),
        (ParamType::Number, ParamInput::Number(x)) if x.is_finite() => Ok(x.to_string()),
        (ParamType::Boolean, ParamInput::Bool(b)) => Ok(b.to_string()),
        _ => Err(expected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::load;

    fn workflow() -> Workflow {
        load(
            "params:\n  env:\n    type: string\n  shards:\n    type: integer\n    default: \"2\"\n  ratio:\n    type: number\n    default: \"0.5\"\n  dry:\n    type: boolean\n    default: \"false\"\ntasks:\n  a:\n    run: echo\n",
        )
        .unwrap()
    }

    #[test]
    fn defaults_fill_in_and_types_are_checked() {
        let given = BTreeMap::from([
            ("env".to_owned(), ParamInput::Text("prod".into())),
            ("shards".to_owned(), ParamInput::Integer(8)),
        ]);
        let values = resolve_params(&workflow(), &given).unwrap();
        assert_eq!(values["env"], "prod");
        assert_eq!(values["shards"], "8");
        assert_eq!(values["ratio"], "0.5");
        assert_eq!(values["dry"], "false");
    }

    #[test]
    fn each_mistake_names_its_param() {
        let given = BTreeMap::from([
            ("shards".to_owned(), ParamInput::Text("many".into())),
            ("dry".to_owned(), ParamInput::Integer(1)),
            ("colour".to_owned(), ParamInput::Text("red".into())),
        ]);
        let errors = resolve_params(&workflow(), &given).unwrap_err();
        let named: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.param.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("colour", "this workflow has no such param"),
                ("env", "is required (it has no default)"),
                ("shards", "\"many\" is not an integer"),
                ("dry", "expected boolean"),
            ]
        );
    }

    #[test]
    fn form_text_counts_when_it_reads_as_the_type() {
        let given = BTreeMap::from([
            ("env".to_owned(), ParamInput::Text("dev".into())),
            ("shards".to_owned(), ParamInput::Text(" 3 ".into())),
            ("dry".to_owned(), ParamInput::Text("true".into())),
            ("ratio".to_owned(), ParamInput::Integer(1)),
        ]);
        let values = resolve_params(&workflow(), &given).unwrap();
        assert_eq!(
            (
                values["shards"].as_str(),
                values["dry"].as_str(),
                values["ratio"].as_str()
            ),
            ("3", "true", "1")
        );
    }
}
