//! What a running dialer tells the outside: a [`LiveView`] of the campaign
//! (for wallboards and agents' states), [`Notice`]s of single happenings (a
//! call reached an agent, a call ended), and the [`Control`]s it accepts from
//! agents and supervisors.

use crate::{LineProblem, LineStatus};
use sanjeevani_contacts::AttemptOutcome;
use sanjeevani_core::{
    figures, AgentId, AgentState, CallId, CallPhase, Campaign, Instant, PacingSettings,
};
use sanjeevani_store::{AttemptId, CampaignId, ContactId, Millis};
use serde::Serialize;
use std::collections::HashMap;

/// What agents and supervisors ask a running campaign to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// The agent logs in, paused, with their phone (`None`: the adapter's
    /// rule from the agent's number).
    AgentLogin {
        agent: AgentId,
        phone: Option<String>,
    },
    AgentReady(AgentId),
    AgentPause(AgentId),
    /// Logs out now, or after the current call.
    AgentLogout(AgentId),
    /// The agent ends their connected call.
    AgentHangup(AgentId),
    /// Preview mode: the next contact is held for the agent to see before
    /// it is dialed (nothing happens if one is held already).
    PreviewShow(AgentId),
    /// Preview mode: the held contact goes back to the queue and the next
    /// one is held instead.
    PreviewSkip(AgentId),
    /// Preview mode: the held contact (or, with none held, the next) is
    /// dialed for the agent.
    PreviewDial(AgentId),
    SetPacing(PacingSettings),
    /// Start placing calls.
    Start,
    /// Stop placing calls; calls in progress go on.
    Pause,
}

/// A control with the way back for the core's answer: `Ok`, or a typed
/// refusal (an agent on a call cannot be made ready, a campaign not in
/// preview shows no contact). The answer comes once the view that shows the
/// control's effect is published.
#[derive(Debug)]
pub struct ControlRequest {
    pub control: Control,
    pub answer: Option<tokio::sync::oneshot::Sender<Result<(), sanjeevani_core::CoreError>>>,
}

/// One agent as the wallboard and the agent's own desk show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentView {
    pub id: u64,
    /// logged out, paused, ready, reserved, on call, in wrap-up.
    pub state: &'static str,
    /// Seconds in this state.
    pub for_secs: u64,
    /// The call the agent is reserved for, talking on, or wrapping up.
    pub call: Option<CallView>,
    /// Asked (by themselves or a supervisor) to `pause` or `log out` once
    /// the call and its wrap-up are over.
    pub after_call: Option<&'static str>,
    /// Preview mode: the contact held for the agent to see before dialing.
    pub preview: Option<ContactId>,
    /// Calls taken and seconds talking, wrapping up, paused and waiting.
    pub calls: u64,
    pub talk_secs: u64,
    pub wrap_secs: u64,
    pub paused_secs: u64,
    pub waiting_secs: u64,
}

/// A call with the store's records it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CallView {
    pub call: u64,
    pub attempt: AttemptId,
    pub contact: ContactId,
}

/// Calls in progress by phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CallCounts {
    pub dialing: u64,
    pub ringing: u64,
    /// Answered, waiting for an agent.
    pub waiting: u64,
    pub connected: u64,
}

/// Totals since the campaign started on this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub dials: u64,
    pub answered: u64,
    pub connected: u64,
    pub completed: u64,
    pub abandoned: u64,
    pub busy: u64,
    pub no_answer: u64,
    /// Every other end (congestion, invalid, rejected, machine, withdrawn,
    /// interrupted), as the daily report counts them.
    pub failed_other: u64,
    /// Answered calls over dials that reached a result.
    pub answer_rate: f64,
    /// Mean talk time of ended connected calls, seconds.
    pub mean_handle_secs: f64,
}

/// The abandon rate over the core's rolling window against its cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AbandonView {
    pub answered: u64,
    pub abandoned: u64,
    pub rate: f64,
    pub cap: f64,
    pub target: f64,
}

/// Whether the campaign's telephony can place calls, and if not why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineView {
    pub up: bool,
    /// `unreachable`, `unauthorized` or `missing_module`.
    pub code: Option<&'static str>,
    /// What is wrong, for the log and the operator.
    pub problem: Option<String>,
    /// The module Asterisk lacks, for `missing_module`.
    pub module: Option<&'static str>,
}

impl From<LineStatus> for LineView {
    fn from(status: LineStatus) -> LineView {
        match status {
            LineStatus::Up => LineView {
                up: true,
                code: None,
                problem: None,
                module: None,
            },
            LineStatus::Down(problem) => LineView {
                up: false,
                code: Some(problem.code()),
                problem: Some(problem.to_string()),
                module: match problem {
                    LineProblem::MissingModule(module) => Some(module),
                    _ => None,
                },
            },
        }
    }
}

/// A running campaign at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveView {
    pub campaign: CampaignId,
    pub running: bool,
    /// The telephony: dialing pauses while it is down.
    pub line: LineView,
    pub pacing: PacingSettings,
    /// What held the dialer back at its last pacing decision (`abandon_risk`,
    /// `line_ceiling`, `no_agents` …).
    pub restraint: &'static str,
    pub agents: Vec<AgentView>,
    pub calls: CallCounts,
    pub totals: Totals,
    pub abandon: AbandonView,
    /// Agents logged in and not paused, as the core counts them.
    pub staffed: u64,
    /// Calls in progress per staffed agent.
    pub dial_level: f64,
    /// Share of staffed time agents spent on calls or wrap-up.
    pub occupancy: f64,
    /// Wall-clock time of the view.
    pub at: Millis,
}

