//! Property tests of the campaign's invariants under arbitrary (often impossible)
//! event sequences, failed joins and interrupted calls included: whatever the
//! driver says, the core never panics and
//! - an agent is never on two calls at once,
//! - a call is connected to one agent at a time, again only after a failed join,
//! - every dialed call ends exactly once, announced by one `Ended` with its
//!   outcome: never twice, and once the driver hangs up the connected calls and
//!   time runs on, none is left,
//! - a call ends `Abandoned` only if it was answered and not connected within
//!   the grace (`Dropped`) or hung up while waiting (`CallerHungUp`),
//! - the abandon accounting equals the history of commands and accepted events,
//! - the core never asks to be woken in the past;
//!
//! and of inbound callers, blended with the outbound calls:
//! - an inbound call is connected to one agent at a time, and ends exactly
//!   once (one `InboundEnded`), none left at the end,
//! - every caller who leaves the queue unanswered (hung up, released at the
//!   wait limit, cut by a stop) gets exactly one callback, and no caller who
//!   reached an agent gets one,
//! - a caller waits only while no agent who takes inbound calls is ready,
//! - inbound calls never enter the outbound abandon accounting.

use proptest::prelude::*;
use sanjeevani_core::{
    AbandonKind, AgentId, AgentRole, CallId, CallerClass, Campaign, CampaignConfig, Command, Event,
    FailCause, InboundOutcome, Instant, Outcome, PacingMode, TrunkLimits,
};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
enum Step {
    Ready(u64),
    Pause(u64),
    Logout(u64),
    Login(u64),
    Preview(u64),
    /// Refers to the n-th call dialed so far (modulo), or an unknown one.
    Ringing(usize),
    Answered(usize),
    Failed(usize, usize),
    Hangup(usize),
    ConnectFailed(usize),
    Interrupt(usize),
    Arrive(usize),
    Role(u64, usize),
    Stop,
    Start,
    Mode(usize),
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    let agent = 1u64..5;
    let call = 0usize..40;
    prop_oneof![
        3 => agent.clone().prop_map(Step::Ready),
        1 => agent.clone().prop_map(Step::Pause),
        1 => agent.clone().prop_map(Step::Logout),
        1 => agent.clone().prop_map(Step::Login),
        1 => agent.prop_map(Step::Preview),
        3 => call.clone().prop_map(Step::Ringing),
        4 => call.clone().prop_map(Step::Answered),
        2 => (call.clone(), 0usize..5).prop_map(|(c, k)| Step::Failed(c, k)),
        4 => call.clone().prop_map(Step::Hangup),
        2 => call.clone().prop_map(Step::ConnectFailed),
        1 => call.prop_map(Step::Interrupt),
        3 => (0usize..4).prop_map(Step::Arrive),
        1 => (1u64..5, 0usize..3).prop_map(|(a, r)| Step::Role(a, r)),
        1 => Just(Step::Stop),
        1 => Just(Step::Start),
        1 => (0usize..6).prop_map(Step::Mode),
        4 => Just(Step::Tick),
    ]
}

const MODES: [PacingMode; 6] = PacingMode::ALL;

#[derive(Default)]
struct History {
    dialed: Vec<CallId>,
    ended: BTreeSet<CallId>,
    /// Calls connected now, with their agent.
    connected: BTreeMap<CallId, AgentId>,
    /// Connects the telephony carried out (not failed since).
    reached: u64,
    answered_at: BTreeMap<CallId, Instant>,
    agent_on: BTreeMap<AgentId, CallId>,
    dropped: u64,
    caller_hung_up: u64,
    /// When each call was dialed, in order.
    dial_times: Vec<Instant>,
    /// Inbound calls, in arrival order; all calls (dialed or arrived) in
    /// the order the core named them.
    arrived: BTreeSet<CallId>,
    all: Vec<CallId>,
    inbound_ended: BTreeSet<CallId>,
    callbacks: BTreeSet<CallId>,
    /// Inbound calls that reached an agent at some time.
    inbound_reached: BTreeSet<CallId>,
}

