//! The predictive policy.
//!
//! For each candidate call it asks: if this call were answered, would an agent be
//! free for it within the connect grace? It answers with the campaign's learned
//! estimates, state by state:
//! - **supply** at the moment the call would be answered: the free agents, plus each
//!   busy agent with the probability that its busy period (talk and wrap-up), already
//!   `e` seconds long, ends within the horizon plus the grace;
//! - **demand** ahead of it: the calls already waiting, plus each call still ringing
//!   with the posterior probability that it is answered within the horizon, given how
//!   long it has rung without an outcome, plus the other new calls;
//! - the horizon is the new call's own ring time, averaged over several quantiles of
//!   the learned ring-to-answer distribution.
//!
//! The call is abandoned if demand reaches supply; that probability, computed exactly
//! for small teams and by a normal approximation for large ones, must stay under a
//! threshold. An outer feedback loop moves the threshold (on a log scale) so that the
//! realised abandon rate settles on the target: down a step on every abandon, up a
//! small step on every connect, in the ratio target / (1 - target).
//!
//! A **hard guard** keeps the abandon rate over the configured window under the cap.
//! Its *slack* is the number of abandons the cap still allows in the window, less the
//! risk of every call in flight (scaled up when risks have under-predicted reality) and
//! `guard_z` standard deviations of it. The threshold is scaled by the slack over
//! `guard_softness` (capped at 1): as the slack runs out only the safest calls are
//! dialed, and with none left the policy is progressive (a call only for an agent with
//! none in flight).

use super::probability::BernoulliSum;
use super::{BusyAgents, Pacer, PacingView};
use crate::{CampaignConfig, PacingSettings};

const MIN_THRESHOLD: f64 = 0.002;
const MAX_THRESHOLD: f64 = 0.6;
/// Live answers after which the calibration of risks against abandons halves its memory.
const CALIBRATION_HALF_LIFE: f64 = 2000.0;
/// Pseudo-abandons on both sides of the calibration, so a few early ones cannot swing it.
const CALIBRATION_PRIOR: f64 = 3.0;
/// Dial outcomes to observe before the answer rate is trusted to dial ahead of agents.
const WARM_UP_DIALS: u64 = 30;
/// Seconds over which the recent dial rate is averaged.
const DIAL_RATE_WINDOW: f64 = 60.0;

pub struct Predictive {
    log_threshold: f64,
    target: f64,
    cap: f64,
    gain: f64,
    guard_z: f64,
    guard_softness: f64,
    horizon_points: usize,
    /// Decayed sums of predicted risk and of actual abandons, for the guard.
    predicted: f64,
    actual: f64,
    /// Recent dials per second (exponentially weighted), and when it was last updated.
    dial_rate: f64,
    rate_at: Option<crate::Instant>,
    busy: BusyAgents,
}

impl Predictive {
    pub fn new(config: &CampaignConfig) -> Self {
        let s = &config.pacing;
        let p = &config.predictive;
        Predictive {
            log_threshold: p.initial_threshold.ln(),
            target: s.abandon_target,
            cap: s.abandon_cap,
            gain: p.feedback_gain,
            guard_z: p.guard_z,
            guard_softness: p.guard_softness,
            horizon_points: p.horizon_points,
            predicted: CALIBRATION_PRIOR,
            actual: CALIBRATION_PRIOR,
            dial_rate: 0.0,
            rate_at: None,
            busy: BusyAgents::default(),
        }
    }

    /// The current per-call abandon threshold.
    pub fn threshold(&self) -> f64 {
        self.log_threshold.exp()
    }

    fn calibration(&self) -> f64 {
        (self.actual / self.predicted).max(1.0)
    }
}

