//! People who call the centre: when they call (a Poisson process with an
//! hourly profile) and who they are (class, patience, talk), each drawn from
//! a stream of their own so that every run of a scenario and seed meets the
//! same callers at the same times, whatever the pacing or the team.
//!
//! The simulator and the simulated telephony both draw callers from here.

use crate::dist::Dist;
use crate::fate::stream;
use rand::Rng;
use rand_pcg::Pcg64Mcg;
use sanjeevani_core::CallerClass;
use serde::{Deserialize, Serialize};

/// A scenario's inbound calls.
///
/// ```toml
/// [inbound]
/// per_hour = [40, 40, 60, 120]   # arrivals in each hour of the run, the last repeated
/// patience = { dist = "exponential", mean = 120 }
/// talk_time = { dist = "lognormal", mean = 120, cv = 0.6 }
/// wrap_up = { dist = "constant", value = 15 }
/// urgent_share = 0.05            # callers with an open urgent ticket
/// high_risk_share = 0.10
/// returning_share = 0.20         # returning a call of ours they missed
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundScenario {
    pub per_hour: Vec<f64>,
    /// How long a caller waits in the queue before hanging up.
    pub patience: Dist,
    pub talk_time: Dist,
    #[serde(default = "no_wrap")]
    pub wrap_up: Dist,
    #[serde(default)]
    pub urgent_share: f64,
    #[serde(default)]
    pub high_risk_share: f64,
    #[serde(default)]
    pub returning_share: f64,
}

fn no_wrap() -> Dist {
    Dist::constant(0.0)
}

impl InboundScenario {
    pub fn validate(&self) -> Result<(), String> {
        if self.per_hour.is_empty() || self.per_hour.len() > 24 * 31 {
            return Err("inbound.per_hour must list between 1 and 744 hourly rates".into());
        }
        if let Some(bad) = self
            .per_hour
            .iter()
            .find(|r| !r.is_finite() || **r < 0.0 || **r > 100_000.0)
        {
            return Err(format!(
                "inbound.per_hour: rates must be between 0 and 100000 an hour, got {bad}"
            ));
        }
        let shares = [
            ("inbound.urgent_share", self.urgent_share),
            ("inbound.high_risk_share", self.high_risk_share),
            ("inbound.returning_share", self.returning_share),
        ];
        for (field, p) in shares {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{field} must be in [0, 1], got {p}"));
            }
        }
        if shares.iter().map(|(_, p)| p).sum::<f64>() > 1.0 {
            return Err("inbound: the class shares must add up to at most 1".into());
        }
        self.patience.validate("inbound.patience")?;
        self.talk_time.validate("inbound.talk_time")?;
        self.wrap_up.validate("inbound.wrap_up")
    }

    /// Arrivals per second at `ms` into the run.
    fn rate_at(&self, ms: u64) -> f64 {
        let hour = (ms / 3_600_000) as usize;
        let per_hour = self
            .per_hour
            .get(hour)
            .or(self.per_hour.last())
            .copied()
            .unwrap_or(0.0);
        per_hour / 3600.0
    }

    fn max_rate(&self) -> f64 {
        self.per_hour.iter().copied().fold(0.0, f64::max) / 3600.0
    }

    /// The arrival times (ms) of a run seeded `seed`, until `until_ms`.
    pub fn arrivals(&self, seed: u64) -> Arrivals<'_> {
        Arrivals {
            scenario: self,
            rng: stream(seed ^ 0x1B0D_CA11, u64::MAX - 1),
            at: 0.0,
            max: self.max_rate(),
        }
    }
}

/// The arrival times of one run, by thinning a Poisson process at the
/// highest hourly rate.
pub struct Arrivals<'a> {
    scenario: &'a InboundScenario,
    rng: Pcg64Mcg,
    at: f64,
    max: f64,
}

impl Arrivals<'_> {
    /// The next arrival (ms into the run) before `until_ms`, if any.
    pub fn next_before(&mut self, until_ms: u64) -> Option<u64> {
        if self.max <= 0.0 {
            return None;
        }
        // Bounded: each step moves time forward by an exponential gap.
        loop {
            let u: f64 = self.rng.random();
            self.at += -(1.0 - u).ln() / self.max * 1000.0;
            let ms = self.at.round() as u64;
            if ms >= until_ms {
                return None;
            }
            if self.rng.random::<f64>() * self.max < self.scenario.rate_at(ms) {
                return Some(ms);
            }
        }
    }
}

/// One caller, in seconds.
#[derive(Clone, Debug)]
pub struct Caller {
    pub class: CallerClass,
    pub patience: f64,
    pub talk: f64,
    pub wrap: f64,
}

impl Caller {
    /// The `k`-th caller of the run seeded `seed`.
    pub fn draw(scenario: &InboundScenario, seed: u64, k: u64) -> Caller {
        let mut rng = stream(seed ^ 0xCA11_E125, k);
        let class_draw: f64 = rng.random();
        let class = if class_draw < scenario.urgent_share {
            CallerClass::UrgentTicket
        } else if class_draw < scenario.urgent_share + scenario.high_risk_share {
            CallerClass::HighRisk
        } else if class_draw
            < scenario.urgent_share + scenario.high_risk_share + scenario.returning_share
        {
            CallerClass::ReturningMissed
        } else {
            CallerClass::Other
        };
        Caller {
            class,
            patience: scenario.patience.sample(&mut rng),
            talk: scenario.talk_time.sample(&mut rng),
            wrap: scenario.wrap_up.sample(&mut rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(per_hour: Vec<f64>) -> InboundScenario {
        InboundScenario {
            per_hour,
            patience: Dist::constant(60.0),
            talk_time: Dist::constant(100.0),
            wrap_up: Dist::constant(0.0),
            urgent_share: 0.1,
            high_risk_share: 0.0,
            returning_share: 0.0,
        }
    }

    #[test]
    fn arrivals_follow_the_hourly_profile_and_repeat_per_seed() {
        let s = inbound(vec![0.0, 360.0, 36.0]);
        let times: Vec<u64> = {
            let mut a = s.arrivals(3);
            std::iter::from_fn(|| a.next_before(3 * 3_600_000)).collect()
        };
        let in_hour = |h: u64| {
            times
                .iter()
                .filter(|t| **t / 3_600_000 == h)
                .count()
        };
        assert_eq!(in_hour(0), 0);
        assert!((300..420).contains(&in_hour(1)), "{}", in_hour(1));
        assert!((15..60).contains(&in_hour(2)), "{}", in_hour(2));
        let again: Vec<u64> = {
            let mut a = s.arrivals(3);
            std::iter::from_fn(|| a.next_before(3 * 3_600_000)).collect()
        };
        assert_eq!(times, again);
        let urgent = (0..1000)
            .filter(|k| Caller::draw(&s, 1, *k).class == CallerClass::UrgentTicket)
            .count();
        assert!((70..130).contains(&urgent), "{urgent}");
    }
}
