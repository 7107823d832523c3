//! A baseline for comparison: the simple state-dependent policy the design notes
//! derived their floor table with — dial until the expected answers from calls in
//! flight reach `reference_ratio` × the agents expected free within the mean ring
//! time. It uses the campaign's learned estimates like [`super::Predictive`], but
//! only their means, and has no feedback loop and no guard: its ratio is tuned by
//! hand (or by the benchmark, on training seeds).

use super::{BusyAgents, Pacer, PacingView};
use crate::PacingSettings;

pub struct Reference {
    ratio: f64,
    busy: BusyAgents,
}

impl Reference {
    pub fn new(settings: &PacingSettings) -> Self {
        Reference {
            ratio: settings.reference_ratio,
            busy: BusyAgents::default(),
        }
    }
}

impl Pacer for Reference {
    fn plan(&mut self, v: &PacingView<'_>, dials: &mut Vec<f64>) {
        let est = v.estimates;
        let p = est.answer_probability();
        let mean_ring = est.ring_to_answer().mean();
        let (running, survival) = self.busy.refresh(v);
        let free = v.free as f64
            + running
                .iter()
                .map(|&e| survival.within(e, mean_ring))
                .sum::<f64>();
        let mut answers = v.waiting as f64;
        for call in v.calls.values().filter(|c| c.phase.is_unanswered()) {
            answers += est
                .ringing_call(v.now.secs_since(call.ring_start()))
                .answer_within(f64::INFINITY);
        }
        let mut n = 0;
        while n < v.line_room && answers + p <= self.ratio * free {
            answers += p;
            n += 1;
        }
        // Never leave a free agent without a call on its way.
        n = n.max(
            v.free
                .saturating_sub(v.unanswered + v.waiting)
                .min(v.line_room),
        );
        dials.extend(std::iter::repeat_n(0.0, n));
    }

    fn update(&mut self, settings: &PacingSettings) {
        self.ratio = settings.reference_ratio;
    }
}