impl Pacer for Predictive {
    fn plan(&mut self, v: &PacingView<'_>, dials: &mut Vec<f64>) {
        if v.staffed == 0 || v.line_room == 0 {
            return;
        }
        let est = v.estimates;
        // Until the answer rate has been observed, dial progressively.
        if est.dials_observed() < WARM_UP_DIALS {
            let wanted = v
                .free
                .saturating_sub(v.unanswered + v.waiting)
                .min(v.line_room);
            dials.extend(std::iter::repeat_n(0.0, wanted));
            return;
        }
        let p = est.answer_probability();
        let grace = v.config.connect_grace.as_secs_f64();
        let k = self.horizon_points;
        let horizons: Vec<f64> = (0..k)
            .map(|i| est.ring_to_answer().quantile((i as f64 + 0.5) / k as f64))
            .collect();
        let new_answer: Vec<f64> = horizons
            .iter()
            .map(|&h| p * est.ring_to_answer().cdf(h))
            .collect();
        let busy = v.staffed.saturating_sub(v.free);
        let mut supply: Vec<BernoulliSum> = vec![BernoulliSum::for_trials(v.free, busy); k];
        let mut demand: Vec<BernoulliSum> =
            vec![BernoulliSum::for_trials(v.waiting, v.unanswered + busy); k];
        // Calls this policy will place before the new one is answered, and that are
        // answered before it (a shorter ring): dialed at the recent rate.
        let elapsed = self.rate_at.map_or(0.0, |t| v.now.secs_since(t));
        self.dial_rate *= (-elapsed / DIAL_RATE_WINDOW).exp();
        self.rate_at = Some(v.now);
        for (d, &h) in demand.iter_mut().zip(&horizons) {
            let steps = 8;
            let integral: f64 = (0..steps)
                .map(|i| {
                    est.ring_to_answer()
                        .cdf(h * (i as f64 + 0.5) / steps as f64)
                        * h
                        / steps as f64
                })
                .sum();
            d.add_poisson(self.dial_rate * p * integral);
            // Inbound callers arriving meanwhile take the agents first.
            if v.inbound_rate > 0.0 {
                d.add_poisson(v.inbound_rate * (h + grace));
            }
        }

        let (running, survival) = self.busy.refresh(v);
        for &elapsed in running {
            for (s, h) in supply.iter_mut().zip(&horizons) {
                s.add_trial(survival.within(elapsed, h + grace));
            }
        }
        let mut pending_risk = 0.0;
        for call in v.calls.values() {
            if !call.phase.is_unanswered() {
                continue;
            }
            pending_risk += call.abandon_risk;
            let ringing = est.ringing_call(v.now.secs_since(call.ring_start()));
            // A call held for a reserved agent (left over from another mode) has its own.
            if call.reserved_for.is_some() {
                continue;
            }
            for (d, h) in demand.iter_mut().zip(&horizons) {
                d.add_trial(ringing.answer_within(*h));
            }
        }

        let threshold = self.threshold();
        let calibration = self.calibration();
        let (answered, abandoned) = (v.window_answered as f64, v.window_abandoned as f64);
        for n in 0..v.line_room {
            let p_abandon = demand
                .iter()
                .zip(&supply)
                .map(|(d, s)| d.prob_at_least(s))
                .sum::<f64>()
                / k as f64;
            let risk = p * p_abandon;
            // The guard: abandons the cap still allows in the window, less the risk in
            // flight and its margin. The threshold tapers to nothing as that slack runs
            // out, so the last of the budget goes to the safest calls.
            let exposed = (pending_risk + risk) * calibration;
            let slack = self.cap * answered - abandoned - exposed - self.guard_z * exposed.sqrt();
            let allowed = threshold * (slack / self.guard_softness).clamp(0.0, 1.0);
            let progressive_ok = v.free > v.unanswered + v.waiting + n;
            if p_abandon > allowed && !progressive_ok {
                break;
            }
            dials.push(risk);
            self.dial_rate += 1.0 / DIAL_RATE_WINDOW;
            self.predicted += risk;
            pending_risk += risk;
            for (d, q) in demand.iter_mut().zip(&new_answer) {
                d.add_trial(*q);
            }
        }
    }

    fn on_live_outcome(&mut self, _now: crate::Instant, abandoned: bool) {
        let d = 0.5f64.powf(1.0 / CALIBRATION_HALF_LIFE);
        self.actual = self.actual * d + if abandoned { 1.0 } else { 0.0 };
        self.predicted *= d;
        if abandoned {
            self.log_threshold -= self.gain;
        } else {
            self.log_threshold += self.gain * self.target / (1.0 - self.target);
        }
        self.log_threshold = self
            .log_threshold
            .clamp(MIN_THRESHOLD.ln(), MAX_THRESHOLD.ln());
    }

    fn update(&mut self, settings: &PacingSettings) {
        self.target = settings.abandon_target;
        self.cap = settings.abandon_cap;
    }
}
