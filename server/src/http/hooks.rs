//! `POST /hooks/{provider}/{project}`: git hosts' webhooks. Outside the API:
//! no session, no quota, no CSRF (the signature is the authentication), and
//! its own body limit (`webhook_max_bytes`, 5 MB by default).

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::error::ApiError;
use super::state::AppState;
use crate::pipelines::hooks::{Incoming, link_for, receive as receive_delivery};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookAnswer {
    pub delivery: String,
    pub runs: Vec<i64>,
    pub outcome: String,
}

pub async fn receive(
    State(state): State<AppState>,
    Path((provider, project)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<HookAnswer>), ApiError> {
    let limit = state.config.webhook_max_bytes;
    let project: i64 = project
        .parse()
        .map_err(|_| ApiError::NotFound("no such project".to_owned()))?;
    let (provider, link) = link_for(&state.engine, &provider, project).await?;
    let body = to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit })?;
    let headers = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // In a task of its own: a host that hangs up (or the request's time
    // limit) does not stop a delivery half-way through starting its runs.
    let engine = state.engine.clone();
    let work = tokio::spawn(async move {
        let incoming = Incoming {
            headers,
            body: body.to_vec(),
        };
        receive_delivery(&engine, provider, link, incoming).await
    });
    let delivered = work.await.map_err(|e| ApiError::Internal(Box::new(e)))??;
    Ok((
        StatusCode::ACCEPTED,
        Json(HookAnswer {
            delivery: delivered.delivery,
            runs: delivered.runs,
            outcome: delivered.outcome,
        }),
    ))
}
