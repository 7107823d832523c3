//! The boundary between the dialer and a PBX or trunk: what an adapter
//! ([`Telephony`], [`Transfers`]) is asked to do and what it reports
//! ([`LineEvent`], [`TransferEvent`]). It depends only on the core and the
//! contacts' phone numbers, so that an adapter (SIP, Asterisk's ARI) pulls
//! in no store, dialer runtime or simulator.

use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId, FailCause};

/// What a telephony adapter reports about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    Ringing(CallId),
    Answered(CallId),
    Failed(CallId, FailCause),
    /// The call ended (after a connect: the conversation is over).
    Hangup(CallId),
    /// The answered call could not be joined to the agent it was connected
    /// to (their phone could not take it). The call stays answered: the core
    /// connects it to another agent or drops it with the information message.
    ConnectFailed(CallId),
    /// An agent finished wrap-up and is ready again.
    AgentReady(AgentId),
    /// The agent's phone answered the call that keeps it on the line: calls
    /// can be joined to it from now on.
    AgentOnLine(AgentId),
    /// The agent's phone hung up or could not be reached: the agent is logged
    /// out (after the current call, if any).
    AgentGone(AgentId),
    /// The agent's phone dropped off the line with the PBX (it restarted):
    /// the adapter calls it again and reports [`LineEvent::AgentOnLine`]
    /// once it is back. The agent stays logged in and takes no call meanwhile.
    AgentOffLine(AgentId),
    /// The PBX or trunk can place calls, or cannot and why. Dialing pauses
    /// while it cannot.
    Line(LineStatus),
    /// The connected call is being recorded, under
    /// [`Telephony::recording_name`].
    Recording(CallId),
}

/// Whether the PBX or trunk can place calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    Up,
    Down(LineProblem),
}

/// Why the PBX or trunk cannot place calls, for the supervisor and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// No answer: connection refused, timed out, keepalives unanswered.
    #[error("the PBX or trunk does not answer")]
    Unreachable,
    /// Our user or password was refused.
    #[error("the PBX refused our user or password")]
    Unauthorized,
    /// The PBX runs without a module the adapter needs.
    #[error("Asterisk runs without {0}, which the dialer needs: load it (modules.conf)")]
    MissingModule(&'static str),
}

impl LineProblem {
    /// A stable name for pages to translate.
    pub fn code(&self) -> &'static str {
        match self {
            LineProblem::Unreachable => "unreachable",
            LineProblem::Unauthorized => "unauthorized",
            LineProblem::MissingModule(_) => "missing_module",
        }
    }
}

/// How a warm transfer (the agent consults a third party while the contact
/// is held) goes, as an adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEvent {
    /// The consulted party answered and talks with the agent.
    Consulting(CallId),
    /// The consulted party could not be reached (or hung up, or the agent
    /// cancelled); the agent is back with the contact.
    Failed(CallId),
    /// Contact and consulted party are joined; the agent is free (a
    /// [`LineEvent::Hangup`] for the call follows).
    Completed(CallId),
}

/// The warm-transfer primitive of a PBX adapter, as a handle that can be
/// used beside the dialer's [`Telephony`] (the medical desk drives it). How
/// each request goes comes back as [`TransferEvent`]s; `cancel_transfer`
/// always reports [`TransferEvent::Failed`].
pub trait Transfers: Send {
    /// Holds the contact of `call` and calls `target` for its agent to consult.
    fn consult(&self, call: CallId, target: &str);
    /// Joins the contact with the party consulted; the agent leaves.
    fn complete_transfer(&self, call: CallId);
    /// Drops the party consulted (or being called) and puts the agent back
    /// with the contact.
    fn cancel_transfer(&self, call: CallId);
}

/// The boundary to a PBX or trunk. Commands are fire-and-forget; results come
/// back as [`LineEvent`]s on the channel the adapter was built with.
pub trait Telephony: Send {
    /// Calls `phone`; `language` is the one the person's messages are in
    /// (the information message), if known.
    fn dial(&mut self, call: CallId, phone: &Phone, language: Option<&str>);
    fn connect(&mut self, call: CallId, agent: AgentId);
    /// Play the information message, then hang up.
    fn drop_call(&mut self, call: CallId);
    fn cancel(&mut self, call: CallId);
    /// End a connected call from our side (the agent hung up). The runtime
    /// records the end itself; a later `Hangup` for the call is ignored.
    fn hangup(&mut self, call: CallId);
    /// An agent logs in, with their phone (`None`: the adapter's own rule
    /// from the agent's number). Returns `true` if the agent can take calls
    /// at once; otherwise the adapter reports [`LineEvent::AgentOnLine`]
    /// when it can (a SIP phone has answered) or [`LineEvent::AgentGone`].
    fn login(&mut self, _agent: AgentId, _phone: Option<&str>) -> bool {
        true
    }
    /// An agent logs out: release whatever keeps them on the line.
    fn logout(&mut self, _agent: AgentId) {}
    /// The dialer is done with the line: whatever the adapter still holds
    /// (agents' phones, their bridges) is released, and the future ends once
    /// the adapter has done so, so that a stopping process loses nothing.
    fn close(&mut self) -> Closing {
        Box::pin(std::future::ready(()))
    }
    /// The name the PBX stores `call`'s recording under, if it records.
    fn recording_name(&self, _call: CallId) -> Option<String> {
        None
    }
}

/// What [`Telephony::close`] returns.
pub type Closing = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A boxed adapter, so a service can choose its telephony at run time.
impl<T: Telephony + ?Sized> Telephony for Box<T> {
    fn dial(&mut self, call: CallId, phone: &Phone, language: Option<&str>) {
        (**self).dial(call, phone, language)
    }
    fn connect(&mut self, call: CallId, agent: AgentId) {
        (**self).connect(call, agent)
    }
    fn drop_call(&mut self, call: CallId) {
        (**self).drop_call(call)
    }
    fn cancel(&mut self, call: CallId) {
        (**self).cancel(call)
    }
    fn hangup(&mut self, call: CallId) {
        (**self).hangup(call)
    }
    fn login(&mut self, agent: AgentId, phone: Option<&str>) -> bool {
        (**self).login(agent, phone)
    }
    fn logout(&mut self, agent: AgentId) {
        (**self).logout(agent)
    }
    fn recording_name(&self, call: CallId) -> Option<String> {
        (**self).recording_name(call)
    }
    fn close(&mut self) -> Closing {
        (**self).close()
    }
}
