//! Call control for the dialer over SIP, sans-io: contacts dialed through the
//! trunk, agents' phones kept on the line, and the two joined by third-party
//! call control (RFC 3725).
//!
//! A contact is called without an offer, so its 2xx carries one. When the
//! core connects the call, the agent's phone is re-INVITEd with that offer and
//! the phone's answer goes back to the contact in the ACK: media flows between
//! the two while we stay in the signalling path. Between calls the phone sits
//! on a parking offer that carries no media. [`Line::consult`] and
//! [`Line::complete_transfer`] do the same with a third party (the medical
//! desk) for a warm transfer.
//!
//! Final answers map to the core's causes by [`fail_cause`].

use crate::endpoint::{Endpoint, Invite, LegEvent, LegId};
use crate::sdp;
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_telephony::{LineEvent, LineProblem, LineStatus, TransferEvent};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where contacts and agents are reached.
#[derive(Debug, Clone)]
pub struct LineConfig {
    /// The Request-URI of a contact; `{number}` is replaced by the number in
    /// E.164 digits without the `+`.
    pub contact_uri: String,
    /// Where calls to contacts go: the trunk, or the proxy in front of it.
    pub trunk: SocketAddr,
    /// An agent's phone; `{agent}` is replaced by the agent's number.
    pub agent_uri: String,
    /// Where calls to agents go; `None`: the address in the agent's URI.
    pub agent_proxy: Option<SocketAddr>,
    /// The information message for a call dropped for want of an agent: a
    /// media server or PBX extension that plays it and hangs up. The contact
    /// is joined to it by 3PCC. `None`: the call is ended at once.
    pub announcement_uri: Option<String>,
}

/// The core's cause for a final answer (`None`: no answer at all).
pub fn fail_cause(status: Option<u16>) -> FailCause {
    match status {
        Some(486 | 600) => FailCause::Busy,
        Some(480 | 408 | 487) => FailCause::NoAnswer,
        Some(404 | 484 | 604) => FailCause::Invalid,
        Some(403 | 603) => FailCause::Rejected,
        Some(300..=399) => FailCause::Invalid,
        Some(400..=499) => FailCause::Rejected,
        _ => FailCause::Congestion,
    }
}

#[derive(Debug)]
enum ContactState {
    Dialing {
        rang: bool,
    },
    /// Answered; its offer waits for an agent.
    Answered {
        offer: Vec<u8>,
        at: Instant,
    },
    /// The agent's phone is being re-INVITEd with the offer.
    /// `answered` is `None` when rejoining after a consult (not measured);
    /// on the first join it keeps the answer's time and the contact's offer,
    /// so that another agent can take the call if this phone refuses it.
    Joining {
        agent: AgentId,
        answered: Option<(Instant, Vec<u8>)>,
    },
    Connected {
        agent: AgentId,
    },
    /// On hold while the agent consults a third party.
    Held {
        agent: AgentId,
    },
}

