//! The trunk's limits as pacing sees them: how many calls it may start each
//! second and how many it may carry at once. A carrier refuses (or fines)
//! calls beyond either, so the pacer must know them: a dial it cannot place
//! now is a dial it does not ask for, rather than one that waits unseen in an
//! adapter's queue while the core's no-answer timer runs.
//!
//! The rate is a token bucket on the core's own clock: tokens come at
//! `calls_per_second` and at most a hundredth of a second's worth (at least
//! one) is kept, so a burst never exceeds what a strict carrier allows.

use crate::{CoreError, Instant};
use serde::{Deserialize, Serialize};

/// Limits of the line the campaign dials through; zero means none.
#[derive(Copy, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrunkLimits {
    /// Most new calls per second (0: no limit).
    pub calls_per_second: f64,
    /// Most calls in progress at once, connected ones included (0: no limit).
    pub max_calls: u32,
}

impl TrunkLimits {
    pub fn validate(&self) -> Result<(), CoreError> {
        let cps = self.calls_per_second;
        if !(cps == 0.0 || (0.01..=10_000.0).contains(&cps)) {
            return Err(CoreError::InvalidSettings(format!(
                "trunk.calls_per_second must be 0 (no limit) or between 0.01 and 10000, got {cps}"
            )));
        }
        if self.max_calls > 100_000 {
            return Err(CoreError::InvalidSettings(format!(
                "trunk.max_calls must be at most 100000, got {}",
                self.max_calls
            )));
        }
        Ok(())
    }

    /// Calls the trunk may carry on top of `active`, if it limits them.
    pub(crate) fn room(&self, active: usize) -> Option<usize> {
        (self.max_calls > 0).then(|| (self.max_calls as usize).saturating_sub(active))
    }
}

/// Tokens for new calls, refilled at the trunk's rate.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    per_ms: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket for `limits`, or `None` if the rate is not limited.
    pub(crate) fn new(limits: &TrunkLimits, now: Instant) -> Option<Self> {
        (limits.calls_per_second > 0.0).then(|| {
            let burst = (limits.calls_per_second / 100.0).max(1.0);
            TokenBucket {
                per_ms: limits.calls_per_second / 1000.0,
                burst,
                tokens: burst,
                at: now,
            }
        })
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.as_millis().saturating_sub(self.at.as_millis()) as f64;
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.burst);
        self.at = self.at.max(now);
    }

    /// Whole calls that may start at `now`.
    pub(crate) fn available(&mut self, now: Instant) -> usize {
        self.refill(now);
        // Rounding must not hold back a token that has fully come.
        (self.tokens + 1e-9).floor() as usize
    }

    /// One call started (after [`TokenBucket::available`] said it may).
    pub(crate) fn take(&mut self) {
        self.tokens = (self.tokens - 1.0).max(0.0);
    }

    /// When the next whole token will have come (at least a millisecond on).
    pub(crate) fn next_token(&self) -> Instant {
        let missing = (1.0 - self.tokens).max(0.0);
        let ms = (missing / self.per_ms).ceil().max(1.0) as u64;
        Instant::from_millis(self.at.as_millis() + ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(cps: f64) -> TokenBucket {
        let limits = TrunkLimits {
            calls_per_second: cps,
            max_calls: 0,
        };
        TokenBucket::new(&limits, Instant::ZERO).expect("limited")
    }

    #[test]
    fn tokens_come_at_the_rate_and_never_pile_up_beyond_the_burst() {
        let mut b = bucket(5.0);
        assert_eq!(b.available(Instant::ZERO), 1);
        b.take();
        assert_eq!(b.available(Instant::ZERO), 0);
        assert_eq!(b.next_token(), Instant::from_millis(200));
        assert_eq!(b.available(Instant::from_millis(199)), 0);
        assert_eq!(b.available(Instant::from_millis(200)), 1);
        // An hour idle still gives one call, not 18,000.
        assert_eq!(b.available(Instant::from_millis(3_600_000)), 1);
    }

    #[test]
    fn a_fast_trunk_allows_a_hundredth_of_a_second_at_once() {
        let mut b = bucket(2000.0);
        assert_eq!(b.available(Instant::ZERO), 20);
        for _ in 0..20 {
            b.take();
        }
        assert_eq!(b.available(Instant::ZERO), 0);
        assert_eq!(b.next_token(), Instant::from_millis(1));
        // Over one second, the bucket lets through the rate and its burst.
        let mut started = 20;
        for ms in 1..=1000 {
            let now = Instant::from_millis(ms);
            for _ in 0..b.available(now) {
                b.take();
                started += 1;
            }
        }
        assert_eq!(started, 2020);
    }

    #[test]
    fn limits_are_checked() {
        let bad = TrunkLimits {
            calls_per_second: -1.0,
            max_calls: 0,
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("calls_per_second"));
        assert!(TrunkLimits::default().validate().is_ok());
        assert_eq!(TrunkLimits::default().room(5), None);
        let two = TrunkLimits {
            calls_per_second: 0.0,
            max_calls: 2,
        };
        assert_eq!(two.room(1), Some(1));
        assert_eq!(two.room(3), Some(0));
    }
}
