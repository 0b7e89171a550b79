//! An operation's request and response as a reader wants them on the API
//! page: each body's shape in a compact, TypeScript-like notation
//! (`{ slug: string, description?: string | null }`) and an example value,
//! both made from the OpenAPI document's schemas. Plain functions over the
//! document's JSON; a reference to a schema already being written out (a
//! schema may refer to itself) prints its name, so every walk ends.

use serde_json::{Map, Value, json};

/// How many references are followed inside one another before a name
/// stands in.
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
        .map(|schema| pretty(&Walk::new(schemas).example(schema)));
    Shapes {
        request: request.map(|s| Walk::new(schemas).shape(s, 0)),
        response: response.map(|s| Walk::new(schemas).shape(s, 0)),
        example,
    }
}

/// The `application/json` schema of a request body or response.
fn json_schema(body: &Value) -> Option<&Value> {
    body["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| &body["content"]["application/json"]["schema"])
}

/// The schemas of the document, and the names being expanded now: a
/// reference to one of those prints its name instead (a schema may refer to
/// itself, directly or through others), so every walk ends and no schema is
/// written out inside itself.
struct Walk<'a> {
    schemas: Option<&'a Map<String, Value>>,
    open: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    fn new(schemas: Option<&'a Map<String, Value>>) -> Self {
        Walk {
            schemas,
            open: Vec::new(),
        }
    }

    /// The schema a reference names, unless it is being expanded already.
    fn enter(&mut self, schema: &'a Value) -> Option<Result<&'a Value, &'a str>> {
        let name = schema["$ref"]
            .as_str()?
            .strip_prefix("#/components/schemas/")?;
        let target = self.schemas?.get(name)?;
        if self.open.contains(&name) || self.open.len() >= DEPTH {
            return Some(Err(name));
        }
        self.open.push(name);
        Some(Ok(target))
    }

    /// The shape of `schema`, indented for `depth`.
    fn shape(&mut self, schema: &'a Value, depth: usize) -> String {
        match self.enter(schema) {
            Some(Ok(target)) => {
                let text = self.shape(target, depth);
                self.open.pop();
                return text;
            }
            Some(Err(name)) => return name.to_owned(),
            None => {}
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let parts: Vec<String> = options.iter().map(|o| self.shape(o, depth)).collect();
                return parts.join(" | ");
            }
        }
        if let Some(all) = schema["allOf"].as_array() {
            let parts: Vec<String> = all.iter().map(|o| self.shape(o, depth)).collect();
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
                "object" => self.object_shape(schema, depth),
                "array" => format!("[{}]", self.shape(&schema["items"], depth + 1)),
                other => other.to_owned(),
            })
            .collect();
        if parts.is_empty() {
            parts.push(if schema.get("properties").is_some() {
                self.object_shape(schema, depth)
            } else {
                "any".to_owned()
            });
        }
        parts.join(" | ")
    }

    fn object_shape(&mut self, schema: &'a Value, depth: usize) -> String {
        let Some(properties) = schema["properties"].as_object().filter(|p| !p.is_empty()) else {
            return "object".to_owned();
        };
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
                format!("{inner}{name}{optional}: {}", self.shape(field, depth + 1))
            })
            .collect();
        format!("{{\n{}\n{}}}", fields.join(",\n"), "  ".repeat(depth))
    }

    /// An example value of `schema`: the schema's own example where it has
    /// one, else the first enum value, else a placeholder of its type.
    fn example(&mut self, schema: &'a Value) -> Value {
        if let Some(given) = schema.get("example") {
            return given.clone();
        }
        match self.enter(schema) {
            Some(Ok(target)) => {
                let value = self.example(target);
                self.open.pop();
                return value;
            }
            Some(Err(_)) => return Value::Null,
            None => {}
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(first) = schema[key]
                .as_array()
                .and_then(|options| options.iter().find(|o| o["type"] != "null"))
            {
                return self.example(first);
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
            "object" => Value::Object(
                schema["properties"]
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, field)| (name.clone(), self.example(field)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "array" => json!([self.example(&schema["items"])]),
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
    fn the_response_is_the_first_success_and_a_self_reference_is_a_name() {
        let response = of_operation(&doc(), &operation()).response.unwrap();
        assert_eq!(
            response,
            "{\n  id: integer,\n  kind: \"group\" | \"project\",\n  parent?: Node | null\n}"
        );
        let two = json!({"responses": {
            "202": {"content": {"application/json": {"schema": {"type": "boolean"}}}},
            "200": {"content": {"application/json": {"schema": {"type": "integer"}}}},
        }});
        assert_eq!(of_operation(&doc(), &two).response.unwrap(), "integer");
    }

    #[test]
    fn the_example_uses_given_examples_enums_and_placeholders() {
        let example: Value =
            serde_json::from_str(&of_operation(&doc(), &operation()).example.unwrap()).unwrap();
        assert_eq!(
            example,
            json!({"slug": "web", "group_id": 1, "description": "string"})
        );
        let doc = doc();
        let node = Walk::new(doc["components"]["schemas"].as_object())
            .example(&json!({"$ref": "#/components/schemas/Node"}));
        assert_eq!(node, json!({"id": 1, "kind": "group", "parent": null}));
    }

    /// References in a loop (a schema that is only a reference to itself,
    /// two that name each other, one with many fields naming itself) end,
    /// small; broken and odd schemas give a shape and an example.
    #[test]
    fn loops_and_odd_schemas_end_small() {
        let looping = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/A"},
            "B": {"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
            "C": {"allOf": [{"$ref": "#/components/schemas/D"}]},
            "D": {"allOf": [{"$ref": "#/components/schemas/C"}]},
            "Wide": {"type": "object", "properties": {
                "a": {"$ref": "#/components/schemas/Wide"}, "b": {"$ref": "#/components/schemas/Wide"},
                "c": {"$ref": "#/components/schemas/Wide"}, "d": {"$ref": "#/components/schemas/Wide"},
                "e": {"items": {"$ref": "#/components/schemas/Wide"}, "type": "array"}
            }}
        }}});
        let schemas = looping["components"]["schemas"].as_object();
        for name in ["A", "B", "C", "D", "Wide"] {
            let reference = json!({"$ref": format!("#/components/schemas/{name}")});
            let shape = Walk::new(schemas).shape(&reference, 0);
            assert!(shape.len() < 200, "{name}: {shape}");
            let example = Walk::new(schemas).example(&reference).to_string();
            assert!(example.len() < 200, "{name}: {example}");
        }
        assert_eq!(of_operation(&doc(), &json!({})), Shapes::default());
        for odd in [
            json!(null),
            json!({"type": 5}),
            json!({"$ref": "#/nowhere"}),
            json!({"items": 1, "type": "array"}),
        ] {
            assert!(!Walk::new(schemas).shape(&odd, 0).is_empty());
            let _ = Walk::new(None).example(&odd);
        }
    }
}
