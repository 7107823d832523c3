//! Scenario files: the workload a simulation runs, in TOML.
//!
//! ```toml
//! name = "small team"
//! hours = 8
//! contacts = 5000            # omit for an endless list
//! report_window_minutes = 60 # for the worst rolling abandon rate
//!
//! [[agents]]                 # groups of agents with a shift
//! count = 10
//! login_minute = 0
//! logout_minute = 480        # omit to stay until the end
//!
//! [[logoffs]]                # unplanned departures
//! minute = 240
//! count = 5
//! within_seconds = 60
//!
//! [callee]
//! answer_probability = 0.3
//! answer_probability_changes = [{ minute = 240, value = 0.15 }]
//! ring_time = { dist = "lognormal", mean = 10, cv = 0.5 }
//! busy_share = 0.05
//! busy_time = { dist = "constant", value = 5 }
//!
//! [handling]
//! talk_time = { dist = "lognormal", mean = 45, cv = 1 }
//! wrap_up = { dist = "constant", value = 10 }
//!
//! [campaign]                 # the core's CampaignConfig; every key optional
//! no_answer_timeout = 25
//! [campaign.pacing]
//! mode = "predictive"
//!
//! [desk]                     # the medical desk; omit for none
//! members = 6
//! escalation_rate = 0.05     # share of connected calls escalated
//! urgent_share = 0.3
//! escalate_after = { dist = "lognormal", mean = 30, cv = 0.3 }
//! member_answer = 0.9        # a rung member answers (else rings out)
//! member_ring = { dist = "lognormal", mean = 8, cv = 0.5 }
//! consult = { dist = "lognormal", mean = 45, cv = 0.5 }
//! live_talk = { dist = "lognormal", mean = 300, cv = 0.5 }
//! hold_patience = { dist = "exponential", mean = 240 }
//! callback_answer = 0.7
//! callback_ring = { dist = "lognormal", mean = 12, cv = 0.4 }
//! callback_talk = { dist = "lognormal", mean = 300, cv = 0.5 }
//! preview = { dist = "constant", value = 20 }
//! [desk.config]              # the core's DeskConfig (ring_timeout, wait_limit, ...)
//!
//! [inbound]                  # people calling the centre; omit for none
//! per_hour = [40, 60, 120]   # see `arrivals::InboundScenario`
//! patience = { dist = "exponential", mean = 120 }
//! talk_time = { dist = "lognormal", mean = 120, cv = 0.6 }
//! ```
//!
//! Agent groups may say `role = "inbound_only"` or `"outbound_only"`
//! (default `"blended"`).

use crate::arrivals::InboundScenario;
use crate::dist::Dist;
use sanjeevani_core::desk::DeskConfig;
use sanjeevani_core::{AgentRole, CampaignConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario {path} is not valid TOML for a scenario: {message}")]
    Parse { path: String, message: String },
    #[error("scenario {path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Dialing stops after this many hours; calls in progress then finish.
    pub hours: f64,
    /// Contacts on the list; `None` for an endless list.
    #[serde(default)]
    pub contacts: Option<u64>,
    #[serde(default = "default_report_window")]
    pub report_window_minutes: f64,
    pub agents: Vec<AgentGroup>,
    #[serde(default)]
    pub logoffs: Vec<Logoff>,
    pub callee: Callee,
    pub handling: Handling,
    #[serde(default)]
    pub campaign: CampaignConfig,
    #[serde(default)]
    pub desk: Option<DeskScenario>,
    /// People calling the centre; omit for none.
    #[serde(default)]
    pub inbound: Option<InboundScenario>,
}

/// The medical desk: its members, how often agents escalate, and how long
/// each part of an escalation and a callback takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskScenario {
    pub members: u32,
    /// Share of connected calls the agent escalates.
    pub escalation_rate: f64,
    #[serde(default)]
    pub urgent_share: f64,
    /// Seconds into the talk when the agent escalates.
    pub escalate_after: Dist,
    /// Probability that a rung member answers (otherwise the ring times out).
    pub member_answer: f64,
    pub member_ring: Dist,
    /// Agent and member talking before the hand-over.
    pub consult: Dist,
    /// Member and caller after the hand-over.
    pub live_talk: Dist,
    /// How long a caller stays on hold before hanging up.
    pub hold_patience: Dist,
    pub callback_answer: f64,
    pub callback_ring: Dist,
    pub callback_talk: Dist,
    /// The member reading the ticket before placing the callback.
    #[serde(default = "zero")]
    pub preview: Dist,
    /// The agent telling a caller that a doctor will call back.
    #[serde(default = "default_tell")]
    pub tell_callback: Dist,
    #[serde(default)]
    pub config: DeskConfig,
}

