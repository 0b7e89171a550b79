//! The API quota: every caller (user, API token, or client address when
//! anonymous) has a budget of cost units per minute, and each request spends
//! its operation's `x-kiln-cost` from the OpenAPI document. GCRA by governor,
//! one limiter per caller (budgets differ per role and per token). Every
//! `/api/v1` response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset`; over budget: 429 with `Retry-After` (the middleware
//! that says so is `quota_gate`).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use super::error::ApiError;
use crate::accounts::Principal;
use crate::config::Config;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

struct Entry {
    per_minute: u32,
    limiter: Limiter,
    last_used: Instant,
}

/// Budgets by kind of caller, and what each operation costs.
#[derive(Clone)]
pub struct Quotas {
    inner: Arc<Inner>,
}

struct Inner {
    anonymous: u32,
    user: u32,
    admin: u32,
    /// `(METHOD, /api/v1/route/{template})` → units.
    costs: HashMap<(String, String), u32>,
    callers: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas").finish_non_exhaustive()
    }
}

impl Quotas {
    pub fn new(config: &Config, costs: HashMap<(String, String), u32>) -> Self {
        Quotas {
            inner: Arc::new(Inner {
                anonymous: config.quota_anonymous_per_minute,
                user: config.quota_user_per_minute,
                admin: config.quota_admin_per_minute,
                costs,
                callers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The budgets a call spends from, tightest last: the caller's (per
    /// address, or per user by role), and a token's own when it sets one. A
    /// token's quota can only narrow its user's, never add to it.
    fn budgets(&self, principal: &Principal) -> Vec<(String, u32)> {
        match principal {
            Principal::Anonymous { addr } => vec![(
                format!(
                    "addr:{}",
                    addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
                ),
                self.inner.anonymous,
            )],
            Principal::User(user) => {
                let by_role = if user.is_admin {
                    self.inner.admin
                } else {
                    self.inner.user
                };
                let mut budgets = vec![(format!("user:{}", user.id), by_role)];
                if let Some(own) = user
                    .token
                    .and_then(|t| t.quota_per_minute.map(|q| (t.id, q)))
                {
                    budgets.push((format!("token:{}", own.0), own.1.min(by_role)));
                }
                budgets
            }
        }
    }

    /// Spends `cost` units for work a page does on the caller's behalf
    /// (the gate sees only the page's GET); `Err` when over the budget.
    pub fn charge(&self, principal: &Principal, cost: u32) -> Result<(), ApiError> {
        match self.spend(principal, cost) {
            Verdict::Allowed { .. } => Ok(()),
            Verdict::Refused {
                limit, retry_after, ..
            } => Err(ApiError::TooManyRequests {
                message: format!(
                    "API quota exceeded: this costs {cost} units and the budget is {limit} a minute"
                ),
                retry_after: retry_after.max(Duration::from_secs(1)),
            }),
        }
    }

    pub fn cost(&self, method: &str, route: &str) -> u32 {
        self.inner
            .costs
            .get(&(method.to_owned(), route.to_owned()))
            .copied()
            .unwrap_or(1)
    }

    /// Spends `cost` units from each of the caller's budgets; the answer is
    /// the tightest one's.
    pub(super) fn spend(&self, principal: &Principal, cost: u32) -> Verdict {
        let mut tightest = None;
        for (key, per_minute) in self.budgets(principal) {
            let verdict = self.spend_from(key, per_minute, cost);
            let refused = matches!(verdict, Verdict::Refused { .. });
            let tighter = match (&tightest, &verdict) {
                (None, _) => true,
                (Some(Verdict::Refused { .. }), _) => false,
                (_, Verdict::Refused { .. }) => true,
                (
                    Some(Verdict::Allowed { remaining: a, .. }),
                    Verdict::Allowed { remaining: b, .. },
                ) => b < a,
            };
            if tighter {
                tightest = Some(verdict);
            }
            if refused {
                break;
            }
        }
        tightest.unwrap_or(Verdict::Allowed {
            limit: 0,
            remaining: 0,
            reset: Duration::ZERO,
        })
    }

    fn spend_from(&self, key: String, per_minute: u32, cost: u32) -> Verdict {
        let per_minute_nz = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let mut callers = self
            .inner
            .callers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = callers
            .entry(key)
            .or_insert_with(|| new_entry(per_minute_nz));
        if entry.per_minute != per_minute {
            *entry = new_entry(per_minute_nz);
        }
        entry.last_used = Instant::now();
        let cost_nz = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
        let unit = Duration::from_secs(60) / per_minute.max(1);
        match entry.limiter.check_n(cost_nz) {
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                Verdict::Allowed {
                    limit: per_minute,
                    remaining,
                    reset: unit * per_minute.saturating_sub(remaining),
                }
            }
            Ok(Err(not_until)) => Verdict::Refused {
                limit: per_minute,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
                reset: unit * per_minute,
            },
            Err(_) => Verdict::Refused {
                limit: per_minute,
                retry_after: Duration::from_secs(60),
                reset: unit * per_minute,
            },
        }
    }

    /// Drops callers idle long enough for their budget to be full again.
    pub fn forget_idle(&self) {
        let mut callers = self
            .inner
            .callers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        callers.retain(|_, entry| entry.last_used.elapsed() < Duration::from_secs(120));
    }
}

fn new_entry(per_minute: NonZeroU32) -> Entry {
    Entry {
        per_minute: per_minute.get(),
        limiter: RateLimiter::direct(Quota::per_minute(per_minute))
            .with_middleware::<StateInformationMiddleware>(),
        last_used: Instant::now(),
    }
}

/// What spending a request's cost decided, with the headers' numbers.
pub(super) enum Verdict {
    Allowed {
        limit: u32,
        remaining: u32,
        reset: Duration,
    },
    Refused {
        limit: u32,
        retry_after: Duration,
        reset: Duration,
    },
}
