//! Campaign and pacing settings, with the defaults the regulations and the design
//! call for. Deserialisable from TOML/JSON (durations in seconds); unknown keys are
//! refused so a typo never silently falls back to a default.

use crate::{CoreError, InboundSettings, TrunkLimits};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the campaign decides how many calls to place.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacingMode {
    /// The agent asks for each contact ([`crate::Event::PreviewDial`]); one call, reserved.
    Preview,
    /// One call per ready agent, reserved for that agent; never abandons.
    Progressive,
    /// A fixed number of calls per ready agent ([`PacingSettings::power_ratio`]).
    Power,
    /// State-dependent predictive pacing steered to the abandon target.
    #[default]
    Predictive,
    /// Baseline for comparison: VICIdial-style ADAPT_TAPERED dial-level control.
    VicidialAdapt,
    /// Baseline for comparison: the design notes' simple state-dependent policy
    /// (expected answers = ratio × expected free agents), no feedback, no guard.
    Reference,
}

impl PacingMode {
    pub const ALL: [PacingMode; 6] = [
        PacingMode::Preview,
        PacingMode::Progressive,
        PacingMode::Power,
        PacingMode::Predictive,
        PacingMode::VicidialAdapt,
        PacingMode::Reference,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PacingMode::Preview => "preview",
            PacingMode::Progressive => "progressive",
            PacingMode::Power => "power",
            PacingMode::Predictive => "predictive",
            PacingMode::VicidialAdapt => "vicidial-adapt",
            PacingMode::Reference => "reference",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        PacingMode::ALL
            .into_iter()
            .find(|m| m.name() == s || m.name().replace('-', "_") == s)
    }
}

/// Parameters of the VICIdial-style baseline (see `docs/pacing.md`).
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VicidialParams {
    /// Idle agents the controller aims to keep (VICIdial's `adaptive_dl_diff_target`).
    pub diff_target: f64,
    /// Gain on each 15 s adjustment (1.0 = VICIdial's neutral intensity).
    pub intensity: f64,
    /// Highest dial level (VICIdial's `adaptive_maximum_level`).
    pub max_level: f64,
    /// Length of the calling day over which ADAPT_TAPERED tightens, in seconds.
    #[serde(with = "secs")]
    pub calling_day: Duration,
}

impl Default for VicidialParams {
    fn default() -> Self {
        VicidialParams {
            diff_target: 0.0,
            intensity: 1.0,
            max_level: 3.0,
            calling_day: Duration::from_secs(8 * 3600),
        }
    }
}

/// Pacing knobs a supervisor may change at run time.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacingSettings {
    pub mode: PacingMode,
    /// Power mode: calls in progress per ready agent.
    pub power_ratio: f64,
    /// Ceiling on calls in progress (connected ones included) per staffed agent.
    pub max_lines_per_agent: f64,
    /// Abandon rate the predictive feedback loop steers to.
    pub abandon_target: f64,
    /// Abandon rate never to exceed over the abandon window (hard guard).
    pub abandon_cap: f64,
    /// Reference mode: expected answers in flight per agent expected free.
    pub reference_ratio: f64,
    pub vicidial: VicidialParams,
}

impl Default for PacingSettings {
    fn default() -> Self {
        PacingSettings {
            mode: PacingMode::Predictive,
            power_ratio: 1.5,
            max_lines_per_agent: 3.0,
            abandon_target: 0.025,
            abandon_cap: 0.03,
            reference_ratio: 0.5,
            vicidial: VicidialParams::default(),
        }
    }
}

