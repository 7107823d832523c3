//! The agent state machine.
//!
//! ```text
//!  LoggedOut ──login──► Paused ◄──pause── Ready ◄──ready── WrapUp
//!      ▲                  │  ──ready──►   │  ▲               ▲
//!      └──logout── (any state but OnCall) │  │ reservation    │ hangup
//!                                 reserve ▼  │ released       │
//!                                     Reserved ──connect──► OnCall
//! ```
//! `Ready` agents may also be connected directly to an answered call (predictive
//! and power modes do not reserve). Paused or logged out while on a call (by a
//! supervisor, say), the agent finishes the call and its wrap-up, then pauses
//! or logs out instead of becoming ready. Each agent keeps its own totals of
//! calls and of time talking, wrapping up, paused and ready.

use crate::{AgentId, AgentRole, CallId, CoreError, Instant};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AgentState {
    LoggedOut,
    /// Logged in but not taking calls (break, training, login).
    Paused,
    /// Waiting for a call.
    Ready,
    /// Held for one call that is being dialed for this agent (preview, progressive).
    Reserved {
        call: CallId,
    },
    /// Talking to a contact.
    OnCall {
        call: CallId,
    },
    /// After-call work; ends when the agent says ready again.
    WrapUp,
}

impl AgentState {
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged out",
            AgentState::Paused => "paused",
            AgentState::Ready => "ready",
            AgentState::Reserved { .. } => "reserved",
            AgentState::OnCall { .. } => "on call",
            AgentState::WrapUp => "in wrap-up",
        }
    }

    /// Logged in and not paused: counts towards the lines the campaign may dial.
    pub fn is_staffed(&self) -> bool {
        !matches!(self, AgentState::LoggedOut | AgentState::Paused)
    }

    /// Busy with a contact (talking or wrapping up): will become free later.
    pub fn is_busy(&self) -> bool {
        matches!(self, AgentState::OnCall { .. } | AgentState::WrapUp)
    }
}

/// What an agent on a call does once the call and its wrap-up are over,
/// instead of becoming ready.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AfterCall {
    Pause,
    LogOut,
}

impl AfterCall {
    pub fn name(&self) -> &'static str {
        match self {
            AfterCall::Pause => "pause",
            AfterCall::LogOut => "log out",
        }
    }
}

/// An agent's figures since the campaign started: calls taken and the time
/// spent in each state (ms), counted when the state is left.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentTotals {
    pub calls: u64,
    pub talk_ms: u64,
    pub wrap_ms: u64,
    pub paused_ms: u64,
    /// Ready or reserved: waiting for a call.
    pub waiting_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Agent {
    pub id: AgentId,
    pub state: AgentState,
    /// When the current state was entered.
    pub since: Instant,
    /// When the agent's current or last contact was connected: the start of the busy
    /// period that ends when the agent is ready again.
    pub busy_since: Option<Instant>,
    /// Asked to pause or log out while on a call: takes no new call, and does that
    /// instead of becoming ready when the call and its wrap-up are over.
    pub after_call: Option<AfterCall>,
    pub totals: AgentTotals,
    /// Which calls the agent takes: inbound, outbound or both.
    pub role: AgentRole,
}

impl Agent {
    pub fn new(id: AgentId, now: Instant) -> Self {
        Agent {
            id,
            state: AgentState::LoggedOut,
            since: now,
            busy_since: None,
            after_call: None,
            totals: AgentTotals::default(),
            role: AgentRole::default(),
        }
    }

    /// Counts towards the lines the campaign may dial: staffed and not leaving.
    pub fn is_staffed(&self) -> bool {
        self.state.is_staffed() && self.after_call.is_none()
    }

    /// Asked to pause or log out after the current call: will not come back ready.
    pub fn is_leaving(&self) -> bool {
        self.after_call.is_some()
    }

    /// The totals with the time in the current state up to `now` added.
    pub fn totals_at(&self, now: Instant) -> AgentTotals {
        let mut totals = self.totals;
        Self::count(
            &mut totals,
            self.state,
            now.as_millis().saturating_sub(self.since.as_millis()),
        );
        totals
    }

    fn count(totals: &mut AgentTotals, state: AgentState, ms: u64) {
        match state {
            AgentState::OnCall { .. } => totals.talk_ms += ms,
            AgentState::WrapUp => totals.wrap_ms += ms,
            AgentState::Paused => totals.paused_ms += ms,
            AgentState::Ready | AgentState::Reserved { .. } => totals.waiting_ms += ms,
            AgentState::LoggedOut => {}
        }
    }