struct Contact {
    leg: LegId,
    state: ContactState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhoneState {
    Calling,
    Idle,
    Joining(CallId),
    Busy(CallId),
    /// Going back to the parking offer; `again`: a join was still in flight,
    /// so park once more when it completes.
    Parking {
        again: bool,
    },
    /// Talking to a consulted party about `CallId`.
    Consulting(CallId),
}

struct Phone {
    leg: LegId,
    state: PhoneState,
}

/// A third party consulted for a call (the medical desk).
struct Consult {
    leg: LegId,
    agent: AgentId,
    state: ConsultState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsultState {
    Calling,
    /// The consulted party answered; the agent's phone is being joined to it.
    Joining,
    Talking,
    /// Contact and consulted party are being joined.
    Completing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Contact(CallId),
    Agent(AgentId),
    Consult(CallId),
    /// A contact handed to a consulted party or to the information message:
    /// the call is no longer the dialer's.
    Handed,
    /// The information message being called for a dropped contact's leg.
    Announcement(LegId),
}

/// The SIP side of the dialer. See the module documentation.
pub struct Line {
    endpoint: Endpoint,
    config: LineConfig,
    contacts: HashMap<CallId, Contact>,
    phones: HashMap<AgentId, Phone>,
    consults: HashMap<CallId, Consult>,
    owners: HashMap<LegId, Owner>,
    events: VecDeque<LineEvent>,
    transfers: VecDeque<TransferEvent>,
    latencies: Vec<Duration>,
    /// Contact and consulted-party legs of calls handed over.
    handed: Vec<(LegId, LegId)>,
    /// Agents who logged out during a call: their phone is hung up after it.
    leaving: HashSet<AgentId>,
    /// Consults asked for while the agent was being joined back to the
    /// contact after an earlier one: started once that is done.
    pending_consults: HashMap<CallId, String>,
    /// The latest OPTIONS probe the trunk answered.
    last_answered_probe: u64,
    trunk_up: bool,
}

impl Line {
    pub fn new(endpoint: Endpoint, config: LineConfig) -> Line {
        Line {
            endpoint,
            config,
            contacts: HashMap::new(),
            phones: HashMap::new(),
            consults: HashMap::new(),
            owners: HashMap::new(),
            events: VecDeque::new(),
            transfers: VecDeque::new(),
            latencies: Vec::new(),
            handed: Vec::new(),
            leaving: HashSet::new(),
            pending_consults: HashMap::new(),
            last_answered_probe: 0,
            trunk_up: true,
        }
    }

    pub fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    pub fn poll_event(&mut self) -> Option<LineEvent> {
        self.events.pop_front()
    }

    pub fn poll_transfer(&mut self) -> Option<TransferEvent> {
        self.transfers.pop_front()
    }

    /// Answer-to-connect times since the last call: from the contact's 2xx to
    /// our ACK carrying the agent's answer.
    pub fn take_latencies(&mut self) -> Vec<Duration> {
        std::mem::take(&mut self.latencies)
    }

    /// Calls a contact.
    pub fn dial(&mut self, now: Instant, call: CallId, number: &str) {
        let uri = self.config.contact_uri.replace("{number}", number);
        let invite = Invite {
            uri,
            next_hop: self.config.trunk,
            offer: None,
        };
        match self.endpoint.invite(now, invite) {
            Ok(leg) => {
                self.owners.insert(leg, Owner::Contact(call));
                let state = ContactState::Dialing { rang: false };
                self.contacts.insert(call, Contact { leg, state });
            }
            Err(e) => {
                tracing::warn!(call = call.0, error = %e, "cannot dial");
                self.events
                    .push_back(LineEvent::Failed(call, FailCause::Invalid));
            }
        }
        self.process(now);
    }

    /// Calls an agent's phone (`phone`, else `agent_uri` for the agent's
    /// number); [`LineEvent::AgentOnLine`] follows when it answers.
    pub fn login(&mut self, now: Instant, agent: AgentId, phone: Option<&str>) {
        self.leaving.remove(&agent);
        if let Some(phone) = self.phones.get(&agent) {
            // Logged in again: the phone is on the line already (or will say so).
            if phone.state != PhoneState::Calling {
                self.events.push_back(LineEvent::AgentOnLine(agent));
            }
            return;
        }
        let uri = match phone {
            Some(phone) => phone.to_string(),
            None => self
                .config
                .agent_uri
                .replace("{agent}", &agent.0.to_string()),
        };
        let next_hop = self
            .config
            .agent_proxy
            .or_else(|| crate::endpoint::socket_of(&uri));
        let Some(next_hop) = next_hop else {
            tracing::warn!(agent = agent.0, %uri, "no address for the agent's phone");
            self.events.push_back(LineEvent::AgentGone(agent));
            return;
        };
        let mut origin = self.endpoint.origin();
        let offer = Some(sdp::parking_offer(&mut origin));
        match self.endpoint.invite(
            now,
            Invite {
                uri,
                next_hop,
                offer,
            },
        ) {
            Ok(leg) => {
                self.owners.insert(leg, Owner::Agent(agent));
                let state = PhoneState::Calling;
                self.phones.insert(agent, Phone { leg, state });
            }
            Err(e) => {
                tracing::warn!(agent = agent.0, error = %e, "cannot call the agent's phone");
                self.events.push_back(LineEvent::AgentGone(agent));
            }
        }
        self.process(now);
    }

