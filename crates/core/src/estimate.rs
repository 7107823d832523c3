//! Online estimates the predictive pacer learns from the calls it makes: how often a
//! dial reaches a live person, how long phones ring before an answer or a failure, and
//! how long an agent stays busy after a connect. Every estimate forgets slowly (a
//! half-life counted in observations) so it follows a workload that drifts during
//! the day, and starts from weak priors so the first minutes are sane.

use crate::config::Priors;
use crate::Instant;
use std::collections::VecDeque;
use std::time::Duration;

/// Observations after which an old observation weighs half as much as a new one.
const HALF_LIFE: f64 = 300.0;
/// Weight of the prior, in observations.
const PRIOR_WEIGHT: f64 = 5.0;

fn decay() -> f64 {
    0.5f64.powf(1.0 / HALF_LIFE)
}

/// Standard normal cumulative distribution.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Cumulative distribution of a lognormal with the given mean and coefficient of variation.
fn lognormal_cdf(x: f64, mean: f64, cv: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let sigma2 = (1.0 + cv * cv).ln();
    let mu = mean.ln() - sigma2 / 2.0;
    normal_cdf((x.ln() - mu) / sigma2.sqrt())
}

/// A decaying empirical distribution of durations, in fixed-width bins with an
/// exponential tail past the last bin.
#[derive(Clone, Debug)]
pub struct DurationHistogram {
    bin_secs: f64,
    weights: Vec<f64>,
    overflow: f64,
    /// Mean excess over the last bin edge of the overflowing observations.
    tail_excess: f64,
    total: f64,
    /// cdf[i] = P(X <= i * bin_secs), i = 0..=bins.
    cdf: Vec<f64>,
}

impl DurationHistogram {
    /// An empty histogram of `bins` bins of `bin_secs`, seeded with a lognormal prior.
    pub fn with_prior(bin_secs: f64, bins: usize, prior_mean: f64, prior_cv: f64) -> Self {
        let mut h = DurationHistogram {
            bin_secs,
            weights: vec![0.0; bins],
            overflow: 0.0,
            tail_excess: prior_mean.max(bin_secs),
            total: 0.0,
            cdf: vec![0.0; bins + 1],
        };
        let mut previous = 0.0;
        for i in 0..bins {
            let c = lognormal_cdf((i + 1) as f64 * bin_secs, prior_mean, prior_cv);
            h.weights[i] = (c - previous) * PRIOR_WEIGHT;
            previous = c;
        }
        h.overflow = (1.0 - previous) * PRIOR_WEIGHT;
        h.total = PRIOR_WEIGHT;
        h.rebuild();
        h
    }

    fn max_secs(&self) -> f64 {
        self.weights.len() as f64 * self.bin_secs
    }

    fn rebuild(&mut self) {
        let mut acc = 0.0;
        self.cdf[0] = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            self.cdf[i + 1] = acc / self.total;
        }
    }

    pub fn observe(&mut self, secs: f64) {
        if !secs.is_finite() || secs < 0.0 {
            return;
        }
        let d = decay();
        for w in &mut self.weights {
            *w *= d;
        }
        self.overflow *= d;
        self.total = self.total * d + 1.0;
        let bin = (secs / self.bin_secs) as usize;
        if bin < self.weights.len() {
            self.weights[bin] += 1.0;
        } else {
            self.overflow += 1.0;
            let excess = secs - self.max_secs();
            self.tail_excess += (excess - self.tail_excess) / 20.0;
        }
        self.rebuild();
    }

    /// P(X <= secs).
    pub fn cdf(&self, secs: f64) -> f64 {
        if secs <= 0.0 {
            return 0.0;
        }
        let pos = secs / self.bin_secs;
        let i = pos as usize;
        let bins = self.weights.len();
        if i >= bins {
            let at_edge = self.cdf[bins];
            let excess = secs - self.max_secs();
            return at_edge
                + (1.0 - at_edge) * (1.0 - (-excess / self.tail_excess.max(1e-3)).exp());
        }
        let frac = pos - i as f64;
        self.cdf[i] + (self.cdf[i + 1] - self.cdf[i]) * frac
    }

    /// P(X <= elapsed + h | X > elapsed).
    pub fn conditional_within(&self, elapsed: f64, h: f64) -> f64 {
        let survived = 1.0 - self.cdf(elapsed);
        if survived <= 1e-9 {
            // Past every observation: assume an exponential tail.
            return 1.0 - (-h / self.tail_excess.max(1e-3)).exp();
        }
        ((self.cdf(elapsed + h) - self.cdf(elapsed)) / survived).clamp(0.0, 1.0)
    }

    /// The smallest x with P(X <= x) >= q.
    pub fn quantile(&self, q: f64) -> f64 {
        let bins = self.weights.len();
        for i in 0..bins {
            if self.cdf[i + 1] >= q {
                let span = self.cdf[i + 1] - self.cdf[i];
                let frac = if span > 0.0 {
                    (q - self.cdf[i]) / span
                } else {
                    0.0
                };
                return (i as f64 + frac) * self.bin_secs;
            }
        }
        self.max_secs() + self.tail_excess
    }

    /// Mean of the distribution.
    pub fn mean(&self) -> f64 {
        let body: f64 = self
            .weights
            .iter()
            .enumerate()
            .map(|(i, w)| w * (i as f64 + 0.5) * self.bin_secs)
            .sum();
        (body + self.overflow * (self.max_secs() + self.tail_excess)) / self.total
    }
}