    fn refuse(&self, action: &'static str) -> CoreError {
        CoreError::AgentTransition {
            agent: self.id,
            state: self.state.name(),
            action,
        }
    }

    fn enter(&mut self, state: AgentState, now: Instant) {
        if matches!(state, AgentState::LoggedOut | AgentState::Paused) {
            self.after_call = None;
        }
        if matches!(state, AgentState::OnCall { .. }) {
            self.totals.calls += 1;
        }
        let spent = now.as_millis().saturating_sub(self.since.as_millis());
        Self::count(&mut self.totals, self.state, spent);
        self.state = state;
        self.since = now;
    }

    pub fn login(&mut self, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::LoggedOut => {
                self.enter(AgentState::Paused, now);
                Ok(())
            }
            _ => Err(self.refuse("log in")),
        }
    }

    /// Ready for calls: from logged out (implicit login), paused or wrap-up. An agent
    /// asked to pause or log out during the call does that at the end of wrap-up
    /// instead. Returns the start of the busy period that just ended, if any.
    pub fn ready(&mut self, now: Instant) -> Result<Option<Instant>, CoreError> {
        match self.state {
            AgentState::LoggedOut | AgentState::Paused => {
                self.enter(AgentState::Ready, now);
                Ok(None)
            }
            AgentState::WrapUp => {
                let next = match self.after_call {
                    Some(AfterCall::LogOut) => AgentState::LoggedOut,
                    Some(AfterCall::Pause) => AgentState::Paused,
                    None => AgentState::Ready,
                };
                self.enter(next, now);
                Ok(self.busy_since.take())
            }
            // Said twice (a double click): nothing changes.
            AgentState::Ready => Ok(None),
            _ => Err(self.refuse("become ready")),
        }
    }

    /// Pause. A reserved agent gives up its reservation (returned so the campaign
    /// can release the call); an agent on a call finishes it and its wrap-up
    /// first (unless already logging out).
    pub fn pause(&mut self, now: Instant) -> Result<Option<CallId>, CoreError> {
        match self.state {
            AgentState::OnCall { .. } => {
                if self.after_call.is_none() {
                    self.after_call = Some(AfterCall::Pause);
                }
                Ok(None)
            }
            AgentState::Ready | AgentState::WrapUp | AgentState::Paused => {
                self.busy_since = None;
                self.enter(AgentState::Paused, now);
                Ok(None)
            }
            AgentState::Reserved { call } => {
                self.enter(AgentState::Paused, now);
                Ok(Some(call))
            }
            _ => Err(self.refuse("pause")),
        }
    }

    /// Log out. Like [`Agent::pause`] a reservation is given up. On a call, the agent
    /// is marked leaving and logs out when the call and its wrap-up are over.
    pub fn logout(&mut self, now: Instant) -> Result<Option<CallId>, CoreError> {
        match self.state {
            AgentState::LoggedOut => Err(self.refuse("log out")),
            AgentState::OnCall { .. } => {
                self.after_call = Some(AfterCall::LogOut);
                Ok(None)
            }
            AgentState::Reserved { call } => {
                self.enter(AgentState::LoggedOut, now);
                Ok(Some(call))
            }
            _ => {
                self.busy_since = None;
                self.enter(AgentState::LoggedOut, now);
                Ok(None)
            }
        }
    }

    pub fn reserve(&mut self, call: CallId, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::Ready => {
                self.enter(AgentState::Reserved { call }, now);
                Ok(())
            }
            _ => Err(self.refuse("be reserved")),
        }
    }

    /// Give up a reservation for `call` (the call failed or was released).
    pub fn unreserve(&mut self, call: CallId, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::Reserved { call: held } if held == call => {
                self.enter(AgentState::Ready, now);
                Ok(())
            }
            _ => Err(self.refuse("release a reservation")),
        }
    }

    /// Connect to `call`: from ready, or from reserved for that very call.
    pub fn connect(&mut self, call: CallId, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::Ready => {}
            AgentState::Reserved { call: held } if held == call => {}
            _ => return Err(self.refuse("take a call")),
        }
        self.busy_since = Some(now);
        self.enter(AgentState::OnCall { call }, now);
        Ok(())
    }

    /// The call could not be joined to the agent's phone: the agent never
    /// talked, and is paused (logged out, if they asked to leave) until they
    /// say they are ready, so that no other call is sent to a phone that
    /// cannot take it.
    pub fn join_failed(&mut self, call: CallId, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::OnCall { call: current } if current == call => {
                self.totals.calls = self.totals.calls.saturating_sub(1);
                self.busy_since = None;
                let next = match self.after_call {
                    Some(AfterCall::LogOut) => AgentState::LoggedOut,
                    _ => AgentState::Paused,
                };
                self.enter(next, now);
                Ok(())
            }
            _ => Err(self.refuse("fail to join a call it is not on")),
        }
    }

    /// The contact hung up on a connected call: start wrap-up.
    pub fn call_ended(&mut self, call: CallId, now: Instant) -> Result<(), CoreError> {
        match self.state {
            AgentState::OnCall { call: current } if current == call => {
                self.enter(AgentState::WrapUp, now);
                Ok(())
            }
            _ => Err(self.refuse("end a call it is not on")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Instant {
        Instant::from_millis(s * 1000)
    }

    #[test]
    fn full_cycle() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.login(t(0)).unwrap();
        assert_eq!(a.ready(t(1)).unwrap(), None);
        a.reserve(CallId(5), t(2)).unwrap();
        a.connect(CallId(5), t(10)).unwrap();
        a.call_ended(CallId(5), t(70)).unwrap();
        assert_eq!(a.state, AgentState::WrapUp);
        assert_eq!(a.ready(t(80)).unwrap(), Some(t(10)));
        a.logout(t(90)).unwrap();
        assert_eq!(a.state, AgentState::LoggedOut);
    }

    #[test]
    fn impossible_transitions_are_refused_and_change_nothing() {
        let mut a = Agent::new(AgentId(1), t(0));
        assert!(a.connect(CallId(1), t(1)).is_err());
        a.ready(t(1)).unwrap();
        a.connect(CallId(1), t(2)).unwrap();
        let before = a.state;
        assert!(
            a.connect(CallId(2), t(3)).is_err(),
            "connect to a busy agent"
        );
        assert!(a.call_ended(CallId(9), t(3)).is_err());
        assert_eq!(a.state, before);
    }

    #[test]
    fn logout_on_a_call_waits_for_the_end_of_wrap_up() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.ready(t(0)).unwrap();
        a.connect(CallId(1), t(1)).unwrap();
        a.logout(t(2)).unwrap();
        assert!(a.is_leaving() && !a.is_staffed());
        assert_eq!(
            a.state,
            AgentState::OnCall { call: CallId(1) },
            "the call goes on"
        );
        a.call_ended(CallId(1), t(60)).unwrap();
        assert_eq!(a.ready(t(70)).unwrap(), Some(t(1)));
        assert_eq!(a.state, AgentState::LoggedOut);
        assert!(!a.is_leaving());
    }

    #[test]
    fn a_pause_on_a_call_waits_for_the_end_of_wrap_up() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.ready(t(0)).unwrap();
        a.connect(CallId(1), t(1)).unwrap();
        assert_eq!(a.pause(t(2)).unwrap(), None);
        assert!(!a.is_staffed(), "no new call is dialed for them");
        assert_eq!(a.state, AgentState::OnCall { call: CallId(1) });
        a.call_ended(CallId(1), t(60)).unwrap();
        a.ready(t(70)).unwrap();
        assert_eq!(a.state, AgentState::Paused);
        assert!(a.is_staffed() == false && !a.is_leaving());
        // A log-out asked on a call is not turned into a pause.
        a.ready(t(80)).unwrap();
        a.connect(CallId(2), t(81)).unwrap();
        a.logout(t(82)).unwrap();
        a.pause(t(83)).unwrap();
        a.call_ended(CallId(2), t(90)).unwrap();
        a.ready(t(91)).unwrap();
        assert_eq!(a.state, AgentState::LoggedOut);
    }

    #[test]
    fn totals_count_calls_and_the_time_in_each_state() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.login(t(0)).unwrap(); // paused 0..5
        a.ready(t(5)).unwrap(); // waiting 5..10
        a.connect(CallId(1), t(10)).unwrap(); // talking 10..70
        a.call_ended(CallId(1), t(70)).unwrap(); // wrap-up 70..85
        a.ready(t(85)).unwrap(); // waiting 85..
        let totals = a.totals_at(t(100));
        assert_eq!(
            totals,
            AgentTotals {
                calls: 1,
                talk_ms: 60_000,
                wrap_ms: 15_000,
                paused_ms: 5_000,
                waiting_ms: 20_000,
            }
        );
        assert_eq!(
            a.totals.waiting_ms, 5_000,
            "the current state is added by totals_at"
        );
    }

    #[test]
    fn reserved_agent_only_takes_its_own_call() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.ready(t(0)).unwrap();
        a.reserve(CallId(1), t(0)).unwrap();
        assert!(a.connect(CallId(2), t(1)).is_err());
        assert_eq!(a.pause(t(1)).unwrap(), Some(CallId(1)));
    }
}
