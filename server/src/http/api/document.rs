//! The OpenAPI document as clients receive it: what the handlers' annotations
//! declare, completed so that it validates against the OpenAPI 3.1 schema
//! and code generators can use it. Every response has a description (the
//! status's reason where a handler gave none), every error status carries
//! the one error body the API answers with, every operation names the quota
//! answer (429) and a default error, and the two ways to authenticate are
//! declared. Pure: a JSON value in, a JSON value out.

use serde_json::{Map, Value, json};

/// Completes the document utoipa built (see the module comment).
pub fn complete(mut doc: Value) -> Value {
    add_components(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                if is_method(method) {
                    complete_operation(operation);
                }
            }
        }
    }
    doc
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

fn complete_operation(operation: &mut Value) {
    let Some(operation) = operation.as_object_mut() else {
        return;
    };
    let responses = operation
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    responses
        .entry("429")
        .or_insert_with(|| json!({"description": reason("429")}));
    responses.entry("default").or_insert_with(|| {
        json!({"description": "Any other error: the body's `code` says which, `message` says why"})
    });
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let described = response
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|text| !text.trim().is_empty());
        if !described {
            response.insert("description".into(), Value::String(reason(status).into()));
        }
        if is_error(status) && !response.contains_key("content") {
            response.insert(
                "content".into(),
                json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}),
            );
        }
    }
}

/// 4xx, 5xx and `default` are answered with the error body.
fn is_error(status: &str) -> bool {
    status == "default" || status.starts_with('4') || status.starts_with('5')
}

/// What a status means in this API, for responses whose handler did not
/// say more.
fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted: the work goes on after the answer",
        "204" => "No content",
        "400" => "Bad request: the body or a parameter cannot be read",
        "401" => "Not signed in: no valid session cookie or API token",
        "403" => "Forbidden: the caller's role does not allow this",
        "404" => "Not found, or not visible to the caller",
        "409" => "Conflict with the current state",
        "413" => "Payload too large",
        "422" => "A field is invalid: `field` names it, `message` says why",
        "429" => {
            "Too many requests: the caller's quota for this minute is spent; `Retry-After` says when to come back"
        }
        "502" => "The git host did not answer as expected",
        "503" => "The database cannot be reached; `Retry-After` says when to try again",
        _ => "See the body",
    }
}

fn add_components(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(components) = components.as_object_mut() else {
        return;
    };
    if let Some(schemas) = components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    {
        schemas.insert("ErrorBody".into(), error_body_schema());
        schemas.insert("ErrorDetail".into(), error_detail_schema());
        schemas.insert("SourceProblem".into(), source_problem_schema());
    }
    if let Some(schemes) = components
        .entry("securitySchemes")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    {
        schemes.insert(
            "token".into(),
            json!({"type": "http", "scheme": "bearer", "description": "An API token (`kiln_…`), made on the account page or with POST /api/v1/me/tokens"}),
        );
        schemes.insert(
            "session".into(),
            json!({"type": "apiKey", "in": "cookie", "name": "kiln_session", "description": "The browser session set by POST /api/v1/auth/login; writes from a browser also need a same-origin `Origin`"}),
        );
    }
    // Either scheme, or none for the operations open to everybody (sign-up,
    // sign-in, version, this document): each operation's answer says which.
    root.entry("security")
        .or_insert_with(|| json!([{"token": []}, {"session": []}, {}]));
}

fn error_body_schema() -> Value {
    json!({
        "type": "object",
        "description": "The body of every error answer",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        "example": {"error": {"code": "invalid", "message": "name: must not be empty", "field": "name"}}
    })
}

fn error_detail_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Stable, snake_case: not_found, invalid, conflict, unauthorized, forbidden, too_many_requests, …"},
            "message": {"type": "string", "description": "For people"},
            "field": {"type": "string", "description": "The request field the error is about, when there is one"},
            "problems": {
                "type": "array",
                "description": "For a file that does not load: every problem with its place",
                "items": {"$ref": "#/components/schemas/SourceProblem"}
            }
        }
    })
}

fn source_problem_schema() -> Value {
    json!({
        "type": "object",
        "required": ["line", "column", "message"],
        "properties": {
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": "integer", "minimum": 1},
            "message": {"type": "string"}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {"/api/v1/x": {
                "parameters": [],
                "get": {"responses": {"200": {"description": ""}, "404": {}}},
                "post": {"responses": {"201": {"description": "Made it"}, "422": {"description": "bad name"}}}
            }}
        })
    }

    #[test]
    fn every_response_gets_a_description() {
        let doc = complete(sample());
        let get = &doc["paths"]["/api/v1/x"]["get"]["responses"];
        assert_eq!(get["200"]["description"], "OK");
        assert_eq!(get["404"]["description"], reason("404"));
        let post = &doc["paths"]["/api/v1/x"]["post"]["responses"];
        assert_eq!(post["201"]["description"], "Made it");
        assert_eq!(post["422"]["description"], "bad name");
    }

    #[test]
    fn errors_carry_the_error_body_and_successes_stay_as_declared() {
        let doc = complete(sample());
        let get = &doc["paths"]["/api/v1/x"]["get"]["responses"];
        let error_ref = "#/components/schemas/ErrorBody";
        assert_eq!(
            get["404"]["content"]["application/json"]["schema"]["$ref"],
            error_ref
        );
        assert_eq!(
            get["429"]["content"]["application/json"]["schema"]["$ref"],
            error_ref
        );
        assert_eq!(
            get["default"]["content"]["application/json"]["schema"]["$ref"],
            error_ref
        );
        assert!(get["200"].get("content").is_none());
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["components"]["securitySchemes"]["token"].is_object());
    }

    #[test]
    fn a_path_level_key_is_not_taken_for_an_operation() {
        let doc = complete(sample());
        assert_eq!(doc["paths"]["/api/v1/x"]["parameters"], json!([]));
    }

    #[test]
    fn a_malformed_document_is_left_alone() {
        assert_eq!(complete(json!([1, 2])), json!([1, 2]));
        let odd = json!({"paths": {"/a": {"get": "nope"}, "/b": 3}});
        assert_eq!(complete(odd.clone())["paths"], odd["paths"]);
    }

    #[test]
    fn the_served_document_describes_every_response() {
        let doc = crate::http::api::openapi();
        let mut seen = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    let text = response["description"].as_str().unwrap_or("");
                    assert!(
                        !text.is_empty(),
                        "{method} {path} {status} has no description"
                    );
                    seen += 1;
                }
            }
        }
        assert!(
            seen > 100,
            "only {seen} responses: the document lost its paths"
        );
    }
}