    /// Hangs up an agent's phone, after the call on it if there is one.
    pub fn logout(&mut self, now: Instant, agent: AgentId) {
        let on_a_call = self.phones.get(&agent).is_some_and(|p| {
            matches!(
                p.state,
                PhoneState::Joining(_) | PhoneState::Busy(_) | PhoneState::Consulting(_)
            )
        });
        if on_a_call {
            self.leaving.insert(agent);
        } else {
            self.hang_up_phone(now, agent);
        }
        self.process(now);
    }

    fn hang_up_phone(&mut self, now: Instant, agent: AgentId) {
        self.leaving.remove(&agent);
        if let Some(phone) = self.phones.remove(&agent) {
            self.owners.remove(&phone.leg);
            self.endpoint.hang_up(now, phone.leg);
        }
    }

    /// Joins an answered contact with an agent's phone.
    pub fn connect(&mut self, now: Instant, call: CallId, agent: AgentId) {
        let offer = match self.contacts.get(&call).map(|c| &c.state) {
            Some(ContactState::Answered { offer, .. }) => offer.clone(),
            _ => return,
        };
        let phone = self.phones.get_mut(&agent);
        let joined = match phone {
            Some(phone) if phone.state == PhoneState::Idle => self
                .endpoint
                .reinvite(now, phone.leg, Some(offer.clone()))
                .map(|()| phone.state = PhoneState::Joining(call))
                .is_ok(),
            _ => false,
        };
        if joined {
            let contact = self.contacts.get_mut(&call).expect("checked above");
            if let ContactState::Answered { at, .. } = contact.state {
                contact.state = ContactState::Joining {
                    agent,
                    answered: Some((at, offer)),
                };
            }
        } else {
            // The contact stays answered: the dialer gives it to another
            // agent or plays it the information message.
            tracing::warn!(
                call = call.0,
                agent = agent.0,
                "agent's phone not ready: the call was not joined"
            );
            self.events.push_back(LineEvent::ConnectFailed(call));
        }
        self.process(now);
    }

    /// Drops an answered call that found no agent: the contact hears the
    /// information message (if one is configured), then is hung up. No event
    /// follows.
    pub fn drop_call(&mut self, now: Instant, call: CallId) {
        let offer = match self.contacts.get(&call).map(|c| &c.state) {
            Some(ContactState::Answered { offer, .. }) => offer.clone(),
            _ => return self.hang_up(now, call),
        };
        let Some(uri) = self.config.announcement_uri.clone() else {
            return self.hang_up(now, call);
        };
        let next_hop = crate::endpoint::socket_of(&uri).unwrap_or(self.config.trunk);
        let invite = Invite {
            uri,
            next_hop,
            offer: Some(offer),
        };
        match self.endpoint.invite(now, invite) {
            Ok(announcement) => {
                let contact = self.contacts.remove(&call).expect("checked above");
                self.owners.insert(contact.leg, Owner::Handed);
                self.owners
                    .insert(announcement, Owner::Announcement(contact.leg));
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot call the information message");
                self.end_contact(now, call);
            }
        }
        self.process(now);
    }

    /// Ends a contact's call from our side (dropped, cancelled or hung up by
    /// the agent); an agent on it goes back to parking. No event follows.
    pub fn hang_up(&mut self, now: Instant, call: CallId) {
        self.end_contact(now, call);
        self.process(now);
    }

    fn end_contact(&mut self, now: Instant, call: CallId) {
        self.pending_consults.remove(&call);
        let Some(contact) = self.contacts.remove(&call) else {
            return;
        };
        self.owners.remove(&contact.leg);
        self.endpoint.hang_up(now, contact.leg);
        if let Some(consult) = self.consults.remove(&call) {
            self.owners.remove(&consult.leg);
            self.endpoint.hang_up(now, consult.leg);
        }
        match contact.state {
            ContactState::Joining { agent, .. }
            | ContactState::Connected { agent }
            | ContactState::Held { agent } => self.park(now, agent),
            _ => {}
        }
    }

