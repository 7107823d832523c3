//! Property tests of the campaign's invariants under arbitrary (often impossible)
//! event sequences: whatever the driver says, the core never panics and
//! - an agent is never on two calls at once,
//! - a call is connected at most once,
//! - every dialed call ends exactly once: never twice, and once the driver hangs up
//!   the connected calls and time runs on, none is left,
//! - the abandon accounting equals the history of commands and accepted events,
//! - the core never asks to be woken in the past.

use proptest::prelude::*;
use sanjeevani_core::{
    AgentId, CallId, Campaign, CampaignConfig, Command, Event, FailCause, Instant, PacingMode,
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
        4 => call.prop_map(Step::Hangup),
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
    connected: BTreeSet<CallId>,
    answered_waiting: BTreeSet<CallId>,
    agent_on: BTreeMap<AgentId, CallId>,
    dropped: u64,
    caller_hung_up: u64,
}

impl History {
    fn end(&mut self, call: CallId) -> Result<(), TestCaseError> {
        prop_assert!(self.ended.insert(call), "{call} ended twice");
        self.answered_waiting.remove(&call);
        Ok(())
    }
}

fn run(mode: usize, steps: Vec<(u16, Step)>) -> Result<(), TestCaseError> {
    let mut config = CampaignConfig::default();
    config.pacing.mode = MODES[mode];
    let mut campaign = Campaign::new(config);
    let mut h = History::default();
    let mut now = 0u64;
    let mut out = Vec::new();
    for (advance, step) in steps {
        now += u64::from(advance) * 10;
        let pick = |i: usize, h: &History| {
            h.dialed
                .get(i % h.dialed.len().max(1))
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
        let was_waiting = match &event {
            Event::Hangup(c) => h.answered_waiting.contains(c),
            _ => false,
        };
        out.clear();
        let result = campaign.handle(at, event.clone(), &mut out);
        for command in &out {
            match *command {
                Command::Dial { call, .. } => {
                    prop_assert!(!h.dialed.contains(&call), "{call} dialed twice");
                    h.dialed.push(call);
                }
                Command::Connect { call, agent } => {
                    prop_assert!(h.connected.insert(call), "{call} connected twice");
                    prop_assert!(!h.ended.contains(&call), "connect after end");
                    prop_assert!(
                        h.agent_on.insert(agent, call).is_none(),
                        "{agent} given a second call"
                    );
                    h.answered_waiting.remove(&call);
                }
                Command::Drop { call } => {
                    h.dropped += 1;
                    h.end(call)?;
                }
                Command::Cancel { call } => h.end(call)?,
            }
        }
        if result.is_ok() {
            match event {
                Event::Answered(c)
                    if campaign.call(c).is_some_and(|c| c.answered_at.is_some())
                        && !h.connected.contains(&c) =>
                {
                    h.answered_waiting.insert(c);
                }
                Event::Failed(c, _) => h.end(c)?,
                Event::Hangup(c) => {
                    if was_waiting {
                        h.caller_hung_up += 1;
                    }
                    if let Some((&agent, _)) = h.agent_on.iter().find(|(_, &call)| call == c) {
                        h.agent_on.remove(&agent);
                    }
                    h.end(c)?;
                }
                _ => {}
            }
        } else {
            // A refused event changes nothing it names.
            if let Event::Failed(c, _) | Event::Hangup(c) = event {
                prop_assert!(campaign.call(c).is_none() || !h.ended.contains(&c));
            }
        }
        prop_assert_eq!(campaign.check_invariants(), Ok(()));
        if let Some(wake) = campaign.next_wake() {
            prop_assert!(wake >= at, "wake {wake} before now {at}");
        }
        let stats = campaign.stats();
        prop_assert_eq!(stats.dropped, h.dropped);
        prop_assert_eq!(stats.caller_hung_up, h.caller_hung_up);
        let (answered, abandoned) = campaign.window_counts(at);
        prop_assert_eq!(abandoned, h.dropped + h.caller_hung_up);
        prop_assert_eq!(answered, h.connected.len() as u64 + abandoned);
        for call in campaign.calls() {
            prop_assert!(
                !h.ended.contains(&call.id),
                "{} live after it ended",
                call.id
            );
        }
    }
    // Drain: stop dialing, hang up every connected call, let every timer run out.
    let mut t = Instant::from_millis(now);
    out.clear();
    let _ = campaign.handle(t, Event::Stop, &mut out);
    let connected: Vec<CallId> = h.agent_on.values().copied().collect();
    for call in connected {
        prop_assert!(campaign.handle(t, Event::Hangup(call), &mut out).is_ok());
        h.end(call)?;
    }
    for _ in 0..10 {
        t = t + std::time::Duration::from_secs(60);
        campaign.handle(t, Event::Tick, &mut out).unwrap();
    }
    for command in &out {
        if let Command::Drop { call } | Command::Cancel { call } = *command {
            h.end(call)?;
        }
    }
    for call in &h.dialed {
        prop_assert!(h.ended.contains(call), "{call} never ended");
    }
    prop_assert_eq!(campaign.calls().count(), 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_any_event_sequence(
        mode in 0usize..6,
        steps in proptest::collection::vec((0u16..400, step()), 1..120),
    ) {
        run(mode, steps)?;
    }
}
