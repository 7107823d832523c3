//! The event loop: callees, agents and the network as scheduled events, the dialer
//! core in the middle. Everything the core is told comes from this loop; everything
//! it commands is carried out here.

use crate::arrivals::{Arrivals, Caller};
use crate::fate::{self, Fate, Reply};
use crate::report::{Recorder, Report};
use crate::scenario::Scenario;
use rand::Rng;
use rand_pcg::Pcg64Mcg;
use sanjeevani_core::desk::{
    Desk, DeskCommand, DeskEvent, EscalationId, EscalationOutcome, MemberId, Resolution, TicketId,
    Urgency,
};
use sanjeevani_core::{
    AgentId, AgentRole, CallId, Campaign, Command, CoreError, Event, FailCause,
    Instant,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use thiserror::Error;

/// A run that touches more events than this is stopped: a scenario that large is a mistake.
const MAX_EVENTS: u64 = 200_000_000;

#[derive(Debug, Error)]
pub enum SimError {
    #[error("the core refused {event} at {at}: {source}")]
    Core {
        at: Instant,
        event: String,
        source: CoreError,
    },
    #[error("the run passed {MAX_EVENTS} events; the scenario is too large")]
    TooManyEvents,
}

#[derive(Clone, Debug)]
enum SimEvent {
    Login(AgentId),
    LogoutRequest(AgentId),
    Logoffs(usize),
    StopDialing,
    Wake,
    Core(Event),
    TalkEnded(CallId),
    WrapEnded(AgentId),
    /// The agent of the call escalates it to the medical desk.
    Escalate(CallId),
    /// A desk event, fed as is (the desk refuses stale ones).
    Desk(DeskEvent),
    /// The member rung for the escalation answers (if still the one rung).
    MemberAnswers(EscalationId, MemberId),
    /// The agent, done consulting that member, completes the transfer.
    Completes(EscalationId, MemberId),
    /// The caller's patience on hold runs out.
    ContactGone(EscalationId),
    CallbackPlaced(TicketId),
    DeskWake,
    /// The k-th caller of the run calls the centre.
    Arrival(u64),
    /// The caller's patience in the queue runs out.
    CallerGivesUp(CallId),
    /// The inbound caller and the agent are done talking.
    CallerDone(CallId),
}

struct Scheduled {
    at: u64,
    seq: u64,
    event: SimEvent,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq)) // min-heap
    }
}

#[derive(Default)]
struct SimAgent {
    logged_in: bool,
    leaving: bool,
    /// From connect to the end of wrap-up.
    busy: bool,
    /// From connect to the end of the talk.
    talking: bool,
}

struct SimCall {
    contact: Fate,
    agent: Option<AgentId>,
}

/// An inbound caller in the run, from arrival to the end of their call.
struct SimCaller {
    caller: Caller,
    agent: Option<AgentId>,
}

struct Run<'a> {
    scenario: &'a Scenario,
    seed: u64,
    campaign: Campaign,
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    now: u64,
    wake_at: Option<u64>,
    agents: BTreeMap<AgentId, SimAgent>,
    calls: BTreeMap<CallId, SimCall>,
    contacts_used: u64,
    stopped: bool,
    events: u64,
    out: Vec<Command>,
    rec: Recorder,
    desk: Option<DeskRun>,
    /// The inbound side: arrival times still to come, the caller arriving
    /// now (named by the core's `Queued`), callers in progress.
    arrivals: Option<Arrivals<'a>>,
    arriving: Option<Caller>,
    callers: BTreeMap<CallId, SimCaller>,
}

/// The medical desk's side of a run.
struct DeskRun {
    desk: Desk,
    rng: Pcg64Mcg,
    /// Who is rung, and who consulted, for each escalation.
    ringing: BTreeMap<EscalationId, MemberId>,
    consulting: BTreeMap<EscalationId, MemberId>,
    /// Escalations not ended, with their call.
    open: BTreeMap<EscalationId, CallId>,
    wake_at: Option<u64>,
    out: Vec<DeskCommand>,
}

fn ms(secs: f64) -> u64 {
    (secs.max(0.0) * 1000.0).round() as u64
}

