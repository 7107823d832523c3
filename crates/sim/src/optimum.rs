//! The exact optimum of a small Markovian case, to measure how far a pacing policy is
//! from the best any policy could do: a constrained Markov decision process solved as
//! a linear program over state–action frequencies (Bhulai & Koole, IEEE TAC 2003).
//!
//! The case: `agents` agents; every dial ends after an exponential time with a live
//! answer with probability `answer_rate`, or a failure; talk is exponential; calls in
//! progress, connected ones included, never exceed `lines_per_agent` × agents; a live
//! answer that finds no free agent is abandoned at once. The dialer may place any
//! number of calls whenever the state changes. The optimum maximises occupancy with
//! abandons at most `cap` of live answers, in the long run. [`MarkovCase::scenario`]
//! is the same case for the simulator, so a policy can be run beside its optimum.

use crate::bench::cell_scenario;
use crate::dist::Dist;
use crate::report::r4;
use crate::{simulate, Scenario, SimError};
use microlp::{ComparisonOp, OptimizationDirection, Problem, Variable};
use rayon::prelude::*;
use sanjeevani_core::PacingMode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A small call centre with exponential dial and talk times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarkovCase {
    pub agents: u32,
    pub answer_rate: f64,
    /// Mean time from dial to outcome (answer or failure), seconds.
    pub dial_secs: f64,
    /// Mean talk time, seconds.
    pub talk_secs: f64,
    pub lines_per_agent: u32,
}

/// The best long-run occupancy, and the abandon rate it runs at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Optimum {
    pub occupancy: f64,
    pub abandon_rate: f64,
}

#[derive(Debug, thiserror::Error)]
#[error("the optimum of {case:?} could not be computed: {reason}")]
pub struct OptimumError {
    case: MarkovCase,
    reason: String,
}

impl MarkovCase {
    /// Occupancy of progressive dialing (one call per free agent): each live answer
    /// takes `dial_secs / answer_rate` of dialing before the talk.
    pub fn progressive_occupancy(&self) -> f64 {
        self.talk_secs / (self.talk_secs + self.dial_secs / self.answer_rate)
    }

    /// The optimum with abandons at most `cap` of live answers.
    pub fn optimum(&self, cap: f64) -> Result<Optimum, OptimumError> {
        let fail = |reason: String| OptimumError {
            case: *self,
            reason,
        };
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if self.agents == 0
            || self.lines_per_agent == 0
            || !(positive(self.answer_rate) && self.answer_rate <= 1.0)
            || !positive(self.dial_secs)
            || !positive(self.talk_secs)
        {
            return Err(fail(
                "needs agents, lines, an answer rate in (0, 1] and positive times".into(),
            ));
        }
        let n = self.agents as usize;
        let lines = n * self.lines_per_agent as usize;
        let (p, end_rate, talk_rate) =
            (self.answer_rate, 1.0 / self.dial_secs, 1.0 / self.talk_secs);
        // States (busy agents, calls dialing); the action is how many calls are then
        // dialing. Uniformised: every transition happens at rate at most `total`.
        let states: Vec<(usize, usize)> = (0..=n)
            .flat_map(|busy| (0..=lines - busy).map(move |dialing| (busy, dialing)))
            .collect();
        let index: BTreeMap<(usize, usize), usize> =
            states.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let total = n as f64 * talk_rate + lines as f64 * end_rate;

        let mut problem = Problem::new(OptimizationDirection::Maximize);
        // Per state: the frequencies flowing out of it (its actions) and into it.
        let mut balance: Vec<BTreeMap<Variable, f64>> = vec![BTreeMap::new(); states.len()];
        let mut everything = Vec::new();
        let mut abandon_excess = Vec::new();
        let mut measures = Vec::new();
        for (from, &(busy, dialing)) in states.iter().enumerate() {
            for after in dialing..=lines - busy {
                let occupancy = busy as f64 / n as f64;
                let var = problem.add_var(occupancy, (0.0, f64::INFINITY));
                let answers = after as f64 * end_rate * p;
                let abandons = if busy == n { answers } else { 0.0 };
                measures.push((var, answers, abandons));
                everything.push((var, 1.0));
                abandon_excess.push((var, abandons - cap * answers));
                let mut flow = |to: (usize, usize), rate: f64| {
                    *balance[index[&to]].entry(var).or_default() -= rate / total;
                };
                let talk_ends = busy as f64 * talk_rate;
                let failures = after as f64 * end_rate * (1.0 - p);
                flow((busy.saturating_sub(1), after), talk_ends);
                if after > 0 {
                    let answered_to = if busy < n { busy + 1 } else { busy };
                    flow((answered_to, after - 1), answers);
                    flow((busy, after - 1), failures);
                }
                flow((busy, after), total - talk_ends - after as f64 * end_rate);
                *balance[from].entry(var).or_default() += 1.0;
            }
        }
        // One balance equation is implied by the others and the normalisation.
        for row in balance.iter().skip(1) {
            let terms: Vec<(Variable, f64)> = row
                .iter()
                .filter(|(_, c)| c.abs() > 1e-15)
                .map(|(v, c)| (*v, *c))
                .collect();
            problem.add_constraint(terms, ComparisonOp::Eq, 0.0);
        }
        problem.add_constraint(everything, ComparisonOp::Eq, 1.0);
        problem.add_constraint(abandon_excess, ComparisonOp::Le, 0.0);
        let solution = problem.solve().map_err(|e| fail(e.to_string()))?;
        let (answers, abandons) = measures.iter().fold((0.0, 0.0), |(a, b), (v, ans, ab)| {
            let x = solution.var_value(*v);
            (a + x * ans, b + x * ab)
        });
        Ok(Optimum {
            occupancy: solution.objective(),
            abandon_rate: if answers > 0.0 {
                abandons / answers
            } else {
                0.0
            },
        })
    }

