//! What a run measured, and the recorder that measures it from the loop's point of
//! view (not the core's: the core's own counters are checked against it in tests).

use crate::scenario::Scenario;
use sanjeevani_core::{figures, AgentId, CallId, InboundSettings, InboundStats, PacingMode};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// The figures of one run. Rates are shares (0.03 = 3 %), times in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// Hours over which occupancy is measured: until dialing stopped or the work ran out.
    pub hours: f64,
    pub agent_hours: f64,
    pub dials: u64,
    pub live_answers: u64,
    pub connects: u64,
    pub abandoned: u64,
    /// (talk + wrap-up) / logged-in time.
    pub occupancy: f64,
    /// Abandoned / live answers, whole run.
    pub abandon_rate: f64,
    /// Worst abandon rate over any full rolling window of `window_minutes`
    /// (the whole run when it is shorter than one window).
    pub max_window_abandon_rate: f64,
    pub window_minutes: f64,
    pub connects_per_agent_hour: f64,
    /// Time agents waited between becoming ready and being connected.
    pub agent_wait_mean: f64,
    pub agent_wait_p95: f64,
    /// Time from a live answer to its connect.
    pub answer_to_agent_p95: f64,
    pub dials_per_connect: f64,
    /// Events the loop processed (core events and its own).
    pub events: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: Option<DeskReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<InboundReport>,
}

/// The inbound queue's figures, apart from the outbound ones (which never
/// count inbound calls).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InboundReport {
    pub offered: u64,
    pub answered: u64,
    /// Hung up waiting.
    pub abandoned: u64,
    /// Released at the wait limit.
    pub timed_out: u64,
    pub callbacks: u64,
    /// Answered within the target over answered and lost.
    pub service_level: f64,
    pub service_level_target: f64,
    pub answer_within_secs: f64,
    pub wait_mean: f64,
    pub wait_p95: f64,
    /// How long callers who hung up had waited, on average (s).
    pub abandoned_after_mean: f64,
    /// Agents' time on inbound calls over their time logged in.
    pub inbound_occupancy: f64,
    /// Agents' time on outbound calls over their time logged in.
    pub outbound_occupancy: f64,
}

impl InboundReport {
    /// The core's figures and the recorder's split of the agents' time.
    fn new(stats: &InboundStats, settings: &InboundSettings, busy: (u64, u64), logged_in: u64) -> Self {
        InboundReport {
            offered: stats.offered,
            answered: stats.answered,
            abandoned: stats.abandoned,
            timed_out: stats.timed_out,
            callbacks: stats.callbacks,
            service_level: r4(stats.service_level()),
            service_level_target: settings.service_level,
            answer_within_secs: settings.answer_within.as_secs_f64(),
            wait_mean: r4(stats.mean_wait_secs()),
            wait_p95: stats.wait_quantile_secs(0.95) as f64,
            abandoned_after_mean: r4(stats.mean_abandoned_wait_secs()),
            inbound_occupancy: r4(figures::occupancy(busy.1, logged_in)),
            outbound_occupancy: r4(figures::occupancy(busy.0 - busy.1, logged_in)),
        }
    }
}

/// The medical desk's figures: how escalations ended and how soon a
/// member of the desk was on the line with the person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeskReport {
    pub members: u32,
    pub escalations: u64,
    pub live: u64,
    pub tickets: u64,
    pub live_share: f64,
    /// Seconds from escalation to a member on the line (live: the consult
    /// answered; ticket: the callback reached), over escalations that got one.
    pub to_doctor_p50: f64,
    pub to_doctor_p95: f64,
    /// Minutes from escalation to the ticket's resolution.
    pub ticket_age_p50: f64,
    pub ticket_age_p95: f64,
    pub tickets_unreachable: u64,
    /// Escalations without an outcome, or whose ticket was never resolved.
    pub lost: u64,
}

