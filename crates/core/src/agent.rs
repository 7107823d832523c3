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
//! and power modes do not reserve).

use crate::{AgentId, CallId, CoreError, Instant};

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

#[derive(Clone, Debug)]
pub struct Agent {
    pub id: AgentId,
    pub state: AgentState,
    /// When the current state was entered.
    pub since: Instant,
    /// When the agent's current or last contact was connected: the start of the busy
    /// period that ends when the agent is ready again.
    pub busy_since: Option<Instant>,
    /// Asked to log out while on a call: takes no new call, and logs out instead of
    /// becoming ready when the call and its wrap-up are over.
    pub leaving: bool,
}

impl Agent {
    pub fn new(id: AgentId, now: Instant) -> Self {
        Agent {
            id,
            state: AgentState::LoggedOut,
            since: now,
            busy_since: None,
            leaving: false,
        }
    }

    /// Counts towards the lines the campaign may dial: staffed and not leaving.
    pub fn is_staffed(&self) -> bool {
        self.state.is_staffed() && !self.leaving
    }

    fn refuse(&self, action: &'static str) -> CoreError {
        CoreError::AgentTransition {
            agent: self.id,
            state: self.state.name(),
            action,
        }
    }

    fn enter(&mut self, state: AgentState, now: Instant) {
        if state == AgentState::LoggedOut {
            self.leaving = false;
        }
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

    /// Ready for calls: from logged out (implicit login), paused or wrap-up. A leaving
    /// agent at the end of wrap-up logs out instead. Returns the start of the busy
    /// period that just ended, if any.
    pub fn ready(&mut self, now: Instant) -> Result<Option<Instant>, CoreError> {
        match self.state {
            AgentState::LoggedOut | AgentState::Paused => {
                self.enter(AgentState::Ready, now);
                Ok(None)
            }
            AgentState::WrapUp => {
                let next = if self.leaving {
                    AgentState::LoggedOut
                } else {
                    AgentState::Ready
                };
                self.enter(next, now);
                Ok(self.busy_since.take())
            }
            _ => Err(self.refuse("become ready")),
        }
    }

    /// Pause. A reserved agent gives up its reservation (returned so the campaign
    /// can release the call); an agent on a call must hang up first.
    pub fn pause(&mut self, now: Instant) -> Result<Option<CallId>, CoreError> {
        match self.state {
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
                self.leaving = true;
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
        assert!(a.pause(t(3)).is_err());
        assert!(a.call_ended(CallId(9), t(3)).is_err());
        assert_eq!(a.state, before);
    }

    #[test]
    fn logout_on_a_call_waits_for_the_end_of_wrap_up() {
        let mut a = Agent::new(AgentId(1), t(0));
        a.ready(t(0)).unwrap();
        a.connect(CallId(1), t(1)).unwrap();
        a.logout(t(2)).unwrap();
        assert!(a.leaving && !a.is_staffed());
        assert_eq!(
            a.state,
            AgentState::OnCall { call: CallId(1) },
            "the call goes on"
        );
        a.call_ended(CallId(1), t(60)).unwrap();
        assert_eq!(a.ready(t(70)).unwrap(), Some(t(1)));
        assert_eq!(a.state, AgentState::LoggedOut);
        assert!(!a.leaving);
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