    /// The same case for the simulator: every dial ends after the exponential dial
    /// time (failures as early failures, so the no-answer timeout never cuts one
    /// short), talk exponential, and a connect grace of 1 ms, the least the core
    /// takes, for "at once".
    pub fn scenario(&self, hours: f64) -> Scenario {
        let mut s = cell_scenario(self.agents, self.answer_rate, hours);
        s.name = format!("markov-{}x{}", self.agents, self.answer_rate);
        s.callee.ring_time = Dist::Exponential {
            mean: self.dial_secs,
        };
        s.callee.busy_share = 1.0 - self.answer_rate;
        s.callee.busy_time = Dist::Exponential {
            mean: self.dial_secs,
        };
        s.handling.talk_time = Dist::Exponential {
            mean: self.talk_secs,
        };
        s.campaign.no_answer_timeout = Duration::from_secs(300);
        s.campaign.connect_grace = Duration::from_millis(1);
        s.campaign.pacing.max_lines_per_agent = f64::from(self.lines_per_agent);
        s
    }
}

/// One policy setting beside the optimum at the abandon rate it ran at.
#[derive(Clone, Debug, Serialize)]
pub struct GapRow {
    pub agents: u32,
    pub answer_rate: f64,
    pub policy: String,
    /// Means over the seeds.
    pub occupancy: f64,
    pub abandon_rate: f64,
    /// The optimum with the cap set to that abandon rate.
    pub optimum: f64,
    /// optimum − occupancy.
    pub gap: f64,
}

/// Abandon targets predictive is run at (its guard lifted, so the rate it settles on
/// is its own): the optimum is compared at whatever rate each one reaches.
const GAP_TARGETS: [f64; 3] = [0.02, 0.025, 0.03];

