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

/// Params as a caller sent them, before they are read: an API body's JSON
/// values, or a form's text fields (`param.NAME`, empty = the default).
#[derive(Debug, Clone, PartialEq)]
pub enum GivenParams {
    Json(BTreeMap<String, serde_json::Value>),
    Form(Vec<(String, String)>),
}

impl GivenParams {
    /// The inputs given, or every param whose JSON value is neither a
    /// string, a number nor a boolean.
    pub fn inputs(self) -> Result<BTreeMap<String, ParamInput>, Vec<ParamError>> {
        use serde_json::Value;
        match self {
            GivenParams::Form(fields) => Ok(fields
                .into_iter()
                .filter_map(|(key, value)| {
                    let name = key.strip_prefix("param.")?.to_owned();
                    (!value.is_empty()).then_some((name, ParamInput::Text(value)))
                })
                .collect()),
            GivenParams::Json(values) => {
                let mut inputs = BTreeMap::new();
                let mut errors = Vec::new();
                for (name, value) in values {
                    let input = match value {
                        Value::String(s) => ParamInput::Text(s),
                        Value::Bool(b) => ParamInput::Bool(b),
                        Value::Number(n) => match n.as_i64() {
                            Some(i) => ParamInput::Integer(i),
                            None => ParamInput::Number(n.as_f64().unwrap_or(f64::NAN)),
                        },
                        _ => {
                            errors.push(error(&name, "must be a string, a number or a boolean"));
                            continue;
                        }
                    };
                    inputs.insert(name, input);
                }
                if errors.is_empty() {
                    Ok(inputs)
                } else {
                    Err(errors)
                }
            }
        }
    }
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

    #[test]
    fn given_params_are_read_as_sent() {
        let json = GivenParams::Json(BTreeMap::from([
            ("a".to_owned(), serde_json::json!("x")),
            ("b".to_owned(), serde_json::json!(3)),
            ("c".to_owned(), serde_json::json!(1.5)),
            ("d".to_owned(), serde_json::json!(true)),
        ]));
        let inputs = json.inputs().unwrap();
        assert_eq!(inputs["a"], ParamInput::Text("x".into()));
        assert_eq!(inputs["b"], ParamInput::Integer(3));
        assert_eq!(inputs["c"], ParamInput::Number(1.5));
        assert_eq!(inputs["d"], ParamInput::Bool(true));
        let bad = GivenParams::Json(BTreeMap::from([
            ("list".to_owned(), serde_json::json!([1])),
            ("ok".to_owned(), serde_json::json!("y")),
            ("obj".to_owned(), serde_json::json!({})),
        ]));
        let errors = bad.inputs().unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.param.as_str()).collect();
        assert_eq!(names, ["list", "obj"]);
        let form = GivenParams::Form(vec![
            ("param.who".into(), "me".into()),
            ("param.empty".into(), String::new()),
            ("csrf".into(), "t".into()),
        ]);
        let inputs = form.inputs().unwrap();
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs["who"], ParamInput::Text("me".into()));
    }
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
