//! A campaign: the agents working it, the calls in progress, the pacing policy and
//! the abandon accounting, driven by [`Campaign::handle`].
//!
//! Routing rules, common to every mode:
//! - an answered call goes to the agent reserved for it, else to the agent that has
//!   been ready longest, else waits; the first agent to become ready takes the
//!   longest-waiting call;
//! - a call waiting longer than the connect grace is dropped (abandoned);
//! - a call unanswered after the no-answer timeout is cancelled;
//! - calls in progress never exceed `max_lines_per_agent` x staffed agents; when agents
//!   leave, the longest-ringing calls beyond that ceiling are cancelled once they have
//!   rung the legal minimum (with no agent left, all of them), and with no agent
//!   staffed nothing new is dialed.
//!
//! Inbound callers ([`Event::InboundArrived`]) wait in a queue by
//! [`CallerClass`], then arrival; an agent who may take inbound calls takes
//! the head of that queue before any outbound call. Outbound pacing counts
//! the waiting callers and the arrivals forecast as demand on the agents,
//! and keeps free enough blended agents to meet the inbound service level
//! ([`crate::inbound::reserve_for`]). Outbound-only agents never take
//! inbound calls, inbound-only agents never outbound ones.

use crate::abandon::AbandonWindow;
use crate::estimate::{DialResult, Estimates};
use crate::pacing::{self, Pacer, PacingView};
use crate::inbound::{self, ArrivalForecast};
use crate::trunk::TokenBucket;
use crate::{
    AbandonKind, Agent, AgentId, AgentRole, AgentState, Call, CallId, CallPhase, CallerClass,
    CampaignConfig, CancelReason, Command, CoreError, Event, FailCause, InboundOutcome,
    InboundStats, Instant, Outcome, PacingMode, PacingSettings,
};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

/// Running totals since the campaign was created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CampaignStats {
    /// Dial commands that became attempts (excludes [`Event::NoContact`]).
    pub dials: u64,
    pub no_contact: u64,
    /// Live answers.
    pub answered: u64,
    pub connected: u64,
    pub completed: u64,
    pub dropped: u64,
    pub caller_hung_up: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub congestion: u64,
    pub invalid: u64,
    pub rejected: u64,
    pub machine: u64,
    /// Cancelled early because agents left.
    pub withdrawn: u64,
    /// Cut by the service stopping.
    pub interrupted: u64,
    /// Connects the telephony could not carry out (counted again if the
    /// call then reached another agent).
    pub joins_failed: u64,
}

impl CampaignStats {
    pub fn abandoned(&self) -> u64 {
        self.dropped + self.caller_hung_up
    }

    fn count_failure(&mut self, cause: FailCause) {
        match cause {
            FailCause::Busy => self.busy += 1,
            FailCause::NoAnswer => self.no_answer += 1,
            FailCause::Congestion => self.congestion += 1,
            FailCause::Invalid => self.invalid += 1,
            FailCause::Rejected => self.rejected += 1,
            FailCause::Machine => self.machine += 1,
        }
    }
}

pub struct Campaign {
    config: CampaignConfig,
    agents: BTreeMap<AgentId, Agent>,
    calls: BTreeMap<CallId, Call>,
    /// Ready agents in the order they became ready, with that time (stale entries skipped).
    ready_queue: VecDeque<(AgentId, Instant)>,
    /// Answered calls waiting for an agent, oldest first (stale entries skipped).
    waiting: VecDeque<CallId>,
    /// No-answer deadlines of unanswered calls (stale entries skipped).
    ring_deadlines: BinaryHeap<Reverse<(Instant, CallId)>>,
    next_call: u64,
    last_event: Instant,
    running: bool,
    contacts_exhausted: bool,
    staffed: usize,
    /// Staffed agents who may take outbound calls: the ones pacing is for.
    staffed_outbound: usize,
    pacer: Box<dyn Pacer>,
    estimates: Estimates,
    window: AbandonWindow,
    stats: CampaignStats,
    next_pace: Instant,
    pace_now: bool,
    risks: Vec<f64>,
    restraint: Restraint,
    /// Tokens for new calls, if the trunk limits calls per second.
    trunk_rate: Option<TokenBucket>,
    /// When the trunk next allows a call the pacer wanted and could not place.
    trunk_wake: Option<Instant>,
    /// Inbound calls in progress, waiting or connected.
    inbound: BTreeMap<CallId, InboundCall>,
    /// Inbound callers waiting, in the order they are answered.
    inbound_queue: BTreeSet<(CallerClass, Instant, CallId)>,
    forecast: ArrivalForecast,
    inbound_stats: InboundStats,
    /// Blended agents held free for inbound callers at the last pacing decision.
    held_for_inbound: usize,
}

/// An inbound call the core is handling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundCall {
    pub id: CallId,
    pub class: CallerClass,
    pub arrived_at: Instant,
    /// The agent it is connected to, and since when.
    pub agent: Option<(AgentId, Instant)>,
}

