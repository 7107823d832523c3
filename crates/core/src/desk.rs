//! The medical desk: warm transfers of escalated callers to the desk's
//! members (doctors and the action team), and the tickets that follow up
//! whoever could not be handed over live. Sans-io like the rest of the core:
//! [`DeskEvent`]s stamped with an [`Instant`] in, [`DeskCommand`]s out.
//!
//! An escalation goes:
//!
//! ```text
//!  escalate ─► Waiting (contact on hold) ─► Ringing(member) ─► Consulting(member) ─► complete ─► Handing ─► live
//!                 ▲        │                    │                  │
//!                 └────────┴── member fails ────┘                  └── doctor hangs up ─► Waiting (next member)
//!  wait limit passed, all members tried, contact hangs up, agent cancels, PBX error ─► ticket
//! ```
//!
//! Members are tried one at a time: free members who speak the caller's
//! language first, then the longest idle; a member is not rung twice for the
//! same escalation. Urgent escalations are served before routine ones, then
//! oldest first.
//!
//! Every escalation ends in exactly one [`EscalationOutcome`]: handed over
//! live, or a ticket. Every ticket ends in exactly one [`Resolution`]. A
//! ticket carries a service-level deadline by urgency, is assigned to the
//! member with the fewest open tickets, and is offered to a free member as a
//! callback (preview: the doctor places it) until it is resolved or the
//! tries run out (resolved as unreachable). Live escalations waiting on hold
//! come before callbacks.

use crate::{AgentId, CallId, Instant};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use thiserror::Error;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EscalationId(pub u64);

/// A member of the medical desk, as numbered by the driver.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemberId(pub u64);

/// A follow-up ticket; it has the number of the escalation it came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketId(pub u64);

/// How soon the medical wing must act on an escalation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    Routine,
}

impl Urgency {
    pub fn name(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::Routine => "routine",
        }
    }

    pub fn parse(s: &str) -> Option<Urgency> {
        [Urgency::Urgent, Urgency::Routine]
            .into_iter()
            .find(|u| u.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeskConfig {
    /// How long one member may ring.
    #[serde(with = "secs")]
    pub ring_timeout: Duration,
    /// How long a caller may wait on hold for a member before a ticket is
    /// opened instead.
    #[serde(with = "secs")]
    pub wait_limit: Duration,
    /// Service level: an urgent ticket should be resolved within this.
    #[serde(with = "secs")]
    pub urgent_within: Duration,
    #[serde(with = "secs")]
    pub routine_within: Duration,
    /// Callback tries before a ticket is resolved as unreachable.
    pub callback_tries: u32,
    /// Between callback tries of one ticket.
    #[serde(with = "secs")]
    pub callback_retry: Duration,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            ring_timeout: Duration::from_secs(20),
            wait_limit: Duration::from_secs(120),
            urgent_within: Duration::from_secs(30 * 60),
            routine_within: Duration::from_secs(4 * 3600),
            callback_tries: 3,
            callback_retry: Duration::from_secs(15 * 60),
        }
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// Why an escalation became a ticket.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketReason {
    /// No member could take it within the wait limit (busy, away or not answering).
    DeskUnavailable,
    ContactHungUp,
    AgentCancelled,
    PbxError,
}

impl TicketReason {
    pub fn name(self) -> &'static str {
        match self {
            TicketReason::DeskUnavailable => "desk_unavailable",
            TicketReason::ContactHungUp => "contact_hung_up",
            TicketReason::AgentCancelled => "agent_cancelled",
            TicketReason::PbxError => "pbx_error",
        }
    }
}

/// How a ticket was closed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Advice given on the phone (a live hand-over or a callback).
    AdviceGiven,
    TeleconsultationDone,
    MedicineDelivered,
    AmbulanceSent,
    Admitted,
    NoActionNeeded,
    /// Not reached after the configured callback tries.
    Unreachable,
}

