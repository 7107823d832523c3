//! Simulated telephony: the simulator's called-party and agent models behind
//! the [`Telephony`] trait, in real time. Used by the demo and the tests; the
//! service labels it as simulation.
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
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_sim::{Callee, Handling};
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
    callee: Callee,
    handling: Handling,
    /// Agent ids below this are people, not simulated.
    people_below: Option<u64>,
    rng: Pcg64,
    events: UnboundedSender<LineEvent>,
    /// The pending next step of each call, aborted on cancel.
    calls: HashMap<CallId, JoinHandle<()>>,
    started: tokio::time::Instant,
    transfers: SimulatedTransfers,
    transfer_events: Option<UnboundedReceiver<TransferEvent>>,
}

impl SimulatedLine {
    pub fn new(
        callee: Callee,
        handling: Handling,
        seed: u64,
        events: UnboundedSender<LineEvent>,
    ) -> Self {
        let (transfer_tx, transfer_events) = mpsc::unbounded_channel();
        SimulatedLine {
            callee,
            handling,
            people_below: None,
            rng: Pcg64::seed_from_u64(seed),
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
        let events = self.events.clone();
        let task = tokio::spawn(async move {
            for (delay, event) in steps {
                tokio::time::sleep(delay).await;
                if events.send(event).is_err() {
                    return;
                }
            }
        });
        if let Some(previous) = self.calls.insert(call, task) {
            previous.abort();
        }
    }
}

impl Telephony for SimulatedLine {
    fn dial(&mut self, call: CallId, _phone: &Phone, _language: Option<&str>) {
        let minute = self.started.elapsed().as_secs_f64() / 60.0;
        let setup = Self::seconds(self.callee.setup_time.sample(&mut self.rng));
        let draw: f64 = self.rng.random();
        let steps = if draw < self.callee.busy_share {
            let busy = Self::seconds(self.callee.busy_time.sample(&mut self.rng));
            vec![(setup + busy, LineEvent::Failed(call, FailCause::Busy))]
        } else if self.rng.random::<f64>() < self.callee.answer_probability_at(minute) {
            let ring = Self::seconds(self.callee.ring_time.sample(&mut self.rng));
            vec![
                (setup, LineEvent::Ringing(call)),
                (ring, LineEvent::Answered(call)),
            ]
        } else {
            // Rings until the core's no-answer timeout cancels it.
            vec![(setup, LineEvent::Ringing(call))]
        };
        self.play(call, steps);
    }

    fn connect(&mut self, call: CallId, agent: AgentId) {
        if self.is_person(agent) {
            self.play(call, vec![(PERSON_CALL_LIMIT, LineEvent::Hangup(call))]);
            return;
        }
        let talk = Self::seconds(self.handling.talk_time.sample(&mut self.rng));
        let wrap_up = Self::seconds(self.handling.wrap_up.sample(&mut self.rng));
        self.play(
            call,
            vec![
                (talk, LineEvent::Hangup(call)),
                (wrap_up, LineEvent::AgentReady(agent)),
            ],
        );
    }

    fn drop_call(&mut self, call: CallId) {
        if let Some(task) = self.calls.remove(&call) {
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
        for task in self.calls.values() {
            task.abort();
        }
    }
}