    /// Puts an agent's phone back on the parking offer (or hangs it up if the
    /// agent logged out during the call).
    fn park(&mut self, now: Instant, agent: AgentId) {
        let joining = self.phones.get(&agent).is_some_and(|p| {
            matches!(p.state, PhoneState::Joining(_) | PhoneState::Parking { .. })
        });
        if self.leaving.contains(&agent) && !joining {
            return self.hang_up_phone(now, agent);
        }
        let Some(phone) = self.phones.get_mut(&agent) else {
            return;
        };
        // A re-INVITE in flight: parked when it completes.
        if matches!(
            phone.state,
            PhoneState::Joining(_) | PhoneState::Parking { .. }
        ) {
            phone.state = PhoneState::Parking { again: true };
            return;
        }
        let mut origin = self.endpoint.origin();
        let offer = sdp::parking_offer(&mut origin);
        phone.state = PhoneState::Parking { again: false };
        let leg = phone.leg;
        if self.endpoint.reinvite(now, leg, Some(offer)).is_err() {
            self.phone_gone(now, agent);
        }
    }

    fn phone_gone(&mut self, now: Instant, agent: AgentId) {
        let Some(phone) = self.phones.remove(&agent) else {
            return;
        };
        self.owners.remove(&phone.leg);
        self.endpoint.hang_up(now, phone.leg);
        if let PhoneState::Joining(call) | PhoneState::Busy(call) | PhoneState::Consulting(call) =
            phone.state
        {
            if self.contacts.contains_key(&call) {
                self.end_contact(now, call);
                self.events.push_back(LineEvent::Hangup(call));
            }
        }
        self.events.push_back(LineEvent::AgentGone(agent));
    }

    /// Sends an OPTIONS keepalive to the trunk; its answer (or silence) marks
    /// the trunk up or down.
    pub fn probe(&mut self, now: Instant) {
        let uri = self.config.contact_uri.replace("{number}", "keepalive");
        let uri = match uri.split_once('@') {
            Some((_, host)) => format!("sip:{host}"),
            None => uri,
        };
        self.endpoint.options(now, &uri, self.config.trunk);
        self.process(now);
    }

    /// Holds the contact of a connected call and calls `uri` for the agent
    /// to consult. [`TransferEvent`]s report how it goes.
    pub fn consult(&mut self, now: Instant, call: CallId, uri: &str) {
        let agent = match self.contacts.get(&call).map(|c| &c.state) {
            Some(ContactState::Connected { agent }) => *agent,
            Some(ContactState::Joining { answered: None, .. })
                if !self.consults.contains_key(&call) =>
            {
                self.pending_consults.insert(call, uri.to_string());
                return;
            }
            _ => {
                self.transfers.push_back(TransferEvent::Failed(call));
                return;
            }
        };
        let next_hop = crate::endpoint::socket_of(uri).unwrap_or(self.config.trunk);
        let invite = Invite {
            uri: uri.to_string(),
            next_hop,
            offer: None,
        };
        let Ok(leg) = self.endpoint.invite(now, invite) else {
            self.transfers.push_back(TransferEvent::Failed(call));
            return;
        };
        self.owners.insert(leg, Owner::Consult(call));
        let consult = Consult {
            leg,
            agent,
            state: ConsultState::Calling,
        };
        self.consults.insert(call, consult);
        // The contact hears nothing while the agent consults: its leg is
        // re-INVITEd onto the parking offer.
        let contact = self.contacts.get_mut(&call).expect("checked above");
        contact.state = ContactState::Held { agent };
        let leg = contact.leg;
        let mut origin = self.endpoint.origin();
        let _ = self
            .endpoint
            .reinvite(now, leg, Some(sdp::parking_offer(&mut origin)));
        self.process(now);
    }

