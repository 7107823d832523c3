//! What the store keeps and returns: ids, campaign settings, leased contacts,
//! attempts, alerts and the store's errors.

use sanjeevani_contacts::{AttemptOutcome, Category, ContactRules, FollowUp, Phone, RiskFlag};
use sanjeevani_core::CampaignConfig;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC: how the store writes instants.
pub type Millis = i64;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A contact list.
    ListId,
    /// A campaign.
    CampaignId,
    /// A contact.
    ContactId,
    /// One dial of one contact.
    AttemptId
);

/// Everything configurable about a campaign, stored as JSON with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignSettings {
    /// Pacing and timing for the dialer core.
    pub dialer: CampaignConfig,
    /// Calling window, retries, follow-up and alerts.
    pub contacts: ContactRules,
    /// Name of the triage questionnaire under `config/`.
    pub questionnaire: Option<String>,
}

impl CampaignSettings {
    pub fn validate(&self) -> Result<(), String> {
        self.dialer.validate().map_err(|e| format!("dialer: {e}"))?;
        self.contacts
            .validate()
            .map_err(|e| format!("contacts: {e}"))
    }
}

/// Whether a campaign dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Running,
    Paused,
    Stopped,
}

impl CampaignState {
    pub fn name(self) -> &'static str {
        match self {
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CampaignState::Running,
            CampaignState::Paused,
            CampaignState::Stopped,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub settings: CampaignSettings,
    pub state: CampaignState,
    pub lists: Vec<ListId>,
}

/// A contact list and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListSummary {
    pub id: ListId,
    pub name: String,
    pub contacts: u64,
    pub created_at: Millis,
}

/// A contact handed to one dialer node to call now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeasedContact {
    pub id: ContactId,
    pub phone: Phone,
    pub name: String,
    pub language: Option<String>,
    pub category: Category,
    pub risk: Vec<RiskFlag>,
    pub follow_up: Option<FollowUp>,
    pub attempts_total: u32,
    /// Dial only with an agent reserved (after an abandoned call).
    pub agent_required: bool,
    /// A scheduled callback, preferably by this agent.
    pub callback_agent: Option<i64>,
    pub lease_until: Millis,
}

/// A dial about to be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttempt {
    pub contact: ContactId,
    pub campaign: CampaignId,
    /// The dialer node that holds the contact's lease.
    pub node: String,
    pub dial_at: Millis,
    pub agent: Option<i64>,
}

/// Progress of an open attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptMark {
    Ringing {
        at: Millis,
    },
    Answered {
        at: Millis,
    },
    Connected {
        at: Millis,
        agent: i64,
    },
    /// The connect could not be carried out: not connected after all (the
    /// call waits for another agent, or is dropped).
    NotJoined,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptEnd {
    pub outcome: AttemptOutcome,
    pub at: Millis,
    /// Protocol detail: SIP status, Q.850 cause, or why it was interrupted.
    pub cause: Option<String>,
}

/// One attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub id: AttemptId,
    pub contact: ContactId,
    pub campaign: CampaignId,
    pub node: String,
    pub agent: Option<i64>,
    pub dial_at: Millis,
    pub ring_at: Option<Millis>,
    pub answer_at: Option<Millis>,
    pub connect_at: Option<Millis>,
    pub end_at: Option<Millis>,
    /// `None` while the attempt is open.
    pub outcome: Option<AttemptOutcome>,
    pub cause: Option<String>,
    /// The name the PBX stores the call's recording under, if recorded.
    pub recording: Option<String>,
}

/// A day's attempts counted as the daily report shows them: each attempt
/// once, by the outcome the core decided and stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    pub dials: u64,
    /// Live answers: the person answered (connected or abandoned after).
    pub answered: u64,
    pub connected: u64,
    pub completed: u64,
    pub abandoned: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub failed_other: u64,
    pub talk_secs: u64,
}

impl DayCounts {
    pub fn add(&mut self, a: &Attempt) {
        self.dials += 1;
        self.answered += u64::from(a.answer_at.is_some());
        self.connected += u64::from(a.connect_at.is_some());
        if let (Some(c), Some(e)) = (a.connect_at, a.end_at) {
            self.talk_secs += ((e - c).max(0) / 1000) as u64;
        }
        match a.outcome {
            Some(AttemptOutcome::Completed) => self.completed += 1,
            Some(AttemptOutcome::Abandoned) => self.abandoned += 1,
            Some(AttemptOutcome::Busy) => self.busy += 1,
            Some(AttemptOutcome::NoAnswer) => self.no_answer += 1,
            Some(_) => self.failed_other += 1,
            None => {}
        }
    }

    /// Abandoned over answered, by the one definition.
    pub fn abandon_rate(&self) -> f64 {
        sanjeevani_core::figures::abandon_rate(self.abandoned, self.answered)
    }
}

/// An alert for supervisors and the field team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub contact: ContactId,
    pub campaign: CampaignId,
    pub kind: String,
    /// The contact's local date.
    pub day: String,
    pub detail: String,
    pub created_at: Millis,
}

/// How many contacts of a campaign are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactCounts {
    pub pending: u64,
    /// Pending and due now.
    pub due: u64,
    pub leased: u64,
    pub done: u64,
    pub invalid: u64,
    pub exhausted: u64,
    pub discharged: u64,
    pub do_not_call: u64,
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database address {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {name:?} exists already")]
    Exists { what: &'static str, name: String },
    #[error("contact {0} is not leased to this node: it must not be dialed")]
    NotLeased(ContactId),
    #[error("attempt {0} has ended already")]
    AttemptClosed(AttemptId),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("campaign settings: {0}")]
    Settings(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
