//! The medical desk at run time: the core's [`Desk`] machine fed with the
//! agents' and members' actions and the clock, its commands carried out over
//! a PBX adapter's warm-transfer primitive ([`Transfers`]).
//!
//! What the adapter reports is matched to escalations by call: a consult
//! answered is the member on the line, a consult that failed is the member
//! gone (or, during a hand-over, a PBX error), a completed transfer is the
//! hand-over. The failures that follow our own cancellations are expected
//! and not passed on. Every command the desk gives is also sent out (to the
//! service, for screens and the store).

use crate::{TransferEvent, Transfers};
use sanjeevani_core::desk::{
    Desk, DeskCommand, DeskConfig, DeskEvent, EscalationId, MemberId, Resolution, TicketId, Urgency,
};
use sanjeevani_core::{AgentId, CallId, Instant};
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;

/// A member of the desk and where to call them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskMember {
    pub id: MemberId,
    /// What the adapter calls: a SIP URI, or an ARI endpoint (`PJSIP/desk1`).
    pub target: String,
    pub languages: Vec<String>,
}

/// What agents, members and the dialer tell the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskRequest {
    /// A member comes to the desk (or changes where to be called).
    MemberIn(DeskMember),
    /// A member leaves the desk (after what they are doing).
    MemberOut(MemberId),
    Escalate {
        id: EscalationId,
        call: CallId,
        agent: AgentId,
        urgency: Urgency,
        language: String,
    },
    /// The agent hands the contact over to the member consulted.
    Complete(EscalationId),
    /// The agent gives up the transfer.
    Cancel(EscalationId),
    /// A call ended (the dialer heard its hang-up).
    CallEnded(CallId),
    LiveCallEnded(MemberId),
    CallbackPlaced(TicketId),
    CallbackReached(TicketId),
    CallbackUnreached(TicketId),
    Resolve(TicketId, Resolution),
    /// Follow up a ticket raised without a transfer (see [`DeskEvent::FollowTicket`]).
    Follow {
        ticket: TicketId,
        urgency: Urgency,
        language: String,
        member: Option<MemberId>,
        tries: u32,
    },
}

/// The desk's state beside the machine: which call is which escalation.
struct Running {
    desk: Desk,
    started: tokio::time::Instant,
    targets: HashMap<MemberId, String>,
    transfers: Box<dyn Transfers>,
    commands: mpsc::UnboundedSender<DeskCommand>,
    escalations: HashMap<CallId, EscalationId>,
    calls: HashMap<EscalationId, CallId>,
    handing: HashSet<EscalationId>,
    /// Failures the adapter will report for our own cancellations.
    expected_failures: HashMap<CallId, u32>,
}

