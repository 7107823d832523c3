//! Time as the core sees it: an [`Instant`] is a number of milliseconds since an
//! epoch chosen by the driver. The core never asks what time it is; every event
//! carries its own stamp, and durations are plain [`std::time::Duration`]s.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Add;
use std::time::Duration;

/// A point in time, in whole milliseconds since the driver's epoch.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(u64);

impl Instant {
    /// The driver's epoch.
    pub const ZERO: Instant = Instant(0);

    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch; `None` for negative, non-finite or absurdly large values.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() || !(0.0..=1.0e12).contains(&secs) {
            return None;
        }
        Some(Instant((secs * 1000.0).round() as u64))
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// Seconds elapsed since `earlier` (zero if `earlier` is later).
    pub fn secs_since(self, earlier: Instant) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1000.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_reject_nonsense() {
        let t = Instant::from_secs_f64(12.3456).unwrap();
        assert_eq!(t.as_millis(), 12346);
        assert_eq!(Instant::from_secs_f64(-1.0), None);
        assert_eq!(Instant::from_secs_f64(f64::NAN), None);
        assert_eq!(t + Duration::from_secs(2), Instant::from_millis(14346));
        assert_eq!(Instant::ZERO.saturating_since(t), Duration::ZERO);
    }
}
