//! Contacts, campaigns and call records.
//!
//! One [`Store`] trait, two backends: SQLite (the embedded default, one dialer
//! node) and PostgreSQL (several dialer nodes on one database). Both run the
//! same queries; migrations live in `sql/` and run on open. The contact rules
//! themselves (calling windows, retries, follow-up) come from
//! `sanjeevani-contacts`; the store applies them inside its transactions so that
//! an attempt and the contact's next due time are written together.
//!
//! Several nodes share a campaign through leases: [`Store::lease`] hands out
//! due contacts with an expiry (`FOR UPDATE SKIP LOCKED` on PostgreSQL), a node
//! may dial only what it holds, and a partial unique index allows one open
//! attempt per contact. A node that dies stops renewing; its leases lapse, and
//! its open attempts are closed as `interrupted` by the next lease call.

mod desk;
mod import;
mod model;
mod postgres;
mod sql;
mod sqlite;

pub use desk::{
    AuditEntry, CallDraft, ContactRecord, Desk, Disposition, NewDisposition, NewTicket, NewUser,
    Resolution, Role, Ticket, TicketReason, TransferState, TriageOverride, Urgency, User,
};
pub use import::{
    import_contacts, import_csv, ContactFile, ImportError, ImportProgress, ImportReport, SkipKind,
    Skipped, UnknownWord,
};
pub use model::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use sanjeevani_contacts::{Decision, NewContact, Phone};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// Everything the dialer, the importer and the service keep.
#[async_trait]
pub trait Store: Desk {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    async fn create_list(&self, name: &str, now: Millis) -> Result<ListId>;
    async fn list_by_name(&self, name: &str) -> Result<Option<ListId>>;
    /// Adds contacts to `list`; returns the indices of those whose number the
    /// list has already (not added).
    async fn insert_contacts(
        &self,
        list: ListId,
        contacts: &[NewContact],
        now: Millis,
    ) -> Result<Vec<usize>>;
    async fn list_size(&self, list: ListId) -> Result<u64>;

    /// Adds numbers to the do-not-call list and finishes their pending contacts.
    async fn add_do_not_call(&self, phones: &[Phone], reason: &str, now: Millis) -> Result<u64>;
    /// Every do-not-call number as [`Phone::key`], for imports.
    async fn do_not_call_keys(&self) -> Result<HashSet<u64>>;

    async fn create_campaign(
        &self,
        name: &str,
        settings: &CampaignSettings,
        lists: &[ListId],
        now: Millis,
    ) -> Result<CampaignId>;
    async fn campaign(&self, id: CampaignId) -> Result<Campaign>;
    async fn campaign_by_name(&self, name: &str) -> Result<Option<Campaign>>;
    async fn set_campaign_state(&self, id: CampaignId, state: CampaignState) -> Result<()>;
    async fn update_campaign_settings(
        &self,
        id: CampaignId,
        settings: &CampaignSettings,
    ) -> Result<()>;
    /// Adds `list` to the lists `campaign` dials (its due contacts are
    /// leased from the next lease on); `false` if the campaign had it.
    async fn attach_list(&self, campaign: CampaignId, list: ListId) -> Result<bool>;

    /// Leases up to `max` due contacts of a running campaign to `node` until
    /// `now + ttl`: callbacks first, then by priority and due time. Contacts
    /// outside their calling window are moved to its next opening instead, and
    /// do-not-call numbers are finished. Attempts whose lease has lapsed (a
    /// node that died) are closed as `interrupted` first.
    async fn lease(
        &self,
        campaign: CampaignId,
        node: &str,
        max: usize,
        now: Millis,
        ttl: Millis,
    ) -> Result<Vec<LeasedContact>>;
    /// Extends every lease `node` holds to `now + ttl`.
    async fn renew_leases(&self, node: &str, now: Millis, ttl: Millis) -> Result<u64>;
    /// Gives back a leased contact that was not dialed.
    async fn release(&self, contact: ContactId, node: &str) -> Result<()>;

    /// Records a dial before it is placed; fails unless `node` holds the lease.
    async fn begin_attempt(&self, attempt: &NewAttempt) -> Result<AttemptId>;
    async fn mark_attempt(&self, attempt: AttemptId, mark: AttemptMark) -> Result<()>;
    /// Ends an attempt and, in the same transaction, applies the campaign's
    /// rules to its contact (next due time, counters, alert) and frees the lease.
    async fn finish_attempt(&self, attempt: AttemptId, end: &AttemptEnd) -> Result<Decision>;
    /// The attempt's call is recorded under `name`.
    async fn set_recording(&self, attempt: AttemptId, name: &str) -> Result<()>;
    /// Closes every open attempt of `node` as `interrupted` and frees its
    /// leases: run when a node starts.
    async fn recover_node(&self, node: &str, now: Millis) -> Result<u64>;
    async fn attempts_of(&self, contact: ContactId) -> Result<Vec<Attempt>>;
    async fn open_attempts(&self, campaign: CampaignId) -> Result<Vec<Attempt>>;
    async fn attempt(&self, id: AttemptId) -> Result<Attempt>;
    /// Attempts dialed in `[from, to)`, for reports.
    async fn attempts_between(&self, from: Millis, to: Millis) -> Result<Vec<Attempt>>;
    async fn campaigns(&self) -> Result<Vec<Campaign>>;
    /// Every list with its number of contacts.
    async fn lists(&self) -> Result<Vec<ListSummary>>;

    /// Calls `contact` back at `at` (for `agent` only, if given), asked for
    /// at `now`; asked during a call, it outlives that call's end.
    async fn schedule_callback(
        &self,
        contact: ContactId,
        at: Millis,
        agent: Option<i64>,
        now: Millis,
    ) -> Result<()>;
    async fn discharge(&self, contact: ContactId) -> Result<()>;
    /// Records the result and drops the call's draft; with a triage
    /// override, raises its alert in the same write.
    async fn record_disposition(&self, disposition: &NewDisposition, now: Millis) -> Result<()>;
    /// Keeps what the agent has typed for `attempt` so far.
    async fn save_draft(&self, attempt: AttemptId, draft: &CallDraft, now: Millis) -> Result<()>;
    async fn draft(&self, attempt: AttemptId) -> Result<Option<CallDraft>>;
    /// `agent`'s answered calls dialled since `since` that have no
    /// disposition yet, oldest first.
    async fn unrecorded_calls(&self, agent: i64, since: Millis) -> Result<Vec<Attempt>>;

    async fn open_alerts(&self) -> Result<Vec<Alert>>;
    async fn contact_counts(&self, campaign: CampaignId, now: Millis) -> Result<ContactCounts>;
}

/// Opens the store named by `database`: a `postgres://` or `postgresql://`
/// address, a `sqlite:` address, or nothing for `DATA_DIR/sanjeevani.db`.
/// Creates what is missing and runs the migrations.
pub async fn open(database: Option<&str>, data_dir: &Path) -> Result<Arc<dyn Store>> {
    match database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PostgresStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(SqliteStore::connect(url).await?)),
        Some(url) => Err(StoreError::Url {
            // Only the scheme: the rest may hold a password.
            url: format!("{}:…", url.split(':').next().unwrap_or_default()),
            reason: "expected postgres://… or sqlite:…".into(),
        }),
        None => Ok(Arc::new(SqliteStore::open_in(data_dir).await?)),
    }
}
