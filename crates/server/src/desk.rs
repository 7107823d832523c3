//! The medical desk on this node: one desk machine for every campaign the
//! node runs, reached over each campaign's PBX adapter.
//!
//! Calls are numbered per campaign, so the desk knows them by desk-wide
//! numbers and this module routes each request to the campaign's adapter and
//! each adapter report back. What the machine decides is written to the store
//! (the escalation's ticket goes live or falls back, an unreachable ticket is
//! closed) and told to the screens as [`DeskEvent`]s. The escalation is in the
//! store as a ticket before the desk is asked, so a crash loses nothing: what
//! a node left ringing falls back to a ticket when it starts again, and the
//! tickets it follows up (with the callbacks tried) go back to its desk.

use crate::centre::DeskEvent;
use parking_lot::Mutex;
use sanjeevani_core::desk::{
    DeskCommand, DeskConfig, EscalationId, EscalationOutcome, MemberId, TicketId, Urgency,
};
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_dialer::desk::{run_desk, DeskMember, DeskRequest};
use sanjeevani_dialer::{Notice, TransferEvent, Transfers};
use sanjeevani_store::{CampaignId, Resolution, Store};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};

/// Which desk-wide call is which campaign's call, how to reach each
/// campaign's adapter, and what the desk is doing for whom.
#[derive(Default)]
struct Routes {
    next: u64,
    to_campaign: HashMap<CallId, (CampaignId, CallId)>,
    to_desk: HashMap<(CampaignId, CallId), CallId>,
    adapters: HashMap<CampaignId, Box<dyn Transfers>>,
    /// The agent of each escalation in progress, for their screen.
    agents: HashMap<EscalationId, (AgentId, CallId)>,
    /// Tickets the machine follows up (callbacks), until resolved.
    followed: HashSet<TicketId>,
    /// Callbacks offered now, and to whom.
    offered: HashMap<TicketId, MemberId>,
}

impl Routes {
    fn adapter(&self, call: CallId) -> Option<(&dyn Transfers, CallId)> {
        let (campaign, local) = self.to_campaign.get(&call)?;
        Some((self.adapters.get(campaign)?.as_ref(), *local))
    }

    fn transferable(&self, campaign: CampaignId, call: CallId) -> Result<(), NotTransferable> {
        if !self.adapters.contains_key(&campaign) {
            Err(NotTransferable::NoTransfers)
        } else if self.to_desk.contains_key(&(campaign, call)) {
            Err(NotTransferable::AlreadyEscalated)
        } else {
            Ok(())
        }
    }

    fn forget(&mut self, id: EscalationId) {
        if let Some((_, call)) = self.agents.remove(&id) {
            if let Some(key) = self.to_campaign.remove(&call) {
                self.to_desk.remove(&key);
            }
        }
    }
}

/// The adapters as one [`Transfers`] for the machine.
struct Routed(Arc<Mutex<Routes>>);

impl Transfers for Routed {
    fn consult(&self, call: CallId, target: &str) {
        if let Some((adapter, local)) = self.0.lock().adapter(call) {
            adapter.consult(local, target);
        }
    }
    fn complete_transfer(&self, call: CallId) {
        if let Some((adapter, local)) = self.0.lock().adapter(call) {
            adapter.complete_transfer(local);
        }
    }
    fn cancel_transfer(&self, call: CallId) {
        if let Some((adapter, local)) = self.0.lock().adapter(call) {
            adapter.cancel_transfer(local);
        }
    }
}

/// A member at the desk, as the API shows them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Presence {
    pub member: i64,
    pub languages: Vec<String>,
}

/// Why an escalation could not be handed to the desk machine.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotTransferable {
    #[error("this node's telephony has no warm transfer")]
    NoTransfers,
    #[error("the call is already being transferred")]
    AlreadyEscalated,
}

/// The service's handle on the desk.
pub struct DeskLink {
    requests: mpsc::Sender<DeskRequest>,
    routes: Arc<Mutex<Routes>>,
    transfer_events: mpsc::UnboundedSender<TransferEvent>,
    members: Mutex<HashMap<i64, Vec<String>>>,
}

