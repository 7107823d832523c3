//! The call state machine and the ways a call can end.
//!
//! ```text
//!  Dialing ──ringing──► Ringing ──answered──► Answered ──connect──► Connected ──hangup──► Completed
//!     │                    │                     │
//!     └──failed / cancel───┴──► Failed(cause)    ├──grace expired──► Abandoned(Dropped)
//!                                                └──hangup─────────► Abandoned(CallerHungUp)
//! ```
//! Live phases are [`CallPhase`]s; a call that leaves them gets exactly one [`Outcome`].

use crate::{AgentId, CallId, CoreError, Instant};
use serde::{Deserialize, Serialize};

/// Why a call did not reach a person.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailCause {
    Busy,
    NoAnswer,
    Congestion,
    Invalid,
    Rejected,
    /// Answered by a machine (answering-machine detection).
    Machine,
}

impl FailCause {
    pub const ALL: [FailCause; 6] = [
        FailCause::Busy,
        FailCause::NoAnswer,
        FailCause::Congestion,
        FailCause::Invalid,
        FailCause::Rejected,
        FailCause::Machine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailCause::Busy => "busy",
            FailCause::NoAnswer => "no_answer",
            FailCause::Congestion => "congestion",
            FailCause::Invalid => "invalid",
            FailCause::Rejected => "rejected",
            FailCause::Machine => "machine",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        FailCause::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Why an answered call never reached an agent.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbandonKind {
    /// No agent within the connect grace: the core sent `drop` (information message).
    Dropped,
    /// The person hung up while waiting for an agent.
    CallerHungUp,
}

/// How a call ended. Every dialed call gets exactly one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// Connected to an agent, then ended.
    Completed,
    Abandoned(AbandonKind),
    Failed(FailCause),
    /// The driver had no contact to dial; not an attempt.
    NoContact,
}

/// Where a live call is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CallPhase {
    Dialing,
    Ringing,
    /// A live person answered and waits for an agent.
    Answered,
    Connected {
        agent: AgentId,
    },
}

impl CallPhase {
    pub fn name(&self) -> &'static str {
        match self {
            CallPhase::Dialing => "dialing",
            CallPhase::Ringing => "ringing",
            CallPhase::Answered => "answered",
            CallPhase::Connected { .. } => "connected",
        }
    }

    /// Placed but not yet answered.
    pub fn is_unanswered(&self) -> bool {
        matches!(self, CallPhase::Dialing | CallPhase::Ringing)
    }
}

#[derive(Clone, Debug)]
pub struct Call {
    pub id: CallId,
    pub phase: CallPhase,
    pub dialed_at: Instant,
    pub ringing_at: Option<Instant>,
    pub answered_at: Option<Instant>,
    /// The agent held for this call (preview and progressive modes).
    pub reserved_for: Option<AgentId>,
    /// The pacing policy's estimate, when it dialed, of the chance this call would be
    /// answered and then abandoned. Zero for calls backed by a free agent.
    pub abandon_risk: f64,
}

impl Call {
    pub fn new(id: CallId, now: Instant, reserved_for: Option<AgentId>, abandon_risk: f64) -> Self {
        Call {
            id,
            phase: CallPhase::Dialing,
            dialed_at: now,
            ringing_at: None,
            answered_at: None,
            reserved_for,
            abandon_risk,
        }
    }

    fn refuse(&self, action: &'static str) -> CoreError {
        CoreError::CallTransition {
            call: self.id,
            phase: self.phase.name(),
            action,
        }
    }

    /// When ringing began, or the dial time if no ringing was reported.
    pub fn ring_start(&self) -> Instant {
        self.ringing_at.unwrap_or(self.dialed_at)
    }

    pub fn ringing(&mut self, now: Instant) -> Result<(), CoreError> {
        match self.phase {
            CallPhase::Dialing => {
                self.phase = CallPhase::Ringing;
                self.ringing_at = Some(now);
                Ok(())
            }
            // A repeated ringing (180 after 183) is harmless.
            CallPhase::Ringing => Ok(()),
            _ => Err(self.refuse("ringing")),
        }
    }

    pub fn answered(&mut self, now: Instant) -> Result<(), CoreError> {
        if !self.phase.is_unanswered() {
            return Err(self.refuse("answered"));
        }
        self.phase = CallPhase::Answered;
        self.answered_at = Some(now);
        Ok(())
    }

    pub fn check_can_fail(&self) -> Result<(), CoreError> {
        if self.phase.is_unanswered() {
            Ok(())
        } else {
            Err(self.refuse("failed"))
        }
    }

    pub fn connect(&mut self, agent: AgentId) -> Result<(), CoreError> {
        if self.phase != CallPhase::Answered {
            return Err(self.refuse("connected"));
        }
        self.phase = CallPhase::Connected { agent };
        Ok(())
    }
}
