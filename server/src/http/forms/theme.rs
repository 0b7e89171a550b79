//! The colour-scheme buttons: the choice goes into a cookie the pages read
//! when they render (see the app's `components/theme.rs`), then back to
//! the page the buttons were on. Anyone may choose, signed in or not; an
//! unknown value is the system's scheme.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use kiln_app::components::theme::{COOKIE, Theme};

use super::{Posted, field, origin_page};

/// A year: the choice outlives sessions.
const MAX_AGE_SECONDS: u32 = 31_536_000;

pub(super) async fn choose(posted: Posted) -> Response {
    let Posted { parts, fields } = posted;
    let theme = Theme::parse(&field(&fields, "theme")).unwrap_or(Theme::System);
    let page = origin_page(&parts.headers, "/");
    let mut response = Redirect::to(&page).into_response();
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age={MAX_AGE_SECONDS}; SameSite=Lax; HttpOnly",
        theme.as_str()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
