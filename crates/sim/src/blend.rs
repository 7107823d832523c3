//! `sanjeevani bench blend`: one team for inbound and outbound calls beside
//! two separate teams, on the same callers and the same contacts.
//!
//! For a scenario with inbound calls and `n` agents, every split of the
//! team (`k` inbound-only, `n - k` outbound-only agents) is run on each
//! seed, and the best split is the one that meets the inbound service
//! level in every seed with the highest total occupancy (the most outbound
//! work, since the inbound work is the same). The blended team (all `n`
//! agents blended) is run on the same seeds. Runs share callers and
//! contacts through common random numbers, so the rows differ only by how
//! the team is organised.

use crate::report::{r4, Report};
use crate::scenario::{AgentGroup, Scenario};
use crate::sim::{simulate, SimError};
use sanjeevani_core::AgentRole;
use serde::Serialize;

/// One team organisation's figures, over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlendRow {
    pub scenario: String,
    /// `blended`, or `split k+m` (k inbound-only, m outbound-only).
    pub team: String,
    pub inbound_agents: u32,
    pub outbound_agents: u32,
    pub blended_agents: u32,
    /// Means over the seeds.
    pub total_occupancy: f64,
    pub outbound_occupancy: f64,
    pub outbound_connects: f64,
    pub outbound_abandon_rate: f64,
    pub inbound_service_level: f64,
    pub inbound_abandoned: f64,
    /// The worst seed's service level, and whether every seed met the target.
    pub worst_service_level: f64,
    pub meets_service_level: bool,
}

/// What `bench blend` prints for one scenario: the best split, the
/// blended team, and every split tried.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlendResult {
    pub scenario: String,
    pub agents: u32,
    pub seeds: Vec<u64>,
    pub best_split: Option<BlendRow>,
    pub blended: BlendRow,
    /// Blended total occupancy minus the best split's, in points.
    pub occupancy_gain_points: Option<f64>,
    pub splits: Vec<BlendRow>,
}

/// The scenario with its agents replaced by one group per role.
fn with_team(scenario: &Scenario, inbound: u32, outbound: u32, blended: u32) -> Scenario {
    let mut s = scenario.clone();
    let group = |count, role| AgentGroup {
        count,
        login_minute: 0.0,
        logout_minute: None,
        role,
    };
    s.agents = [
        (inbound, AgentRole::InboundOnly),
        (outbound, AgentRole::OutboundOnly),
        (blended, AgentRole::Blended),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, role)| group(count, role))
    .collect();
    s
}

fn row(
    scenario: &Scenario,
    team: String,
    counts: (u32, u32, u32),
    reports: &[Report],
) -> BlendRow {
    let n = reports.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Report) -> f64| r4(reports.iter().map(f).sum::<f64>() / n);
    let level = |r: &Report| r.inbound.as_ref().map_or(1.0, |i| i.service_level);
    let target = scenario.campaign.inbound.service_level;
    let worst = reports.iter().map(level).fold(1.0, f64::min);
    BlendRow {
        scenario: scenario.name.clone(),
        team,
        inbound_agents: counts.0,
        outbound_agents: counts.1,
        blended_agents: counts.2,
        total_occupancy: mean(&|r| r.occupancy),
        outbound_occupancy: mean(&|r| r.inbound.as_ref().map_or(r.occupancy, |i| i.outbound_occupancy)),
        outbound_connects: mean(&|r| r.connects as f64),
        outbound_abandon_rate: mean(&|r| r.abandon_rate),
        inbound_service_level: mean(&level),
        inbound_abandoned: mean(&|r| r.inbound.as_ref().map_or(0.0, |i| i.abandoned as f64)),
        worst_service_level: worst,
        meets_service_level: worst >= target,
    }
}

/// Runs `scenario` on each seed, two at a time.
fn run_seeds(scenario: &Scenario, seeds: &[u64]) -> Result<Vec<Report>, SimError> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .map(|&seed| scope.spawn(move || simulate(scenario, seed)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(SimError::TooManyEvents)))
            .collect()
    })
}

/// The blend comparison for `scenario` with its agents counted as one team.
pub fn run_blend(scenario: &Scenario, seeds: &[u64]) -> Result<BlendResult, SimError> {
    let agents: u32 = scenario.agents.iter().map(|g| g.count).sum();
    let mut splits = Vec::new();
    for inbound in 1..agents {
        let team = with_team(scenario, inbound, agents - inbound, 0);
        let reports = run_seeds(&team, seeds)?;
        splits.push(row(
            scenario,
            format!("split {inbound}+{}", agents - inbound),
            (inbound, agents - inbound, 0),
            &reports,
        ));
    }
    let blended_team = with_team(scenario, 0, 0, agents);
    let blended = row(
        scenario,
        "blended".into(),
        (0, 0, agents),
        &run_seeds(&blended_team, seeds)?,
    );
    let best_split = splits
        .iter()
        .filter(|r| r.meets_service_level)
        .max_by(|a, b| a.total_occupancy.total_cmp(&b.total_occupancy))
        .cloned();
    Ok(BlendResult {
        scenario: scenario.name.clone(),
        agents,
        seeds: seeds.to_vec(),
        occupancy_gain_points: best_split
            .as_ref()
            .map(|b| r4((blended.total_occupancy - b.total_occupancy) * 100.0)),
        best_split,
        blended,
        splits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blended_night_team_answers_its_callers_and_does_more_than_a_split_one() {
        let text = include_str!("../../../config/scenarios/night-shift.toml");
        let mut night = Scenario::parse(text, "night-shift.toml").unwrap();
        night.hours = 3.0;
        let result = run_blend(&night, &[1]).unwrap();
        assert_eq!(result.splits.len(), 3, "1+3, 2+2, 3+1");
        let blended = &result.blended;
        assert!(blended.meets_service_level, "{blended:?}");
        assert!(blended.outbound_abandon_rate <= 0.03, "{blended:?}");
        let gain = result.occupancy_gain_points.expect("a split meets the level");
        assert!(gain > 5.0, "{result:?}");
        // Every caller who left unanswered is called back.
        let report = simulate(&with_team(&night, 0, 0, 4), 1).unwrap();
        let inbound = report.inbound.unwrap();
        assert!(inbound.offered > 0);
        assert_eq!(inbound.callbacks, inbound.abandoned + inbound.timed_out);
        assert_eq!(
            inbound.offered,
            inbound.answered + inbound.abandoned + inbound.timed_out
        );
    }
}
