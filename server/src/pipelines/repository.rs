//! Linking a project to its git repository: the URL (checked: https, ssh,
//! or a local path where the operator allows it), the provider, the default
//! branch, the generated hook secret (rotatable) and the optional status
//! token, both sealed with the instance key. The secret is shown to
//! maintainers; the token never leaves the server.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kiln_core::access::Action;
use kiln_core::accounts::NodeKind;
use kiln_core::hooks::{Provider, status};
use kiln_core::pipeline::repository::{RepositoryUrl, check_default_branch, redact};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::ServiceError;
use crate::accounts::Principal;
use crate::accounts::authorize::authorize;
use crate::db::entities::repository;
use crate::engine::Engine;
use crate::engine::secrets::SecretKey;

/// What a maintainer asks for.
pub struct LinkRequest {
    pub url: String,
    pub provider: String,
    pub default_branch: String,
    /// `None` keeps the stored token; `Some("")` removes it.
    pub status_token: Option<String>,
    /// Where the host's API lives when not at its usual address (a local
    /// repository's stand-in, an API behind another name).
    pub api_url: Option<String>,
}

/// A linked repository as maintainers see it.
#[derive(Debug, Clone)]
pub struct Linked {
    pub project_id: i64,
    /// With any password in it replaced by `***`.
    pub url: String,
    pub provider: Provider,
    pub default_branch: String,
    pub hook_secret: String,
    pub has_status_token: bool,
    pub api_url: Option<String>,
    pub updated_at_ms: i64,
}

fn secret_aad(project: i64) -> Vec<u8> {
    format!("kiln-hook-secret:{project}").into_bytes()
}

fn token_aad(project: i64) -> Vec<u8> {
    format!("kiln-status-token:{project}").into_bytes()
}

fn seal(key: &SecretKey, value: &str, aad: &[u8]) -> String {
    STANDARD.encode(key.seal(value.as_bytes(), aad))
}

fn open(
    key: &SecretKey,
    sealed: &str,
    aad: &[u8],
    field: &'static str,
) -> Result<String, ServiceError> {
    let damaged = || ServiceError::invalid(field, "the stored value is damaged");
    let bytes = STANDARD.decode(sealed).map_err(|_| damaged())?;
    let plain = key.open(&bytes, aad)?;
    String::from_utf8(plain).map_err(|_| damaged())
}

/// 32 random bytes, hex: what the hosts are given to sign with.
fn new_hook_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn linked(key: &SecretKey, row: repository::Model) -> Result<Linked, ServiceError> {
    let provider = row
        .provider
        .parse()
        .map_err(|e: String| ServiceError::invalid("provider", e))?;
    Ok(Linked {
        project_id: row.project_id,
        url: redact(&row.url),
        provider,
        default_branch: row.default_branch,
        hook_secret: open(
            key,
            &row.hook_secret,
            &secret_aad(row.project_id),
            "hook_secret",
        )?,
        has_status_token: row.status_token.is_some(),
        api_url: row.api_url,
        updated_at_ms: row.updated_at_ms,
    })
}

/// The project's hook secret in clear, to check a delivery's signature.
pub fn hook_secret_of(engine: &Engine, row: &repository::Model) -> Result<String, ServiceError> {
    open(
        &engine.key,
        &row.hook_secret,
        &secret_aad(row.project_id),
        "hook_secret",
    )
}

/// The project's status token in clear, if it has one.
pub fn status_token_of(
    engine: &Engine,
    row: &repository::Model,
) -> Result<Option<String>, ServiceError> {
    row.status_token
        .as_deref()
        .map(|sealed| {
            open(
                &engine.key,
                sealed,
                &token_aad(row.project_id),
                "status_token",
            )
        })
        .transpose()
}

