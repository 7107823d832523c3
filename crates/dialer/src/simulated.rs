//! Simulated telephony: the simulator's called-party and agent models behind
//! the [`Telephony`] trait, in real time. Used by the demo and the tests; the
//! service labels it as simulation.
//!
//! The k-th dial meets the same person as the k-th dial of `simulate` with
//! the same scenario and seed ([`Fate`]), and their talk and the agent's
//! wrap-up are that person's, so the demo paces like the simulation says.
//!
//! Agents are simulated too unless [`SimulatedLine::with_people_below`] says
//! they are people at a desk: a person's call lasts until they hang up
//! (or [`PERSON_CALL_LIMIT`]), and their wrap-up until they say they are ready.
//!
//! Warm transfers are simulated as well ([`SimulatedTransfers`]): the member
//! consulted answers after [`MEMBER_ANSWERS_AFTER`], so that the medical desk
//! can be tried without a PBX.

use crate::{LineEvent, Telephony, TransferEvent, Transfers};
use parking_lot::Mutex;
use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_sim::{Fate, Reply, Scenario};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

/// How long a simulated called party stays on the line with a real person.
pub const PERSON_CALL_LIMIT: Duration = Duration::from_secs(600);

/// How long a simulated desk member's phone rings before they answer.
pub const MEMBER_ANSWERS_AFTER: Duration = Duration::from_secs(3);

/// Called parties and agents acting out a scenario's workload.
pub struct SimulatedLine {
    scenario: Scenario,
    seed: u64,
    /// Dials so far: the next dial meets person number `dials`.
    dials: u64,
    /// Agent ids below this are people, not simulated.
    people_below: Option<u64>,
    events: UnboundedSender<LineEvent>,
    calls: HashMap<CallId, SimCall>,
    started: tokio::time::Instant,
    transfers: SimulatedTransfers,
    transfer_events: Option<UnboundedReceiver<TransferEvent>>,
}

impl SimulatedLine {
    pub fn new(scenario: &Scenario, seed: u64, events: UnboundedSender<LineEvent>) -> Self {
        let (transfer_tx, transfer_events) = mpsc::unbounded_channel();
        SimulatedLine {
            scenario: scenario.clone(),
            seed,
            dials: 0,
            people_below: None,
            transfers: SimulatedTransfers {
                line: events.clone(),
                events: transfer_tx,
                ringing: Arc::default(),
            },
            transfer_events: Some(transfer_events),
            events,
            calls: HashMap::new(),
            started: tokio::time::Instant::now(),
        }
    }

    /// The warm-transfer handle; its reports come on [`Self::take_transfer_events`].
    pub fn transfer_handle(&self) -> SimulatedTransfers {
        self.transfers.clone()
    }

    pub fn take_transfer_events(&mut self) -> Option<UnboundedReceiver<TransferEvent>> {
        self.transfer_events.take()
    }

    /// Agents with ids below `first_simulated` are people at a desk.
    pub fn with_people_below(mut self, first_simulated: u64) -> Self {
        self.people_below = Some(first_simulated);
        self
    }

    fn is_person(&self, agent: AgentId) -> bool {
        self.people_below.is_some_and(|limit| agent.0 < limit)
    }

    fn seconds(value: f64) -> Duration {
        Duration::from_secs_f64(value.max(0.0))
    }

    /// Sends `steps` one after another, each after its delay.
    fn play(&mut self, call: CallId, steps: Vec<(Duration, LineEvent)>) {
        let Some(sim) = self.calls.get_mut(&call) else {
            return;
        };
        let events = self.events.clone();
        let task = tokio::spawn(async move {
            for (delay, event) in steps {
                tokio::time::sleep(delay).await;
                if events.send(event).is_err() {
                    return;
                }
            }
        });
        if let Some(previous) = sim.next_steps.replace(task) {
            previous.abort();
        }
    }
}

/// A call on the simulated line: the person it reached, and what they do next.
struct SimCall {
    fate: Fate,
    /// Aborted when the call ends.
    next_steps: Option<JoinHandle<()>>,
    /// Its steps end the call (a busy line; a hang-up after the talk).
    ends_itself: bool,
}

impl SimCall {
    /// Played out to its end: nothing more will be asked of it.
    fn is_over(&self) -> bool {
        self.ends_itself
            && self
                .next_steps
                .as_ref()
                .is_some_and(JoinHandle::is_finished)
    }
}

impl Telephony for SimulatedLine {
    fn dial(&mut self, call: CallId, _phone: &Phone, _language: Option<&str>) {
        let fate = Fate::draw(&self.scenario, self.seed, self.dials);
        self.dials += 1;
        let minute = self.started.elapsed().as_secs_f64() / 60.0;
        let timeout = self.scenario.campaign.no_answer_timeout.as_secs_f64();
        let setup = Self::seconds(fate.setup);
        let mut steps = vec![(setup, LineEvent::Ringing(call))];
        let reply = fate.reply(&self.scenario.callee, minute, timeout);
        match reply {
            Reply::Answers { after } => {
                steps.push((Self::seconds(after), LineEvent::Answered(call)))
            }
            Reply::Busy { after } => steps.push((
                Self::seconds(after),
                LineEvent::Failed(call, FailCause::Busy),
            )),
            // Rings until the core's no-answer timeout cancels it.
            Reply::RingsOut => {}
        }
        self.calls.retain(|_, c| !c.is_over());
        self.calls.insert(
            call,
            SimCall {
                fate,
                next_steps: None,
                ends_itself: matches!(reply, Reply::Busy { .. }),
            },
        );
        self.play(call, steps);
    }