/// How dials end, in shares of decayed counts.
#[derive(Clone, Debug)]
struct OutcomeMix {
    answered: f64,
    failed_early: f64,
    no_answer: f64,
}

impl OutcomeMix {
    fn total(&self) -> f64 {
        self.answered + self.failed_early + self.no_answer
    }

    fn add(&mut self, answered: f64, failed_early: f64, no_answer: f64) {
        let d = decay();
        self.answered = self.answered * d + answered;
        self.failed_early = self.failed_early * d + failed_early;
        self.no_answer = self.no_answer * d + no_answer;
    }
}

/// The posterior of one ringing call, computed once and asked for several horizons.
pub struct RingingCall<'a> {
    estimates: &'a Estimates,
    rung: f64,
    answered_by_now: f64,
    /// p / P(still ringing at `rung`).
    scale: f64,
}

impl RingingCall<'_> {
    /// Probability of a live answer within the next `h` seconds.
    pub fn answer_within(&self, h: f64) -> f64 {
        let f = &self.estimates.ring_to_answer;
        (self.scale * (f.cdf(self.rung + h) - self.answered_by_now)).clamp(0.0, 1.0)
    }
}

/// A survival curve P(X > t) at the bin edges of a histogram, with an exponential tail.
#[derive(Clone, Debug, Default)]
pub struct Survival {
    bin_secs: f64,
    at_edges: Vec<f64>,
    tail_mean: f64,
}

impl Survival {
    /// P(X > t).
    pub fn at(&self, t: f64) -> f64 {
        if t <= 0.0 || self.at_edges.is_empty() {
            return 1.0;
        }
        let bins = self.at_edges.len() - 1;
        let pos = t / self.bin_secs;
        let i = pos as usize;
        if i >= bins {
            let excess = t - bins as f64 * self.bin_secs;
            return self.at_edges[bins] * (-excess / self.tail_mean.max(1e-3)).exp();
        }
        let frac = pos - i as f64;
        self.at_edges[i] + (self.at_edges[i + 1] - self.at_edges[i]) * frac
    }

    /// P(X <= elapsed + h | X > elapsed).
    pub fn within(&self, elapsed: f64, h: f64) -> f64 {
        let survived = self.at(elapsed);
        if survived <= 1e-12 {
            return 1.0 - (-h / self.tail_mean.max(1e-3)).exp();
        }
        (1.0 - self.at(elapsed + h) / survived).clamp(0.0, 1.0)
    }
}

/// What a dial came to, as far as the estimates are concerned.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum DialResult {
    /// A live answer after ringing `rung` seconds.
    Answered { rung: f64 },
    /// Busy, congestion, rejected … after `rung` seconds.
    FailedEarly { rung: f64 },
    /// Rang until the no-answer timeout.
    NoAnswer,
    /// Ended before its fate was known (no contact, or cancelled early): teaches nothing.
    Withdrawn,
}

/// The dials placed within one second, held until every one of them is resolved.
#[derive(Clone, Debug)]
struct Cohort {
    second: u64,
    outstanding: u32,
    results: Vec<DialResult>,
}