/// Links (or re-links) `project`; the hook secret is made on the first link
/// and kept after.
pub async fn link(
    engine: &Engine,
    principal: &Principal,
    project: i64,
    request: LinkRequest,
) -> Result<Linked, ServiceError> {
    let db = &engine.db;
    authorize(
        db,
        principal,
        NodeKind::Project,
        project,
        Action::EditSettings,
    )
    .await?;
    let url = RepositoryUrl::parse(&request.url, engine.settings.allow_local_repositories)
        .map_err(|e| ServiceError::invalid("url", e))?;
    if !engine.settings.allow_local_repositories {
        // The same rule as every fetch: told now, not at the first push.
        crate::engine::git_address::check_link(url.as_str(), &engine.http.policy())
            .await
            .map_err(|e| ServiceError::invalid("url", e))?;
    }
    let provider: Provider = request
        .provider
        .parse()
        .map_err(|e: String| ServiceError::invalid("provider", e))?;
    check_default_branch(&request.default_branch)
        .map_err(|e| ServiceError::invalid("default_branch", e))?;
    if let Some(token) = &request.status_token
        && token.len() > 4096
    {
        return Err(ServiceError::invalid(
            "status_token",
            "a status token is at most 4096 bytes",
        ));
    }
    let api_url = request
        .api_url
        .filter(|u| !u.trim().is_empty())
        .map(|u| u.trim().to_owned());
    if let Some(api) = &api_url {
        status::check_api_url(api, engine.settings.allow_local_repositories)
            .map_err(|e| ServiceError::invalid("api_url", e))?;
    }
    let existing = repository::Entity::find_by_id(project).one(db).await?;
    let hook_secret = match &existing {
        Some(row) => row.hook_secret.clone(),
        None => seal(&engine.key, &new_hook_secret(), &secret_aad(project)),
    };
    let status_token = match request.status_token.as_deref() {
        None => existing.as_ref().and_then(|row| row.status_token.clone()),
        Some("") => None,
        Some(token) => Some(seal(&engine.key, token, &token_aad(project))),
    };
    // A token is for sending statuses: they must have somewhere to go.
    if status_token.is_some()
        && let Err(error) = status::api_of(provider, &url, api_url.as_deref())
    {
        let field = if matches!(url, RepositoryUrl::Local(_)) {
            "api_url"
        } else {
            "url"
        };
        return Err(ServiceError::invalid(field, error));
    }
    let row = repository::ActiveModel {
        project_id: Set(project),
        url: Set(url.as_str().to_owned()),
        provider: Set(provider.as_str().to_owned()),
        default_branch: Set(request.default_branch),
        hook_secret: Set(hook_secret),
        status_token: Set(status_token),
        api_url: Set(api_url),
        updated_at_ms: Set(crate::clock::now_ms()),
    };
    let saved = if existing.is_some() {
        repository::Entity::update(row).exec(db).await?
    } else {
        repository::Entity::insert(row)
            .exec_with_returning(db)
            .await?
    };
    linked(&engine.key, saved)
}

/// The linked repository's row, once `principal` may manage `project`.
async fn row_for_maintainer(
    engine: &Engine,
    principal: &Principal,
    project: i64,
) -> Result<repository::Model, ServiceError> {
    authorize(
        &engine.db,
        principal,
        NodeKind::Project,
        project,
        Action::EditSettings,
    )
    .await?;
    repository::Entity::find_by_id(project)
        .one(&engine.db)
        .await?
        .ok_or(ServiceError::NotFound("repository"))
}

/// The project's linked repository, for maintainers.
pub async fn get(
    engine: &Engine,
    principal: &Principal,
    project: i64,
) -> Result<Linked, ServiceError> {
    linked(
        &engine.key,
        row_for_maintainer(engine, principal, project).await?,
    )
}

/// A new hook secret; the old one stops working at once.
pub async fn rotate_secret(
    engine: &Engine,
    principal: &Principal,
    project: i64,
) -> Result<Linked, ServiceError> {
    let db = &engine.db;
    let row = row_for_maintainer(engine, principal, project).await?;
    let mut active: repository::ActiveModel = row.into();
    active.hook_secret = Set(seal(&engine.key, &new_hook_secret(), &secret_aad(project)));
    active.updated_at_ms = Set(crate::clock::now_ms());
    let saved = repository::Entity::update(active).exec(db).await?;
    linked(&engine.key, saved)
}