    /// Joins the contact with the consulted party and frees the agent: the
    /// contact is re-INVITEd without an offer, and its offer goes to the
    /// consulted party, whose answer goes back in the ACK.
    pub fn complete_transfer(&mut self, now: Instant, call: CallId) {
        let ready = self
            .consults
            .get(&call)
            .is_some_and(|c| c.state == ConsultState::Talking);
        let contact_leg = self.contacts.get(&call).map(|c| c.leg);
        match (ready, contact_leg) {
            (true, Some(leg)) if self.endpoint.reinvite(now, leg, None).is_ok() => {
                self.consults.get_mut(&call).expect("checked").state = ConsultState::Completing;
            }
            _ => self.fail_transfer(now, call),
        }
        self.process(now);
    }

    /// Drops the consulted party and puts the agent back with the contact.
    pub fn cancel_transfer(&mut self, now: Instant, call: CallId) {
        self.fail_transfer(now, call);
        self.process(now);
    }

    fn fail_transfer(&mut self, now: Instant, call: CallId) {
        self.pending_consults.remove(&call);
        if let Some(consult) = self.consults.remove(&call) {
            self.owners.remove(&consult.leg);
            self.endpoint.hang_up(now, consult.leg);
        }
        self.transfers.push_back(TransferEvent::Failed(call));
        // Back together: contact's last offer came from the contact at
        // answer time; re-INVITE it without an offer and give its offer to the agent.
        if let Some(contact) = self.contacts.get_mut(&call) {
            if let ContactState::Held { agent } = contact.state {
                contact.state = ContactState::Joining {
                    agent,
                    answered: None,
                };
                let leg = contact.leg;
                if let Some(phone) = self.phones.get_mut(&agent) {
                    phone.state = PhoneState::Joining(call);
                }
                if self.endpoint.reinvite(now, leg, None).is_err() {
                    self.end_contact(now, call);
                    self.events.push_back(LineEvent::Hangup(call));
                }
            }
        }
    }

    pub fn handle(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.endpoint.handle(now, from, bytes);
        self.process(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.process(now);
    }

    /// Turns what the endpoint reports into the dialer's events.
    fn process(&mut self, now: Instant) {
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                LegEvent::Probe { probe, status } => self.on_probe(probe, status),
                LegEvent::Progress { leg, .. }
                | LegEvent::Answered { leg, .. }
                | LegEvent::Failed { leg, .. }
                | LegEvent::Updated { leg, .. }
                | LegEvent::UpdateFailed { leg, .. }
                | LegEvent::Ended { leg } => match self.owners.get(&leg).copied() {
                    Some(Owner::Contact(call)) => self.on_contact(now, call, event),
                    Some(Owner::Agent(agent)) => self.on_phone(now, agent, event),
                    Some(Owner::Consult(call)) => self.on_consult(now, call, event),
                    Some(Owner::Handed) => {
                        if matches!(event, LegEvent::Ended { .. }) {
                            self.owners.remove(&leg);
                            self.hand_over_ended(now, leg);
                        }
                    }
                    Some(Owner::Announcement(contact)) => {
                        self.on_announcement(now, leg, contact, event)
                    }
                    None => {}
                },
            }
        }
    }

    /// Any answer but 503/408 means up. Silence means down, unless a later
    /// probe has already been answered.
    fn on_probe(&mut self, probe: u64, status: Option<u16>) {
        if probe <= self.last_answered_probe {
            return;
        }
        let up = matches!(status, Some(s) if s != 503 && s != 408);
        if up {
            self.last_answered_probe = probe;
        }
        if up != self.trunk_up {
            self.trunk_up = up;
            self.events.push_back(LineEvent::Line(if up {
                LineStatus::Up
            } else {
                LineStatus::Down(LineProblem::Unreachable)
            }));
        }
    }