impl Resolution {
    pub const ALL: [Resolution; 7] = [
        Resolution::AdviceGiven,
        Resolution::TeleconsultationDone,
        Resolution::MedicineDelivered,
        Resolution::AmbulanceSent,
        Resolution::Admitted,
        Resolution::NoActionNeeded,
        Resolution::Unreachable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Resolution::AdviceGiven => "advice_given",
            Resolution::TeleconsultationDone => "teleconsultation_done",
            Resolution::MedicineDelivered => "medicine_delivered",
            Resolution::AmbulanceSent => "ambulance_sent",
            Resolution::Admitted => "admitted",
            Resolution::NoActionNeeded => "no_action_needed",
            Resolution::Unreachable => "unreachable",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.name() == s)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationOutcome {
    Live { member: MemberId },
    Ticket { reason: TicketReason },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskEvent {
    /// A member starts taking calls (speaks `languages`).
    MemberIn {
        member: MemberId,
        languages: Vec<String>,
    },
    /// A member stops taking calls (after the current one, if any).
    MemberOut(MemberId),
    /// The agent of `call` escalates: the contact is to be held and a member consulted.
    Escalate {
        id: EscalationId,
        call: CallId,
        agent: AgentId,
        urgency: Urgency,
        language: String,
    },
    /// The member rung for the escalation answered and talks with the agent.
    MemberAnswered(EscalationId),
    /// The member rung or consulted is gone: busy, no answer, hung up.
    MemberFailed(EscalationId),
    /// The agent asks to hand the contact over to the member consulted.
    AgentCompletes(EscalationId),
    /// The PBX has joined contact and member.
    HandedOver(EscalationId),
    /// The agent gives up the transfer and is back with the contact.
    AgentCancels(EscalationId),
    ContactHungUp(EscalationId),
    /// The PBX failed during the transfer.
    PbxError(EscalationId),
    /// A live call handed to `member` ended: the member is free.
    LiveCallEnded(MemberId),
    /// The member placed the callback of `ticket` and reached the person.
    CallbackReached(TicketId),
    /// The callback was not answered (busy, no answer, failed).
    CallbackUnreached(TicketId),
    /// The member closed the ticket.
    Resolve(TicketId, Resolution),
    /// A ticket the desk did not open itself (raised without a transfer, or
    /// open before a restart) is followed up from now on like its own:
    /// offered as a callback, retried, closed as unreachable after the last
    /// try. `member` is its assignee, `tries` the callbacks already tried.
    FollowTicket {
        ticket: TicketId,
        urgency: Urgency,
        language: String,
        member: Option<MemberId>,
        tries: u32,
    },
    /// Time passed.
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskCommand {
    /// Hold the contact of `call` (if not yet held) and ring `member` for its agent to consult.
    Consult {
        id: EscalationId,
        call: CallId,
        member: MemberId,
    },
    /// The member answered and talks with the agent: show them the caller's
    /// details and answers.
    Consulting { id: EscalationId, member: MemberId },
    /// Stop ringing the member of `id` (the caller waits on hold, or the escalation ended).
    StopRinging { id: EscalationId, member: MemberId },
    /// Join contact and member; the agent leaves.
    CompleteTransfer { id: EscalationId, call: CallId },
    /// Drop the consult and put the agent back with the contact.
    CancelTransfer { id: EscalationId, call: CallId },
    /// The escalation no longer holds the agent: free for the next call, or
    /// back with the contact (who is told that a doctor will call back).
    ReleaseAgent {
        id: EscalationId,
        agent: AgentId,
        with_contact: bool,
    },
    /// A ticket is opened, due by `due`, assigned to `member` (if any member is in).
    OpenTicket {
        ticket: TicketId,
        urgency: Urgency,
        reason: TicketReason,
        due: Instant,
        member: Option<MemberId>,
    },
    /// Offer `member` the callback of `ticket` (preview: the member places it).
    OfferCallback { ticket: TicketId, member: MemberId },
    /// An escalation ended.
    Ended {
        id: EscalationId,
        outcome: EscalationOutcome,
    },
    /// A ticket was resolved.
    Resolved {
        ticket: TicketId,
        resolution: Resolution,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeskError {
    #[error("time went backwards: {now} after {last}")]
    TimeWentBackwards { now: Instant, last: Instant },
    #[error("escalation {0:?} already exists")]
    DuplicateEscalation(EscalationId),
    #[error("ticket {0:?} is already followed or is an escalation's")]
    DuplicateTicket(TicketId),
    #[error("unknown escalation {0:?}")]
    UnknownEscalation(EscalationId),
    #[error("unknown ticket {0:?}")]
    UnknownTicket(TicketId),
    #[error("unknown member {0:?}")]
    UnknownMember(MemberId),
    #[error("member {0:?} has no live call")]
    MemberNotLive(MemberId),
    #[error("escalation {id:?} is {state} and cannot {action}")]
    Transition {
        id: EscalationId,
        state: &'static str,
        action: &'static str,
    },
    #[error("ticket {ticket:?} is {state} and cannot {action}")]
    TicketTransition {
        ticket: TicketId,
        state: &'static str,
        action: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberState {
    Free,
    Ringing(EscalationId),
    Consulting(EscalationId),
    /// With a caller handed over live.
    Live,
    OnCallback(TicketId),
}

#[derive(Debug, Clone)]
struct Member {
    languages: Vec<String>,
    state: MemberState,
    /// When the member last became free.
    idle_since: Instant,
    /// Still taking calls (false: leaves when the current one ends).
    present: bool,
    open_tickets: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// On hold, waiting for a free member.
    Waiting,
    Ringing {
        member: MemberId,
        until: Instant,
    },
    Consulting {
        member: MemberId,
    },
    /// Hand-over asked of the PBX.
    Handing {
        member: MemberId,
    },
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Waiting => "waiting",
            Stage::Ringing { .. } => "ringing",
            Stage::Consulting { .. } => "consulting",
            Stage::Handing { .. } => "handing over",
        }
    }
}

#[derive(Debug, Clone)]
struct Escalation {
    call: CallId,
    agent: AgentId,
    urgency: Urgency,
    language: String,
    at: Instant,
    stage: Stage,
    tried: Vec<MemberId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketStage {
    Open { next_try: Instant },
    Offered(MemberId),
    Calling(MemberId),
    Talking(MemberId),
}

#[derive(Debug, Clone)]
struct Ticket {
    urgency: Urgency,
    language: String,
    member: Option<MemberId>,
    tries: u32,
    stage: TicketStage,
}

/// What the desk remembers of an escalation once it has ended, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EscalationRecord {
    pub id: EscalationId,
    pub urgency: Urgency,
    pub escalated_at: Instant,
    /// None while the escalation is going on.
    pub outcome: Option<EscalationOutcome>,
    /// When a member first talked to the person: live, at the consult's
    /// answer; by ticket, when a callback reached them (None: not yet, or never).
    pub doctor_at: Option<Instant>,
    /// Ticket only: when it was resolved, and how.
    pub resolved: Option<(Instant, Resolution)>,
}

fn transition(id: EscalationId, stage: Stage, action: &'static str) -> DeskError {
    DeskError::Transition {
        id,
        state: stage.name(),
        action,
    }
}

/// The medical desk. See the module documentation.
#[derive(Debug, Clone)]
pub struct Desk {
    config: DeskConfig,
    members: BTreeMap<MemberId, Member>,
    escalations: BTreeMap<EscalationId, Escalation>,
    tickets: BTreeMap<TicketId, Ticket>,
    records: BTreeMap<EscalationId, EscalationRecord>,
    /// Followed tickets (not escalations) that have been resolved.
    followed_resolved: BTreeSet<TicketId>,
    last: Instant,
}

impl Desk {
    pub fn new(config: DeskConfig) -> Desk {
        Desk {
            config,
            members: BTreeMap::new(),
            escalations: BTreeMap::new(),
            tickets: BTreeMap::new(),
            records: BTreeMap::new(),
            followed_resolved: BTreeSet::new(),
            last: Instant::ZERO,
        }
    }

    /// Every escalation so far: ended ones with their outcome (tickets with
    /// their resolution once resolved).
    pub fn records(&self) -> impl Iterator<Item = &EscalationRecord> {
        self.records.values()
    }

    /// Escalations not ended yet, and tickets not resolved yet.
    pub fn open(&self) -> (usize, usize) {
        (self.escalations.len(), self.tickets.len())
    }

    /// When the desk next wants a [`DeskEvent::Tick`].
    pub fn next_wake(&self) -> Option<Instant> {
        let rings = self.escalations.values().filter_map(|e| match e.stage {
            Stage::Ringing { until, .. } => Some(until),
            _ => None,
        });
        let waits = self
            .escalations
            .values()
            .filter(|e| e.stage == Stage::Waiting)
            .map(|e| e.at + self.config.wait_limit);
        let tries = self.tickets.values().filter_map(|t| match t.stage {
            TicketStage::Open { next_try } if next_try > self.last => Some(next_try),
            _ => None,
        });
        rings.chain(waits).chain(tries).min()
    }

    /// Takes one event. An event that does not fit the present state is
    /// refused with a [`DeskError`] before anything changes.
    pub fn handle(
        &mut self,
        now: Instant,
        event: DeskEvent,
        out: &mut Vec<DeskCommand>,
    ) -> Result<(), DeskError> {
        if now < self.last {
            return Err(DeskError::TimeWentBackwards {
                now,
                last: self.last,
            });
        }
        match event {
            DeskEvent::MemberIn { member, languages } => {
                let entry = self.members.entry(member).or_insert(Member {
                    languages: Vec::new(),
                    state: MemberState::Free,
                    idle_since: now,
                    present: true,
                    open_tickets: 0,
                });
                entry.languages = languages;
                entry.present = true;
            }
            DeskEvent::MemberOut(member) => {
                let m = self
                    .members
                    .get_mut(&member)
                    .ok_or(DeskError::UnknownMember(member))?;
                m.present = false;
                if m.state == MemberState::Free {
                    self.free_member(member, now);
                }
            }
            DeskEvent::Escalate {
                id,
                call,
                agent,
                urgency,
                language,
            } => {
                let ticket = TicketId(id.0);
                if self.records.contains_key(&id)
                    || self.tickets.contains_key(&ticket)
                    || self.followed_resolved.contains(&ticket)
                {
                    return Err(DeskError::DuplicateEscalation(id));
                }
                self.escalations.insert(
                    id,
                    Escalation {
                        call,
                        agent,
                        urgency,
                        language,
                        at: now,
                        stage: Stage::Waiting,
                        tried: Vec::new(),
                    },
                );
                self.records.insert(
                    id,
                    EscalationRecord {
                        id,
                        urgency,
                        escalated_at: now,
                        outcome: None,
                        doctor_at: None,
                        resolved: None,
                    },
                );
            }
            DeskEvent::MemberAnswered(id) => {
                let e = self.escalation_mut(id)?;
                let Stage::Ringing { member, .. } = e.stage else {
                    return Err(transition(id, e.stage, "have a member answer"));
                };
                e.stage = Stage::Consulting { member };
                self.set_member(member, MemberState::Consulting(id), now);
                out.push(DeskCommand::Consulting { id, member });
                if let Some(record) = self.records.get_mut(&id) {
                    record.doctor_at.get_or_insert(now);
                }
            }
            DeskEvent::MemberFailed(id) => {
                let e = self.escalation_mut(id)?;
                let (Stage::Ringing { member, .. } | Stage::Consulting { member }) = e.stage else {
                    return Err(transition(id, e.stage, "lose its member"));
                };
                e.stage = Stage::Waiting;
                self.free_member(member, now);
            }
            DeskEvent::AgentCompletes(id) => {
                let e = self.escalation_mut(id)?;
                let Stage::Consulting { member } = e.stage else {
                    return Err(transition(id, e.stage, "be completed"));
                };
                e.stage = Stage::Handing { member };
                out.push(DeskCommand::CompleteTransfer { id, call: e.call });
            }
            DeskEvent::HandedOver(id) => {
                let e = self.escalation_mut(id)?;
                let Stage::Handing { member } = e.stage else {
                    return Err(transition(id, e.stage, "be handed over"));
                };
                let agent = e.agent;
                self.escalations.remove(&id);
                self.set_member(member, MemberState::Live, now);
                out.push(DeskCommand::ReleaseAgent {
                    id,
                    agent,
                    with_contact: false,
                });
                self.end(id, EscalationOutcome::Live { member }, out);
            }
            DeskEvent::AgentCancels(id) => {
                self.escalation_mut(id)?;
                self.make_ticket(now, id, TicketReason::AgentCancelled, true, out)
            }
            DeskEvent::ContactHungUp(id) => {
                self.escalation_mut(id)?;
                self.make_ticket(now, id, TicketReason::ContactHungUp, false, out)
            }
            DeskEvent::PbxError(id) => {
                self.escalation_mut(id)?;
                self.make_ticket(now, id, TicketReason::PbxError, false, out)
            }
            DeskEvent::LiveCallEnded(member) => {
                let m = self
                    .members
                    .get(&member)
                    .ok_or(DeskError::UnknownMember(member))?;
                if m.state != MemberState::Live {
                    return Err(DeskError::MemberNotLive(member));
                }
                self.free_member(member, now)
            }
            DeskEvent::CallbackReached(ticket) => {
                let (t, member) = self.calling(ticket)?;
                t.stage = TicketStage::Talking(member);
                if let Some(record) = self.records.get_mut(&EscalationId(ticket.0)) {
                    record.doctor_at.get_or_insert(now);
                }
            }
            DeskEvent::CallbackUnreached(ticket) => {
                let (retry, tries) = (self.config.callback_retry, self.config.callback_tries);
                let (t, member) = self.calling(ticket)?;
                t.tries += 1;
                t.stage = TicketStage::Open {
                    next_try: now + retry,
                };
                let exhausted = t.tries >= tries;
                self.free_member(member, now);
                if exhausted {
                    self.resolve(now, ticket, Resolution::Unreachable, out);
                }
            }
            DeskEvent::Resolve(ticket, resolution) => {
                let t = self
                    .tickets
                    .get(&ticket)
                    .ok_or(DeskError::UnknownTicket(ticket))?;
                if let TicketStage::Offered(m) | TicketStage::Calling(m) | TicketStage::Talking(m) =
                    t.stage
                {
                    self.free_member(m, now);
                }
                self.resolve(now, ticket, resolution, out);
            }
            DeskEvent::FollowTicket {
                ticket,
                urgency,
                language,
                member,
                tries,
            } => {
                let id = EscalationId(ticket.0);
                if self.tickets.contains_key(&ticket)
                    || self.escalations.contains_key(&id)
                    || self.records.contains_key(&id)
                    || self.followed_resolved.contains(&ticket)
                {
                    return Err(DeskError::DuplicateTicket(ticket));
                }
                if let Some(m) = member.and_then(|m| self.members.get_mut(&m)) {
                    m.open_tickets += 1;
                }
                self.tickets.insert(
                    ticket,
                    Ticket {
                        urgency,
                        language,
                        member,
                        tries,
                        stage: TicketStage::Open { next_try: now },
                    },
                );
            }
            DeskEvent::Tick => {}
        }
        self.last = now;
        self.expire(now, out);
        self.dispatch(now, out);
        Ok(())
    }

    /// The member placed the callback offered (preview): from now on it is
    /// ringing the person. Separate from [`Desk::handle`] so the driver can
    /// tell an offer from a call.
    pub fn callback_placed(&mut self, ticket: TicketId) -> Result<(), DeskError> {
        let t = self
            .tickets
            .get_mut(&ticket)
            .ok_or(DeskError::UnknownTicket(ticket))?;
        match t.stage {
            TicketStage::Offered(member) => {
                t.stage = TicketStage::Calling(member);
                Ok(())
            }
            _ => Err(DeskError::TicketTransition {
                ticket,
                state: "not offered",
                action: "be placed",
            }),
        }
    }

    fn escalation_mut(&mut self, id: EscalationId) -> Result<&mut Escalation, DeskError> {
        self.escalations
            .get_mut(&id)
            .ok_or(DeskError::UnknownEscalation(id))
    }

    /// The ticket being called back and the member calling, or why it is not.
    fn calling(&mut self, ticket: TicketId) -> Result<(&mut Ticket, MemberId), DeskError> {
        match self.tickets.get_mut(&ticket) {
            Some(t) => match t.stage {
                TicketStage::Calling(member) => Ok((t, member)),
                _ => Err(DeskError::TicketTransition {
                    ticket,
                    state: "not being called",
                    action: "hear how the callback went",
                }),
            },
            None => Err(DeskError::UnknownTicket(ticket)),
        }
    }

    fn set_member(&mut self, member: MemberId, state: MemberState, now: Instant) {
        if let Some(m) = self.members.get_mut(&member) {
            m.state = state;
            if state == MemberState::Free {
                m.idle_since = now;
            }
        }
    }

    /// The member is free again, or leaves if they asked to.
    fn free_member(&mut self, member: MemberId, now: Instant) {
        let leaving = self.members.get(&member).is_some_and(|m| !m.present);
        if leaving {
            self.members.remove(&member);
            for ticket in self.tickets.values_mut() {
                if ticket.member == Some(member) {
                    ticket.member = None;
                }
            }
        } else {
            self.set_member(member, MemberState::Free, now);
        }
    }

    fn end(&mut self, id: EscalationId, outcome: EscalationOutcome, out: &mut Vec<DeskCommand>) {
        if let Some(record) = self.records.get_mut(&id) {
            record.outcome = Some(outcome);
        }
        out.push(DeskCommand::Ended { id, outcome });
    }

    /// The escalation becomes a ticket: the PBX side is undone, the agent
    /// released (with the contact if the contact is still there).
    fn make_ticket(
        &mut self,
        now: Instant,
        id: EscalationId,
        reason: TicketReason,
        contact_there: bool,
        out: &mut Vec<DeskCommand>,
    ) {
        let Some(e) = self.escalations.remove(&id) else {
            return;
        };
        match e.stage {
            Stage::Ringing { member, .. } => {
                out.push(DeskCommand::StopRinging { id, member });
                self.free_member(member, now);
            }
            Stage::Consulting { member } | Stage::Handing { member } => {
                self.free_member(member, now)
            }
            Stage::Waiting => {}
        }
        if contact_there {
            out.push(DeskCommand::CancelTransfer { id, call: e.call });
        }
        out.push(DeskCommand::ReleaseAgent {
            id,
            agent: e.agent,
            with_contact: contact_there,
        });
        let ticket = TicketId(id.0);
        let due = e.at
            + match e.urgency {
                Urgency::Urgent => self.config.urgent_within,
                Urgency::Routine => self.config.routine_within,
            };
        let member = self.assignee(&e.language);
        if let Some(m) = member.and_then(|m| self.members.get_mut(&m)) {
            m.open_tickets += 1;
        }
        self.tickets.insert(
            ticket,
            Ticket {
                urgency: e.urgency,
                language: e.language,
                member,
                tries: 0,
                stage: TicketStage::Open { next_try: now },
            },
        );
        out.push(DeskCommand::OpenTicket {
            ticket,
            urgency: e.urgency,
            reason,
            due,
            member,
        });
        self.end(id, EscalationOutcome::Ticket { reason }, out);
    }

    /// The member present with the fewest open tickets, speakers of the
    /// caller's language first.
    fn assignee(&self, language: &str) -> Option<MemberId> {
        self.members
            .iter()
            .filter(|(_, m)| m.present)
            .min_by_key(|(id, m)| {
                (
                    !m.languages.iter().any(|l| l == language),
                    m.open_tickets,
                    **id,
                )
            })
            .map(|(id, _)| *id)
    }

    fn resolve(
        &mut self,
        now: Instant,
        ticket: TicketId,
        resolution: Resolution,
        out: &mut Vec<DeskCommand>,
    ) {
        let Some(t) = self.tickets.remove(&ticket) else {
            return;
        };
        if let Some(m) = t.member.and_then(|m| self.members.get_mut(&m)) {
            m.open_tickets = m.open_tickets.saturating_sub(1);
        }
        match self.records.get_mut(&EscalationId(ticket.0)) {
            Some(record) => record.resolved = Some((now, resolution)),
            None => {
                self.followed_resolved.insert(ticket);
            }
        }
        out.push(DeskCommand::Resolved { ticket, resolution });
    }

    /// Rings that ran out and waits past the limit.
    fn expire(&mut self, now: Instant, out: &mut Vec<DeskCommand>) {
        let rung_out: Vec<(EscalationId, MemberId)> = self
            .escalations
            .iter()
            .filter_map(|(id, e)| match e.stage {
                Stage::Ringing { member, until } if until <= now => Some((*id, member)),
                _ => None,
            })
            .collect();
        for (id, member) in rung_out {
            out.push(DeskCommand::StopRinging { id, member });
            if let Some(e) = self.escalations.get_mut(&id) {
                e.stage = Stage::Waiting;
            }
            self.free_member(member, now);
        }
        let too_long: Vec<EscalationId> = self
            .escalations
            .iter()
            .filter(|(_, e)| e.stage == Stage::Waiting && e.at + self.config.wait_limit <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in too_long {
            self.make_ticket(now, id, TicketReason::DeskUnavailable, true, out);
        }
    }

    /// Free members take waiting callers first (urgent, then oldest), then
    /// callbacks that are due (urgent, then earliest due).
    fn dispatch(&mut self, now: Instant, out: &mut Vec<DeskCommand>) {
        let mut waiting: Vec<(Urgency, Instant, EscalationId)> = self
            .escalations
            .iter()
            .filter(|(_, e)| e.stage == Stage::Waiting)
            .map(|(id, e)| (e.urgency, e.at, *id))
            .collect();
        waiting.sort();
        for (_, _, id) in waiting {
            let e = &self.escalations[&id];
            let pick = self
                .members
                .iter()
                .filter(|(m, member)| {
                    member.present && member.state == MemberState::Free && !e.tried.contains(m)
                })
                .min_by_key(|(m, member)| {
                    (
                        !member.languages.contains(&e.language),
                        member.idle_since,
                        **m,
                    )
                })
                .map(|(m, _)| *m);
            let Some(member) = pick else {
                continue;
            };
            let Some(e) = self.escalations.get_mut(&id) else {
                continue;
            };
            e.tried.push(member);
            e.stage = Stage::Ringing {
                member,
                until: now + self.config.ring_timeout,
            };
            out.push(DeskCommand::Consult {
                id,
                call: e.call,
                member,
            });
            self.set_member(member, MemberState::Ringing(id), now);
        }
        // Nobody left to ring (nobody at the desk, or every member there has
        // been tried): holding the caller longer helps nobody.
        let unstaffed: Vec<EscalationId> = self
            .escalations
            .iter()
            .filter(|(_, e)| {
                e.stage == Stage::Waiting
                    && !self
                        .members
                        .iter()
                        .any(|(m, member)| member.present && !e.tried.contains(m))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in unstaffed {
            self.make_ticket(now, id, TicketReason::DeskUnavailable, true, out);
        }
        let mut due: Vec<(Urgency, TicketId)> = self
            .tickets
            .iter()
            .filter(|(_, t)| matches!(t.stage, TicketStage::Open { next_try } if next_try <= now))
            .map(|(id, t)| (t.urgency, *id))
            .collect();
        due.sort();
        for (_, ticket) in due {
            let t = &self.tickets[&ticket];
            let free = |m: &MemberId| {
                self.members
                    .get(m)
                    .is_some_and(|m| m.present && m.state == MemberState::Free)
            };
            let member = match t.member {
                Some(m) if free(&m) => Some(m),
                _ => self
                    .members
                    .iter()
                    .filter(|(m, _)| free(m))
                    .min_by_key(|(m, member)| (!member.languages.contains(&t.language), **m))
                    .map(|(m, _)| *m),
            };
            let Some(member) = member else {
                continue;
            };
            if let Some(t) = self.tickets.get_mut(&ticket) {
                t.stage = TicketStage::Offered(member);
            }
            self.set_member(member, MemberState::OnCallback(ticket), now);
            out.push(DeskCommand::OfferCallback { ticket, member });
        }
    }
}

#[cfg(test)]
mod tests;