impl LiveView {
    /// What watchers see before the dialer publishes its first view.
    pub fn empty(campaign: CampaignId, pacing: PacingSettings, at: Millis) -> LiveView {
        LiveView {
            campaign,
            running: false,
            line: LineStatus::Up.into(),
            pacing,
            restraint: sanjeevani_core::Restraint::NotRunning.name(),
            agents: Vec::new(),
            calls: CallCounts::default(),
            totals: Totals::default(),
            abandon: AbandonView::default(),
            staffed: 0,
            dial_level: 0.0,
            occupancy: 0.0,
            at,
        }
    }
}

/// Something that happened to one call, for the agent's and the desk's screens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// The call reached the agent: show the screen pop.
    Connected {
        campaign: CampaignId,
        agent: u64,
        call: CallView,
    },
    /// The call is over; the agent (if any) is in wrap-up.
    Ended {
        campaign: CampaignId,
        agent: Option<u64>,
        call: CallView,
        outcome: AttemptOutcome,
    },
}

/// Running totals the core does not keep: talk time and staffed time.
#[derive(Debug, Default)]
pub(crate) struct Occupancy {
    talk_ms_total: u64,
    talks_ended: u64,
    busy_ms: u64,
    staffed_ms: u64,
    last: Option<Instant>,
}

impl Occupancy {
    /// Adds the time since the last sample, split by what each agent was doing.
    pub(crate) fn sample(&mut self, core: &Campaign, now: Instant) {
        if let Some(last) = self.last {
            let dt = now.as_millis().saturating_sub(last.as_millis());
            for agent in core.agents() {
                if agent.state.is_staffed() {
                    self.staffed_ms += dt;
                    if agent.state.is_busy() {
                        self.busy_ms += dt;
                    }
                }
            }
        }
        self.last = Some(now);
    }

    pub(crate) fn talk_ended(&mut self, talk_ms: u64) {
        self.talk_ms_total += talk_ms;
        self.talks_ended += 1;
    }
}

/// What the runtime holds beside the core that the view shows.
pub(crate) struct Beside<'a> {
    /// Live calls and their records.
    pub calls: &'a HashMap<CallId, CallView>,
    /// Each agent's last call (shown in wrap-up).
    pub last_calls: &'a HashMap<AgentId, CallView>,
    /// Preview mode: the contact held for each agent.
    pub previews: &'a HashMap<AgentId, ContactId>,
    pub line: LineStatus,
    pub occupancy: &'a Occupancy,
}

/// Builds the view of `core` at `now`.
pub(crate) fn view(
    campaign: CampaignId,
    core: &mut Campaign,
    beside: Beside<'_>,
    now: Instant,
    wall: Millis,
) -> LiveView {
    let Beside {
        calls,
        last_calls,
        previews,
        line,
        occupancy,
    } = beside;
    let mut counts = CallCounts::default();
    for call in core.calls() {
        match call.phase {
            CallPhase::Dialing => counts.dialing += 1,
            CallPhase::Ringing => counts.ringing += 1,
            CallPhase::Answered => counts.waiting += 1,
            CallPhase::Connected { .. } => counts.connected += 1,
        }
    }
    let mut agents: Vec<AgentView> = core
        .agents()
        .map(|a| {
            let totals = a.totals_at(now);
            AgentView {
                id: a.id.0,
                state: a.state.name(),
                for_secs: now.as_millis().saturating_sub(a.since.as_millis()) / 1000,
                call: match a.state {
                    AgentState::Reserved { call } | AgentState::OnCall { call } => {
                        calls.get(&call).copied()
                    }
                    AgentState::WrapUp => last_calls.get(&a.id).copied(),
                    _ => None,
                },
                after_call: a.after_call.map(|after| after.name()),
                preview: previews.get(&a.id).copied(),
                calls: totals.calls,
                talk_secs: totals.talk_ms / 1000,
                wrap_secs: totals.wrap_ms / 1000,
                paused_secs: totals.paused_ms / 1000,
                waiting_secs: totals.waiting_ms / 1000,
            }
        })
        .collect();
    agents.sort_by_key(|a| a.id);
    let staffed = core.staffed();
    let in_progress = core.calls().count();
    let s = core.stats().clone();
    // Dials whose result is known: a machine is one, a withdrawn call is not.
    let reached =
        s.answered + s.busy + s.no_answer + s.congestion + s.invalid + s.rejected + s.machine;
    let (window_answered, window_abandoned) = core.window_counts(now);
    let pacing = core.config().pacing;
    LiveView {
        campaign,
        running: core.is_running(),
        line: line.into(),
        pacing,
        restraint: core.restraint().name(),
        agents,
        calls: counts,
        totals: Totals {
            dials: s.dials,
            answered: s.answered,
            connected: s.connected,
            completed: s.completed,
            abandoned: s.abandoned(),
            busy: s.busy,
            no_answer: s.no_answer,
            failed_other: s.congestion
                + s.invalid
                + s.rejected
                + s.machine
                + s.withdrawn
                + s.interrupted,
            answer_rate: figures::answer_rate(s.answered, reached),
            mean_handle_secs: figures::share(
                occupancy.talk_ms_total as f64,
                occupancy.talks_ended as f64,
            ) / 1000.0,
        },
        abandon: AbandonView {
            answered: window_answered,
            abandoned: window_abandoned,
            rate: figures::abandon_rate(window_abandoned, window_answered),
            cap: pacing.abandon_cap,
            target: pacing.abandon_target,
        },
        staffed: staffed as u64,
        dial_level: figures::dial_level(in_progress as u64, staffed as u64),
        occupancy: figures::occupancy(occupancy.busy_ms, occupancy.staffed_ms),
        at: wall,
    }
}
