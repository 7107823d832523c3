//! Inbound calls: people who call the centre, waiting in a queue the core
//! owns, answered by the same agents who take outbound calls.
//!
//! The campaign ([`crate::Campaign`]) keeps the queue and routes: a caller
//! is put in a [`CallerClass`] by the driver (it knows who they are), and
//! waits first by class, then first come first served. A free agent takes
//! the head of the queue before any outbound call. A caller who hangs up
//! waiting, waits past [`InboundSettings::max_wait`] or is cut by a stop
//! gets a callback ([`crate::Command::Callback`]): no caller is lost.
//!
//! This module holds what the campaign needs besides its routing: the
//! settings, the arrival forecast by time of day, the agents to hold back
//! from outbound pacing so that the inbound service level is met
//! ([`reserve_for`]), and the inbound figures ([`InboundStats`]).

use crate::Instant;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who is calling, in the order they are answered.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerClass {
    /// A person with an open urgent ticket.
    UrgentTicket,
    /// A known person whose risk is high.
    HighRisk,
    /// Returning a call of ours they missed.
    ReturningMissed,
    /// Anyone else, known or not.
    Other,
}

impl CallerClass {
    pub const ALL: [CallerClass; 4] = [
        CallerClass::UrgentTicket,
        CallerClass::HighRisk,
        CallerClass::ReturningMissed,
        CallerClass::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CallerClass::UrgentTicket => "urgent_ticket",
            CallerClass::HighRisk => "high_risk",
            CallerClass::ReturningMissed => "returning_missed",
            CallerClass::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        CallerClass::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Which calls an agent takes; a supervisor moves agents between them.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    /// Inbound first, outbound when no caller waits.
    #[default]
    Blended,
    InboundOnly,
    OutboundOnly,
}

impl AgentRole {
    pub const ALL: [AgentRole; 3] = [
        AgentRole::Blended,
        AgentRole::InboundOnly,
        AgentRole::OutboundOnly,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AgentRole::Blended => "blended",
            AgentRole::InboundOnly => "inbound_only",
            AgentRole::OutboundOnly => "outbound_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AgentRole::ALL.into_iter().find(|r| r.name() == s)
    }

    pub fn takes_inbound(self) -> bool {
        self != AgentRole::OutboundOnly
    }

    pub fn takes_outbound(self) -> bool {
        self != AgentRole::InboundOnly
    }
}

/// How an inbound call ended. Every arrival gets exactly one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundOutcome {
    /// An agent took the call, then it ended.
    Answered,
    /// The caller hung up waiting; a callback was scheduled.
    HungUpWaiting,
    /// The caller waited past the limit, was told we would call back and
    /// released; a callback was scheduled.
    WaitLimit,
    /// Cut by the service stopping; a callback was scheduled if the caller
    /// had not reached an agent.
    Interrupted,
}

impl InboundOutcome {
    pub fn name(self) -> &'static str {
        match self {
            InboundOutcome::Answered => "answered",
            InboundOutcome::HungUpWaiting => "hung_up_waiting",
            InboundOutcome::WaitLimit => "wait_limit",
            InboundOutcome::Interrupted => "interrupted",
        }
    }

    /// Why the call ended, in a few words, for the call's record.
    pub fn reason(self) -> &'static str {
        match self {
            InboundOutcome::Answered => "answered by an agent",
            InboundOutcome::HungUpWaiting => "hung up waiting in the queue: callback scheduled",
            InboundOutcome::WaitLimit => "waited past the limit: told of the callback",
            InboundOutcome::Interrupted => "service stopped",
        }
    }
}

/// The inbound queue's settings; a supervisor sets the service level.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundSettings {
    /// Share of callers to answer within [`InboundSettings::answer_within`].
    pub service_level: f64,
    #[serde(with = "crate::config::secs")]
    pub answer_within: Duration,
    /// A caller waiting this long is told of a callback and released.
    #[serde(with = "crate::config::secs")]
    pub max_wait: Duration,
    /// Handle time (talk and wrap-up) assumed for inbound calls until some
    /// are seen.
    #[serde(with = "crate::config::secs")]
    pub handle_prior: Duration,
    /// Seconds past local midnight at the core's time zero: the time of day
    /// the arrival forecast is kept by.
    pub day_start_secs: u64,
}

impl Default for InboundSettings {
    fn default() -> Self {
        InboundSettings {
            service_level: 0.8,
            answer_within: Duration::from_secs(20),
            max_wait: Duration::from_secs(180),
            handle_prior: Duration::from_secs(90),
            day_start_secs: 0,
        }
    }
}

impl InboundSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.5..=0.99).contains(&self.service_level) {
            return Err(format!(
                "inbound.service_level must be between 0.5 and 0.99, got {}",
                self.service_level
            ));
        }
        let within = self.answer_within.as_secs_f64();
        if !(1.0..=600.0).contains(&within) {
            return Err(format!(
                "inbound.answer_within must be between 1 and 600 seconds, got {within}"
            ));
        }
        if self.max_wait < self.answer_within || self.max_wait > Duration::from_secs(3600) {
            return Err(format!(
                "inbound.max_wait must be at least answer_within and at most 3600 seconds, got {}",
                self.max_wait.as_secs_f64()
            ));
        }
        if self.handle_prior.is_zero() || self.handle_prior > Duration::from_secs(3600) {
            return Err("inbound.handle_prior must be between 1 and 3600 seconds".into());
        }
        if self.day_start_secs >= 86_400 {
            return Err(format!(
                "inbound.day_start_secs must be below 86400, got {}",
                self.day_start_secs
            ));
        }
        Ok(())
    }
}

