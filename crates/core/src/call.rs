//! The call state machine and the ways a call can end.
//!
//! ```text
//!  Dialing ──ringing──► Ringing ──answered──► Answered ──connect──► Connected ──hangup──► Completed
//!     │                    │                     │
//!     └──failed / cancel───┴──► Failed(cause)    ├──grace expired──► Abandoned(Dropped)
//!                                                └──hangup─────────► Abandoned(CallerHungUp)
//! ```
//! A connect the telephony could not carry out (the agent's phone could not
//! take the call) puts the call back to `Answered`, to wait for another agent
//! within what is left of the grace. A call the core cancels early because
//! agents left is `Withdrawn`; one the service cuts when it stops is
//! `Interrupted`.
//!
//! Live phases are [`CallPhase`]s; a call that leaves them gets exactly one
//! [`Outcome`], which the core announces ([`crate::Command::Ended`]) and the
//! driver records as it is.

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
    /// Answered, and not connected to an agent within the grace.
    Abandoned(AbandonKind),
    /// Did not reach a person; `NoAnswer` also when the core cancelled it at
    /// the no-answer timeout.
    Failed(FailCause),
    /// Cancelled by the core before its no-answer timeout (agents left and
    /// the lines had to be shed): whether the person would have answered is
    /// unknown.
    Withdrawn,
    /// Cut by the service stopping (its drain deadline passed).
    Interrupted,
    /// The driver had no contact to dial; not an attempt.
    NoContact,
}

impl Outcome {
    /// Why the call ended, in a few words, for the attempt's record.
    pub fn reason(self) -> &'static str {
        match self {
            Outcome::Completed => "conversation ended",
            Outcome::Abandoned(AbandonKind::Dropped) => {
                "no agent within the connect grace: information message played"
            }
            Outcome::Abandoned(AbandonKind::CallerHungUp) => "hung up waiting for an agent",
            Outcome::Failed(FailCause::NoAnswer) => "no answer before the timeout",
            Outcome::Failed(cause) => cause.name(),
            Outcome::Withdrawn => "withdrawn before the timeout: agents left",
            Outcome::Interrupted => "service stopped",
            Outcome::NoContact => "no contact to dial",
        }
    }
}

/// Why the core stops a call that is ringing (or, when the service stops,
/// one in progress).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// It rang for the whole no-answer timeout.
    NoAnswer,
    /// Agents left: more calls ring than the lines ceiling allows.
    Withdrawn,
    /// The service stops and its drain deadline passed.
    Interrupted,
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
    /// When the core last connected it to an agent.
    pub connected_at: Option<Instant>,
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
            connected_at: None,
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

    pub fn connect(&mut self, agent: AgentId, now: Instant) -> Result<(), CoreError> {
        if self.phase != CallPhase::Answered {
            return Err(self.refuse("connected"));
        }
        self.phase = CallPhase::Connected { agent };
        self.connected_at = Some(now);
        Ok(())
    }

    /// The connect could not be carried out: waiting for an agent again.
    /// Returns the agent it was meant for and when it was connected.
    pub fn join_failed(&mut self) -> Result<(AgentId, Instant), CoreError> {
        match (self.phase, self.connected_at.take()) {
            (CallPhase::Connected { agent }, Some(at)) => {
                self.phase = CallPhase::Answered;
                Ok((agent, at))
            }
            _ => Err(self.refuse("fail to join")),
        }
    }
}
