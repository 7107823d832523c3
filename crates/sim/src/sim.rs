//! The event loop: callees, agents and the network as scheduled events, the dialer
//! core in the middle. Everything the core is told comes from this loop; everything
//! it commands is carried out here.

use crate::report::{Recorder, Report};
use crate::scenario::Scenario;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use sanjeevani_core::{AgentId, CallId, Campaign, Command, CoreError, Event, FailCause, Instant};
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

/// The fate of one contact, drawn from its own random stream (common random numbers).
#[derive(Clone, Debug, Default)]
struct Contact {
    u: f64,
    setup: f64,
    ring: f64,
    busy_time: f64,
    talk: f64,
    wrap: f64,
}

fn contact_stream(seed: u64, k: u64) -> Pcg64Mcg {
    // SplitMix64 of (seed, k) so neighbouring contacts get unrelated streams.
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Pcg64Mcg::seed_from_u64(z ^ (z >> 31))
}

fn draw_contact(s: &Scenario, seed: u64, k: u64) -> Contact {
    let mut rng = contact_stream(seed, k);
    Contact {
        u: rng.random(),
        setup: s.callee.setup_time.sample(&mut rng),
        ring: s.callee.ring_time.sample(&mut rng),
        busy_time: s.callee.busy_time.sample(&mut rng),
        talk: s.handling.talk_time.sample(&mut rng),
        wrap: s.handling.wrap_up.sample(&mut rng),
    }
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
    contact: Contact,
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
    };
    run.schedule_workforce();
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
    Ok(run.rec.report(
        scenario,
        seed,
        run.now,
        run.campaign.config().pacing.mode,
        run.events,
    ))
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

    fn schedule_workforce(&mut self) {
        let mut next_id = 1;
        let groups = self.scenario.agents.clone();
        for group in &groups {
            for _ in 0..group.count {
                let id = AgentId(next_id);
                next_id += 1;
                self.agents.insert(id, SimAgent::default());
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
            SimEvent::TalkEnded(call) => {
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
                            contact: Contact::default(),
                            agent: None,
                        },
                    );
                    self.schedule(self.now, SimEvent::Core(Event::NoContact(call)));
                    return;
                }
                let k = self.contacts_used;
                self.contacts_used += 1;
                let c = draw_contact(self.scenario, self.seed, k);
                let p = self
                    .scenario
                    .answer_probability_at(self.now as f64 / 60_000.0);
                let ring_start = self.now + ms(c.setup);
                let timeout = self.scenario.campaign.no_answer_timeout.as_secs_f64();
                self.schedule(ring_start, SimEvent::Core(Event::Ringing(call)));
                if c.u < p {
                    let ring = c.ring.min(timeout - 0.5).max(0.0);
                    self.schedule(ring_start + ms(ring), SimEvent::Core(Event::Answered(call)));
                } else if c.u < p + self.scenario.callee.busy_share {
                    self.schedule(
                        ring_start + ms(c.busy_time),
                        SimEvent::Core(Event::Failed(call, FailCause::Busy)),
                    );
                }
                // Otherwise nobody answers: the core cancels at its no-answer timeout.
                self.rec.dialed();
                self.calls.insert(
                    call,
                    SimCall {
                        contact: c,
                        agent: None,
                    },
                );
            }
            Command::Connect { call, agent } => {
                let talk = match self.calls.get_mut(&call) {
                    Some(c) => {
                        c.agent = Some(agent);
                        c.contact.talk
                    }
                    None => return,
                };
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.busy = true;
                    a.talking = true;
                }
                self.rec.connected(call, agent, self.now);
                self.schedule(self.now + ms(talk), SimEvent::TalkEnded(call));
            }
            Command::Drop { call } => {
                self.calls.remove(&call);
                self.rec.dropped(call, self.now);
            }
            Command::Cancel { call } => {
                self.calls.remove(&call);
            }
        }
    }
}