/// What held the dialer back at its last pacing decision: the answer to a
/// supervisor's "why is it not dialing harder?".
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Restraint {
    /// The campaign is paused or stopped.
    NotRunning,
    /// No agent is ready or on a call (all paused or logged out).
    NoAgents,
    /// Every contact due now has been dialed.
    NoContacts,
    /// Preview: a call is placed only when an agent asks for it.
    AgentAsks,
    /// The lines ceiling (lines per agent × agents) is reached.
    LineCeiling,
    /// The trunk carries as many calls as it may at once.
    TrunkCalls,
    /// The trunk's calls per second: more calls wait for the next second.
    TrunkRate,
    /// Every agent who may dial out is kept for inbound callers (waiting,
    /// or expected soon to meet the service level).
    InboundFirst,
    /// Progressive: one call per free agent, and none is free.
    NoFreeAgent,
    /// Power: the ratio of calls per staffed agent is reached.
    PowerRatio,
    /// Predictive: one more call now would risk an abandon above what the
    /// target and the cap allow.
    AbandonRisk,
}

impl Restraint {
    pub fn name(&self) -> &'static str {
        match self {
            Restraint::NotRunning => "not_running",
            Restraint::NoAgents => "no_agents",
            Restraint::NoContacts => "no_contacts",
            Restraint::AgentAsks => "agent_asks",
            Restraint::LineCeiling => "line_ceiling",
            Restraint::TrunkCalls => "trunk_calls",
            Restraint::TrunkRate => "trunk_rate",
            Restraint::InboundFirst => "inbound_first",
            Restraint::NoFreeAgent => "no_free_agent",
            Restraint::PowerRatio => "power_ratio",
            Restraint::AbandonRisk => "abandon_risk",
        }
    }
}

impl Campaign {
    /// A running campaign with no agents. The configuration must be valid
    /// ([`CampaignConfig::validate`]); use [`Campaign::try_new`] for untrusted input.
    pub fn new(config: CampaignConfig) -> Self {
        Campaign {
            pacer: pacing::for_settings(&config),
            estimates: Estimates::new(&config.priors, config.no_answer_timeout),
            trunk_rate: TokenBucket::new(&config.trunk, Instant::ZERO),
            trunk_wake: None,
            window: AbandonWindow::new(config.abandon_window),
            config,
            agents: BTreeMap::new(),
            calls: BTreeMap::new(),
            ready_queue: VecDeque::new(),
            waiting: VecDeque::new(),
            ring_deadlines: BinaryHeap::new(),
            next_call: 1,
            last_event: Instant::ZERO,
            running: true,
            contacts_exhausted: false,
            staffed: 0,
            staffed_outbound: 0,
            stats: CampaignStats::default(),
            next_pace: Instant::ZERO,
            pace_now: true,
            restraint: Restraint::NotRunning,
            risks: Vec::new(),
            inbound: BTreeMap::new(),
            inbound_queue: BTreeSet::new(),
            forecast: ArrivalForecast::new(config.inbound.day_start_secs),
            inbound_stats: InboundStats::default(),
            held_for_inbound: 0,
        }
    }

    pub fn try_new(config: CampaignConfig) -> Result<Self, CoreError> {
        config.validate()?;
        Ok(Campaign::new(config))
    }

    /// Agents the core paces for: logged in, not paused, not leaving.
    pub fn staffed(&self) -> usize {
        self.staffed
    }

    pub fn config(&self) -> &CampaignConfig {
        &self.config
    }

    pub fn stats(&self) -> &CampaignStats {
        &self.stats
    }

    pub fn agent(&self, id: AgentId) -> Option<&Agent> {
        self.agents.get(&id)
    }

    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    pub fn call(&self, id: CallId) -> Option<&Call> {
        self.calls.get(&id)
    }

