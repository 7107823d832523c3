//! Pacing policies: how many calls to place right now.
//!
//! A policy sees a read-only [`PacingView`] of the campaign and pushes one entry per
//! call it wants dialed, carrying that call's estimated abandon risk. The campaign
//! enforces what is common to every policy: the lines ceiling, reservations, the
//! no-agent stop. Policies are plug-ins behind [`Pacer`]; [`for_settings`] picks one.

mod predictive;
mod probability;
mod reference;
mod simple;
mod vicidial;

pub use predictive::Predictive;
pub use reference::Reference;
pub use simple::{Power, Preview, Progressive};
pub use vicidial::VicidialAdapt;

use crate::estimate::{Estimates, Survival};
use crate::{Agent, AgentId, Call, CallId, CampaignConfig, Instant, PacingMode, PacingSettings};
use std::collections::BTreeMap;

/// What a policy may look at. Counts are precomputed by the campaign.
pub struct PacingView<'a> {
    pub now: Instant,
    pub config: &'a CampaignConfig,
    pub agents: &'a BTreeMap<AgentId, Agent>,
    pub calls: &'a BTreeMap<CallId, Call>,
    pub estimates: &'a Estimates,
    /// Logged in and not paused.
    pub staffed: usize,
    /// Ready and not reserved: could take an answered call this instant.
    pub free: usize,
    /// Dialing or ringing.
    pub unanswered: usize,
    /// Answered and waiting for an agent, inbound callers waiting included.
    pub waiting: usize,
    /// Live answers and abandoned calls within the abandon window.
    pub window_answered: u64,
    pub window_abandoned: u64,
    /// Most new calls the lines ceiling allows now.
    pub line_room: usize,
    /// Inbound callers expected per second: each will take the next free
    /// agent before any outbound call.
    pub inbound_rate: f64,
}

/// A pacing policy.
pub trait Pacer: Send {
    /// Push one abandon-risk figure per call to dial now (at most `view.line_room`).
    fn plan(&mut self, view: &PacingView<'_>, dials: &mut Vec<f64>);

    /// Whether each dial is held for a ready agent (preview, progressive).
    fn reserves_agents(&self) -> bool {
        false
    }

    /// A live answer ended its wait: connected to an agent, or abandoned.
    fn on_live_outcome(&mut self, _now: Instant, _abandoned: bool) {}

    /// New settings of the same mode.
    fn update(&mut self, _settings: &PacingSettings) {}

    /// When the policy wants to run again even if nothing happens.
    fn next_wake(&self) -> Option<Instant> {
        None
    }
}

/// How long a busy-period survival curve is reused before it is rebuilt (ms).
const SURVIVAL_REUSE_MS: u64 = 1000;

/// The busy agents a policy counts on, and the busy-period survival curve that says
/// when they will be free (rebuilt at most once a second: it moves slowly).
#[derive(Default)]
struct BusyAgents {
    elapsed: Vec<f64>,
    curve: Option<(Instant, Survival)>,
}

impl BusyAgents {
    /// The elapsed busy time of every busy agent that will come back (not leaving),
    /// and the survival curve.
    fn refresh(&mut self, v: &PacingView<'_>) -> (&[f64], &Survival) {
        self.elapsed.clear();
        for agent in v.agents.values() {
            if let (true, false, true, Some(since)) = (
                agent.state.is_busy(),
                agent.is_leaving(),
                agent.role.takes_outbound(),
                agent.busy_since,
            )
            {
                self.elapsed.push(v.now.secs_since(since));
            }
        }
        if self
            .curve
            .as_ref()
            .is_some_and(|(at, _)| at.as_millis() + SURVIVAL_REUSE_MS <= v.now.as_millis())
        {
            self.curve = None;
        }
        let elapsed = &self.elapsed;
        let (_, curve) = self
            .curve
            .get_or_insert_with(|| (v.now, v.estimates.busy_survival(elapsed)));
        (elapsed, curve)
    }
}

/// The policy for the settings' mode.
pub fn for_settings(config: &CampaignConfig) -> Box<dyn Pacer> {
    let s = &config.pacing;
    match s.mode {
        PacingMode::Preview => Box::new(Preview),
        PacingMode::Progressive => Box::new(Progressive),
        PacingMode::Power => Box::new(Power::new(s)),
        PacingMode::Predictive => Box::new(Predictive::new(config)),
        PacingMode::VicidialAdapt => Box::new(VicidialAdapt::new(s)),
        PacingMode::Reference => Box::new(Reference::new(s)),
    }
}