    fn on_contact(&mut self, now: Instant, call: CallId, event: LegEvent) {
        let Some(contact) = self.contacts.get_mut(&call) else {
            return;
        };
        match (event, &mut contact.state) {
            (LegEvent::Progress { status, .. }, ContactState::Dialing { rang })
                if !*rang && (180..=183).contains(&status) =>
            {
                *rang = true;
                self.events.push_back(LineEvent::Ringing(call));
            }
            (LegEvent::Answered { sdp, .. }, ContactState::Dialing { .. }) => {
                if sdp.is_empty() {
                    tracing::warn!(call = call.0, "answered without an offer: ended");
                    self.end_contact(now, call);
                    self.events
                        .push_back(LineEvent::Failed(call, FailCause::Congestion));
                    return;
                }
                contact.state = ContactState::Answered {
                    offer: sdp,
                    at: now,
                };
                self.events.push_back(LineEvent::Answered(call));
            }
            (LegEvent::Failed { leg, status }, _) => {
                self.owners.remove(&leg);
                self.contacts.remove(&call);
                self.events
                    .push_back(LineEvent::Failed(call, fail_cause(status)));
            }
            (LegEvent::Ended { leg }, _) => {
                self.owners.remove(&leg);
                self.end_contact(now, call);
                self.events.push_back(LineEvent::Hangup(call));
            }
            // The contact's offer after an offerless re-INVITE (back from a
            // consult, or handed to the consulted party).
            (LegEvent::Updated { sdp, .. }, state) => {
                let joining = match state {
                    ContactState::Joining { agent, .. } => Some(*agent),
                    _ => None,
                };
                if let Some(consult) = self.consults.get(&call) {
                    if consult.state == ConsultState::Completing {
                        let consult_leg = consult.leg;
                        if self.endpoint.reinvite(now, consult_leg, Some(sdp)).is_err() {
                            self.fail_transfer(now, call);
                        }
                        return;
                    }
                }
                if let Some(agent) = joining {
                    let leg = self.phones.get(&agent).map(|p| p.leg);
                    if leg.is_none_or(|leg| self.endpoint.reinvite(now, leg, Some(sdp)).is_err()) {
                        self.end_contact(now, call);
                        self.events.push_back(LineEvent::Hangup(call));
                    }
                }
            }
            (LegEvent::UpdateFailed { .. }, _) => {
                tracing::warn!(call = call.0, "contact refused a re-INVITE: call ended");
                self.end_contact(now, call);
                self.events.push_back(LineEvent::Hangup(call));
            }
            _ => {}
        }
    }

    fn on_phone(&mut self, now: Instant, agent: AgentId, event: LegEvent) {
        let Some(phone) = self.phones.get_mut(&agent) else {
            return;
        };
        match (event, phone.state) {
            (LegEvent::Answered { .. }, PhoneState::Calling) => {
                phone.state = PhoneState::Idle;
                self.events.push_back(LineEvent::AgentOnLine(agent));
            }
            (LegEvent::Failed { leg, status }, _) => {
                tracing::warn!(agent = agent.0, ?status, "agent's phone did not answer");
                self.owners.remove(&leg);
                self.phones.remove(&agent);
                self.events.push_back(LineEvent::AgentGone(agent));
            }
            (LegEvent::Ended { leg }, _) => {
                self.owners.remove(&leg);
                self.phone_gone(now, agent);
            }
            (LegEvent::Updated { sdp, .. }, PhoneState::Joining(call)) => {
                phone.state = PhoneState::Busy(call);
                self.joined(now, call, agent, sdp);
            }
            (LegEvent::Updated { .. }, PhoneState::Parking { again }) => {
                phone.state = PhoneState::Idle;
                if again || self.leaving.contains(&agent) {
                    self.park(now, agent);
                }
            }
            (LegEvent::Updated { sdp, .. }, PhoneState::Consulting(call)) => {
                self.consult_joined(now, call, sdp);
            }
            (LegEvent::UpdateFailed { status, .. }, state) => {
                tracing::warn!(
                    agent = agent.0,
                    ?status,
                    "agent's phone refused a re-INVITE"
                );
                if status.is_none() {
                    // The dialog is gone (the endpoint hung it up).
                    self.owners.retain(|_, o| *o != Owner::Agent(agent));
                    self.phones.remove(&agent);
                    match state {
                        PhoneState::Joining(call) if self.unjoin(call) => {}
                        PhoneState::Joining(call) | PhoneState::Busy(call) => {
                            self.end_contact(now, call);
                            self.events.push_back(LineEvent::Hangup(call));
                        }
                        _ => {}
                    }
                    self.events.push_back(LineEvent::AgentGone(agent));
                    return;
                }
                phone.state = PhoneState::Idle;
                if let PhoneState::Joining(call) = state {
                    if !self.unjoin(call) {
                        self.end_contact(now, call);
                        self.events.push_back(LineEvent::Hangup(call));
                    }
                }
            }
            _ => {}
        }
    }

