//! The fixed policies: preview, progressive and power.

use super::{Pacer, PacingView};
use crate::PacingSettings;

/// Dials only when an agent asks ([`crate::Event::PreviewDial`]).
pub struct Preview;

impl Pacer for Preview {
    fn plan(&mut self, _view: &PacingView<'_>, _dials: &mut Vec<f64>) {}

    fn reserves_agents(&self) -> bool {
        true
    }
}

/// One call per free agent, held for that agent: an answered call always has one.
pub struct Progressive;

impl Pacer for Progressive {
    fn plan(&mut self, view: &PacingView<'_>, dials: &mut Vec<f64>) {
        dials.extend(std::iter::repeat_n(0.0, view.free.min(view.line_room)));
    }

    fn reserves_agents(&self) -> bool {
        true
    }
}

/// Keeps `ratio` unanswered calls per free agent.
pub struct Power {
    ratio: f64,
}

impl Power {
    pub fn new(settings: &PacingSettings) -> Self {
        Power {
            ratio: settings.power_ratio,
        }
    }
}

impl Pacer for Power {
    fn plan(&mut self, view: &PacingView<'_>, dials: &mut Vec<f64>) {
        let goal = (self.ratio * view.free as f64).round() as usize;
        let existing = view.unanswered + view.waiting;
        let wanted = goal.saturating_sub(existing).min(view.line_room);
        dials.extend(std::iter::repeat_n(0.0, wanted));
    }

    fn update(&mut self, settings: &PacingSettings) {
        self.ratio = settings.power_ratio;
    }
}