/// Run a scenario with a seed. The pacing in `scenario.campaign` is used as given.
pub fn simulate(scenario: &Scenario, seed: u64) -> Result<Report, SimError> {
    let mut run = Run {
        scenario,
        seed,
        campaign: Campaign::new(scenario.campaign),
        queue: BinaryHeap::new(),
        seq: 0,
        now: 0,
        wake_at: None,
        agents: BTreeMap::new(),
        calls: BTreeMap::new(),
        contacts_used: 0,
        stopped: false,
        events: 0,
        out: Vec::new(),
        rec: Recorder::new(
            ms(scenario.report_window_minutes * 60.0),
            ms(scenario.hours * 3600.0),
        ),
        desk: scenario.desk.as_ref().map(|d| DeskRun {
            desk: Desk::new(d.config.clone()),
            rng: fate::stream(seed ^ 0xDE5C, u64::MAX),
            ringing: BTreeMap::new(),
            consulting: BTreeMap::new(),
            open: BTreeMap::new(),
            wake_at: None,
            out: Vec::new(),
        }),
        arrivals: scenario.inbound.as_ref().map(|i| i.arrivals(seed)),
        arriving: None,
        callers: BTreeMap::new(),
    };
    if let Some(d) = &scenario.desk {
        for m in 1..=d.members as u64 {
            run.feed_desk(DeskEvent::MemberIn {
                member: MemberId(m),
                languages: vec!["hi".into(), "en".into()],
            });
        }
    }
    run.schedule_workforce();
    run.schedule_arrival(0);
    run.schedule(ms(scenario.hours * 3600.0), SimEvent::StopDialing);
    while let Some(Scheduled { at, event, .. }) = run.queue.pop() {
        run.now = at;
        run.events += 1;
        if run.events > MAX_EVENTS {
            return Err(SimError::TooManyEvents);
        }
        run.step(event)?;
        if run.finished() {
            break;
        }
    }
    let desk = run.desk.take().map(|d| d.desk);
    let mut report = run.rec.report(
        scenario,
        seed,
        run.now,
        run.campaign.config().pacing.mode,
        run.events,
        scenario
            .inbound
            .as_ref()
            .map(|_| (run.campaign.inbound_stats(), &run.campaign.config().inbound)),
    );
    if let (Some(desk), Some(config)) = (desk, &scenario.desk) {
        report.desk = Some(crate::report::desk_report(&desk, config.members));
    }
    Ok(report)
}