fn default_tell() -> Dist {
    Dist::constant(20.0)
}

impl DeskScenario {
    fn validate(&self) -> Result<(), String> {
        if self.members == 0 || self.members > 1000 {
            return Err("desk.members must be between 1 and 1000".into());
        }
        for (field, p) in [
            ("desk.escalation_rate", self.escalation_rate),
            ("desk.urgent_share", self.urgent_share),
            ("desk.member_answer", self.member_answer),
            ("desk.callback_answer", self.callback_answer),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{field} must be in [0, 1], got {p}"));
            }
        }
        for (field, d) in [
            ("desk.escalate_after", &self.escalate_after),
            ("desk.member_ring", &self.member_ring),
            ("desk.consult", &self.consult),
            ("desk.live_talk", &self.live_talk),
            ("desk.hold_patience", &self.hold_patience),
            ("desk.callback_ring", &self.callback_ring),
            ("desk.callback_talk", &self.callback_talk),
            ("desk.preview", &self.preview),
            ("desk.tell_callback", &self.tell_callback),
        ] {
            d.validate(field)?;
        }
        if self.config.callback_tries == 0 {
            return Err("desk.config.callback_tries must be at least 1".into());
        }
        Ok(())
    }
}

fn default_report_window() -> f64 {
    60.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroup {
    pub count: u32,
    #[serde(default)]
    pub login_minute: f64,
    #[serde(default)]
    pub logout_minute: Option<f64>,
    /// Which calls they take: `blended` (the default), `inbound_only` or
    /// `outbound_only`.
    #[serde(default)]
    pub role: AgentRole,
}

/// `count` agents still logged in leave between `minute` and `within_seconds` later,
/// each after finishing the call in hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logoff {
    pub minute: f64,
    pub count: u32,
    #[serde(default)]
    pub within_seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callee {
    /// Probability that a dial reaches a live person (before the no-answer timeout).
    pub answer_probability: f64,
    #[serde(default)]
    pub answer_probability_changes: Vec<Change>,
    /// Ring time before a live answer.
    pub ring_time: Dist,
    /// Share of dials that find the line busy.
    #[serde(default)]
    pub busy_share: f64,
    #[serde(default = "default_busy_time")]
    pub busy_time: Dist,
    /// Time from dial to ringing (network set-up).
    #[serde(default = "zero")]
    pub setup_time: Dist,
}

impl Callee {
    /// The answer probability in force at `minute`.
    pub fn answer_probability_at(&self, minute: f64) -> f64 {
        self.answer_probability_changes
            .iter()
            .filter(|c| c.minute <= minute)
            .max_by(|a, b| a.minute.total_cmp(&b.minute))
            .map_or(self.answer_probability, |c| c.value)
    }
}

fn default_busy_time() -> Dist {
    Dist::constant(5.0)
}

fn zero() -> Dist {
    Dist::constant(0.0)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub minute: f64,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    pub talk_time: Dist,
    #[serde(default = "zero")]
    pub wrap_up: Dist,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: shown.clone(),
            source,
        })?;
        Scenario::parse(&text, &shown)
    }

    /// Parse and validate; `path` only names the source in messages.
    pub fn parse(text: &str, path: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        scenario
            .validate()
            .map_err(|message| ScenarioError::Invalid {
                path: path.to_string(),
                message,
            })?;
        Ok(scenario)
    }

    /// The answer probability in force at `minute`.
    pub fn answer_probability_at(&self, minute: f64) -> f64 {
        self.callee.answer_probability_at(minute)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.hours > 0.0 && self.hours <= 24.0 * 31.0) {
            return Err(format!(
                "hours must be above 0 and at most 744, got {}",
                self.hours
            ));
        }
        if self.agents.is_empty()
            || self.agents.iter().map(|g| g.count as u64).sum::<u64>() > 10_000
        {
            return Err("agents: give between 1 and 10000 agents in [[agents]] groups".into());
        }
        if self.report_window_minutes.is_nan() || self.report_window_minutes < 1.0 {
            return Err("report_window_minutes must be at least 1".into());
        }
        let c = &self.callee;
        let probabilities = std::iter::once(("callee.answer_probability", c.answer_probability))
            .chain(
                c.answer_probability_changes
                    .iter()
                    .map(|ch| ("callee.answer_probability_changes.value", ch.value)),
            );
        for (field, p) in probabilities {
            if !(0.0..=1.0).contains(&p) || p + c.busy_share > 1.0 {
                return Err(format!(
                    "{field} must be in [0, 1] and leave room for busy_share ({}), got {p}",
                    c.busy_share
                ));
            }
        }
        if !(0.0..1.0).contains(&c.busy_share) {
            return Err(format!(
                "callee.busy_share must be in [0, 1), got {}",
                c.busy_share
            ));
        }
        c.ring_time.validate("callee.ring_time")?;
        c.busy_time.validate("callee.busy_time")?;
        c.setup_time.validate("callee.setup_time")?;
        self.handling.talk_time.validate("handling.talk_time")?;
        self.handling.wrap_up.validate("handling.wrap_up")?;
        for (i, g) in self.agents.iter().enumerate() {
            if g.login_minute < 0.0 || g.logout_minute.is_some_and(|m| m < g.login_minute) {
                return Err(format!(
                    "agents[{i}]: login_minute must be >= 0 and before logout_minute"
                ));
            }
        }
        for (i, l) in self.logoffs.iter().enumerate() {
            if l.minute < 0.0 || l.within_seconds < 0.0 {
                return Err(format!(
                    "logoffs[{i}]: minute and within_seconds must be >= 0"
                ));
            }
        }
        if let Some(desk) = &self.desk {
            desk.validate()?;
        }
        if let Some(inbound) = &self.inbound {
            inbound.validate()?;
        }
        self.campaign
            .validate()
            .map_err(|e| format!("campaign: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
hours = 1
[[agents]]
count = 2
[callee]
answer_probability = 0.3
ring_time = { dist = "constant", value = 8 }
[handling]
talk_time = { dist = "lognormal", mean = 60, cv = 1 }
"#;

    #[test]
    fn minimal_scenario_parses_with_defaults() {
        let s = Scenario::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(s.campaign, CampaignConfig::default());
        assert_eq!(s.contacts, None);
        assert_eq!(s.answer_probability_at(30.0), 0.3);
    }

    #[test]
    fn errors_name_the_field() {
        let typo = MINIMAL.replace("hours = 1", "hours = 1\nhorus = 2");
        let e = Scenario::parse(&typo, "t.toml").unwrap_err().to_string();
        assert!(e.contains("horus"), "{e}");
        let bad = MINIMAL.replace("answer_probability = 0.3", "answer_probability = 1.3");
        let e = Scenario::parse(&bad, "t.toml").unwrap_err().to_string();
        assert!(e.contains("callee.answer_probability"), "{e}");
        let bad = MINIMAL.replace("mean = 60", "mean = -60");
        let e = Scenario::parse(&bad, "t.toml").unwrap_err().to_string();
        assert!(e.contains("handling.talk_time"), "{e}");
    }

    #[test]
    fn the_shipped_desk_parses_and_desk_errors_name_the_field() {
        let day = include_str!("../../../config/scenarios/district-day.toml");
        let s = Scenario::parse(day, "district-day.toml").unwrap();
        let desk = s.desk.expect("the district day has a desk");
        assert_eq!(desk.members, 6);
        assert_eq!(desk.config.wait_limit.as_secs(), 120);
        let bad = day.replace("member_answer = 0.85", "member_answer = 1.5");
        let e = Scenario::parse(&bad, "d.toml").unwrap_err().to_string();
        assert!(e.contains("desk.member_answer"), "{e}");
        let bad = day.replace(
            "consult = { dist = \"lognormal\", mean = 45",
            "consult = { dist = \"lognormal\", mean = -45",
        );
        let e = Scenario::parse(&bad, "d.toml").unwrap_err().to_string();
        assert!(e.contains("desk.consult"), "{e}");
    }
}