impl History {
    /// Applies a command, checking it against what happened before.
    fn command(&mut self, command: Command, at: Instant, grace: u64) -> Result<(), TestCaseError> {
        match command {
            Command::Dial { call, .. } => {
                prop_assert!(!self.all.contains(&call), "{call} named twice");
                self.dialed.push(call);
                self.all.push(call);
                self.dial_times.push(at);
            }
            Command::Connect { call, agent } if self.arrived.contains(&call) => {
                prop_assert!(!self.inbound_ended.contains(&call), "connect after end");
                prop_assert!(
                    self.connected.insert(call, agent).is_none(),
                    "{call} connected twice"
                );
                prop_assert!(
                    self.agent_on.insert(agent, call).is_none(),
                    "{agent} given a second call"
                );
                self.inbound_reached.insert(call);
            }
            Command::Queued { call, .. } => {
                prop_assert!(!self.all.contains(&call), "{call} named twice");
                self.arrived.insert(call);
                self.all.push(call);
            }
            Command::Release { call } => {
                prop_assert!(self.arrived.contains(&call), "{call} released, not inbound");
                prop_assert!(!self.connected.contains_key(&call), "{call} released on a call");
            }
            Command::Callback { call } => {
                prop_assert!(self.callbacks.insert(call), "{call} called back twice");
                prop_assert!(
                    !self.inbound_reached.contains(&call),
                    "{call} called back though answered"
                );
            }
            Command::InboundEnded { call, outcome } => {
                prop_assert!(self.inbound_ended.insert(call), "{call} ended twice");
                let was_connected = self.connected.remove(&call);
                if let Some(agent) = was_connected {
                    self.agent_on.remove(&agent);
                }
                let unanswered = !self.inbound_reached.contains(&call);
                match outcome {
                    InboundOutcome::Answered => prop_assert!(was_connected.is_some()),
                    InboundOutcome::HungUpWaiting | InboundOutcome::WaitLimit => {
                        prop_assert!(was_connected.is_none() && unanswered)
                    }
                    InboundOutcome::Interrupted => {}
                }
                if was_connected.is_none() {
                    prop_assert!(
                        self.callbacks.contains(&call),
                        "{call} left unanswered without a callback"
                    );
                }
            }
            Command::Connect { call, agent } => {
                prop_assert!(!self.ended.contains(&call), "connect after end");
                prop_assert!(
                    self.answered_at.contains_key(&call),
                    "{call} connected unanswered"
                );
                prop_assert!(
                    self.connected.insert(call, agent).is_none(),
                    "{call} connected twice"
                );
                prop_assert!(
                    self.agent_on.insert(agent, call).is_none(),
                    "{agent} given a second call"
                );
                self.reached += 1;
            }
            Command::Drop { call } | Command::Cancel { call, .. } => {
                prop_assert!(!self.ended.contains(&call), "{call} stopped after its end");
            }
            Command::Ended { call, outcome } => {
                prop_assert!(self.ended.insert(call), "{call} ended twice");
                let was_connected = self.connected.remove(&call);
                if let Some(agent) = was_connected {
                    self.agent_on.remove(&agent);
                }
                match outcome {
                    Outcome::Completed => prop_assert!(was_connected.is_some()),
                    Outcome::Abandoned(kind) => {
                        prop_assert!(was_connected.is_none(), "{call} abandoned while connected");
                        let answered = self.answered_at.get(&call).copied();
                        prop_assert!(answered.is_some(), "{call} abandoned unanswered");
                        if kind == AbandonKind::Dropped {
                            let waited = at.as_millis() - answered.unwrap().as_millis();
                            prop_assert!(
                                waited >= grace,
                                "{call} dropped {waited} ms after answer"
                            );
                            self.dropped += 1;
                        } else {
                            self.caller_hung_up += 1;
                        }
                    }
                    // Cut by the service: connected or not, as it was.
                    Outcome::Interrupted => {}
                    _ => prop_assert!(
                        was_connected.is_none() && !self.answered_at.contains_key(&call),
                        "{call} answered but ended {outcome:?}"
                    ),
                }
            }
        }
        Ok(())
    }
}

/// No limit, calls per second, calls at once.
const TRUNKS: [TrunkLimits; 3] = [
    TrunkLimits {
        calls_per_second: 0.0,
        max_calls: 0,
    },
    TrunkLimits {
        calls_per_second: 3.0,
        max_calls: 0,
    },
    TrunkLimits {
        calls_per_second: 0.0,
        max_calls: 4,
    },
];