    /// A first join the agent's phone refused: the contact is answered again,
    /// with its offer, and the dialer told so that another agent can take
    /// it. `false` for a rejoin after a consult (nothing to go back to).
    fn unjoin(&mut self, call: CallId) -> bool {
        let Some(contact) = self.contacts.get_mut(&call) else {
            return false;
        };
        match std::mem::replace(&mut contact.state, ContactState::Dialing { rang: true }) {
            ContactState::Joining {
                answered: Some((at, offer)),
                ..
            } => {
                contact.state = ContactState::Answered { offer, at };
                self.events.push_back(LineEvent::ConnectFailed(call));
                true
            }
            other => {
                contact.state = other;
                false
            }
        }
    }

    /// The agent's phone answered the contact's offer: ACK the contact with it.
    fn joined(&mut self, now: Instant, call: CallId, agent: AgentId, answer: Vec<u8>) {
        let Some(contact) = self.contacts.get_mut(&call) else {
            // The contact went while the phone was being joined.
            self.park(now, agent);
            return;
        };
        let ContactState::Joining { answered, .. } = &contact.state else {
            return;
        };
        let answered_at = answered.as_ref().map(|(at, _)| *at);
        let leg = contact.leg;
        contact.state = ContactState::Connected { agent };
        // After a consult the contact's offer came in a re-INVITE's 2xx, at
        // first in the INVITE's 2xx: either way the answer goes in an ACK.
        if self.endpoint.ack(leg, answer).is_err() {
            self.end_contact(now, call);
            self.events.push_back(LineEvent::Hangup(call));
            return;
        }
        if let Some(answered_at) = answered_at {
            self.latencies
                .push(now.saturating_duration_since(answered_at));
        }
        if let Some(uri) = self.pending_consults.remove(&call) {
            self.consult(now, call, &uri);
        }
    }

    fn on_consult(&mut self, now: Instant, call: CallId, event: LegEvent) {
        let Some(consult) = self.consults.get_mut(&call) else {
            return;
        };
        match (event, consult.state) {
            (LegEvent::Answered { sdp, .. }, ConsultState::Calling) => {
                // Join the agent to the consulted party: its offer to the phone.
                consult.state = ConsultState::Joining;
                let agent = consult.agent;
                let leg = self.phones.get(&agent).map(|p| p.leg);
                let joined =
                    leg.is_some_and(|leg| self.endpoint.reinvite(now, leg, Some(sdp)).is_ok());
                if joined {
                    if let Some(phone) = self.phones.get_mut(&agent) {
                        phone.state = PhoneState::Consulting(call);
                    }
                } else {
                    self.fail_transfer(now, call);
                }
            }
            (
                LegEvent::Failed { .. } | LegEvent::Ended { .. } | LegEvent::UpdateFailed { .. },
                _,
            ) => {
                self.fail_transfer(now, call);
            }
            (LegEvent::Updated { sdp, .. }, ConsultState::Completing) => {
                // The consulted party answered the contact's offer: hand over.
                self.hand_over(now, call, sdp);
            }
            _ => {}
        }
    }