/// Time constant of the recent arrival rate (s).
const RECENT_SECS: f64 = 900.0;
/// An hour of the day is trusted once this much of it was observed (s).
const HOUR_TRUSTED_SECS: f64 = 1800.0;

/// The arrival rate expected now: the larger of the recent rate and what
/// the same and the next hour of the day brought before (once seen).
#[derive(Clone, Debug)]
pub struct ArrivalForecast {
    day_start_ms: u64,
    /// Per hour of the day: arrivals and seconds observed.
    hours: [(f64, f64); 24],
    /// Exponentially weighted arrivals per second, and when it was last moved.
    recent: f64,
    recent_at: Instant,
    observed_until: Instant,
}

impl ArrivalForecast {
    pub fn new(day_start_secs: u64) -> Self {
        ArrivalForecast {
            day_start_ms: day_start_secs * 1000,
            hours: [(0.0, 0.0); 24],
            recent: 0.0,
            recent_at: Instant::ZERO,
            observed_until: Instant::ZERO,
        }
    }

    fn hour_of(&self, t: Instant) -> usize {
        (((t.as_millis() + self.day_start_ms) / 3_600_000) % 24) as usize
    }

    /// Time passes: the hours of the day gain observed time, the recent
    /// rate decays.
    fn advance(&mut self, now: Instant) {
        let mut t = self.observed_until;
        while t < now {
            let hour_end = ((t.as_millis() + self.day_start_ms) / 3_600_000 + 1) * 3_600_000
                - self.day_start_ms;
            let until = Instant::from_millis(hour_end.min(now.as_millis()));
            let hour = self.hour_of(t);
            self.hours[hour].1 += until.secs_since(t);
            t = until;
        }
        self.observed_until = now;
        let dt = now.secs_since(self.recent_at);
        self.recent *= (-dt / RECENT_SECS).exp();
        self.recent_at = now;
    }

    pub fn arrival(&mut self, now: Instant) {
        self.advance(now);
        let hour = self.hour_of(now);
        self.hours[hour].0 += 1.0;
        self.recent += 1.0 / RECENT_SECS;
    }

    /// Arrivals per second expected around `now`.
    pub fn rate(&mut self, now: Instant) -> f64 {
        self.advance(now);
        let hour = self.hour_of(now);
        let seen = |(count, secs): (f64, f64)| (secs >= HOUR_TRUSTED_SECS).then(|| count / secs);
        let by_hour = [hour, (hour + 1) % 24]
            .into_iter()
            .filter_map(|h| seen(self.hours[h]))
            .fold(0.0, f64::max);
        self.recent.max(by_hour)
    }
}

/// Agents to keep free for inbound callers, so that a share `service_level`
/// of them is answered within `within_secs`.
///
/// Blended agents are held back from outbound pacing while fewer than the
/// reserve are free. Callers use up the free agents at the arrival rate; the
/// pool is refilled as busy agents finish, at `refill_per_sec` (in a
/// blended centre outbound calls keep the agents busy, so nearly all of
/// them: their number over the mean handle time). With `m`
/// free agents missing, the pool is a birth-death chain like an M/M/1 queue
/// of load `ρ = λ / refill`: a caller waits when `m ≥ reserve`
/// (probability `ρ^reserve`), and then waits longer than `t` with
/// probability `e^{-(refill - λ) t}`. The reserve is the smallest for which
/// `ρ^reserve · e^{-(refill - λ) t} ≤ 1 - service_level`, at most `cap`.
pub fn reserve_for(
    arrivals_per_sec: f64,
    refill_per_sec: f64,
    within_secs: f64,
    service_level: f64,
    cap: usize,
) -> usize {
    if arrivals_per_sec <= 0.0 {
        return 0;
    }
    if refill_per_sec <= arrivals_per_sec {
        return cap;
    }
    let rho = arrivals_per_sec / refill_per_sec;
    let late = (-(refill_per_sec - arrivals_per_sec) * within_secs).exp();
    let allowed = 1.0 - service_level;
    let mut reserve = 0;
    let mut waits = late;
    while waits > allowed && reserve < cap {
        reserve += 1;
        waits *= rho;
    }
    reserve
}

/// Waits kept at one-second resolution up to this (s); longer waits count
/// in the last bin.
const WAIT_BINS: usize = 3600;

