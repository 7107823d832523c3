//! Typed errors for events the core cannot accept. An impossible event is refused
//! with one of these and leaves the campaign exactly as it was; it never panics.

use crate::{AgentId, CallId, Instant};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    #[error("time went backwards: event at {now} after one at {last}")]
    TimeWentBackwards { now: Instant, last: Instant },
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    #[error("call {0} has already ended")]
    CallEnded(CallId),
    #[error("agent {agent} is {state} and cannot {action}")]
    AgentTransition {
        agent: AgentId,
        state: &'static str,
        action: &'static str,
    },
    #[error("call {call} is {phase} and cannot be {action}")]
    CallTransition {
        call: CallId,
        phase: &'static str,
        action: &'static str,
    },
    #[error("{0} is only meaningful in preview mode")]
    NotPreviewMode(&'static str),
    #[error("the campaign is not dialing (stopped, or out of contacts)")]
    NotDialing,
    #[error(
        "the trunk is at its limit (calls per second or calls at once); try again in a moment"
    )]
    TrunkBusy,
    #[error("invalid pacing settings: {0}")]
    InvalidSettings(String),
}
