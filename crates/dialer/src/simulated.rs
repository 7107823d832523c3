//! Simulated telephony: the simulator's called-party and agent models behind
//! the [`Telephony`] trait, in real time. Used by the demo and the tests; the
//! service labels it as simulation.

use crate::{LineEvent, Telephony};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_sim::{Callee, Handling};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// Called parties and agents acting out a scenario's workload.
pub struct SimulatedLine {
    callee: Callee,
    handling: Handling,
    rng: Pcg64,
    events: UnboundedSender<LineEvent>,
    /// The pending next step of each call, aborted on cancel.
    calls: HashMap<CallId, JoinHandle<()>>,
    started: tokio::time::Instant,
}

impl SimulatedLine {
    pub fn new(
        callee: Callee,
        handling: Handling,
        seed: u64,
        events: UnboundedSender<LineEvent>,
    ) -> Self {
        SimulatedLine {
            callee,
            handling,
            rng: Pcg64::seed_from_u64(seed),
            events,
            calls: HashMap::new(),
            started: tokio::time::Instant::now(),
        }
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
    fn dial(&mut self, call: CallId, _phone: &Phone) {
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
}

impl Drop for SimulatedLine {
    fn drop(&mut self) {
        for task in self.calls.values() {
            task.abort();
        }
    }
}
