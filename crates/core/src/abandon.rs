//! Rolling-window abandon accounting: live answers and abandoned calls over the last
//! `window` (24 h by default, as UK rules require), in time buckets so memory stays
//! bounded however many calls a day brings.

use crate::Instant;
use std::collections::VecDeque;
use std::time::Duration;

const MAX_BUCKETS: u64 = 1440;

#[derive(Clone, Debug)]
pub struct AbandonWindow {
    bucket_ms: u64,
    buckets_in_window: u64,
    /// (bucket number, live answers, abandoned), oldest first.
    buckets: VecDeque<(u64, u32, u32)>,
    answered: u64,
    abandoned: u64,
}

impl AbandonWindow {
    pub fn new(window: Duration) -> Self {
        let window_ms = (window.as_millis() as u64).max(1000);
        let bucket_ms = (window_ms / MAX_BUCKETS).max(1000);
        AbandonWindow {
            bucket_ms,
            buckets_in_window: window_ms.div_ceil(bucket_ms),
            buckets: VecDeque::new(),
            answered: 0,
            abandoned: 0,
        }
    }

    fn expire(&mut self, now: Instant) {
        let current = now.as_millis() / self.bucket_ms;
        while let Some(&(bucket, answered, abandoned)) = self.buckets.front() {
            if bucket + self.buckets_in_window > current {
                break;
            }
            self.answered -= u64::from(answered);
            self.abandoned -= u64::from(abandoned);
            self.buckets.pop_front();
        }
    }

    /// Record a live answer's fate: abandoned or reached an agent.
    pub fn record(&mut self, now: Instant, abandoned: bool) {
        self.expire(now);
        let bucket = now.as_millis() / self.bucket_ms;
        match self.buckets.back_mut() {
            Some(last) if last.0 == bucket => {
                last.1 += 1;
                last.2 += u32::from(abandoned);
            }
            _ => self.buckets.push_back((bucket, 1, u32::from(abandoned))),
        }
        self.answered += 1;
        self.abandoned += u64::from(abandoned);
    }

    /// Takes back a record made at `at` (a connect the telephony could not
    /// carry out: the call's fate is decided again). Nothing if it has left
    /// the window.
    pub fn retract(&mut self, at: Instant, abandoned: bool) {
        let bucket = at.as_millis() / self.bucket_ms;
        if let Some(entry) = self.buckets.iter_mut().find(|b| b.0 == bucket) {
            if entry.1 > 0 && (!abandoned || entry.2 > 0) {
                entry.1 -= 1;
                entry.2 -= u32::from(abandoned);
                self.answered -= 1;
                self.abandoned -= u64::from(abandoned);
            }
        }
    }

    /// (live answers, abandoned) within the window ending at `now`.
    pub fn counts(&mut self, now: Instant) -> (u64, u64) {
        self.expire(now);
        (self.answered, self.abandoned)
    }

    /// Abandoned share of live answers in the window (0 when there were none).
    pub fn rate(&mut self, now: Instant) -> f64 {
        let (answered, abandoned) = self.counts(now);
        crate::figures::abandon_rate(abandoned, answered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_answers_leave_the_window() {
        let mut w = AbandonWindow::new(Duration::from_secs(3600));
        let t = |s: u64| Instant::from_millis(s * 1000);
        w.record(t(0), true);
        for i in 1..=9 {
            w.record(t(i * 60), false);
        }
        assert_eq!(w.counts(t(600)), (10, 1));
        assert!((w.rate(t(600)) - 0.1).abs() < 1e-12);
        assert_eq!(w.counts(t(3600 + 30)), (9, 0));
        assert_eq!(w.counts(t(100_000)), (0, 0));
        assert_eq!(w.rate(t(100_000)), 0.0);
    }
}
