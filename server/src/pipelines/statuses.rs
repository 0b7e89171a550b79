//! Reporting pipeline runs to their git hosts as commit statuses. The
//! engine writes what each run owes (`engine::repo::statuses`) in the
//! transaction that changes the run; this loop, which every server runs,
//! takes what is due (a lease keeps one sender per status), builds the
//! host's request with the domain's rules, sends it, and records the
//! outcome. A failure is retried with backoff and shown on the run; it
//! never fails the run.

use std::sync::Arc;
use std::time::Duration;

use kiln_core::engine::RunState;
use kiln_core::hooks::Provider;
use kiln_core::hooks::status::{self, Status, StatusRequest};
use kiln_core::net::networks::NetworkList;
use kiln_core::pipeline::repository::RepositoryUrl;
use kiln_core::text::clip_bytes;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;

use super::repository::status_token_of;
use crate::ServiceError;
use crate::clock::now_ms;
use crate::config::Config;
use crate::db::entities::{commit_status, repository};
use crate::engine::http_client::{StepClient, describe};
use crate::engine::repo::statuses::{self, Outcome};
use crate::engine::{Engine, checkout, repo};

/// Between looks for due statuses.
const POLL: Duration = Duration::from_secs(1);
/// Statuses taken per look.
const BATCH: u64 = 32;
/// How long one try may hold a status (well above the request's timeout).
const LEASE_MS: i64 = 60_000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Tries of one state before giving up on it.
pub const MAX_ATTEMPTS: i32 = 8;
/// Longest error kept on a status.
const ERROR_BYTES: usize = 500;

/// What a process needs to send commit statuses.
#[derive(Clone)]
pub struct Reporter {
    client: StepClient,
    /// The server's public address; run pages are linked below it. None:
    /// statuses carry no link.
    base_url: Option<String>,
}

impl Reporter {
    /// Statuses go only where `http:` steps may go (the address guard and
    /// `http_step_allow_networks`), plus this machine's loopback when local
    /// repositories are allowed (their stand-in hosts run there); redirects
    /// are not followed, so a token never travels to another host.
    pub fn from_config(
        config: &Config,
        base_url: Option<String>,
    ) -> Result<Reporter, ServiceError> {
        let mut networks = config.http_step_allow_networks.networks().to_vec();
        if config.allow_local_repositories {
            networks.extend(NetworkList::loopback().networks().iter().copied());
        }
        let allow = NetworkList::new(networks);
        let client = StepClient::without_redirects(allow)
            .map_err(|e| ServiceError::invalid("http_step_allow_networks", e))?;
        Ok(Reporter { client, base_url })
    }

    /// Sends due commit statuses until `shutdown`.
    pub async fn run(self, engine: Arc<Engine>, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    if let Err(error) = report_due(&engine, &self.client, self.base_url.as_deref()).await {
                        // Warned: a row that cannot be read (a state no Kiln wrote)
                        // stops every status until it is fixed.
                        tracing::warn!(%error, "commit statuses not sent this round");
                    }
                }
            }
        }
    }
}

/// One round: every due status this server can take.
pub async fn report_due(
    engine: &Engine,
    client: &StepClient,
    base_url: Option<&str>,
) -> Result<usize, ServiceError> {
    let mut sent = 0;
    for row in statuses::due(&engine.db, now_ms(), BATCH).await? {
        // Each its own time: the sends before it took some.
        let now = now_ms();
        if !statuses::take(&engine.db, &row, now, now + LEASE_MS).await? {
            continue;
        }
        let outcome = match requests_for(engine, &row, base_url).await {
            Ok(requests) => match send_all(client, &requests).await {
                Ok(()) => {
                    sent += requests.len();
                    Outcome::Accepted
                }
                Err(error) => failed(&row, error),
            },
            Err(Unsent::Never(reason)) => Outcome::Dropped { reason },
            Err(Unsent::Later(error)) => failed(&row, error),
        };
        if let Outcome::Failed { error, .. } = &outcome {
            tracing::warn!(run = row.run_id, state = %row.state, %error, "commit status not accepted");
        }
        statuses::record(&engine.db, &row, outcome).await?;
    }
    Ok(sent)
}

/// Why no request was sent.
enum Unsent {
    /// Nothing will ever be sent for this status (no token, no run).
    Never(String),
    /// Try again later.
    Later(String),
}