/// All the estimates a campaign keeps, whatever its pacing mode.
///
/// Dial results are learned *by cohort*: the dials of one second are taken in only
/// when all of them are resolved. Answers and busy signals come back within seconds,
/// no-answers only at the timeout; learning each as it came would see, whenever the
/// dial rate changes, an answer rate far from the truth (after a burst of dials, first
/// far too high, then far too low).
#[derive(Clone, Debug)]
pub struct Estimates {
    mix: OutcomeMix,
    ring_to_answer: DurationHistogram,
    ring_to_failure: DurationHistogram,
    busy_time: DurationHistogram,
    no_answer_timeout: f64,
    cohorts: VecDeque<Cohort>,
    /// Dial results learned so far (not decayed).
    dials_seen: u64,
}

impl Estimates {
    pub fn new(priors: &Priors, no_answer_timeout: Duration) -> Self {
        let p = priors.answer_probability;
        let ring = priors.ring_time.as_secs_f64().max(0.5);
        let handle = priors.handle_time.as_secs_f64().max(1.0);
        Estimates {
            mix: OutcomeMix {
                answered: p * PRIOR_WEIGHT,
                failed_early: 0.0,
                no_answer: (1.0 - p) * PRIOR_WEIGHT,
            },
            ring_to_answer: DurationHistogram::with_prior(0.5, 240, ring, 0.5),
            ring_to_failure: DurationHistogram::with_prior(0.5, 240, 5.0, 0.5),
            busy_time: DurationHistogram::with_prior(2.0, 1800, handle, 1.0),
            no_answer_timeout: no_answer_timeout.as_secs_f64(),
            cohorts: VecDeque::new(),
            dials_seen: 0,
        }
    }

    /// A dial was placed at `at`; its result must follow with [`Estimates::dial_resolved`].
    pub fn dial_placed(&mut self, at: Instant) {
        let second = at.as_millis() / 1000;
        match self.cohorts.back_mut() {
            Some(c) if c.second == second => c.outstanding += 1,
            _ => self.cohorts.push_back(Cohort {
                second,
                outstanding: 1,
                results: Vec::new(),
            }),
        }
    }

    /// The dial placed at `dialed_at` came to `result`.
    pub fn dial_resolved(&mut self, dialed_at: Instant, result: DialResult) {
        let second = dialed_at.as_millis() / 1000;
        let Ok(i) = self.cohorts.binary_search_by_key(&second, |c| c.second) else {
            return;
        };
        let cohort = &mut self.cohorts[i];
        cohort.outstanding = cohort.outstanding.saturating_sub(1);
        cohort.results.push(result);
        while self.cohorts.front().is_some_and(|c| c.outstanding == 0) {
            if let Some(done) = self.cohorts.pop_front() {
                done.results.iter().for_each(|r| self.learn(*r));
            }
        }
    }

    fn learn(&mut self, result: DialResult) {
        match result {
            DialResult::Answered { rung } => {
                self.mix.add(1.0, 0.0, 0.0);
                self.ring_to_answer.observe(rung);
            }
            DialResult::FailedEarly { rung } => {
                self.mix.add(0.0, 1.0, 0.0);
                self.ring_to_failure.observe(rung);
            }
            DialResult::NoAnswer => self.mix.add(0.0, 0.0, 1.0),
            DialResult::Withdrawn => return,
        }
        self.dials_seen += 1;
    }

    /// An agent's busy period (connect to ready again) ended.
    pub fn observe_busy_time(&mut self, secs: f64) {
        self.busy_time.observe(secs);
    }

    /// Mean busy period (connect to ready again) seen so far, prior included (s).
    pub fn mean_busy_secs(&self) -> f64 {
        self.busy_time.mean()
    }

    /// Dial outcomes observed so far.
    pub fn dials_observed(&self) -> u64 {
        self.dials_seen
    }

    /// Probability that a new dial reaches a live person.
    pub fn answer_probability(&self) -> f64 {
        self.mix.answered / self.mix.total()
    }

    pub fn ring_to_answer(&self) -> &DurationHistogram {
        &self.ring_to_answer
    }