impl Run<'_> {
    fn schedule(&mut self, at: u64, event: SimEvent) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    /// The next caller's arrival, while dialing goes on.
    fn schedule_arrival(&mut self, k: u64) {
        let until = ms(self.scenario.hours * 3600.0);
        if let Some(at) = self.arrivals.as_mut().and_then(|a| a.next_before(until)) {
            self.schedule(at, SimEvent::Arrival(k));
        }
    }

    fn schedule_workforce(&mut self) {
        let mut next_id = 1;
        let groups = self.scenario.agents.clone();
        for group in &groups {
            for _ in 0..group.count {
                let id = AgentId(next_id);
                next_id += 1;
                self.agents.insert(id, SimAgent::default());
                if group.role != AgentRole::default() {
                    self.feed_now(Event::SetRole(id, group.role));
                }
                self.schedule(ms(group.login_minute * 60.0), SimEvent::Login(id));
                if let Some(out) = group.logout_minute {
                    self.schedule(ms(out * 60.0), SimEvent::LogoutRequest(id));
                }
            }
        }
        for (i, l) in self.scenario.logoffs.iter().enumerate() {
            self.schedule(ms(l.minute * 60.0), SimEvent::Logoffs(i));
        }
    }

    /// Dialing is over and nothing is left in flight.
    fn finished(&self) -> bool {
        let exhausted = self
            .scenario
            .contacts
            .is_some_and(|n| self.contacts_used >= n);
        (self.stopped || exhausted)
            && self.calls.is_empty()
            && self.campaign.calls().next().is_none()
            && self.callers.is_empty()
            && self.desk.as_ref().is_none_or(|d| d.desk.open() == (0, 0))
    }

    /// Feeds an event at the start, before the loop runs (a setting).
    fn feed_now(&mut self, event: Event) {
        let mut out = Vec::new();
        // Only agent roles are fed this way, and the core takes a role for
        // any agent, known yet or not.
        let _ = self.campaign.handle(Instant::ZERO, event, &mut out);
    }

    fn feed(&mut self, event: Event) -> Result<(), SimError> {
        let at = Instant::from_millis(self.now);
        self.out.clear();
        let mut out = std::mem::take(&mut self.out);
        let result = self.campaign.handle(at, event.clone(), &mut out);
        for command in &out {
            self.carry_out(*command);
        }
        self.out = out;
        result.map_err(|source| SimError::Core {
            at,
            event: format!("{event:?}"),
            source,
        })?;
        if let Some(wake) = self.campaign.next_wake() {
            let wake = wake.as_millis().max(self.now + 1);
            if self.wake_at.is_none_or(|w| wake < w || w < self.now) {
                self.wake_at = Some(wake);
                self.schedule(wake, SimEvent::Wake);
            }
        }
        Ok(())
    }

    fn step(&mut self, event: SimEvent) -> Result<(), SimError> {
        match event {
            SimEvent::Login(id) => {
                if let Some(a) = self.agents.get_mut(&id) {
                    a.logged_in = true;
                    a.leaving = false;
                }
                self.rec.agent_login(id, self.now);
                self.rec.agent_ready(id, self.now);
                self.feed(Event::AgentReady(id))?;
            }
            SimEvent::LogoutRequest(id) => self.logout_request(id)?,
            SimEvent::Logoffs(i) => {
                let l = self.scenario.logoffs[i].clone();
                let leaving: Vec<AgentId> = self
                    .agents
                    .iter()
                    .rev()
                    .filter(|(_, a)| a.logged_in && !a.leaving)
                    .map(|(id, _)| *id)
                    .take(l.count as usize)
                    .collect();
                let n = leaving.len().max(1) as f64;
                for (j, id) in leaving.into_iter().enumerate() {
                    let at = self.now + ms(l.within_seconds * j as f64 / n);
                    self.schedule(at, SimEvent::LogoutRequest(id));
                }
            }
            SimEvent::StopDialing => {
                self.stopped = true;
                self.feed(Event::Stop)?;
            }
            SimEvent::Wake => {
                if self.wake_at == Some(self.now) {
                    self.wake_at = None;
                }
                self.feed(Event::Tick)?;
            }
            SimEvent::Core(event) => {
                let live = match &event {
                    Event::Ringing(c)
                    | Event::Answered(c)
                    | Event::Failed(c, _)
                    | Event::NoContact(c) => self.calls.contains_key(c),
                    _ => true,
                };
                if live {
                    if let Event::Answered(c) = &event {
                        self.rec.answered(*c, self.now);
                    }
                    if let Event::Failed(c, _) | Event::NoContact(c) = &event {
                        self.calls.remove(c);
                    }
                    self.feed(event)?;
                }
            }
            SimEvent::TalkEnded(call) => self.end_talk(call)?,
            SimEvent::Escalate(call) => self.escalate(call),
            SimEvent::Desk(event) => {
                let reached = match event {
                    DeskEvent::CallbackReached(ticket) => Some(ticket),
                    _ => None,
                };
                if self.feed_desk(event) {
                    if let (Some(ticket), Some(d)) = (reached, &self.scenario.desk) {
                        let talk = self.desk_sample(|_| d.callback_talk.clone());
                        self.schedule(
                            self.now + ms(talk),
                            SimEvent::Desk(DeskEvent::Resolve(
                                ticket,
                                Resolution::TeleconsultationDone,
                            )),
                        );
                    }
                }
            }
            SimEvent::MemberAnswers(id, member) => {
                let Some(desk) = self.desk.as_mut() else {
                    return Ok(());
                };
                if desk.ringing.get(&id) == Some(&member) {
                    desk.ringing.remove(&id);
                    desk.consulting.insert(id, member);
                    self.feed_desk(DeskEvent::MemberAnswered(id));
                    let consult = self.desk_sample(|d| d.consult.clone());
                    self.schedule(self.now + ms(consult), SimEvent::Completes(id, member));
                }
            }
            SimEvent::Completes(id, member) => {
                let Some(desk) = self.desk.as_ref() else {
                    return Ok(());
                };
                if desk.consulting.get(&id) == Some(&member) {
                    self.feed_desk(DeskEvent::AgentCompletes(id));
                }
            }
            SimEvent::ContactGone(id) => {
                let Some(desk) = self.desk.as_ref() else {
                    return Ok(());
                };
                // Only while nobody from the desk is on the line.
                if desk.open.contains_key(&id) && !desk.consulting.contains_key(&id) {
                    self.feed_desk(DeskEvent::ContactHungUp(id));
                }
            }
            SimEvent::CallbackPlaced(ticket) => {
                let (Some(desk), Some(d)) = (self.desk.as_mut(), self.scenario.desk.as_ref())
                else {
                    return Ok(());
                };
                if desk.desk.callback_placed(ticket).is_ok() {
                    let answered = desk.rng.random::<f64>() < d.callback_answer;
                    let ring = d.callback_ring.sample(&mut desk.rng);
                    let (after, event) = if answered {
                        (ring, DeskEvent::CallbackReached(ticket))
                    } else {
                        (30.0, DeskEvent::CallbackUnreached(ticket))
                    };
                    self.schedule(self.now + ms(after), SimEvent::Desk(event));
                }
            }
            SimEvent::DeskWake => {
                if let Some(desk) = self.desk.as_mut() {
                    if desk.wake_at == Some(self.now) {
                        desk.wake_at = None;
                    }
                }
                self.feed_desk(DeskEvent::Tick);
            }
            SimEvent::Arrival(k) => {
                self.schedule_arrival(k + 1);
                if let Some(inbound) = &self.scenario.inbound {
                    let caller = Caller::draw(inbound, self.seed, k);
                    let class = caller.class;
                    // Taken by the core's `Queued` for this arrival.
                    self.arriving = Some(caller);
                    self.feed(Event::InboundArrived(class))?;
                    self.arriving = None;
                }
            }
            SimEvent::CallerGivesUp(call) => {
                if self.callers.get(&call).is_some_and(|c| c.agent.is_none()) {
                    self.callers.remove(&call);
                    self.feed(Event::Hangup(call))?;
                }
            }
            SimEvent::CallerDone(call) => {
                if let Some(SimCaller {
                    caller,
                    agent: Some(agent),
                }) = self.callers.remove(&call)
                {
                    if let Some(a) = self.agents.get_mut(&agent) {
                        a.talking = false;
                    }
                    self.feed(Event::Hangup(call))?;
                    self.schedule(self.now + ms(caller.wrap), SimEvent::WrapEnded(agent));
                }
            }
            SimEvent::WrapEnded(id) => {
                let leaving = self.agents.get(&id).is_some_and(|a| a.leaving);
                if let Some(a) = self.agents.get_mut(&id) {
                    a.busy = false;
                }
                self.rec.agent_free(id, self.now);
                if leaving {
                    self.logout(id)?;
                } else {
                    self.rec.agent_ready(id, self.now);
                    self.feed(Event::AgentReady(id))?;
                }
            }
        }
        Ok(())
    }

    /// The talk with the contact is over: the agent goes to wrap-up.
    fn end_talk(&mut self, call: CallId) -> Result<(), SimError> {
        if let Some(SimCall {
            contact,
            agent: Some(agent),
        }) = self.calls.remove(&call)
        {
            if let Some(a) = self.agents.get_mut(&agent) {
                a.talking = false;
            }
            self.feed(Event::Hangup(call))?;
            self.schedule(self.now + ms(contact.wrap), SimEvent::WrapEnded(agent));
        }
        Ok(())
    }

    /// A sample from one of the desk scenario's distributions, on the desk's stream.
    fn desk_sample(
        &mut self,
        pick: impl Fn(&crate::scenario::DeskScenario) -> crate::dist::Dist,
    ) -> f64 {
        let (Some(desk), Some(d)) = (self.desk.as_mut(), &self.scenario.desk) else {
            return 0.0;
        };
        pick(d).sample(&mut desk.rng)
    }

    fn escalate(&mut self, call: CallId) {
        let Some(SimCall {
            contact,
            agent: Some(agent),
        }) = self.calls.get(&call)
        else {
            return;
        };
        let (agent, Some(escalation)) = (*agent, contact.escalation.clone()) else {
            return;
        };
        let id = EscalationId(call.0);
        if let Some(desk) = self.desk.as_mut() {
            desk.open.insert(id, call);
        }
        self.feed_desk(DeskEvent::Escalate {
            id,
            call,
            agent,
            urgency: if escalation.urgent {
                Urgency::Urgent
            } else {
                Urgency::Routine
            },
            language: "hi".into(),
        });
        self.schedule(
            self.now + ms(escalation.patience),
            SimEvent::ContactGone(id),
        );
    }

    /// Feeds the desk and carries out what it commands; false if it refused
    /// the event (a stale one: what it was about has moved on).
    fn feed_desk(&mut self, event: DeskEvent) -> bool {
        let now = self.now;
        let Some(desk) = self.desk.as_mut() else {
            return false;
        };
        let mut out = std::mem::take(&mut desk.out);
        let accepted = desk
            .desk
            .handle(Instant::from_millis(now), event, &mut out)
            .is_ok();
        for command in out.drain(..) {
            self.carry_out_desk(command);
        }
        let mut wake_at = None;
        if let Some(desk) = self.desk.as_mut() {
            desk.out = out;
            if let Some(wake) = desk.desk.next_wake() {
                let wake = wake.as_millis().max(now + 1);
                if desk.wake_at.is_none_or(|w| wake < w || w < now) {
                    desk.wake_at = Some(wake);
                    wake_at = Some(wake);
                }
            }
        }
        if let Some(wake) = wake_at {
            self.schedule(wake, SimEvent::DeskWake);
        }
        accepted
    }

    fn carry_out_desk(&mut self, command: DeskCommand) {
        let (Some(d), Some(desk)) = (self.scenario.desk.as_ref(), self.desk.as_mut()) else {
            return;
        };
        match command {
            DeskCommand::Consult { id, member, .. } => {
                desk.ringing.insert(id, member);
                if desk.rng.random::<f64>() < d.member_answer {
                    let ring = d.member_ring.sample(&mut desk.rng);
                    self.schedule(self.now + ms(ring), SimEvent::MemberAnswers(id, member));
                }
            }
            DeskCommand::StopRinging { id, .. } => {
                desk.ringing.remove(&id);
            }
            DeskCommand::CompleteTransfer { id, .. } => {
                self.schedule(self.now + 500, SimEvent::Desk(DeskEvent::HandedOver(id)));
            }
            DeskCommand::CancelTransfer { .. }
            | DeskCommand::Consulting { .. }
            | DeskCommand::OpenTicket { .. }
            | DeskCommand::Resolved { .. } => {}
            DeskCommand::ReleaseAgent {
                id, with_contact, ..
            } => {
                desk.consulting.remove(&id);
                let Some(call) = desk.open.get(&id).copied() else {
                    return;
                };
                if with_contact {
                    let tell = d.tell_callback.sample(&mut desk.rng);
                    self.schedule(self.now + ms(tell), SimEvent::TalkEnded(call));
                } else {
                    // The sim's own calls cannot refuse a hang-up; the core's
                    // errors surface on its next event.
                    self.schedule(self.now, SimEvent::TalkEnded(call));
                }
            }
            DeskCommand::OfferCallback { ticket, .. } => {
                let preview = d.preview.sample(&mut desk.rng);
                self.schedule(self.now + ms(preview), SimEvent::CallbackPlaced(ticket));
            }
            DeskCommand::Ended { id, outcome } => {
                desk.open.remove(&id);
                desk.ringing.remove(&id);
                desk.consulting.remove(&id);
                if let EscalationOutcome::Live { member } = outcome {
                    let talk = d.live_talk.sample(&mut desk.rng);
                    self.schedule(
                        self.now + ms(talk),
                        SimEvent::Desk(DeskEvent::LiveCallEnded(member)),
                    );
                }
            }
        }
    }

    fn logout_request(&mut self, id: AgentId) -> Result<(), SimError> {
        let Some(agent) = self.agents.get_mut(&id) else {
            return Ok(());
        };
        if !agent.logged_in {
            return Ok(());
        }
        if agent.busy {
            // The agent logs out after the call and its wrap-up. Said during the talk,
            // the core takes the agent out of its plans at once.
            agent.leaving = true;
            if agent.talking {
                return self.feed(Event::AgentLogout(id));
            }
            return Ok(());
        }
        self.logout(id)
    }

    fn logout(&mut self, id: AgentId) -> Result<(), SimError> {
        if let Some(a) = self.agents.get_mut(&id) {
            a.logged_in = false;
            a.leaving = false;
        }
        self.rec.agent_logout(id, self.now);
        self.feed(Event::AgentLogout(id))
    }

    fn carry_out(&mut self, command: Command) {
        match command {
            Command::Dial { call, .. } => {
                if self
                    .scenario
                    .contacts
                    .is_some_and(|n| self.contacts_used >= n)
                {
                    self.calls.insert(
                        call,
                        SimCall {
                            contact: Fate::default(),
                            agent: None,
                        },
                    );
                    self.schedule(self.now, SimEvent::Core(Event::NoContact(call)));
                    return;
                }
                let k = self.contacts_used;
                self.contacts_used += 1;
                let c = Fate::draw(self.scenario, self.seed, k);
                let ring_start = self.now + ms(c.setup);
                self.schedule(ring_start, SimEvent::Core(Event::Ringing(call)));
                let reply = c.reply(
                    &self.scenario.callee,
                    self.now as f64 / 60_000.0,
                    self.scenario.campaign.no_answer_timeout.as_secs_f64(),
                );
                match reply {
                    Reply::Answers { after } => self.schedule(
                        ring_start + ms(after),
                        SimEvent::Core(Event::Answered(call)),
                    ),
                    Reply::Busy { after } => self.schedule(
                        ring_start + ms(after),
                        SimEvent::Core(Event::Failed(call, FailCause::Busy)),
                    ),
                    // The core cancels at its no-answer timeout.
                    Reply::RingsOut => {}
                }
                self.rec.dialed();
                self.calls.insert(
                    call,
                    SimCall {
                        contact: c,
                        agent: None,
                    },
                );
            }
            Command::Queued { call, .. } => {
                if let Some(caller) = self.arriving.take() {
                    self.schedule(
                        self.now + ms(caller.patience),
                        SimEvent::CallerGivesUp(call),
                    );
                    self.callers.insert(call, SimCaller { caller, agent: None });
                }
            }
            Command::Connect { call, agent } if self.callers.contains_key(&call) => {
                let Some(c) = self.callers.get_mut(&call) else {
                    return;
                };
                c.agent = Some(agent);
                let talk = c.caller.talk;
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.busy = true;
                    a.talking = true;
                }
                self.rec.inbound_connected(agent, self.now);
                self.schedule(self.now + ms(talk), SimEvent::CallerDone(call));
            }
            Command::Release { call } => {
                self.callers.remove(&call);
            }
            // The core's own inbound figures are the report's.
            Command::Callback { .. } | Command::InboundEnded { .. } => {}
            Command::Connect { call, agent } => {
                let (talk, escalate_after) = match self.calls.get_mut(&call) {
                    Some(c) => {
                        c.agent = Some(agent);
                        let after = c.contact.escalation.as_ref().and_then(|e| e.after);
                        (c.contact.talk, after)
                    }
                    None => return,
                };
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.busy = true;
                    a.talking = true;
                }
                self.rec.connected(call, agent, self.now);
                match escalate_after {
                    Some(after) => self.schedule(self.now + ms(after), SimEvent::Escalate(call)),
                    None => self.schedule(self.now + ms(talk), SimEvent::TalkEnded(call)),
                }
            }
            Command::Drop { call } => {
                self.calls.remove(&call);
                self.rec.dropped(call, self.now);
            }
            Command::Cancel { call, .. } => {
                self.calls.remove(&call);
            }
            // The simulation's own figures follow the calls as they go.
            Command::Ended { .. } => {}
        }
    }
}