impl DeskLink {
    /// Starts the machine and the task that carries out its decisions; both
    /// end when `stopping` turns true.
    pub fn start(
        config: DeskConfig,
        store: Arc<dyn Store>,
        desk_events: broadcast::Sender<DeskEvent>,
        stopping: watch::Receiver<bool>,
    ) -> DeskLink {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let (requests_tx, requests) = mpsc::channel(256);
        let (transfer_tx, transfer_events) = mpsc::unbounded_channel();
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let machine = run_desk(
            config,
            Vec::new(),
            Box::new(Routed(routes.clone())),
            transfer_events,
            requests,
            commands_tx,
        );
        let mut stop = stopping.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = machine => {}
                _ = async { drop(stop.wait_for(|s| *s).await) } => {}
            }
        });
        let carrier = Carrier {
            store,
            routes: routes.clone(),
            desk_events,
        };
        tokio::spawn(carrier.run(commands, stopping));
        DeskLink {
            requests: requests_tx,
            routes,
            transfer_events: transfer_tx,
            members: Mutex::default(),
        }
    }

    /// Makes a campaign's adapter reachable, and forwards what it reports.
    pub fn attach(
        &self,
        campaign: CampaignId,
        transfers: Box<dyn Transfers>,
        mut events: mpsc::UnboundedReceiver<TransferEvent>,
    ) {
        self.routes.lock().adapters.insert(campaign, transfers);
        let routes = self.routes.clone();
        let forward = self.transfer_events.clone();
        tokio::spawn(async move {
            // Ends when the adapter stops.
            while let Some(event) = events.recv().await {
                let to_desk = |local| routes.lock().to_desk.get(&(campaign, local)).copied();
                let event = match event {
                    TransferEvent::Consulting(c) => to_desk(c).map(TransferEvent::Consulting),
                    TransferEvent::Failed(c) => to_desk(c).map(TransferEvent::Failed),
                    TransferEvent::Completed(c) => to_desk(c).map(TransferEvent::Completed),
                };
                if let Some(event) = event {
                    let _ = forward.send(event);
                }
            }
        });
    }

    /// Whether the campaign's `call` can be escalated by warm transfer now.
    pub fn transferable(&self, campaign: CampaignId, call: CallId) -> Result<(), NotTransferable> {
        self.routes.lock().transferable(campaign, call)
    }

    /// Hands the escalation (already stored as ticket `ticket`) to the desk:
    /// the contact of the campaign's `call` is held and members are rung.
    pub async fn escalate(
        &self,
        ticket: i64,
        campaign: CampaignId,
        call: CallId,
        agent: AgentId,
        urgency: Urgency,
        language: String,
    ) -> Result<(), NotTransferable> {
        let id = EscalationId(ticket as u64);
        let desk_call = {
            let mut routes = self.routes.lock();
            routes.transferable(campaign, call)?;
            routes.next += 1;
            let desk_call = CallId(routes.next);
            routes.to_campaign.insert(desk_call, (campaign, call));
            routes.to_desk.insert((campaign, call), desk_call);
            routes.agents.insert(id, (agent, desk_call));
            routes.followed.insert(TicketId(id.0));
            desk_call
        };
        self.send(DeskRequest::Escalate {
            id,
            call: desk_call,
            agent,
            urgency,
            language,
        })
        .await;
        Ok(())
    }

    /// Follows up a ticket raised without a transfer, or open before a
    /// restart: callbacks offered, retried and closed like the desk's own.
    pub async fn follow(
        &self,
        ticket: i64,
        urgency: Urgency,
        language: String,
        member: Option<i64>,
        tries: u32,
    ) {
        let id = TicketId(ticket as u64);
        self.routes.lock().followed.insert(id);
        self.send(DeskRequest::Follow {
            ticket: id,
            urgency,
            language,
            member: member.map(|m| MemberId(m as u64)),
            tries,
        })
        .await
    }

    /// The escalation's agent, if it is in progress on this node.
    pub fn agent_of(&self, ticket: i64) -> Option<AgentId> {
        let routes = self.routes.lock();
        routes
            .agents
            .get(&EscalationId(ticket as u64))
            .map(|(a, _)| *a)
    }

    /// The member the ticket's callback is offered to now, if any.
    pub fn offered_to(&self, ticket: i64) -> Option<i64> {
        let routes = self.routes.lock();
        routes
            .offered
            .get(&TicketId(ticket as u64))
            .map(|m| m.0 as i64)
    }

    pub async fn complete(&self, ticket: i64) {
        self.send(DeskRequest::Complete(EscalationId(ticket as u64)))
            .await
    }

    pub async fn cancel(&self, ticket: i64) {
        self.send(DeskRequest::Cancel(EscalationId(ticket as u64)))
            .await
    }

    /// A dialer's notice: a call that ended while escalated ends the escalation.
    pub async fn on_notice(&self, notice: &Notice) {
        let Notice::Ended { campaign, call, .. } = notice else {
            return;
        };
        let desk_call = self
            .routes
            .lock()
            .to_desk
            .get(&(*campaign, CallId(call.call)))
            .copied();
        if let Some(desk_call) = desk_call {
            self.send(DeskRequest::CallEnded(desk_call)).await;
        }
    }

    /// The member joins the desk; their phone is `target`.
    pub async fn member_in(&self, member: i64, target: String, languages: Vec<String>) {
        self.members.lock().insert(member, languages.clone());
        self.send(DeskRequest::MemberIn(DeskMember {
            id: MemberId(member as u64),
            target,
            languages,
        }))
        .await
    }

    pub async fn member_out(&self, member: i64) {
        self.members.lock().remove(&member);
        self.send(DeskRequest::MemberOut(MemberId(member as u64)))
            .await
    }

    /// The member is done with a caller handed to them live.
    pub async fn live_call_ended(&self, member: i64) {
        self.send(DeskRequest::LiveCallEnded(MemberId(member as u64)))
            .await
    }

    /// The member placed the ticket's callback and reached the person or not.
    pub async fn callback(&self, ticket: i64, reached: bool) {
        let ticket = TicketId(ticket as u64);
        self.routes.lock().offered.remove(&ticket);
        self.send(DeskRequest::CallbackPlaced(ticket)).await;
        let result = if reached {
            DeskRequest::CallbackReached(ticket)
        } else {
            DeskRequest::CallbackUnreached(ticket)
        };
        self.send(result).await
    }

    /// A member closed the ticket (through the API, already in the store).
    pub async fn resolved(&self, ticket: i64, resolution: Resolution) {
        let ticket = TicketId(ticket as u64);
        if self.routes.lock().followed.remove(&ticket) {
            self.send(DeskRequest::Resolve(ticket, resolution)).await
        }
    }

    pub fn members(&self) -> Vec<Presence> {
        let mut members: Vec<Presence> = self
            .members
            .lock()
            .iter()
            .map(|(m, l)| Presence {
                member: *m,
                languages: l.clone(),
            })
            .collect();
        members.sort_by_key(|p| p.member);
        members
    }

    async fn send(&self, request: DeskRequest) {
        if self.requests.send(request).await.is_err() {
            tracing::warn!("the desk has stopped");
        }
    }
}