    /// What is known of a call that has rung `rung` seconds without an outcome.
    pub fn ringing_call(&self, rung: f64) -> RingingCall<'_> {
        let total = self.mix.total();
        let p = self.mix.answered / total;
        let q_fail = self.mix.failed_early / total;
        let q_na = if rung < self.no_answer_timeout {
            self.mix.no_answer / total
        } else {
            0.0
        };
        let answered_by_now = self.ring_to_answer.cdf(rung);
        let den =
            p * (1.0 - answered_by_now) + q_fail * (1.0 - self.ring_to_failure.cdf(rung)) + q_na;
        RingingCall {
            estimates: self,
            rung,
            answered_by_now,
            scale: if den > 1e-12 { p / den } else { 0.0 },
        }
    }

    /// Probability that a call that has rung `rung` seconds without an outcome is
    /// answered within the next `h` seconds.
    pub fn answer_within(&self, rung: f64, h: f64) -> f64 {
        self.ringing_call(rung).answer_within(h)
    }

    /// Survival of busy periods (connect to ready again), by Kaplan–Meier over the
    /// periods that ended *and* those still `running` (their elapsed seconds, as
    /// censored observations). Counting only the periods that ended would learn, early
    /// on, that calls are short: the long ones have not ended yet.
    pub fn busy_survival(&self, running: &[f64]) -> Survival {
        let h = &self.busy_time;
        let bins = h.weights.len();
        let mut censored = vec![0.0; bins];
        let mut censored_beyond = 0.0;
        for &e in running {
            match censored.get_mut((e / h.bin_secs) as usize) {
                Some(c) => *c += 1.0,
                None => censored_beyond += 1.0,
            }
        }
        let mut at_risk = vec![0.0; bins];
        let mut suffix = h.overflow + censored_beyond;
        for i in (0..bins).rev() {
            suffix += h.weights[i] + censored[i];
            // Life-table convention: a period censored within a bin was exposed for half of it.
            at_risk[i] = suffix - censored[i] / 2.0;
        }
        let mut at_edges = vec![1.0; bins + 1];
        for i in 0..bins {
            let hazard = if at_risk[i] > 0.0 {
                (h.weights[i] / at_risk[i]).min(1.0)
            } else {
                0.0
            };
            at_edges[i + 1] = at_edges[i] * (1.0 - hazard);
        }
        Survival {
            bin_secs: h.bin_secs,
            at_edges,
            tail_mean: h.tail_excess,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_learns_a_distribution() {
        let mut h = DurationHistogram::with_prior(1.0, 100, 50.0, 1.0);
        for i in 0..2000 {
            h.observe(10.0 + (i % 10) as f64); // uniform over 10..20
        }
        assert!(h.cdf(9.0) < 0.02);
        assert!((h.cdf(15.0) - 0.5).abs() < 0.05, "{}", h.cdf(15.0));
        assert!(h.cdf(21.0) > 0.98);
        assert!((h.quantile(0.5) - 15.0).abs() < 1.0);
        assert!((h.mean() - 15.0).abs() < 1.0, "{}", h.mean());
        // Conditional: having survived 15 s, almost surely done within 6 more.
        assert!(h.conditional_within(15.0, 6.0) > 0.95);
    }

    #[test]
    fn a_cohort_is_learned_only_once_all_its_dials_are_resolved() {
        let mut e = Estimates::new(
            &Priors {
                answer_probability: 0.5,
                ..Priors::default()
            },
            Duration::from_secs(25),
        );
        let t0 = Instant::from_millis(0);
        let before = e.answer_probability();
        for _ in 0..100 {
            e.dial_placed(t0);
        }
        // The ten answers come back first: nothing is learned yet.
        for _ in 0..10 {
            e.dial_resolved(t0, DialResult::Answered { rung: 6.0 });
        }
        assert_eq!(e.answer_probability(), before);
        assert_eq!(e.dials_observed(), 0);
        for _ in 0..90 {
            e.dial_resolved(t0, DialResult::NoAnswer);
        }
        assert_eq!(e.dials_observed(), 100);
        assert!(
            (e.answer_probability() - 0.1).abs() < 0.05,
            "{}",
            e.answer_probability()
        );
    }

    #[test]
    fn answer_posterior_falls_as_a_call_keeps_ringing() {
        let mut e = Estimates::new(&Priors::default(), Duration::from_secs(25));
        for i in 0..3000 {
            let at = Instant::from_millis(i * 100);
            e.dial_placed(at);
            e.dial_resolved(
                at,
                match i % 10 {
                    0..=2 => DialResult::Answered { rung: 8.0 },
                    3 => DialResult::FailedEarly { rung: 4.0 },
                    _ => DialResult::NoAnswer,
                },
            );
        }
        assert!((e.answer_probability() - 0.3).abs() < 0.02);
        let fresh = e.answer_within(0.0, 30.0);
        let late = e.answer_within(12.0, 30.0);
        assert!((fresh - 0.3).abs() < 0.03, "{fresh}");
        assert!(
            late < 0.01,
            "a call ringing past every observed answer time is hopeless: {late}"
        );
        // Having survived the busy signals, the share of answers grows.
        assert!(e.answer_within(6.0, 30.0) > fresh);
    }
}
