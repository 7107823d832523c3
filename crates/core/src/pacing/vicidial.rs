//! A baseline for comparison: VICIdial-style adaptive dial level (ADAPT_TAPERED),
//! written from the published description of `AST_VDadapt.pl` / `AST_VDauto_dial.pl`
//! (see `docs/pacing.md`), not from its code.
//!
//! - every 2.5 s it places `round(level x ready agents) - calls not yet connected`
//!   (ready agents only, as with VICIdial's `available_only_ratio_tally`);
//! - every second it samples ready agents, waiting calls and staffed agents; every
//!   15 s `differential = avg ready - avg waiting`,
//!   `level *= 1 + (differential + diff_target) / avg staffed x intensity`, clamped to
//!   `[1, max_level]`;
//! - more than 20 live answers in the last minute with over half dropped halves it;
//! - once the day's drop rate (over 50 answers) exceeds the cap, the level tapers
//!   towards 1 as the calling day goes on.
//!
//! It steers idle agents, not the abandon rate, and its window is the day so far.

use super::{Pacer, PacingView};
use crate::{Instant, PacingSettings, VicidialParams};
use std::collections::VecDeque;
use std::time::Duration;

const DIAL_EVERY: Duration = Duration::from_millis(2500);
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
const ADJUST_EVERY: Duration = Duration::from_secs(15);
const MINUTE_MS: u64 = 60_000;

pub struct VicidialAdapt {
    params: VicidialParams,
    cap: f64,
    level: f64,
    started: Option<Instant>,
    next_dial: Instant,
    next_sample: Instant,
    next_adjust: Instant,
    /// Sums of ready agents, waiting calls and staffed agents, and the sample count.
    samples: (f64, f64, f64, u32),
    last_minute: VecDeque<(Instant, bool)>,
    day_answered: u64,
    day_dropped: u64,
}

impl VicidialAdapt {
    pub fn new(settings: &PacingSettings) -> Self {
        VicidialAdapt {
            params: settings.vicidial,
            cap: settings.abandon_cap,
            level: 1.0,
            started: None,
            next_dial: Instant::ZERO,
            next_sample: Instant::ZERO,
            next_adjust: Instant::ZERO,
            samples: (0.0, 0.0, 0.0, 0),
            last_minute: VecDeque::new(),
            day_answered: 0,
            day_dropped: 0,
        }
    }

    pub fn level(&self) -> f64 {
        self.level
    }

    fn forget_before_last_minute(&mut self, now: Instant) {
        while self
            .last_minute
            .front()
            .is_some_and(|(t, _)| t.as_millis() + MINUTE_MS < now.as_millis())
        {
            self.last_minute.pop_front();
        }
    }

    fn adjust(&mut self, now: Instant, started: Instant) {
        let (ready, waiting, staffed, n) = self.samples;
        self.samples = (0.0, 0.0, 0.0, 0);
        if n > 0 && staffed > 0.0 {
            let n = f64::from(n);
            let differential = ready / n - waiting / n;
            let mul =
                (differential + self.params.diff_target) / (staffed / n) * self.params.intensity;
            self.level *= 1.0 + mul;
        }
        self.forget_before_last_minute(now);
        let dropped = self.last_minute.iter().filter(|(_, d)| *d).count();
        if self.last_minute.len() > 20 && dropped * 2 > self.last_minute.len() {
            self.level /= 2.0;
        }
        if self.day_answered > 50 && self.day_dropped as f64 > self.cap * self.day_answered as f64 {
            let day_fraction =
                (now.secs_since(started) / self.params.calling_day.as_secs_f64()).min(1.0);
            self.level = 1.0 + (self.level - 1.0) * (1.0 - day_fraction);
        }
        self.level = self.level.clamp(1.0, self.params.max_level);
    }
}

impl Pacer for VicidialAdapt {
    fn plan(&mut self, v: &PacingView<'_>, dials: &mut Vec<f64>) {
        let started = match self.started {
            Some(t) => t,
            None => {
                // The first adjustment comes after a full period of samples.
                self.started = Some(v.now);
                self.next_adjust = v.now + ADJUST_EVERY;
                v.now
            }
        };
        // Catch up at most a minute of missed samples; older ones carry no news.
        if self.next_sample + Duration::from_secs(60) < v.now {
            self.next_sample = v.now;
        }
        while self.next_sample <= v.now {
            self.samples.0 += v.free as f64;
            self.samples.1 += v.waiting as f64;
            self.samples.2 += v.staffed as f64;
            self.samples.3 += 1;
            self.next_sample = self.next_sample + SAMPLE_EVERY;
        }
        if self.next_adjust <= v.now {
            self.adjust(v.now, started);
            self.next_adjust = v.now + ADJUST_EVERY;
        }
        if self.next_dial > v.now {
            return;
        }
        self.next_dial = v.now + DIAL_EVERY;
        let goal = (self.level * v.free as f64).round() as usize;
        let wanted = goal
            .saturating_sub(v.unanswered + v.waiting)
            .min(v.line_room);
        dials.extend(std::iter::repeat_n(0.0, wanted));
    }

    fn on_live_outcome(&mut self, now: Instant, abandoned: bool) {
        self.forget_before_last_minute(now);
        self.last_minute.push_back((now, abandoned));
        self.day_answered += 1;
        self.day_dropped += u64::from(abandoned);
    }

    fn update(&mut self, settings: &PacingSettings) {
        self.params = settings.vicidial;
        self.cap = settings.abandon_cap;
    }

    fn next_wake(&self) -> Option<Instant> {
        Some(self.next_dial.min(self.next_sample).min(self.next_adjust))
    }
}
