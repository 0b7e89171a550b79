//! Login throttling: attempts per minute per account and per client address,
//! with governor's GCRA (a burst of the whole minute's allowance, refilled
//! evenly). Kept in memory: each server throttles what it sees.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ServiceError;

#[derive(Debug)]
pub struct LoginThrottle {
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        Self {
            accounts: RateLimiter::keyed(quota),
            addresses: RateLimiter::keyed(quota),
        }
    }

    /// Spends one attempt for the account and the address; refuses when
    /// either has none left.
    pub fn attempt(&self, username: &str, addr: Option<IpAddr>) -> Result<(), ServiceError> {
        let now = DefaultClock::default().now();
        let key = username.trim().to_ascii_lowercase();
        let mut wait = Duration::ZERO;
        if let Err(not_until) = self.accounts.check_key(&key) {
            wait = wait.max(not_until.wait_time_from(now));
        }
        if let Some(addr) = addr
            && let Err(not_until) = self.addresses.check_key(&addr)
        {
            wait = wait.max(not_until.wait_time_from(now));
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(ServiceError::Throttled { retry_after: wait })
        }
    }

    /// Forgets keys whose allowance has refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.accounts.retain_recent();
        self.addresses.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_per_account_and_per_address() {
        let throttle = LoginThrottle::new(3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            throttle.attempt("Alice", Some(a)).unwrap();
        }
        let err = throttle.attempt("alice", Some(b)).unwrap_err();
        assert!(
            matches!(err, ServiceError::Throttled { retry_after } if retry_after > Duration::ZERO)
        );
        // Another account from the first address: that address is spent too.
        assert!(throttle.attempt("bob", Some(a)).is_err());
        throttle.attempt("bob", Some(b)).unwrap();
    }
}
