//! The called party: what the person reached by the k-th dial of a run does,
//! drawn from a random stream of their own (common random numbers: the k-th
//! dial meets the same person whatever the pacing policy).
//!
//! The simulator and the simulated telephony both draw people from here, in
//! the same order and with the same rules, so the demo behaves as the
//! simulation of its scenario says it will.

use crate::scenario::{Callee, Scenario};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// One dialled person, in seconds.
#[derive(Clone, Debug, Default)]
pub struct Fate {
    /// Uniform draw deciding answer, busy or no answer (see [`Fate::reply`]).
    pub answer_draw: f64,
    /// From the dial to the first ring (network set-up).
    pub setup: f64,
    /// From the first ring to a live answer.
    pub ring: f64,
    /// From the first ring to the busy signal.
    pub busy_time: f64,
    /// From the connect to the end of the talk.
    pub talk: f64,
    /// The agent's wrap-up after the talk.
    pub wrap: f64,
    /// Drawn only when the scenario has a desk (after the draws above, so
    /// the rest of the person is the same with or without one).
    pub escalation: Option<FateEscalation>,
}

/// Whether, when and how the person's call goes to the medical desk.
#[derive(Clone, Debug)]
pub struct FateEscalation {
    /// Seconds into the talk; None: this call is not escalated.
    pub after: Option<f64>,
    pub urgent: bool,
    /// How long they wait on hold for the desk.
    pub patience: f64,
}

/// What the person does once their phone rings, in seconds from the first ring.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Reply {
    Answers {
        after: f64,
    },
    Busy {
        after: f64,
    },
    /// Nobody answers: the dialer's no-answer timeout ends the call.
    RingsOut,
}

impl Fate {
    /// The person the `k`-th dial of the run seeded `seed` reaches.
    pub fn draw(scenario: &Scenario, seed: u64, k: u64) -> Fate {
        let mut rng = stream(seed, k);
        Fate {
            answer_draw: rng.random(),
            setup: scenario.callee.setup_time.sample(&mut rng),
            ring: scenario.callee.ring_time.sample(&mut rng),
            busy_time: scenario.callee.busy_time.sample(&mut rng),
            talk: scenario.handling.talk_time.sample(&mut rng),
            wrap: scenario.handling.wrap_up.sample(&mut rng),
            escalation: scenario.desk.as_ref().map(|d| {
                let escalated = rng.random::<f64>() < d.escalation_rate;
                let after = d.escalate_after.sample(&mut rng);
                FateEscalation {
                    after: escalated.then_some(after),
                    urgent: rng.random::<f64>() < d.urgent_share,
                    patience: d.hold_patience.sample(&mut rng),
                }
            }),
        }
    }

    /// What they do when dialled `minute` into the day. The answer
    /// probability is that of a live answer before `no_answer_timeout`
    /// (seconds), so an answer always comes half a second before it.
    pub fn reply(&self, callee: &Callee, minute: f64, no_answer_timeout: f64) -> Reply {
        let p = callee.answer_probability_at(minute);
        if self.answer_draw < p {
            Reply::Answers {
                after: self.ring.min(no_answer_timeout - 0.5).max(0.0),
            }
        } else if self.answer_draw < p + callee.busy_share {
            Reply::Busy {
                after: self.busy_time,
            }
        } else {
            Reply::RingsOut
        }
    }
}

/// A random stream of its own for `(seed, k)`.
pub(crate) fn stream(seed: u64, k: u64) -> Pcg64Mcg {
    // SplitMix64 of (seed, k) so neighbouring dials get unrelated streams.
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Pcg64Mcg::seed_from_u64(z ^ (z >> 31))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        Scenario::parse(
            r#"
name = "t"
hours = 1
[[agents]]
count = 1
[callee]
answer_probability = 0.5
ring_time = { dist = "constant", value = 30 }
busy_share = 0.2
[handling]
talk_time = { dist = "lognormal", mean = 40, cv = 0.5 }
"#,
            "test",
        )
        .expect("scenario")
    }

    #[test]
    fn the_same_dial_meets_the_same_person_and_answers_before_the_timeout() {
        let s = scenario();
        let (a, b) = (Fate::draw(&s, 7, 3), Fate::draw(&s, 7, 3));
        assert_eq!((a.answer_draw, a.talk), (b.answer_draw, b.talk));
        assert_ne!(a.talk, Fate::draw(&s, 7, 4).talk);
        let mut seen = [0usize; 3];
        for k in 0..2000 {
            match Fate::draw(&s, 1, k).reply(&s.callee, 0.0, 25.0) {
                Reply::Answers { after } => {
                    // Rings of 30 s are answered just before the 25 s timeout.
                    assert_eq!(after, 24.5);
                    seen[0] += 1;
                }
                Reply::Busy { .. } => seen[1] += 1,
                Reply::RingsOut => seen[2] += 1,
            }
        }
        // 50 % answer, 20 % busy, 30 % ring out, within sampling noise.
        assert!((900..1100).contains(&seen[0]), "{seen:?}");
        assert!((320..480).contains(&seen[1]), "{seen:?}");
        assert!((500..700).contains(&seen[2]), "{seen:?}");
    }
}