    fn connect(&mut self, call: CallId, agent: AgentId) {
        let person = self.is_person(agent);
        let Some(sim) = self.calls.get_mut(&call) else {
            return;
        };
        sim.ends_itself = true;
        if person {
            self.play(call, vec![(PERSON_CALL_LIMIT, LineEvent::Hangup(call))]);
            return;
        }
        let talk = Self::seconds(sim.fate.talk);
        let wrap_up = Self::seconds(sim.fate.wrap);
        self.play(
            call,
            vec![
                (talk, LineEvent::Hangup(call)),
                (wrap_up, LineEvent::AgentReady(agent)),
            ],
        );
    }

    fn drop_call(&mut self, call: CallId) {
        if let Some(task) = self.calls.remove(&call).and_then(|c| c.next_steps) {
            task.abort();
        }
    }

    fn cancel(&mut self, call: CallId) {
        self.drop_call(call);
    }

    fn hangup(&mut self, call: CallId) {
        self.drop_call(call);
    }
}

/// Simulated warm transfers: the member always answers after
/// [`MEMBER_ANSWERS_AFTER`]; a completed transfer frees the agent at once.
#[derive(Clone)]
pub struct SimulatedTransfers {
    line: UnboundedSender<LineEvent>,
    events: UnboundedSender<TransferEvent>,
    /// Members being rung, by call: the answer to come is dropped on cancel.
    ringing: Arc<Mutex<HashMap<CallId, JoinHandle<()>>>>,
}

impl SimulatedTransfers {
    fn stop_ringing(&self, call: CallId) {
        if let Some(task) = self.ringing.lock().remove(&call) {
            task.abort();
        }
    }
}

impl Transfers for SimulatedTransfers {
    fn consult(&self, call: CallId, _target: &str) {
        let events = self.events.clone();
        let ringing = self.ringing.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(MEMBER_ANSWERS_AFTER).await;
            ringing.lock().remove(&call);
            let _ = events.send(TransferEvent::Consulting(call));
        });
        if let Some(previous) = self.ringing.lock().insert(call, task) {
            previous.abort();
        }
    }

    fn complete_transfer(&self, call: CallId) {
        self.stop_ringing(call);
        let _ = self.events.send(TransferEvent::Completed(call));
        let _ = self.line.send(LineEvent::Hangup(call));
    }

    fn cancel_transfer(&self, call: CallId) {
        self.stop_ringing(call);
        let _ = self.events.send(TransferEvent::Failed(call));
    }
}

impl Drop for SimulatedLine {
    fn drop(&mut self) {
        for task in self.calls.values().filter_map(|c| c.next_steps.as_ref()) {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanjeevani_contacts::Region;
    use tokio::time::Instant;

    const SCENARIO: &str = r#"
name = "one callee model"
hours = 1
[[agents]]
count = 1
[callee]
answer_probability = 0.5
ring_time = { dist = "lognormal", mean = 12, cv = 0.8 }
busy_share = 0.1
busy_time = { dist = "lognormal", mean = 5, cv = 0.3 }
setup_time = { dist = "lognormal", mean = 1, cv = 0.5 }
[handling]
talk_time = { dist = "lognormal", mean = 40, cv = 0.35 }
"#;

    /// The k-th dial meets the simulator's k-th person: rings after the
    /// same set-up, answers (before the no-answer timeout) or is busy at
    /// the same moment, or rings out.
    #[tokio::test(start_paused = true)]
    async fn the_line_meets_the_people_the_simulator_draws() {
        let scenario = Scenario::parse(SCENARIO, "test").unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut line = SimulatedLine::new(&scenario, 5, tx);
        let phone = Phone::parse("9876500101", Region::default()).unwrap();
        let start = Instant::now();
        const DIALS: u64 = 60;
        for k in 0..DIALS {
            line.dial(CallId(k + 1), &phone, None);
        }
        let mut heard: HashMap<CallId, Vec<(u64, LineEvent)>> = HashMap::new();
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            let call = match event {
                LineEvent::Ringing(c) | LineEvent::Answered(c) | LineEvent::Failed(c, _) => c,
                other => panic!("unexpected {other:?}"),
            };
            let ms = start.elapsed().as_millis() as u64;
            heard.entry(call).or_default().push((ms, event));
        }
        let ms = |secs: f64| Duration::from_secs_f64(secs.max(0.0)).as_millis() as u64;
        let mut seen = [0; 3];
        for k in 0..DIALS {
            let call = CallId(k + 1);
            let fate = Fate::draw(&scenario, 5, k);
            let ring = ms(fate.setup);
            let mut expected = vec![(ring, LineEvent::Ringing(call))];
            match fate.reply(&scenario.callee, 0.0, 25.0) {
                Reply::Answers { after } => {
                    seen[0] += 1;
                    expected.push((ring + ms(after), LineEvent::Answered(call)));
                }
                Reply::Busy { after } => {
                    seen[1] += 1;
                    expected.push((ring + ms(after), LineEvent::Failed(call, FailCause::Busy)));
                }
                Reply::RingsOut => seen[2] += 1,
            }
            let got = heard.remove(&call).unwrap_or_default();
            assert_eq!(
                got.len(),
                expected.len(),
                "dial {k}: {got:?} vs {expected:?}"
            );
            for ((at, event), (want_at, want)) in got.iter().zip(&expected) {
                assert_eq!(event, want, "dial {k}");
                assert!(
                    at.abs_diff(*want_at) <= 2,
                    "dial {k}: {event:?} at {at} ms, drawn {want_at} ms"
                );
            }
        }
        assert!(
            seen.iter().all(|&n| n > 0),
            "every kind of person: {seen:?}"
        );
    }
}