/// The desk's figures at the end of a run.
pub fn desk_report(desk: &sanjeevani_core::desk::Desk, members: u32) -> DeskReport {
    use sanjeevani_core::desk::{EscalationOutcome, Resolution};
    let (mut live, mut tickets, mut unreachable, mut lost) = (0, 0, 0, 0);
    let (mut to_doctor, mut ages) = (Vec::new(), Vec::new());
    let mut escalations = 0;
    for record in desk.records() {
        escalations += 1;
        let at = record.escalated_at;
        match record.outcome {
            Some(EscalationOutcome::Live { .. }) => live += 1,
            Some(EscalationOutcome::Ticket { .. }) => {
                tickets += 1;
                match record.resolved {
                    Some((when, resolution)) => {
                        ages.push(when.secs_since(at) / 60.0);
                        if resolution == Resolution::Unreachable {
                            unreachable += 1;
                        }
                    }
                    None => lost += 1,
                }
            }
            None => lost += 1,
        }
        if let Some(t) = record.doctor_at {
            to_doctor.push(t.secs_since(at));
        }
    }
    DeskReport {
        members,
        escalations,
        live,
        tickets,
        live_share: r4(figures::share(live as f64, escalations as f64)),
        to_doctor_p50: r4(percentile(&mut to_doctor, 0.5)),
        to_doctor_p95: r4(percentile(&mut to_doctor, 0.95)),
        ticket_age_p50: r4(percentile(&mut ages, 0.5)),
        ticket_age_p95: r4(percentile(&mut ages, 0.95)),
        tickets_unreachable: unreachable,
        lost,
    }
}

#[derive(Default)]
struct AgentBook {
    login: Option<u64>,
    ready: Option<u64>,
    busy: Option<u64>,
    /// The current busy period is an inbound call's.
    busy_inbound: bool,
    logged_in_ms: u64,
    busy_ms: u64,
    inbound_busy_ms: u64,
}

/// Collects the raw observations of a run.
pub struct Recorder {
    window_ms: u64,
    agents: BTreeMap<AgentId, AgentBook>,
    answered_at: BTreeMap<CallId, u64>,
    /// (time, abandoned) of each live answer's outcome, in time order.
    outcomes: Vec<(u64, bool)>,
    waits: Vec<f64>,
    answer_delays: Vec<f64>,
    dials: u64,
    horizon: u64,
}