impl PacingSettings {
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |msg: String| Err(CoreError::InvalidSettings(msg));
        if !(1.0..=10.0).contains(&self.max_lines_per_agent) {
            return bad(format!(
                "max_lines_per_agent must be between 1 and 10, got {}",
                self.max_lines_per_agent
            ));
        }
        if !(1.0..=self.max_lines_per_agent).contains(&self.power_ratio) {
            return bad(format!(
                "power_ratio must be between 1 and max_lines_per_agent, got {}",
                self.power_ratio
            ));
        }
        if !(self.abandon_cap > 0.0 && self.abandon_cap < 0.5) {
            return bad(format!(
                "abandon_cap must be between 0 and 0.5, got {}",
                self.abandon_cap
            ));
        }
        if !(self.abandon_target > 0.0 && self.abandon_target <= self.abandon_cap) {
            return bad(format!(
                "abandon_target must be above 0 and at most abandon_cap ({}), got {}",
                self.abandon_cap, self.abandon_target
            ));
        }
        if !(self.reference_ratio > 0.0 && self.reference_ratio <= 10.0) {
            return bad(format!(
                "reference_ratio must be above 0 and at most 10, got {}",
                self.reference_ratio
            ));
        }
        let v = &self.vicidial;
        let in_range =
            (1.0..=10.0).contains(&v.max_level) && v.intensity > 0.0 && v.intensity <= 10.0;
        if !in_range || v.calling_day.is_zero() {
            return bad(
                "vicidial: max_level must be 1..10, intensity in (0, 10], calling_day above 0"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Tuning of the predictive policy; the defaults suit teams of 2 to a few hundred.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictiveParams {
    /// Points of the ring-time distribution at which a new call's fate is judged.
    pub horizon_points: usize,
    /// Step of the feedback loop on the abandon threshold, per abandoned call (log scale).
    pub feedback_gain: f64,
    /// Safety margin of the hard guard, in standard deviations of the pending abandons.
    pub guard_z: f64,
    /// Slack (in abandons the cap still allows) below which the guard starts to
    /// tighten the threshold; at zero slack only progressive dials remain.
    pub guard_softness: f64,
    /// Starting per-call abandon threshold, before feedback.
    pub initial_threshold: f64,
}

impl Default for PredictiveParams {
    fn default() -> Self {
        PredictiveParams {
            horizon_points: 4,
            feedback_gain: 0.1,
            guard_z: 1.5,
            guard_softness: 3.0,
            initial_threshold: 0.06,
        }
    }
}

/// What the estimators assume before the first calls teach them.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Priors {
    pub answer_probability: f64,
    #[serde(with = "secs")]
    pub ring_time: Duration,
    #[serde(with = "secs")]
    pub handle_time: Duration,
}

impl Default for Priors {
    fn default() -> Self {
        Priors {
            answer_probability: 0.3,
            ring_time: Duration::from_secs(10),
            handle_time: Duration::from_secs(90),
        }
    }
}

/// Everything a campaign's core needs to know.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignConfig {
    pub pacing: PacingSettings,
    /// An answered call with no agent after this long is dropped (abandoned).
    #[serde(with = "secs")]
    pub connect_grace: Duration,
    /// A call unanswered after this long (from ringing, or dial if no ringing) is cancelled.
    #[serde(with = "secs")]
    pub no_answer_timeout: Duration,
    /// The shortest ring before the core may cancel a call early (e.g. all agents left).
    #[serde(with = "secs")]
    pub min_ring: Duration,
    /// The rolling window over which the abandon cap is enforced.
    #[serde(with = "secs")]
    pub abandon_window: Duration,
    /// How often pacing is re-evaluated while nothing else happens.
    #[serde(with = "secs")]
    pub pace_interval: Duration,
    pub predictive: PredictiveParams,
    pub priors: Priors,
    /// The line's own limits, which pacing keeps to (none by default).
    pub trunk: TrunkLimits,
    /// The inbound queue's service level and limits.
    pub inbound: InboundSettings,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        CampaignConfig {
            pacing: PacingSettings::default(),
            connect_grace: Duration::from_secs(2),
            no_answer_timeout: Duration::from_secs(25),
            min_ring: Duration::from_secs(15),
            abandon_window: Duration::from_secs(24 * 3600),
            pace_interval: Duration::from_millis(500),
            predictive: PredictiveParams::default(),
            priors: Priors::default(),
            trunk: TrunkLimits::default(),
            inbound: InboundSettings::default(),
        }
    }
}

impl CampaignConfig {
    pub fn validate(&self) -> Result<(), CoreError> {
        self.pacing.validate()?;
        self.trunk.validate()?;
        self.inbound.validate().map_err(CoreError::InvalidSettings)?;
        let bad = |msg: &str| Err(CoreError::InvalidSettings(msg.to_string()));
        if self.connect_grace.is_zero() || self.connect_grace > Duration::from_secs(60) {
            return bad("connect_grace must be above 0 and at most 60 s");
        }
        if self.min_ring > self.no_answer_timeout
            || self.no_answer_timeout > Duration::from_secs(300)
        {
            return bad("min_ring must not exceed no_answer_timeout, which must be at most 300 s");
        }
        if self.abandon_window < Duration::from_secs(60) {
            return bad("abandon_window must be at least 60 s");
        }
        if self.pace_interval < Duration::from_millis(10)
            || self.pace_interval > Duration::from_secs(10)
        {
            return bad("pace_interval must be between 0.01 and 10 s");
        }
        let p = &self.predictive;
        let in_range = (1..=16).contains(&p.horizon_points)
            && p.feedback_gain > 0.0
            && p.feedback_gain <= 1.0
            && (0.0..=5.0).contains(&p.guard_z)
            && (0.1..=100.0).contains(&p.guard_softness)
            && p.initial_threshold > 0.0
            && p.initial_threshold < 1.0;
        if !in_range {
            return bad("predictive: horizon_points 1..16, feedback_gain (0,1], guard_z 0..5, guard_softness 0.1..100, initial_threshold (0,1)");
        }
        let pr = &self.priors;
        if !(pr.answer_probability > 0.0 && pr.answer_probability <= 1.0)
            || pr.handle_time.is_zero()
        {
            return bad("priors: answer_probability in (0,1], handle_time above 0");
        }
        Ok(())
    }
}

/// Serde helper: a [`Duration`] written as a number of seconds.
pub mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v)
            .map_err(|_| serde::de::Error::custom(format!("{v} is not a valid number of seconds")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_regulations_and_validate() {
        let c = CampaignConfig::default();
        assert_eq!(c.connect_grace, Duration::from_secs(2));
        assert_eq!(c.pacing.abandon_cap, 0.03);
        assert_eq!(c.pacing.abandon_target, 0.025);
        assert_eq!(c.pacing.max_lines_per_agent, 3.0);
        assert!(c.min_ring >= Duration::from_secs(15));
        c.validate().unwrap();
    }

    #[test]
    fn target_above_cap_is_refused() {
        let s = PacingSettings {
            abandon_target: 0.05,
            ..PacingSettings::default()
        };
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("abandon_target"), "{err}");
    }

    #[test]
    fn mode_names_round_trip() {
        for m in [
            "preview",
            "progressive",
            "power",
            "predictive",
            "vicidial-adapt",
            "vicidial_adapt",
            "reference",
        ] {
            assert!(PacingMode::parse(m).is_some(), "{m}");
        }
        assert_eq!(PacingMode::parse("turbo"), None);
    }
}