/// Runs the desk until `requests` closes.
pub async fn run_desk(
    config: DeskConfig,
    members: Vec<DeskMember>,
    transfers: Box<dyn Transfers>,
    mut transfer_events: mpsc::UnboundedReceiver<TransferEvent>,
    mut requests: mpsc::Receiver<DeskRequest>,
    commands: mpsc::UnboundedSender<DeskCommand>,
) {
    let mut running = Running {
        desk: Desk::new(config),
        started: tokio::time::Instant::now(),
        targets: members.iter().map(|m| (m.id, m.target.clone())).collect(),
        transfers,
        commands,
        escalations: HashMap::new(),
        calls: HashMap::new(),
        handing: HashSet::new(),
        expected_failures: HashMap::new(),
    };
    for member in members {
        running.feed(DeskEvent::MemberIn {
            member: member.id,
            languages: member.languages,
        });
    }
    loop {
        let wake = running
            .desk
            .next_wake()
            .map(|at| running.started + std::time::Duration::from_millis(at.as_millis()));
        tokio::select! {
            request = requests.recv() => match request {
                Some(request) => running.request(request),
                None => return,
            },
            Some(event) = transfer_events.recv() => running.transfer_event(event),
            _ = sleep_until(wake) => running.feed(DeskEvent::Tick),
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Running {
    fn now(&self) -> Instant {
        let elapsed = self.started.elapsed().as_millis();
        Instant::from_millis(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    fn request(&mut self, request: DeskRequest) {
        let event = match request {
            DeskRequest::MemberIn(member) => {
                self.targets.insert(member.id, member.target);
                DeskEvent::MemberIn {
                    member: member.id,
                    languages: member.languages,
                }
            }
            DeskRequest::MemberOut(member) => DeskEvent::MemberOut(member),
            DeskRequest::Escalate {
                id,
                call,
                agent,
                urgency,
                language,
            } => {
                self.escalations.insert(call, id);
                self.calls.insert(id, call);
                DeskEvent::Escalate {
                    id,
                    call,
                    agent,
                    urgency,
                    language,
                }
            }
            DeskRequest::Complete(id) => DeskEvent::AgentCompletes(id),
            DeskRequest::Cancel(id) => DeskEvent::AgentCancels(id),
            DeskRequest::CallEnded(call) => match self.escalations.get(&call) {
                Some(id) if !self.handing.contains(id) => DeskEvent::ContactHungUp(*id),
                _ => return,
            },
            DeskRequest::LiveCallEnded(member) => DeskEvent::LiveCallEnded(member),
            DeskRequest::CallbackPlaced(ticket) => {
                if let Err(e) = self.desk.callback_placed(ticket) {
                    tracing::warn!(error = %e, "callback not placed");
                }
                return;
            }
            DeskRequest::CallbackReached(ticket) => DeskEvent::CallbackReached(ticket),
            DeskRequest::CallbackUnreached(ticket) => DeskEvent::CallbackUnreached(ticket),
            DeskRequest::Resolve(ticket, resolution) => DeskEvent::Resolve(ticket, resolution),
            DeskRequest::Follow {
                ticket,
                urgency,
                language,
                member,
                tries,
            } => DeskEvent::FollowTicket {
                ticket,
                urgency,
                language,
                member,
                tries,
            },
        };
        self.feed(event);
    }

    fn transfer_event(&mut self, event: TransferEvent) {
        let call = match event {
            TransferEvent::Consulting(c)
            | TransferEvent::Failed(c)
            | TransferEvent::Completed(c) => c,
        };
        if let TransferEvent::Failed(_) = event {
            if let Some(n) = self.expected_failures.get_mut(&call).filter(|n| **n > 0) {
                *n -= 1;
                return;
            }
        }
        let Some(id) = self.escalations.get(&call).copied() else {
            return;
        };
        let event = match event {
            TransferEvent::Consulting(_) => DeskEvent::MemberAnswered(id),
            TransferEvent::Failed(_) if self.handing.contains(&id) => DeskEvent::PbxError(id),
            TransferEvent::Failed(_) => DeskEvent::MemberFailed(id),
            TransferEvent::Completed(_) => DeskEvent::HandedOver(id),
        };
        self.feed(event);
    }

    fn feed(&mut self, event: DeskEvent) {
        let mut out = Vec::new();
        if let Err(e) = self.desk.handle(self.now(), event, &mut out) {
            // Late news about something that has moved on.
            tracing::debug!(error = %e, "desk event not taken");
        }
        for command in out {
            self.carry_out(&command);
            let _ = self.commands.send(command);
        }
    }

    fn cancel(&mut self, call: CallId) {
        *self.expected_failures.entry(call).or_default() += 1;
        self.transfers.cancel_transfer(call);
    }

    fn carry_out(&mut self, command: &DeskCommand) {
        match *command {
            DeskCommand::Consult { call, member, .. } => match self.targets.get(&member) {
                Some(target) => self.transfers.consult(call, target),
                None => tracing::error!(member = member.0, "a desk member without a target"),
            },
            DeskCommand::StopRinging { id, .. } => {
                if let Some(call) = self.calls.get(&id).copied() {
                    self.cancel(call);
                }
            }
            DeskCommand::CancelTransfer { call, .. } => self.cancel(call),
            DeskCommand::CompleteTransfer { id, call } => {
                self.handing.insert(id);
                self.transfers.complete_transfer(call);
            }
            DeskCommand::Ended { id, .. } => {
                self.handing.remove(&id);
                if let Some(call) = self.calls.remove(&id) {
                    self.escalations.remove(&call);
                    self.expected_failures.remove(&call);
                }
            }
            DeskCommand::ReleaseAgent { .. }
            | DeskCommand::Consulting { .. }
            | DeskCommand::OpenTicket { .. }
            | DeskCommand::OfferCallback { .. }
            | DeskCommand::Resolved { .. } => {}
        }
    }
}