/// Progressive and predictive beside the optimum, on 5 agents at each answer rate
/// (dial 8 s, talk 120 s, 3 lines per agent), `seeds` runs of `hours` each.
pub fn run_gap(hours: f64, seeds: u64) -> Result<Vec<GapRow>, GapError> {
    let mut settings: Vec<(MarkovCase, String, Scenario)> = Vec::new();
    for answer_rate in [0.1, 0.3, 0.6] {
        let case = MarkovCase {
            agents: 5,
            answer_rate,
            dial_secs: 8.0,
            talk_secs: 120.0,
            lines_per_agent: 3,
        };
        let mut s = case.scenario(hours);
        s.campaign.pacing.mode = PacingMode::Progressive;
        settings.push((case, "progressive".into(), s.clone()));
        for target in GAP_TARGETS {
            s.campaign.pacing.mode = PacingMode::Predictive;
            s.campaign.pacing.abandon_target = target;
            s.campaign.pacing.abandon_cap = 0.2;
            settings.push((case, format!("predictive target={target}"), s.clone()));
        }
    }
    let jobs: Vec<(usize, u64)> = (0..settings.len())
        .flat_map(|i| (1..=seeds).map(move |seed| (i, seed)))
        .collect();
    let reports = jobs
        .par_iter()
        .map(|&(i, seed)| simulate(&settings[i].2, seed).map(|r| (i, r)))
        .collect::<Result<Vec<_>, _>>()?;
    settings
        .iter()
        .enumerate()
        .map(|(i, (case, policy, _))| {
            let runs: Vec<_> = reports.iter().filter(|r| r.0 == i).map(|r| &r.1).collect();
            let n = runs.len().max(1) as f64;
            let occupancy = runs.iter().map(|r| r.occupancy).sum::<f64>() / n;
            let abandon_rate = runs.iter().map(|r| r.abandon_rate).sum::<f64>() / n;
            let optimum = case.optimum(abandon_rate)?.occupancy;
            Ok(GapRow {
                agents: case.agents,
                answer_rate: case.answer_rate,
                policy: policy.clone(),
                occupancy: r4(occupancy),
                abandon_rate: r4(abandon_rate),
                optimum: r4(optimum),
                gap: r4(optimum - occupancy),
            })
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum GapError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Optimum(#[from] OptimumError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(answer_rate: f64) -> MarkovCase {
        MarkovCase {
            agents: 5,
            answer_rate,
            dial_secs: 8.0,
            talk_secs: 120.0,
            lines_per_agent: 3,
        }
    }

    #[test]
    fn without_abandons_the_optimum_is_progressive() {
        for p in [0.1, 0.3, 0.6] {
            let c = case(p);
            let best = c.optimum(0.0).unwrap();
            assert!(
                (best.occupancy - c.progressive_occupancy()).abs() < 1e-6,
                "p = {p}: {best:?} against {}",
                c.progressive_occupancy()
            );
            assert!(best.abandon_rate < 1e-9);
        }
    }

    #[test]
    fn a_looser_cap_buys_occupancy_and_is_spent() {
        let c = case(0.3);
        let mut last = c.optimum(0.0).unwrap().occupancy;
        for cap in [0.01, 0.03, 0.1] {
            let best = c.optimum(cap).unwrap();
            assert!(
                best.occupancy > last,
                "cap {cap}: {best:?} not above {last}"
            );
            assert!(
                (best.abandon_rate - cap).abs() < 1e-6,
                "cap {cap}: {best:?}"
            );
            assert!(best.occupancy < 1.0);
            last = best.occupancy;
        }
    }

    #[test]
    fn a_case_without_agents_or_answers_is_refused() {
        assert!(MarkovCase {
            agents: 0,
            ..case(0.3)
        }
        .optimum(0.03)
        .is_err());
        assert!(case(0.0).optimum(0.03).is_err());
    }

    #[test]
    fn the_simulator_runs_the_same_case() {
        let c = case(0.3);
        let mut s = c.scenario(8.0);
        s.campaign.pacing.mode = PacingMode::Progressive;
        let progressive = crate::simulate(&s, 1).unwrap();
        assert!(
            (progressive.occupancy - c.progressive_occupancy()).abs() < 0.02,
            "{} against {}",
            progressive.occupancy,
            c.progressive_occupancy()
        );
        // No policy beats the optimum at the abandon rate it ran at (beyond noise).
        s.campaign.pacing.mode = PacingMode::Predictive;
        s.campaign.pacing.abandon_cap = 0.2;
        let predictive = crate::simulate(&s, 1).unwrap();
        let best = c.optimum(predictive.abandon_rate).unwrap();
        assert!(
            predictive.occupancy < best.occupancy + 0.01,
            "{predictive:?} against {best:?}"
        );
        assert!(predictive.occupancy > progressive.occupancy);
    }
}