/// Another try after 2, 4, 8 … seconds (at most 5 minutes), or none after
/// [`MAX_ATTEMPTS`].
fn failed(row: &commit_status::Model, error: String) -> Outcome {
    let tries = row.attempts + 1;
    let error = clip_bytes(&error, ERROR_BYTES).to_owned();
    if tries >= MAX_ATTEMPTS {
        return Outcome::Failed {
            error: format!("gave up after {tries} tries: {error}"),
            next_at_ms: statuses::NEVER_MS,
        };
    }
    let delay_ms = (1_000_i64 << tries.clamp(1, 20)).min(300_000);
    Outcome::Failed {
        error,
        next_at_ms: now_ms() + delay_ms,
    }
}

/// The requests that bring the host up to date, in order: a run that
/// ended before its start was ever reported gets its start first, so the
/// host always sees both.
async fn requests_for(
    engine: &Engine,
    row: &commit_status::Model,
    base_url: Option<&str>,
) -> Result<Vec<StatusRequest>, Unsent> {
    let database = |e: sea_orm::DbErr| Unsent::Later(format!("database: {e}"));
    let run = repo::run(&engine.db, row.run_id)
        .await
        .map_err(database)?
        .ok_or_else(|| Unsent::Never("the run is gone".to_owned()))?;
    let commit = checkout::commit_of(&run)
        .ok_or_else(|| Unsent::Never("the run has no commit".to_owned()))?;
    let link = repository::Entity::find_by_id(run.project_id)
        .one(&engine.db)
        .await
        .map_err(database)?
        .ok_or_else(|| Unsent::Never("the project has no linked repository".to_owned()))?;
    let token = match status_token_of(engine, &link) {
        Ok(Some(token)) => token,
        Ok(None) => {
            return Err(Unsent::Never(
                "not reported: the repository link has no status_token".to_owned(),
            ));
        }
        Err(error) => return Err(Unsent::Never(error.to_string())),
    };
    let never = |e: String| Unsent::Never(format!("not reported: {e}"));
    let provider: Provider = link.provider.parse().map_err(never)?;
    // Stored links were checked when saved: read them as they are.
    let url = RepositoryUrl::parse(&link.url, true).map_err(never)?;
    let api = status::api_of(provider, &url, link.api_url.as_deref()).map_err(never)?;
    let state = row.state;
    let target_url = base_url.map(|base| format!("{}/runs/{}", base.trim_end_matches('/'), run.id));
    let context = format!("kiln/{}", run.pipeline.as_deref().unwrap_or("pipeline"));
    let states = if row.reported.is_none() && state != RunState::Running {
        vec![RunState::Running, state]
    } else {
        vec![state]
    };
    Ok(states
        .into_iter()
        .map(|state| {
            status::request(
                provider,
                &api,
                &Status {
                    sha: &commit.sha,
                    state,
                    target_url: target_url.as_deref(),
                    context: &context,
                },
                &token,
            )
        })
        .collect())
}

async fn send_all(client: &StepClient, requests: &[StatusRequest]) -> Result<(), String> {
    for request in requests {
        send(client, request).await?;
    }
    Ok(())
}

/// Posts `request`; any 2xx is accepted.
async fn send(client: &StepClient, request: &StatusRequest) -> Result<(), String> {
    let url = url::Url::parse(&request.url).map_err(|e| format!("bad API address: {e}"))?;
    client.check_url(&url).map_err(|e| e.to_string())?;
    let mut builder = client
        .client()
        .post(url)
        .timeout(REQUEST_TIMEOUT)
        .json(&request.body);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = builder.send().await.map_err(|e| describe(&e))?;
    let code = response.status();
    if code.is_success() {
        return Ok(());
    }
    let mut body = response.text().await.unwrap_or_default();
    // The answer is shown on the run: a host echoing the token must not
    // show it to every viewer.
    for (_, value) in request
        .headers
        .iter()
        .filter(|(name, _)| matches!(*name, "Authorization" | "PRIVATE-TOKEN"))
    {
        let secret = value.rsplit(' ').next().unwrap_or(value);
        if secret.len() >= 4 {
            body = body.replace(secret, "***");
        }
    }
    Err(format!(
        "the host answered {code}: {}",
        clip_bytes(body.trim(), 200)
    ))
}