fn run(mode: usize, trunk: usize, steps: Vec<(u16, Step)>) -> Result<(), TestCaseError> {
    let mut config = CampaignConfig::default();
    config.pacing.mode = MODES[mode];
    config.trunk = TRUNKS[trunk];
    let limits = config.trunk;
    let grace = config.connect_grace.as_millis() as u64;
    let mut campaign = Campaign::new(config);
    let mut h = History::default();
    let mut now = 0u64;
    let mut out = Vec::new();
    for (advance, step) in steps {
        now += u64::from(advance) * 10;
        let pick = |i: usize, h: &History| {
            h.all
                .get(i % h.all.len().max(1))
                .copied()
                .unwrap_or(CallId(999))
        };
        let event = match step {
            Step::Ready(a) => Event::AgentReady(AgentId(a)),
            Step::Pause(a) => Event::AgentPause(AgentId(a)),
            Step::Logout(a) => Event::AgentLogout(AgentId(a)),
            Step::Login(a) => Event::AgentLogin(AgentId(a)),
            Step::Preview(a) => Event::PreviewDial(AgentId(a)),
            Step::Ringing(i) => Event::Ringing(pick(i, &h)),
            Step::Answered(i) => Event::Answered(pick(i, &h)),
            Step::Failed(i, k) => Event::Failed(pick(i, &h), FailCause::ALL[k]),
            Step::Hangup(i) => Event::Hangup(pick(i, &h)),
            Step::ConnectFailed(i) => Event::ConnectFailed(pick(i, &h)),
            Step::Interrupt(i) => Event::Interrupt(pick(i, &h)),
            Step::Arrive(c) => Event::InboundArrived(CallerClass::ALL[c]),
            Step::Role(a, r) => Event::SetRole(AgentId(a), AgentRole::ALL[r]),
            Step::Stop => Event::Stop,
            Step::Start => Event::Start,
            Step::Mode(m) => {
                let mut s = campaign.config().pacing;
                s.mode = MODES[m];
                Event::SetPacing(s)
            }
            Step::Tick => Event::Tick,
        };
        let at = Instant::from_millis(now);
        out.clear();
        let result = campaign.handle(at, event.clone(), &mut out);
        if result.is_ok() {
            match event {
                Event::Answered(c) => {
                    h.answered_at.insert(c, at);
                }
                Event::ConnectFailed(c) => {
                    let agent = h.connected.remove(&c);
                    prop_assert!(agent.is_some(), "a failed join of {c}, not connected");
                    h.agent_on.remove(&agent.unwrap());
                    if h.arrived.contains(&c) {
                        h.inbound_reached.remove(&c);
                    } else {
                        h.reached -= 1;
                    }
                }
                _ => {}
            }
        }
        for command in out.clone() {
            h.command(command, at, grace)?;
        }
        if result.is_err() {
            // A refused event changes nothing it names.
            if let Event::Failed(c, _) | Event::Hangup(c) = event {
                prop_assert!(campaign.call(c).is_none() || !h.ended.contains(&c));
            }
        }
        prop_assert_eq!(campaign.check_invariants(), Ok(()));
        if limits.max_calls > 0 {
            prop_assert!(campaign.calls().count() <= limits.max_calls as usize);
        }
        if limits.calls_per_second > 0.0 {
            // Over any second, at most the rate plus the one call the bucket holds.
            let times = &h.dial_times;
            let most = limits.calls_per_second as usize + 1;
            for (i, t) in times.iter().enumerate() {
                let within = times[i..]
                    .iter()
                    .take_while(|u| u.as_millis() < t.as_millis() + 1000)
                    .count();
                prop_assert!(within <= most, "{within} dials in the second from {t}");
            }
        }
        if let Some(wake) = campaign.next_wake() {
            prop_assert!(wake >= at, "wake {wake} before now {at}");
        }
        let stats = campaign.stats();
        prop_assert_eq!(stats.dropped, h.dropped);
        prop_assert_eq!(stats.caller_hung_up, h.caller_hung_up);
        let (answered, abandoned) = campaign.window_counts(at);
        prop_assert_eq!(abandoned, h.dropped + h.caller_hung_up);
        prop_assert_eq!(answered, h.reached + abandoned);
        for call in campaign.calls() {
            prop_assert!(
                !h.ended.contains(&call.id),
                "{} live after it ended",
                call.id
            );
        }
    }
    // Drain: stop dialing, hang up every connected call (callers waiting
    // may reach an agent on the way), let every timer run out.
    let mut t = Instant::from_millis(now);
    out.clear();
    let _ = campaign.handle(t, Event::Stop, &mut out);
    for _ in 0..10 {
        for command in std::mem::take(&mut out) {
            h.command(command, t, grace)?;
        }
        let connected: Vec<CallId> = h.connected.keys().copied().collect();
        for call in connected {
            prop_assert!(campaign.handle(t, Event::Hangup(call), &mut out).is_ok());
        }
        for command in std::mem::take(&mut out) {
            h.command(command, t, grace)?;
        }
        t = t + std::time::Duration::from_secs(60);
        campaign.handle(t, Event::Tick, &mut out).unwrap();
    }
    for command in out.clone() {
        h.command(command, t, grace)?;
    }
    for call in &h.dialed {
        prop_assert!(h.ended.contains(call), "{call} never ended");
    }
    for call in &h.arrived {
        prop_assert!(h.inbound_ended.contains(call), "{call} never ended");
    }
    prop_assert_eq!(campaign.calls().count(), 0);
    prop_assert_eq!(campaign.inbound_calls().count(), 0);
    let inbound = campaign.inbound_stats();
    prop_assert_eq!(inbound.offered, h.arrived.len() as u64);
    prop_assert_eq!(inbound.callbacks, h.callbacks.len() as u64);
    prop_assert_eq!(inbound.answered, h.inbound_reached.len() as u64);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_any_event_sequence(
        mode in 0usize..6,
        trunk in 0usize..3,
        steps in proptest::collection::vec((0u16..400, step()), 1..120),
    ) {
        run(mode, trunk, steps)?;
    }
}