    /// Calls in progress, in dial order.
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.calls.values()
    }

    /// Inbound calls in progress, waiting or connected.
    pub fn inbound_calls(&self) -> impl Iterator<Item = &InboundCall> {
        self.inbound.values()
    }

    pub fn inbound_call(&self, id: CallId) -> Option<&InboundCall> {
        self.inbound.get(&id)
    }

    /// Inbound callers waiting, in the order they will be answered.
    pub fn inbound_queue(&self) -> impl Iterator<Item = &InboundCall> {
        self.inbound_queue
            .iter()
            .filter_map(|(_, _, id)| self.inbound.get(id))
    }

    pub fn inbound_stats(&self) -> &InboundStats {
        &self.inbound_stats
    }

    /// Inbound callers expected per second now (the forecast pacing uses).
    pub fn inbound_rate(&mut self, now: Instant) -> f64 {
        self.forecast.rate(now)
    }

    /// Blended agents held free for inbound callers at the last pacing decision.
    pub fn held_for_inbound(&self) -> usize {
        self.held_for_inbound
    }

    pub fn estimates(&self) -> &Estimates {
        &self.estimates
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// (live answers, abandoned) in the abandon window ending at `now`.
    pub fn window_counts(&mut self, now: Instant) -> (u64, u64) {
        self.window.counts(now)
    }

    /// Feed one event. Commands are appended to `out` and must be carried out *even
    /// when an error is returned*: time moved forward before the event was refused,
    /// and timers that expired on the way may have produced commands.
    pub fn handle(
        &mut self,
        now: Instant,
        event: Event,
        out: &mut Vec<Command>,
    ) -> Result<(), CoreError> {
        if now < self.last_event {
            return Err(CoreError::TimeWentBackwards {
                now,
                last: self.last_event,
            });
        }
        self.last_event = now;
        self.expire(now, false, out);
        let result = self.apply(now, event, out);
        self.expire(now, true, out);
        let trunk_allows = self.trunk_wake.is_some_and(|t| now >= t);
        if self.pace_now || now >= self.next_pace || trunk_allows {
            self.pace(now, out);
        }
        result
    }

    /// When the campaign next needs [`Event::Tick`] if nothing else happens.
    pub fn next_wake(&self) -> Option<Instant> {
        let grace = self.config.connect_grace;
        let mut wake: Option<Instant> = None;
        let mut consider = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        if let Some(call) = self.waiting.iter().find_map(|id| self.calls.get(id)) {
            if let Some(answered) = call.answered_at {
                consider(answered + grace);
            }
        }
        if let Some(Reverse((deadline, _))) = self.ring_deadlines.peek() {
            consider(*deadline);
        }
        if let Some(arrived) = self.inbound_queue.iter().map(|(_, at, _)| *at).min() {
            consider(arrived + self.config.inbound.max_wait);
        }
        if self.calls.len() > self.lines() {
            for call in self.calls.values().filter(|c| c.phase.is_unanswered()) {
                consider(call.ring_start() + self.config.min_ring);
            }
        }
        if self.may_dial() {
            // The policy runs only at pacing decisions, so it cannot be woken earlier.
            let next_pace = self.next_pace.max(self.last_event);
            consider(
                self.pacer
                    .next_wake()
                    .map_or(next_pace, |t| t.max(next_pace)),
            );
            if let Some(t) = self.trunk_wake {
                consider(t.max(self.last_event));
            }
        }
        wake
    }

    /// The lines ceiling: calls in progress allowed for the agents staffed now.
    fn lines(&self) -> usize {
        (self.config.pacing.max_lines_per_agent * self.staffed_outbound as f64).floor() as usize
    }

    fn may_dial(&self) -> bool {
        self.running
            && !self.contacts_exhausted
            && self.staffed_outbound > 0
            && self.config.pacing.mode != PacingMode::Preview
    }

    fn agent_mut(&mut self, id: AgentId) -> Result<&mut Agent, CoreError> {
        self.agents.get_mut(&id).ok_or(CoreError::UnknownAgent(id))
    }

    fn live_call(&self, id: CallId) -> Result<&Call, CoreError> {
        match self.calls.get(&id) {
            Some(call) => Ok(call),
            None if id.0 > 0 && id.0 < self.next_call => Err(CoreError::CallEnded(id)),
            None => Err(CoreError::UnknownCall(id)),
        }
    }

    fn apply(
        &mut self,
        now: Instant,
        event: Event,
        out: &mut Vec<Command>,
    ) -> Result<(), CoreError> {
        match event {
            Event::Hangup(id) | Event::ConnectFailed(id) | Event::Interrupt(id)
                if self.inbound.contains_key(&id) =>
            {
                return self.apply_inbound(now, event, id, out);
            }
            Event::InboundArrived(class) => {
                let id = CallId(self.next_call);
                self.next_call += 1;
                self.forecast.arrival(now);
                self.inbound_stats.offered += 1;
                self.inbound.insert(
                    id,
                    InboundCall {
                        id,
                        class,
                        arrived_at: now,
                        agent: None,
                    },
                );
                out.push(Command::Queued { call: id, class });
                match self.pop_ready_agent(AgentRole::takes_inbound) {
                    Some(agent) => self.connect_inbound(id, agent, now, out),
                    None => {
                        self.inbound_queue.insert((class, now, id));
                    }
                }
                self.pace_now = true;
            }
            Event::SetRole(id, role) => {
                let agent = self.agents.entry(id).or_insert_with(|| Agent::new(id, now));
                agent.role = role;
                let ready = agent.state == AgentState::Ready;
                if ready && role.takes_inbound() {
                    if let Some(call) = self.next_inbound() {
                        self.connect_inbound(call, id, now, out);
                    }
                }
                self.agent_changed();
            }
            Event::AgentLogin(id) => {
                self.agents
                    .entry(id)
                    .or_insert_with(|| Agent::new(id, now))
                    .login(now)?;
                self.agent_changed();
            }
            Event::AgentReady(id) => {
                let agent = self.agents.entry(id).or_insert_with(|| Agent::new(id, now));
                if agent.state == AgentState::Ready {
                    return Ok(());
                }
                let busy_since = agent.ready(now)?;
                let is_ready = agent.state == AgentState::Ready;
                if let Some(since) = busy_since {
                    self.estimates.observe_busy_time(now.secs_since(since));
                }
                self.agent_changed();
                if is_ready {
                    self.agent_free(id, now, out);
                }
            }
            Event::AgentPause(id) => {
                let released = self.agent_mut(id)?.pause(now)?;
                self.release_reservation(released);
                self.agent_changed();
            }
            Event::AgentLogout(id) => {
                let released = self.agent_mut(id)?.logout(now)?;
                self.release_reservation(released);
                self.agent_changed();
            }
            Event::PreviewDial(id) => {
                if self.config.pacing.mode != PacingMode::Preview {
                    return Err(CoreError::NotPreviewMode("a preview dial"));
                }
                let agent = self.agents.get(&id).ok_or(CoreError::UnknownAgent(id))?;
                if agent.state != AgentState::Ready {
                    return Err(CoreError::AgentTransition {
                        agent: id,
                        state: agent.state.name(),
                        action: "preview a contact",
                    });
                }
                if !self.running || self.contacts_exhausted {
                    return Err(CoreError::NotDialing);
                }
                let calls_room = self.config.trunk.room(self.calls.len());
                let rate_room = self.trunk_rate.as_mut().map(|b| b.available(now));
                if calls_room == Some(0) || rate_room == Some(0) {
                    return Err(CoreError::TrunkBusy);
                }
                self.dial(now, Some(id), 0.0, out);
            }
            Event::Ringing(id) => {
                self.live_call(id)?;
                let call = self.calls.get_mut(&id).ok_or(CoreError::UnknownCall(id))?;
                let was_ringing = call.ringing_at.is_some();
                call.ringing(now)?;
                if !was_ringing {
                    self.ring_deadlines
                        .push(Reverse((now + self.config.no_answer_timeout, id)));
                }
            }
            Event::Answered(id) => {
                self.live_call(id)?;
                let call = self.calls.get_mut(&id).ok_or(CoreError::UnknownCall(id))?;
                call.answered(now)?;
                let rung = now.secs_since(call.ring_start());
                let (reserved, dialed_at) = (call.reserved_for, call.dialed_at);
                self.estimates
                    .dial_resolved(dialed_at, DialResult::Answered { rung });
                self.stats.answered += 1;
                self.route_answered(id, reserved, now, out);
            }
            Event::Failed(id, cause) => {
                let call = self.live_call(id)?;
                call.check_can_fail()?;
                let rung = now.secs_since(call.ring_start());
                let result = if cause == FailCause::NoAnswer {
                    DialResult::NoAnswer
                } else {
                    DialResult::FailedEarly { rung }
                };
                self.estimates.dial_resolved(call.dialed_at, result);
                self.finish(id, Outcome::Failed(cause), now, out);
            }
            Event::Hangup(id) => {
                let call = self.live_call(id)?;
                match call.phase {
                    CallPhase::Connected { agent } => {
                        self.agent_mut(agent)?.call_ended(id, now)?;
                        self.finish(id, Outcome::Completed, now, out);
                    }
                    CallPhase::Answered => {
                        self.finish(id, Outcome::Abandoned(AbandonKind::CallerHungUp), now, out)
                    }
                    CallPhase::Dialing | CallPhase::Ringing => {
                        let rung = now.secs_since(call.ring_start());
                        self.estimates
                            .dial_resolved(call.dialed_at, DialResult::FailedEarly { rung });
                        self.finish(id, Outcome::Failed(FailCause::Rejected), now, out);
                    }
                }
            }
            Event::ConnectFailed(id) => {
                self.live_call(id)?;
                let call = self.calls.get_mut(&id).ok_or(CoreError::UnknownCall(id))?;
                let (agent, connected_at) = call.join_failed()?;
                self.stats.connected -= 1;
                self.stats.joins_failed += 1;
                // It was counted as reached in time at the connect; its fate is open again.
                self.window.retract(connected_at, false);
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.join_failed(id, now)?;
                }
                self.agent_changed();
                // The oldest answer waiting, most likely: first in line.
                match self.pop_ready_agent(AgentRole::takes_outbound) {
                    Some(other) => self.connect(id, other, now, out),
                    None => self.waiting.push_front(id),
                }
            }
            Event::Interrupt(id) => {
                let call = self.live_call(id)?;
                if let CallPhase::Connected { agent } = call.phase {
                    self.agent_mut(agent)?.call_ended(id, now)?;
                }
                out.push(Command::Cancel {
                    call: id,
                    reason: CancelReason::Interrupted,
                });
                self.finish(id, Outcome::Interrupted, now, out);
            }
            Event::NoContact(id) => {
                let call = self.live_call(id)?;
                if call.phase != CallPhase::Dialing {
                    return Err(CoreError::CallTransition {
                        call: id,
                        phase: call.phase.name(),
                        action: "left without a contact",
                    });
                }
                let dialed_at = call.dialed_at;
                self.contacts_exhausted = true;
                self.estimates
                    .dial_resolved(dialed_at, DialResult::Withdrawn);
                self.finish(id, Outcome::NoContact, now, out);
            }
            Event::ContactsAvailable => {
                self.contacts_exhausted = false;
                self.pace_now = true;
            }
            Event::Start => {
                self.running = true;
                self.pace_now = true;
            }
            Event::Stop => self.running = false,
            Event::SetPacing(settings) => self.set_pacing(settings)?,
            Event::Tick => {}
        }
        Ok(())
    }

    fn set_pacing(&mut self, settings: PacingSettings) -> Result<(), CoreError> {
        settings.validate()?;
        let mode_changed = settings.mode != self.config.pacing.mode;
        self.config.pacing = settings;
        if mode_changed {
            self.pacer = pacing::for_settings(&self.config);
        } else {
            self.pacer.update(&settings);
        }
        self.pace_now = true;
        Ok(())
    }

    fn agent_changed(&mut self) {
        self.staffed = self.agents.values().filter(|a| a.is_staffed()).count();
        self.staffed_outbound = self
            .agents
            .values()
            .filter(|a| a.is_staffed() && a.role.takes_outbound())
            .count();
        self.pace_now = true;
    }

    /// A reserved agent left: its call now takes whichever agent is free when answered.
    fn release_reservation(&mut self, call: Option<CallId>) {
        if let Some(call) = call.and_then(|id| self.calls.get_mut(&id)) {
            call.reserved_for = None;
        }
    }

    /// The agent just became ready: take the longest-waiting call, or join the queue.
    fn agent_free(&mut self, agent: AgentId, now: Instant, out: &mut Vec<Command>) {
        self.pace_now = true;
        let role = self.agents.get(&agent).map(|a| a.role).unwrap_or_default();
        if role.takes_inbound() {
            if let Some(call) = self.next_inbound() {
                self.connect_inbound(call, agent, now, out);
                return;
            }
        }
        if role == AgentRole::InboundOnly {
            self.ready_queue.push_back((agent, now));
            return;
        }
        while let Some(call) = self.waiting.pop_front() {
            if self
                .calls
                .get(&call)
                .is_some_and(|c| c.phase == CallPhase::Answered)
            {
                self.connect(call, agent, now, out);
                return;
            }
        }
        self.ready_queue.push_back((agent, now));
    }

    /// The agent ready longest whose role takes the call, if any (stale
    /// entries are dropped on the way).
    fn pop_ready_agent(&mut self, takes: fn(AgentRole) -> bool) -> Option<AgentId> {
        let agents = &self.agents;
        let live = |(id, since): &(AgentId, Instant)| {
            agents
                .get(id)
                .is_some_and(|a| a.state == AgentState::Ready && a.since == *since)
        };
        let mut at = 0;
        while at < self.ready_queue.len() {
            let entry = self.ready_queue[at];
            if !live(&entry) {
                self.ready_queue.remove(at);
            } else if agents.get(&entry.0).is_some_and(|a| takes(a.role)) {
                return self.ready_queue.remove(at).map(|(id, _)| id);
            } else {
                at += 1;
            }
        }
        None
    }

    /// The inbound caller to answer next, taken out of the queue.
    fn next_inbound(&mut self) -> Option<CallId> {
        self.inbound_queue.pop_first().map(|(_, _, id)| id)
    }

    fn connect_inbound(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        let (Some(call), Some(agent)) =
            (self.inbound.get_mut(&call_id), self.agents.get_mut(&agent_id))
        else {
            return;
        };
        if call.agent.is_some() || agent.connect(call_id, now).is_err() {
            return;
        }
        call.agent = Some((agent_id, now));
        self.inbound_stats.record_answer(
            now.as_millis().saturating_sub(call.arrived_at.as_millis()),
            self.config.inbound.answer_within,
        );
        out.push(Command::Connect {
            call: call_id,
            agent: agent_id,
        });
    }

    /// An event about an inbound call.
    fn apply_inbound(
        &mut self,
        now: Instant,
        event: Event,
        id: CallId,
        out: &mut Vec<Command>,
    ) -> Result<(), CoreError> {
        let Some(call) = self.inbound.get(&id).cloned() else {
            return Err(CoreError::UnknownCall(id));
        };
        match (event, call.agent) {
            (Event::Hangup(_), Some((agent, _))) => {
                self.agent_mut(agent)?.call_ended(id, now)?;
                self.end_inbound(id, InboundOutcome::Answered, out);
            }
            (Event::Hangup(_), None) => {
                self.inbound_stats.abandoned_wait_ms +=
                    now.as_millis().saturating_sub(call.arrived_at.as_millis());
                self.end_inbound(id, InboundOutcome::HungUpWaiting, out);
            }
            (Event::ConnectFailed(_), Some((agent, _))) => {
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.join_failed(id, now)?;
                }
                self.inbound_stats.take_back_answer(
                    now.as_millis().saturating_sub(call.arrived_at.as_millis()),
                    self.config.inbound.answer_within,
                );
                if let Some(c) = self.inbound.get_mut(&id) {
                    c.agent = None;
                }
                self.agent_changed();
                // Back in line where it was.
                self.inbound_queue.insert((call.class, call.arrived_at, id));
                if let Some(other) = self.pop_ready_agent(AgentRole::takes_inbound) {
                    if let Some(next) = self.next_inbound() {
                        self.connect_inbound(next, other, now, out);
                    }
                }
            }
            (Event::ConnectFailed(_), None) => {
                return Err(CoreError::CallTransition {
                    call: id,
                    phase: "waiting",
                    action: "fail to join",
                });
            }
            (Event::Interrupt(_), agent) => {
                if let Some((agent, _)) = agent {
                    self.agent_mut(agent)?.call_ended(id, now)?;
                }
                out.push(Command::Cancel {
                    call: id,
                    reason: CancelReason::Interrupted,
                });
                self.end_inbound(id, InboundOutcome::Interrupted, out);
            }
            _ => {}
        }
        Ok(())
    }

    /// End an inbound call; a caller never answered gets a callback.
    fn end_inbound(&mut self, id: CallId, outcome: InboundOutcome, out: &mut Vec<Command>) {
        let Some(call) = self.inbound.remove(&id) else {
            return;
        };
        self.inbound_queue.remove(&(call.class, call.arrived_at, id));
        if call.agent.is_none() {
            self.inbound_stats.callbacks += 1;
            out.push(Command::Callback { call: id });
        }
        match outcome {
            InboundOutcome::Answered => {}
            InboundOutcome::HungUpWaiting => self.inbound_stats.abandoned += 1,
            InboundOutcome::WaitLimit => self.inbound_stats.timed_out += 1,
            InboundOutcome::Interrupted => self.inbound_stats.interrupted += 1,
        }
        out.push(Command::InboundEnded { call: id, outcome });
        self.pace_now = true;
    }

    fn route_answered(
        &mut self,
        call: CallId,
        reserved: Option<AgentId>,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        let reserved_agent = reserved.filter(|a| {
            self.agents
                .get(a)
                .is_some_and(|a| a.state == AgentState::Reserved { call })
        });
        match reserved_agent.or_else(|| self.pop_ready_agent(AgentRole::takes_outbound)) {
            Some(agent) => self.connect(call, agent, now, out),
            None => self.waiting.push_back(call),
        }
    }

    fn connect(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        let (Some(call), Some(agent)) =
            (self.calls.get_mut(&call_id), self.agents.get_mut(&agent_id))
        else {
            return;
        };
        // Both were checked by the callers; a refusal here would leave the call waiting.
        if agent.connect(call_id, now).is_err() || call.connect(agent_id, now).is_err() {
            return;
        }
        self.stats.connected += 1;
        self.window.record(now, false);
        self.pacer.on_live_outcome(now, false);
        out.push(Command::Connect {
            call: call_id,
            agent: agent_id,
        });
    }

    /// End a call with its outcome and free what it held.
    fn finish(&mut self, id: CallId, outcome: Outcome, now: Instant, out: &mut Vec<Command>) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        if let Some(agent) = call.reserved_for {
            let freed = self
                .agents
                .get_mut(&agent)
                .is_some_and(|a| a.unreserve(id, now).is_ok());
            if freed {
                self.agent_free(agent, now, out);
            }
        }
        // Otherwise the freed line waits for the next periodic pacing decision.
        out.push(Command::Ended { call: id, outcome });
        match outcome {
            Outcome::Completed => self.stats.completed += 1,
            Outcome::Abandoned(kind) => {
                match kind {
                    AbandonKind::Dropped => self.stats.dropped += 1,
                    AbandonKind::CallerHungUp => self.stats.caller_hung_up += 1,
                }
                self.window.record(now, true);
                self.pacer.on_live_outcome(now, true);
            }
            Outcome::Failed(cause) => self.stats.count_failure(cause),
            Outcome::Withdrawn => self.stats.withdrawn += 1,
            Outcome::Interrupted => self.stats.interrupted += 1,
            Outcome::NoContact => {
                self.stats.no_contact += 1;
                self.stats.dials -= 1;
            }
        }
    }

    /// Expire timers: strictly before `now` ahead of an event, up to and including
    /// `now` after it (an event at the very deadline wins).
    fn expire(&mut self, now: Instant, inclusive: bool, out: &mut Vec<Command>) {
        let due = |deadline: Instant| {
            if inclusive {
                deadline <= now
            } else {
                deadline < now
            }
        };
        let grace = self.config.connect_grace;
        while let Some(&id) = self.waiting.front() {
            match self.calls.get(&id) {
                Some(call) if call.phase == CallPhase::Answered => {
                    let deadline = call.answered_at.unwrap_or(now) + grace;
                    if !due(deadline) {
                        break;
                    }
                    self.waiting.pop_front();
                    out.push(Command::Drop { call: id });
                    self.finish(id, Outcome::Abandoned(AbandonKind::Dropped), now, out);
                }
                _ => {
                    self.waiting.pop_front();
                }
            }
        }
        while let Some(&Reverse((deadline, id))) = self.ring_deadlines.peek() {
            if !due(deadline) {
                break;
            }
            self.ring_deadlines.pop();
            if self.ring_deadline(id) == Some(deadline) {
                self.cancel(id, CancelReason::NoAnswer, now, out);
            }
        }
        let max_wait = self.config.inbound.max_wait;
        let released: Vec<CallId> = self
            .inbound_queue
            .iter()
            .filter(|(_, arrived, _)| due(*arrived + max_wait))
            .map(|(_, _, id)| *id)
            .collect();
        for id in released {
            out.push(Command::Release { call: id });
            self.end_inbound(id, InboundOutcome::WaitLimit, out);
        }
        self.shed_excess(&due, now, out);
        // Forget deadlines of calls that ended or got a later one, so next_wake is exact.
        while let Some(&Reverse((deadline, id))) = self.ring_deadlines.peek() {
            if self.ring_deadline(id) == Some(deadline) {
                break;
            }
            self.ring_deadlines.pop();
        }
    }

    /// The no-answer deadline of a call still unanswered.
    fn ring_deadline(&self, id: CallId) -> Option<Instant> {
        self.calls
            .get(&id)
            .filter(|c| c.phase.is_unanswered())
            .map(|c| c.ring_start() + self.config.no_answer_timeout)
    }

    /// When agents leave, calls in progress can exceed the lines ceiling of those who
    /// stay: cancel the longest-ringing unanswered calls, once they have rung the legal
    /// minimum, until the ceiling holds. With no agent left every call is shed.
    fn shed_excess(&mut self, due: &impl Fn(Instant) -> bool, now: Instant, out: &mut Vec<Command>) {
        let excess = self.calls.len().saturating_sub(self.lines());
        if excess == 0 {
            return;
        }
        let min_ring = self.config.min_ring;
        let mut sheddable: Vec<(Instant, CallId)> = self
            .calls
            .values()
            .filter(|c| c.phase.is_unanswered() && due(c.ring_start() + min_ring))
            .map(|c| (c.ring_start(), c.id))
            .collect();
        sheddable.sort_unstable();
        for (_, id) in sheddable.into_iter().take(excess) {
            self.cancel(id, CancelReason::Withdrawn, now, out);
        }
    }

    /// Cancel a ringing call: at the no-answer timeout, or early (withdrawn:
    /// its fate is unknown).
    fn cancel(&mut self, id: CallId, reason: CancelReason, now: Instant, out: &mut Vec<Command>) {
        out.push(Command::Cancel { call: id, reason });
        let (result, outcome) = match reason {
            CancelReason::NoAnswer => (DialResult::NoAnswer, Outcome::Failed(FailCause::NoAnswer)),
            CancelReason::Withdrawn | CancelReason::Interrupted => {
                (DialResult::Withdrawn, Outcome::Withdrawn)
            }
        };
        if let Some(call) = self.calls.get(&id) {
            self.estimates.dial_resolved(call.dialed_at, result);
        }
        self.finish(id, outcome, now, out);
    }

    fn dial(&mut self, now: Instant, agent: Option<AgentId>, risk: f64, out: &mut Vec<Command>) {
        let id = CallId(self.next_call);
        self.next_call += 1;
        if let Some(agent) = agent {
            if let Some(a) = self.agents.get_mut(&agent) {
                if a.reserve(id, now).is_err() {
                    return;
                }
            }
        }
        if let Some(bucket) = &mut self.trunk_rate {
            bucket.take();
        }
        self.calls.insert(id, Call::new(id, now, agent, risk));
        self.estimates.dial_placed(now);
        self.ring_deadlines
            .push(Reverse((now + self.config.no_answer_timeout, id)));
        self.stats.dials += 1;
        out.push(Command::Dial { call: id, agent });
    }

    /// What held the dialer back at its last pacing decision.
    pub fn restraint(&self) -> Restraint {
        self.restraint
    }

    fn pace(&mut self, now: Instant, out: &mut Vec<Command>) {
        self.pace_now = false;
        self.next_pace = now + self.config.pace_interval;
        self.trunk_wake = None;
        if !self.may_dial() {
            self.restraint = if !self.running {
                Restraint::NotRunning
            } else if self.contacts_exhausted {
                Restraint::NoContacts
            } else if self.staffed_outbound == 0 {
                Restraint::NoAgents
            } else {
                Restraint::AgentAsks
            };
            return;
        }
        let (mut unanswered, mut waiting, mut active) = (0, 0, 0);
        let (mut free_outbound, mut free_inbound, mut free_blended) = (0, 0, 0);
        let mut staffed_inbound = 0usize;
        for agent in self.agents.values() {
            if agent.state == AgentState::Ready {
                match agent.role {
                    AgentRole::OutboundOnly => free_outbound += 1,
                    AgentRole::InboundOnly => free_inbound += 1,
                    AgentRole::Blended => free_blended += 1,
                }
            }
            if agent.is_staffed() && agent.role.takes_inbound() {
                staffed_inbound += 1;
            }
        }
        // Blended agents kept free for callers expected soon, beyond the
        // inbound-only agents free now.
        let inbound_rate = self.forecast.rate(now);
        let reserve = if inbound_rate > 0.0 {
            let inbound = &self.config.inbound;
            // Outbound keeps the others busy: each of them frees up once a
            // handle time.
            let refill = staffed_inbound as f64 / self.estimates.mean_busy_secs().max(1.0);
            inbound::reserve_for(
                inbound_rate,
                refill,
                inbound.answer_within.as_secs_f64(),
                inbound.service_level,
                staffed_inbound,
            )
        } else {
            0
        };
        let held = reserve.saturating_sub(free_inbound).min(free_blended);
        self.held_for_inbound = held;
        let free = free_outbound + free_blended - held;
        waiting += self.inbound_queue.len();
        for call in self.calls.values() {
            active += 1;
            match call.phase {
                CallPhase::Dialing | CallPhase::Ringing => unanswered += 1,
                CallPhase::Answered => waiting += 1,
                CallPhase::Connected { .. } => {}
            }
        }
        let ceiling_room = self.lines().saturating_sub(active);
        let trunk_room = self.config.trunk.room(active);
        let line_room = trunk_room.map_or(ceiling_room, |t| t.min(ceiling_room));
        let (window_answered, window_abandoned) = self.window.counts(now);
        let view = PacingView {
            now,
            config: &self.config,
            agents: &self.agents,
            calls: &self.calls,
            estimates: &self.estimates,
            staffed: self.staffed_outbound.saturating_sub(held),
            free,
            unanswered,
            waiting,
            window_answered,
            window_abandoned,
            line_room,
            inbound_rate,
        };
        let mut risks = std::mem::take(&mut self.risks);
        risks.clear();
        self.pacer.plan(&view, &mut risks);
        let rate_room = self
            .trunk_rate
            .as_mut()
            .map_or(usize::MAX, |b| b.available(now));
        let reserves = self.pacer.reserves_agents();
        let mut placed = 0;
        for &risk in risks.iter().take(line_room.min(rate_room)) {
            if reserves {
                let Some(agent) = self.pop_ready_agent(AgentRole::takes_outbound) else {
                    break;
                };
                self.dial(now, Some(agent), risk, out);
            } else {
                self.dial(now, None, risk, out);
            }
            placed += 1;
        }
        let wanted = risks.len().min(line_room);
        self.restraint = if placed < wanted && placed >= rate_room {
            self.trunk_wake = self.trunk_rate.as_ref().map(TokenBucket::next_token);
            Restraint::TrunkRate
        } else if placed >= line_room {
            if trunk_room.is_some_and(|t| t < ceiling_room) {
                Restraint::TrunkCalls
            } else {
                Restraint::LineCeiling
            }
        } else if placed == 0 && (held > 0 || !self.inbound_queue.is_empty()) {
            Restraint::InboundFirst
        } else {
            match self.config.pacing.mode {
                PacingMode::Progressive => Restraint::NoFreeAgent,
                PacingMode::Power => Restraint::PowerRatio,
                _ => Restraint::AbandonRisk,
            }
        };
        self.risks = risks;
    }

    /// Checks the cross-links between agents and calls; for tests and debugging.
    pub fn check_invariants(&self) -> Result<(), String> {
        for agent in self.agents.values() {
            match agent.state {
                AgentState::OnCall { call }
                    if self
                        .inbound
                        .get(&call)
                        .is_some_and(|c| c.agent.map(|(a, _)| a) == Some(agent.id)) => {}
                AgentState::OnCall { call } => match self.calls.get(&call).map(|c| c.phase) {
                    Some(CallPhase::Connected { agent: a }) if a == agent.id => {}
                    other => {
                        return Err(format!(
                            "{} on call {call} whose phase is {other:?}",
                            agent.id
                        ))
                    }
                },
                AgentState::Reserved { call }
                    if self.calls.get(&call).and_then(|c| c.reserved_for) != Some(agent.id) =>
                {
                    return Err(format!(
                        "{} reserved for {call} which is not held for it",
                        agent.id
                    ));
                }
                _ => {}
            }
        }
        for call in self.calls.values() {
            if let CallPhase::Connected { agent } = call.phase {
                if self.agents.get(&agent).map(|a| a.state)
                    != Some(AgentState::OnCall { call: call.id })
                {
                    return Err(format!("{} connected to {agent} who is not on it", call.id));
                }
            }
        }
        for call in self.inbound.values() {
            let queued = self
                .inbound_queue
                .contains(&(call.class, call.arrived_at, call.id));
            match call.agent {
                Some((agent, _)) => {
                    if queued {
                        return Err(format!("{} connected and still queued", call.id));
                    }
                    if self.agents.get(&agent).map(|a| a.state)
                        != Some(AgentState::OnCall { call: call.id })
                    {
                        return Err(format!("{} connected to {agent} who is not on it", call.id));
                    }
                }
                None if !queued => return Err(format!("{} waiting but not queued", call.id)),
                None => {}
            }
        }
        if self.inbound_queue.len() > self.inbound.values().filter(|c| c.agent.is_none()).count() {
            return Err("the inbound queue holds calls that ended".into());
        }
        let waiting_agent = self
            .agents
            .values()
            .any(|a| a.state == AgentState::Ready && a.role.takes_inbound());
        if waiting_agent && !self.inbound_queue.is_empty() {
            return Err("a caller waits while an agent who takes inbound calls is ready".into());
        }
        let staffed = self.agents.values().filter(|a| a.is_staffed()).count();
        if staffed != self.staffed {
            return Err(format!(
                "staffed count {} but {staffed} agents staffed",
                self.staffed
            ));
        }
        Ok(())
    }
}
