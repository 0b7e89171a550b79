//! An operation's request and response as a reader wants them on the API
//! page: each body's shape in a compact, TypeScript-like notation
//! (`{ slug: string, description?: string | null }`) and an example value,
//! both made from the OpenAPI document's schemas. Plain functions over the
//! document's JSON; references are followed to a bounded depth (a schema
//! may refer to itself).

use serde_json::{Map, Value, json};

/// How deep references and nesting are followed before a name stands in.
const DEPTH: usize = 6;

/// The request body's shape and the first success response's, with an
/// example of each; `None` where the operation has no JSON body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shapes {
    pub request: Option<String>,
    pub response: Option<String>,
    pub example: Option<String>,
}

/// The shapes of `operation` in `doc`.
pub fn of_operation(doc: &Value, operation: &Value) -> Shapes {
    let schemas = doc["components"]["schemas"].as_object();
    let request = json_schema(&operation["requestBody"]);
    let response = operation["responses"].as_object().and_then(|responses| {
        let mut success: Vec<_> = responses
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        success.sort_by(|a, b| a.0.cmp(b.0));
        success.into_iter().find_map(|(_, r)| json_schema(r))
    });
    let example = request
        .or(response)
        .map(|schema| pretty(&example(schema, schemas, 0)));
    Shapes {
        request: request.map(|s| shape(s, schemas, 0)),
        response: response.map(|s| shape(s, schemas, 0)),
        example,
    }
}

/// The `application/json` schema of a request body or response.
fn json_schema(body: &Value) -> Option<&Value> {
    body["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| &body["content"]["application/json"]["schema"])
}

fn referred<'a>(
    schema: &'a Value,
    schemas: Option<&'a Map<String, Value>>,
) -> Option<(&'a str, &'a Value)> {
    let name = schema["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    schemas?.get(name).map(|s| (name, s))
}

/// The shape of `schema`, indented for `depth`.
pub fn shape(schema: &Value, schemas: Option<&Map<String, Value>>, depth: usize) -> String {
    if let Some((name, target)) = referred(schema, schemas) {
        return if depth >= DEPTH {
            name.to_owned()
        } else {
            shape(target, schemas, depth)
        };
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let parts: Vec<String> = options.iter().map(|o| shape(o, schemas, depth)).collect();
            return parts.join(" | ");
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        let parts: Vec<String> = all.iter().map(|o| shape(o, schemas, depth)).collect();
        return parts.join(" & ");
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values.iter().map(Value::to_string).collect();
        return names.join(" | ");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut parts: Vec<String> = types
        .iter()
        .map(|kind| match *kind {
            "object" => object_shape(schema, schemas, depth),
            "array" => format!("[{}]", shape(&schema["items"], schemas, depth + 1)),
            other => other.to_owned(),
        })
        .collect();
    if parts.is_empty() {
        parts.push(if schema.get("properties").is_some() {
            object_shape(schema, schemas, depth)
        } else {
            "any".to_owned()
        });
    }
    parts.join(" | ")
}

fn object_shape(schema: &Value, schemas: Option<&Map<String, Value>>, depth: usize) -> String {
    let Some(properties) = schema["properties"].as_object().filter(|p| !p.is_empty()) else {
        return "object".to_owned();
    };
    if depth >= DEPTH {
        return "{ … }".to_owned();
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = "  ".repeat(depth + 1);
    let fields: Vec<String> = properties
        .iter()
        .map(|(name, field)| {
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            format!(
                "{inner}{name}{optional}: {}",
                shape(field, schemas, depth + 1)
            )
        })
        .collect();
    format!("{{\n{}\n{}}}", fields.join(",\n"), "  ".repeat(depth))
}

/// An example value of `schema`: the schema's own example where it has
/// one, else the first enum value, else a placeholder of its type.
pub fn example(schema: &Value, schemas: Option<&Map<String, Value>>, depth: usize) -> Value {
    if let Some(given) = schema.get("example") {
        return given.clone();
    }
    if let Some((_, target)) = referred(schema, schemas) {
        return if depth >= DEPTH {
            json!({})
        } else {
            example(target, schemas, depth + 1)
        };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key]
            .as_array()
            .and_then(|options| options.iter().find(|o| o["type"] != "null"))
        {
            return example(first, schemas, depth);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|v| v.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::String(one) => one.as_str(),
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    };
    match kind {
        "object" if depth < DEPTH => {
            let fields = schema["properties"]
                .as_object()
                .map(|properties| {
                    properties
                        .iter()
                        .map(|(name, field)| (name.clone(), example(field, schemas, depth + 1)))
                        .collect()
                })
                .unwrap_or_default();
            Value::Object(fields)
        }
        "object" => json!({}),
        "array" if depth < DEPTH => json!([example(&schema["items"], schemas, depth + 1)]),
        "array" => json!([]),
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2026-01-01T12:00:00Z"),
            _ => json!("string"),
        },
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({
            "components": {"schemas": {
                "NewProject": {
                    "type": "object",
                    "required": ["slug", "group_id"],
                    "properties": {
                        "slug": {"type": "string", "example": "web"},
                        "group_id": {"type": "integer", "format": "int64"},
                        "description": {"type": ["string", "null"]}
                    }
                },
                "Node": {
                    "type": "object",
                    "required": ["id", "kind"],
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["group", "project"]},
                        "parent": {"oneOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]}
                    }
                }
            }},
        })
    }

    fn operation() -> Value {
        json!({
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewProject"}}}},
            "responses": {
                "422": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}
            }
        })
    }

    #[test]
    fn a_request_shows_its_fields_with_what_is_optional() {
        let shapes = of_operation(&doc(), &operation());
        assert_eq!(
            shapes.request.unwrap(),
            "{\n  description?: string | null,\n  group_id: integer,\n  slug: string\n}"
        );
    }

    #[test]
    fn the_response_is_the_success_one_and_a_self_reference_ends() {
        let response = of_operation(&doc(), &operation()).response.unwrap();
        assert!(
            response
                .starts_with("{\n  id: integer,\n  kind: \"group\" | \"project\",\n  parent?: {"),
            "{response}"
        );
        assert!(
            response.contains("Node | null"),
            "the recursion stops at a name: {response}"
        );
    }

    #[test]
    fn the_example_uses_given_examples_enums_and_placeholders() {
        let example: Value =
            serde_json::from_str(&of_operation(&doc(), &operation()).example.unwrap()).unwrap();
        assert_eq!(
            example,
            json!({"slug": "web", "group_id": 1, "description": "string"})
        );
        let node = super::example(
            &json!({"$ref": "#/components/schemas/Node"}),
            doc()["components"]["schemas"].as_object(),
            0,
        );
        assert_eq!(node["kind"], "group");
    }

    #[test]
    fn no_body_no_shapes_and_odd_schemas_do_not_panic() {
        assert_eq!(of_operation(&doc(), &json!({})), Shapes::default());
        for odd in [
            json!(null),
            json!({"type": 5}),
            json!({"$ref": "#/nowhere"}),
            json!({"items": 1, "type": "array"}),
        ] {
            let _ = shape(&odd, None, 0);
            let _ = super::example(&odd, None, 0);
        }
    }
}
