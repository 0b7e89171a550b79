//! Extractors whose rejections use the API's error shape: JSON bodies (a
//! syntax error says where, a wrong field says which), query strings and path
//! parameters. Handlers use these instead of axum's own.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // axum reports the failing field's path first: "name: invalid type…".
            JsonRejection::JsonDataError(e) => {
                let detail = e.body_text();
                let detail = detail
                    .split_once("target type: ")
                    .map_or(detail.as_str(), |(_, rest)| rest)
                    .to_owned();
                let field = field_of(&detail);
                ApiError::invalid(field, detail)
            }
            JsonRejection::JsonSyntaxError(e) => {
                let detail = e.body_text();
                let detail = detail
                    .split_once("JSON body: ")
                    .map_or(detail.as_str(), |(_, rest)| rest);
                ApiError::BadRequest(format!("malformed JSON: {detail}"))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

/// The field an error message is about: the leading path (`name: …`), or the
/// name serde quotes in "missing field `x`" / "unknown field `x`".
fn field_of(detail: &str) -> String {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(rest) = detail.split_once(marker).map(|(_, r)| r)
            && let Some((name, _)) = rest.split_once('`')
        {
            return name.to_owned();
        }
    }
    match detail.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && path != "." => path.to_owned(),
        _ => "body".to_owned(),
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let detail = rejection.body_text();
        let detail = detail
            .split_once("query string: ")
            .map_or(detail.as_str(), |(_, rest)| rest)
            .to_owned();
        ApiError::invalid(field_of(&detail), format!("query string: {detail}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(format!("bad path parameter: {}", rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn finds_the_field() {
        assert_eq!(field_of("missing field `slug` at line 1 column 2"), "slug");
        assert_eq!(field_of("unknown field `nmae`, expected one of"), "nmae");
        assert_eq!(
            field_of(
                "visibility: invalid type: integer `1`, expected a string at line 1 column 16"
            ),
            "visibility"
        );
        assert_eq!(field_of("invalid type: map, expected a string"), "body");
    }
}