    /// The agent's phone answered the consulted party's offer.
    fn consult_joined(&mut self, now: Instant, call: CallId, answer: Vec<u8>) {
        let Some(consult) = self.consults.get_mut(&call) else {
            return;
        };
        if consult.state != ConsultState::Joining || self.endpoint.ack(consult.leg, answer).is_err()
        {
            self.fail_transfer(now, call);
            return;
        }
        consult.state = ConsultState::Talking;
        self.transfers.push_back(TransferEvent::Consulting(call));
    }

    /// Contact and consulted party are joined: both legs now belong to the
    /// hand-over, the agent goes back to parking and the dialer hears that the
    /// call ended.
    fn hand_over(&mut self, now: Instant, call: CallId, answer: Vec<u8>) {
        let (Some(contact), Some(consult)) =
            (self.contacts.remove(&call), self.consults.remove(&call))
        else {
            return;
        };
        if self.endpoint.ack(contact.leg, answer).is_err() {
            self.endpoint.hang_up(now, contact.leg);
            self.endpoint.hang_up(now, consult.leg);
            self.owners.remove(&contact.leg);
            self.owners.remove(&consult.leg);
            self.transfers.push_back(TransferEvent::Failed(call));
            self.events.push_back(LineEvent::Hangup(call));
            return;
        }
        self.owners.insert(contact.leg, Owner::Handed);
        self.owners.insert(consult.leg, Owner::Handed);
        self.handed.push((contact.leg, consult.leg));
        if let Some(phone) = self.phones.get_mut(&consult.agent) {
            phone.state = PhoneState::Idle;
        }
        self.park(now, consult.agent);
        self.transfers.push_back(TransferEvent::Completed(call));
        self.events.push_back(LineEvent::Hangup(call));
    }

    /// The information message answered (join the contact to it) or failed
    /// (hang the contact up).
    fn on_announcement(&mut self, now: Instant, leg: LegId, contact: LegId, event: LegEvent) {
        match event {
            LegEvent::Answered { sdp, .. } => {
                if self.endpoint.ack(contact, sdp).is_ok() {
                    self.owners.insert(leg, Owner::Handed);
                    self.handed.push((contact, leg));
                    return;
                }
                self.endpoint.hang_up(now, leg);
            }
            LegEvent::Failed { status, .. } => {
                tracing::warn!(?status, "the information message did not answer");
            }
            _ => return,
        }
        self.owners.remove(&leg);
        self.owners.remove(&contact);
        self.endpoint.hang_up(now, contact);
    }

    /// One side of a handed-over call hung up: hang up the other.
    fn hand_over_ended(&mut self, now: Instant, leg: LegId) {
        if let Some(i) = self.handed.iter().position(|(a, b)| *a == leg || *b == leg) {
            let (a, b) = self.handed.swap_remove(i);
            let other = if a == leg { b } else { a };
            self.owners.remove(&other);
            self.endpoint.hang_up(now, other);
        }
    }

    /// Hangs up everything (on shutdown).
    pub fn close(&mut self, now: Instant) {
        let legs: Vec<LegId> = self.owners.keys().copied().collect();
        for leg in legs {
            self.endpoint.hang_up(now, leg);
        }
        self.owners.clear();
        self.contacts.clear();
        self.phones.clear();
        self.consults.clear();
        self.handed.clear();
        self.leaving.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_map_to_the_cores_causes() {
        let cases = [
            (Some(486), FailCause::Busy),
            (Some(600), FailCause::Busy),
            (Some(480), FailCause::NoAnswer),
            (Some(408), FailCause::NoAnswer),
            (Some(404), FailCause::Invalid),
            (Some(484), FailCause::Invalid),
            (Some(604), FailCause::Invalid),
            (Some(403), FailCause::Rejected),
            (Some(603), FailCause::Rejected),
            (Some(500), FailCause::Congestion),
            (Some(502), FailCause::Congestion),
            (Some(503), FailCause::Congestion),
            (None, FailCause::Congestion),
        ];
        for (status, cause) in cases {
            assert_eq!(fail_cause(status), cause, "{status:?}");
        }
    }
}