/// Carries out what the machine decides: the store and the screens.
struct Carrier {
    store: Arc<dyn Store>,
    routes: Arc<Mutex<Routes>>,
    desk_events: broadcast::Sender<DeskEvent>,
}

impl Carrier {
    async fn run(
        self,
        mut commands: mpsc::UnboundedReceiver<DeskCommand>,
        mut stopping: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.carry_out(command).await,
                    None => return,
                },
                _ = async { drop(stopping.wait_for(|s| *s).await) } => return,
            }
        }
    }

    fn tell(&self, event: DeskEvent) {
        // Nobody watching is fine.
        let _ = self.desk_events.send(event);
    }

    fn agent(&self, id: EscalationId) -> Option<u64> {
        self.routes.lock().agents.get(&id).map(|(agent, _)| agent.0)
    }

    async fn ticket_event(&self, ticket: i64, event: fn(sanjeevani_store::Ticket) -> DeskEvent) {
        match self.store.ticket(ticket).await {
            Ok(t) => self.tell(event(t)),
            Err(e) => tracing::error!(ticket, error = %e, "desk: ticket not read"),
        }
    }

    async fn carry_out(&self, command: DeskCommand) {
        tracing::debug!(?command, "desk");
        match command {
            DeskCommand::Consult { id, member, .. } => {
                if let Some(agent) = self.agent(id) {
                    self.tell(DeskEvent::Transfer {
                        agent,
                        ticket: id.0 as i64,
                        stage: "ringing",
                        member: Some(member.0 as i64),
                    });
                }
            }
            DeskCommand::Consulting { id, member } => {
                if let Some(agent) = self.agent(id) {
                    self.tell(DeskEvent::Transfer {
                        agent,
                        ticket: id.0 as i64,
                        stage: "consulting",
                        member: Some(member.0 as i64),
                    });
                }
                match self.store.ticket(id.0 as i64).await {
                    Ok(ticket) => self.tell(DeskEvent::Consult {
                        member: member.0 as i64,
                        ticket,
                    }),
                    Err(e) => tracing::error!(ticket = id.0, error = %e, "desk: ticket not read"),
                }
            }
            DeskCommand::ReleaseAgent {
                id,
                agent,
                with_contact,
            } => self.tell(DeskEvent::Transfer {
                agent: agent.0,
                ticket: id.0 as i64,
                stage: if with_contact {
                    "back_with_contact"
                } else {
                    "free"
                },
                member: None,
            }),
            DeskCommand::OpenTicket {
                ticket,
                reason,
                member,
                ..
            } => {
                let id = ticket.0 as i64;
                let assign = member.map(|m| m.0 as i64);
                match self
                    .store
                    .transfer_fell_back(id, reason.name(), assign)
                    .await
                {
                    Ok(()) => {
                        tracing::info!(
                            ticket = id,
                            reason = reason.name(),
                            "escalation became a ticket"
                        );
                        self.ticket_event(id, |ticket| DeskEvent::Escalation { ticket })
                            .await
                    }
                    Err(e) => tracing::error!(ticket = id, error = %e, "desk: fallback not stored"),
                }
            }
            DeskCommand::OfferCallback { ticket, member } => {
                self.routes.lock().offered.insert(ticket, member);
                self.tell(DeskEvent::CallbackOffered {
                    ticket: ticket.0 as i64,
                    member: member.0 as i64,
                })
            }
            DeskCommand::Ended { id, outcome } => {
                let agent = self.agent(id);
                self.routes.lock().forget(id);
                let ticket = id.0 as i64;
                let (stage, member) = match outcome {
                    EscalationOutcome::Live { member } => ("live", Some(member.0 as i64)),
                    EscalationOutcome::Ticket { .. } => ("ticket", None),
                };
                if let Some(agent) = agent {
                    self.tell(DeskEvent::Transfer {
                        agent,
                        ticket,
                        stage,
                        member,
                    });
                }
                if let (EscalationOutcome::Live { .. }, Some(member)) = (outcome, member) {
                    self.routes.lock().followed.remove(&TicketId(id.0));
                    match self
                        .store
                        .transfer_went_live(ticket, member, crate::now_ms())
                        .await
                    {
                        Ok(()) => {
                            tracing::info!(ticket, member, "caller handed to the desk live");
                            self.ticket_event(ticket, |ticket| DeskEvent::TicketUpdated { ticket })
                                .await
                        }
                        Err(e) => {
                            tracing::error!(ticket, error = %e, "desk: live transfer not stored")
                        }
                    }
                }
            }
            DeskCommand::Resolved { ticket, resolution } => {
                {
                    let mut routes = self.routes.lock();
                    routes.followed.remove(&ticket);
                    routes.offered.remove(&ticket);
                }
                // Resolutions a member made are stored already; the machine's
                // own (unreachable after the last try) are stored here.
                let id = ticket.0 as i64;
                let notes = "not reached after the desk's callback tries";
                match self
                    .store
                    .resolve_ticket(id, resolution, None, notes, crate::now_ms())
                    .await
                {
                    Ok(()) => {
                        self.ticket_event(id, |ticket| DeskEvent::TicketResolved { ticket })
                            .await
                    }
                    Err(sanjeevani_store::StoreError::NotFound { .. }) => {}
                    Err(e) => {
                        tracing::error!(ticket = id, error = %e, "desk: resolution not stored")
                    }
                }
            }
            DeskCommand::StopRinging { .. }
            | DeskCommand::CompleteTransfer { .. }
            | DeskCommand::CancelTransfer { .. } => {}
        }
    }
}