/// Inbound figures since the campaign started. Never part of the outbound
/// abandon accounting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundStats {
    pub offered: u64,
    pub answered: u64,
    /// Hung up waiting.
    pub abandoned: u64,
    /// Released at the wait limit.
    pub timed_out: u64,
    pub interrupted: u64,
    /// Answered within the service level's time.
    pub answered_in_time: u64,
    pub callbacks: u64,
    /// Seconds waited by callers who hung up waiting, summed.
    pub abandoned_wait_ms: u64,
    /// Waits of answered callers, by whole second.
    #[serde(skip)]
    waits: Vec<u64>,
    answered_wait_ms: u64,
}

impl Default for InboundStats {
    fn default() -> Self {
        InboundStats {
            offered: 0,
            answered: 0,
            abandoned: 0,
            timed_out: 0,
            interrupted: 0,
            answered_in_time: 0,
            callbacks: 0,
            abandoned_wait_ms: 0,
            waits: vec![0; WAIT_BINS + 1],
            answered_wait_ms: 0,
        }
    }
}

impl InboundStats {
    pub(crate) fn record_answer(&mut self, waited_ms: u64, within: Duration) {
        self.answered += 1;
        self.answered_wait_ms += waited_ms;
        if u128::from(waited_ms) <= within.as_millis() {
            self.answered_in_time += 1;
        }
        let bin = ((waited_ms / 1000) as usize).min(WAIT_BINS);
        self.waits[bin] += 1;
    }

    /// A connect the phone could not take: the answer is taken back.
    pub(crate) fn take_back_answer(&mut self, waited_ms: u64, within: Duration) {
        self.answered = self.answered.saturating_sub(1);
        self.answered_wait_ms = self.answered_wait_ms.saturating_sub(waited_ms);
        if u128::from(waited_ms) <= within.as_millis() {
            self.answered_in_time = self.answered_in_time.saturating_sub(1);
        }
        let bin = ((waited_ms / 1000) as usize).min(WAIT_BINS);
        self.waits[bin] = self.waits[bin].saturating_sub(1);
    }

    /// Callers who left the queue unanswered: hung up, or released at the
    /// wait limit.
    pub fn lost(&self) -> u64 {
        self.abandoned + self.timed_out
    }

    /// Answered within the time over those who reached an answer or left.
    pub fn service_level(&self) -> f64 {
        crate::figures::service_level(self.answered_in_time, self.answered + self.lost())
    }

    /// Mean wait of answered callers (s).
    pub fn mean_wait_secs(&self) -> f64 {
        crate::figures::share(self.answered_wait_ms as f64 / 1000.0, self.answered as f64)
    }

    /// The wait (whole seconds, rounded up) that `q` of answered callers
    /// did not exceed.
    pub fn wait_quantile_secs(&self, q: f64) -> u64 {
        if self.answered == 0 {
            return 0;
        }
        let wanted = ((q * self.answered as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (secs, n) in self.waits.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return secs as u64 + 1;
            }
        }
        WAIT_BINS as u64 + 1
    }

    /// Mean time callers who hung up had waited (s).
    pub fn mean_abandoned_wait_secs(&self) -> f64 {
        crate::figures::share(
            self.abandoned_wait_ms as f64 / 1000.0,
            self.abandoned as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arrivals_need_no_reserve_and_an_overload_takes_every_agent() {
        assert_eq!(reserve_for(0.0, 0.1, 20.0, 0.8, 10), 0);
        assert_eq!(reserve_for(0.2, 0.1, 20.0, 0.8, 10), 10);
    }

    #[test]
    fn the_reserve_grows_with_the_load_and_the_target() {
        // 20 busy agents of 60 s handle time refill one a third of a second.
        let refill = 20.0 / 60.0;
        let light = reserve_for(0.02, refill, 20.0, 0.8, 20);
        let heavy = reserve_for(0.2, refill, 20.0, 0.8, 20);
        let strict = reserve_for(0.2, refill, 20.0, 0.95, 20);
        assert!(light <= heavy && heavy < strict, "{light} {heavy} {strict}");
        assert_eq!(light, 0, "a light load is met by agents freed in time");
    }

    #[test]
    fn the_forecast_remembers_the_hour_of_the_day() {
        let mut f = ArrivalForecast::new(0);
        // Hour 0 of day one: 60 arrivals, one a minute.
        for m in 0..60 {
            f.arrival(Instant::from_millis(m * 60_000));
        }
        // A quiet day until hour 0 of the next day: the recent rate is gone,
        // hour 0 is remembered.
        let next_day = Instant::from_millis(24 * 3_600_000);
        let rate = f.rate(next_day);
        assert!((rate - 1.0 / 60.0).abs() < 1e-3, "{rate}");
        // And an hour never busy forecasts nothing.
        assert!(f.rate(next_day + Duration::from_secs(6 * 3600)) < 1e-9);
    }

    #[test]
    fn wait_quantiles_come_from_answered_callers() {
        let mut s = InboundStats::default();
        for secs in [1, 2, 3, 4, 5, 6, 7, 8, 9, 30] {
            s.record_answer(secs * 1000 - 500, Duration::from_secs(20));
        }
        assert_eq!(s.answered_in_time, 9);
        assert_eq!(s.wait_quantile_secs(0.5), 5);
        assert_eq!(s.wait_quantile_secs(0.95), 30);
        assert!((s.service_level() - 0.9).abs() < 1e-9);
    }
}
