//! The dialer core of Sanjeevani: campaigns, agents and calls as explicit state
//! machines, and the pacing policies that decide how many calls to place.
//!
//! The core is *sans-io*: it never reads a clock, opens a socket or draws a random
//! number. A driver (the simulator, the JSON-lines engine, a PBX adapter, the daemon)
//! feeds it [`Event`]s stamped with an [`Instant`] and carries out the [`Command`]s it
//! returns. [`Campaign::next_wake`] says when the core next wants to be called even if
//! nothing happens (a connect grace or a no-answer timeout expiring, a pacing decision).
//!
//! ```
//! use sanjeevani_core::{Campaign, CampaignConfig, Command, Event, Instant, AgentId};
//!
//! let mut campaign = Campaign::new(CampaignConfig::default());
//! let mut out = Vec::new();
//! campaign.handle(Instant::ZERO, Event::AgentReady(AgentId(1)), &mut out).unwrap();
//! assert!(matches!(out[0], Command::Dial { .. }));
//! ```

pub mod abandon;
pub mod agent;
pub mod call;
pub mod campaign;
pub mod config;
pub mod desk;
pub mod error;
pub mod estimate;
pub mod event;
pub mod figures;
pub mod ids;
pub mod inbound;
pub mod pacing;
pub mod time;
pub mod trunk;

pub use abandon::AbandonWindow;
pub use agent::{AfterCall, Agent, AgentState, AgentTotals};
pub use call::{AbandonKind, Call, CallPhase, CancelReason, FailCause, Outcome};
pub use campaign::{Campaign, CampaignStats, Restraint};
pub use config::{CampaignConfig, PacingMode, PacingSettings, VicidialParams};
pub use error::CoreError;
pub use event::{Command, Event};
pub use ids::{AgentId, CallId};
pub use inbound::{AgentRole, CallerClass, InboundOutcome, InboundSettings, InboundStats};
pub use time::Instant;
pub use trunk::TrunkLimits;
