//! What goes into the core ([`Event`]) and what comes out ([`Command`]).

use crate::{
    AgentId, AgentRole, CallId, CallerClass, CancelReason, FailCause, InboundOutcome, Outcome,
    PacingSettings,
};

/// Something that happened, reported by the driver with the time it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The agent logs in, paused.
    AgentLogin(AgentId),
    /// The agent is ready for calls (logs in if needed; ends pause or wrap-up).
    AgentReady(AgentId),
    /// The agent pauses. On a call, the agent takes no new call and is paused
    /// (instead of ready) when the wrap-up ends.
    AgentPause(AgentId),
    /// The agent logs out. On a call, the agent is marked leaving: no new call, and
    /// logged out (instead of ready) when the wrap-up ends.
    AgentLogout(AgentId),
    /// Preview mode: the agent asks for the next contact to be dialed for them.
    PreviewDial(AgentId),
    /// The called party's phone is ringing.
    Ringing(CallId),
    /// A live person answered.
    Answered(CallId),
    /// The call did not reach a person.
    Failed(CallId, FailCause),
    /// The call ended: after a connect the talk ended; before it the person hung up.
    Hangup(CallId),
    /// The telephony could not join the answered call to the agent it was
    /// connected to (the agent's phone could not take it). The call waits
    /// for another agent within what is left of the grace; the agent is
    /// paused.
    ConnectFailed(CallId),
    /// The service stops: the call is cut now.
    Interrupt(CallId),
    /// The driver had no contact for this dial; dialing waits for [`Event::ContactsAvailable`].
    NoContact(CallId),
    /// New contacts can be dialed again after a [`Event::NoContact`].
    ContactsAvailable,
    /// Start (or resume) dialing for the campaign.
    Start,
    /// Stop placing new calls; calls in progress continue.
    Stop,
    /// Change the pacing at run time.
    SetPacing(PacingSettings),
    /// Someone calls the centre; the driver knows who and says which class
    /// they wait in. The core names the call ([`Command::Queued`]) and either
    /// connects it at once or keeps it waiting. Afterwards [`Event::Hangup`],
    /// [`Event::ConnectFailed`] and [`Event::Interrupt`] apply to it as to
    /// an outbound call.
    InboundArrived(CallerClass),
    /// A supervisor moves the agent between inbound, outbound and blended.
    SetRole(AgentId, AgentRole),
    /// Time advanced.
    Tick,
}

/// Something the driver must do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Place a call to the next contact. With `agent`, the call is for that agent only.
    Dial {
        call: CallId,
        agent: Option<AgentId>,
    },
    /// Bridge the answered call to the agent.
    Connect { call: CallId, agent: AgentId },
    /// No agent in time: play the information message and hang up. Counted as abandoned.
    Drop { call: CallId },
    /// Stop the call (the no-answer timeout, shedding, or the service
    /// stopping); the call is over for the core.
    Cancel { call: CallId, reason: CancelReason },
    /// The call is over, and this is how: what the driver records. Follows
    /// the `Drop` or `Cancel` that ended it, if any; every dialed call gets
    /// exactly one.
    Ended { call: CallId, outcome: Outcome },
    /// A caller arrived and is now `call`: answer them with the queue's
    /// message and music until a [`Command::Connect`] for it (which may
    /// follow at once).
    Queued { call: CallId, class: CallerClass },
    /// The caller waited as long as they may: tell them we will call back,
    /// then hang up. A [`Command::Callback`] and the call's end follow.
    Release { call: CallId },
    /// Schedule a callback to this caller now: they left the queue
    /// unanswered.
    Callback { call: CallId },
    /// The inbound call is over, and this is how; every arrival gets exactly
    /// one. Never part of the outbound abandon accounting.
    InboundEnded {
        call: CallId,
        outcome: InboundOutcome,
    },
}