fn clip(from: u64, to: u64, horizon: u64) -> u64 {
    to.min(horizon).saturating_sub(from.min(horizon))
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Round for reports: stable, readable figures.
pub(crate) fn r4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl Recorder {
    /// `horizon`: the time after which nothing counts towards occupancy.
    pub fn new(window_ms: u64, horizon: u64) -> Self {
        Recorder {
            window_ms,
            agents: BTreeMap::new(),
            answered_at: BTreeMap::new(),
            outcomes: Vec::new(),
            waits: Vec::new(),
            answer_delays: Vec::new(),
            dials: 0,
            horizon,
        }
    }

    pub fn agent_login(&mut self, id: AgentId, now: u64) {
        self.agents.entry(id).or_default().login = Some(now);
    }

    pub fn agent_logout(&mut self, id: AgentId, now: u64) {
        let horizon = self.horizon;
        let book = self.agents.entry(id).or_default();
        if let Some(t) = book.login.take() {
            book.logged_in_ms += clip(t, now, horizon);
        }
        book.ready = None;
    }

    pub fn agent_ready(&mut self, id: AgentId, now: u64) {
        self.agents.entry(id).or_default().ready = Some(now);
    }

    pub fn agent_free(&mut self, id: AgentId, now: u64) {
        let horizon = self.horizon;
        let book = self.agents.entry(id).or_default();
        if let Some(t) = book.busy.take() {
            let spent = clip(t, now, horizon);
            book.busy_ms += spent;
            if std::mem::take(&mut book.busy_inbound) {
                book.inbound_busy_ms += spent;
            }
        }
    }

    pub fn dialed(&mut self) {
        self.dials += 1;
    }

    pub fn answered(&mut self, call: CallId, now: u64) {
        self.answered_at.insert(call, now);
    }

    pub fn connected(&mut self, call: CallId, agent: AgentId, now: u64) {
        if let Some(t) = self.answered_at.remove(&call) {
            self.answer_delays.push((now - t) as f64 / 1000.0);
        }
        let book = self.agents.entry(agent).or_default();
        if let Some(t) = book.ready.take() {
            self.waits.push((now - t) as f64 / 1000.0);
        }
        book.busy = Some(now);
        self.outcomes.push((now, false));
    }

    /// An inbound caller reached the agent: busy, apart from outbound.
    pub fn inbound_connected(&mut self, agent: AgentId, now: u64) {
        let book = self.agents.entry(agent).or_default();
        book.ready = None;
        book.busy = Some(now);
        book.busy_inbound = true;
    }

    pub fn dropped(&mut self, call: CallId, now: u64) {
        self.answered_at.remove(&call);
        self.outcomes.push((now, true));
    }

    fn worst_window(&self) -> f64 {
        let whole = |o: &[(u64, bool)]| {
            figures::abandon_rate(o.iter().filter(|x| x.1).count() as u64, o.len() as u64)
        };
        let Some(&(first, _)) = self.outcomes.first() else {
            return 0.0;
        };
        let last = self.outcomes.last().map_or(first, |x| x.0);
        if last - first < self.window_ms {
            return whole(&self.outcomes);
        }
        let mut worst: f64 = 0.0;
        let mut window: VecDeque<bool> = VecDeque::new();
        let mut abandoned = 0usize;
        let mut start = 0;
        for &(t, ab) in &self.outcomes {
            window.push_back(ab);
            abandoned += usize::from(ab);
            while self.outcomes[start].0 + self.window_ms <= t {
                abandoned -= usize::from(window.pop_front().unwrap_or(false));
                start += 1;
            }
            if t >= first + self.window_ms {
                worst = worst.max(figures::abandon_rate(abandoned as u64, window.len() as u64));
            }
        }
        worst
    }

    pub fn report(
        mut self,
        scenario: &Scenario,
        seed: u64,
        horizon: u64,
        mode: PacingMode,
        events: u64,
        inbound: Option<(&InboundStats, &InboundSettings)>,
    ) -> Report {
        self.horizon = self.horizon.min(horizon);
        let horizon = self.horizon;
        let ids: Vec<AgentId> = self.agents.keys().copied().collect();
        for id in ids {
            self.agent_free(id, horizon);
            self.agent_logout(id, horizon);
        }
        let logged_in: u64 = self.agents.values().map(|b| b.logged_in_ms).sum();
        let busy: u64 = self.agents.values().map(|b| b.busy_ms).sum();
        let live = self.outcomes.len() as u64;
        let abandoned = self.outcomes.iter().filter(|o| o.1).count() as u64;
        let connects = live - abandoned;
        let agent_hours = logged_in as f64 / 3_600_000.0;
        let wait_mean = if self.waits.is_empty() {
            0.0
        } else {
            self.waits.iter().sum::<f64>() / self.waits.len() as f64
        };
        Report {
            scenario: scenario.name.clone(),
            policy: mode.name().to_string(),
            seed,
            hours: r4(horizon as f64 / 3_600_000.0),
            agent_hours: r4(agent_hours),
            dials: self.dials,
            live_answers: live,
            connects,
            abandoned,
            occupancy: r4(figures::occupancy(busy, logged_in)),
            abandon_rate: r4(figures::abandon_rate(abandoned, live)),
            max_window_abandon_rate: r4(self.worst_window()),
            window_minutes: self.window_ms as f64 / 60_000.0,
            connects_per_agent_hour: r4(figures::connects_per_agent_hour(connects, logged_in)),
            agent_wait_mean: r4(wait_mean),
            agent_wait_p95: r4(percentile(&mut self.waits, 0.95)),
            answer_to_agent_p95: r4(percentile(&mut self.answer_delays, 0.95)),
            dials_per_connect: r4(figures::share(self.dials as f64, connects as f64)),
            events,
            desk: None,
            inbound: inbound.map(|(stats, settings)| {
                let inbound_busy = self.agents.values().map(|b| b.inbound_busy_ms).sum();
                InboundReport::new(stats, settings, (busy, inbound_busy), logged_in)
            }),
        }
    }
}
