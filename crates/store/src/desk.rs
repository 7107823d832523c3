//! What the service keeps besides the dialer's records: user accounts and
//! their sessions, the audit log, escalation tickets, and contact records as
//! agents and the medical desk read them.

use crate::{AttemptId, CampaignId, ContactId, ListId, Millis, Result};
use async_trait::async_trait;
use sanjeevani_contacts::{Category, FollowUp, Phone, RiskFlag};
use serde::{Deserialize, Serialize};

/// What a user may do; checked on every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
    Medical,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Agent, Role::Medical];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::Medical => "medical",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// A user account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// The phone their calls reach; `None`: the telephony's rule from the
    /// username.
    pub phone: Option<String>,
    /// Their password was set by someone else (the first start, an admin's
    /// reset): nothing but changing it is allowed until they do.
    pub must_change_password: bool,
}

/// An account to create; the password arrives hashed (argon2 PHC string).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// One line of the audit log: who did what to what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub at: Millis,
}

/// How soon the medical wing must act, and how a ticket was closed: the
/// core's desk machine and the store speak of the same things.
pub use sanjeevani_core::desk::{Resolution, TicketReason, Urgency};

/// Where a ticket's warm transfer to the desk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Raised without a transfer (no PBX transfer at hand, or after the call).
    None,
    /// The desk is being called, or a member consults with the agent.
    Ringing,
    /// Handed over to a member live; open until the member records what they did.
    Live,
    /// The transfer did not happen; the ticket is followed up by callback.
    Fallback,
}

impl TransferState {
    pub const ALL: [TransferState; 4] = [
        TransferState::None,
        TransferState::Ringing,
        TransferState::Live,
        TransferState::Fallback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TransferState::None => "none",
            TransferState::Ringing => "ringing",
            TransferState::Live => "live",
            TransferState::Fallback => "fallback",
        }
    }

    pub fn parse(s: &str) -> Option<TransferState> {
        TransferState::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// An escalation to the medical wing, to be followed up.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub contact: ContactId,
    pub campaign: CampaignId,
    pub attempt: Option<AttemptId>,
    pub urgency: Urgency,
    pub reason: String,
    pub answers: serde_json::Value,
    /// The questionnaire rule that held for the answers, as its reason in
    /// each language (`{"en": …, "hi": …}`).
    pub rule: Option<serde_json::Value>,
    pub raised_by: Option<i64>,
    /// The node whose desk starts a warm transfer for it (state `ringing`);
    /// `None` for a ticket raised without one.
    pub transfer_node: Option<String>,
    /// The node whose desk follows it up (offers its callbacks).
    pub follow_node: Option<String>,
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub contact: ContactId,
    pub campaign: CampaignId,
    pub attempt: Option<AttemptId>,
    pub urgency: Urgency,
    pub reason: String,
    pub answers: serde_json::Value,
    /// The questionnaire rule that held for the answers (`{"en": …, "hi": …}`).
    pub rule: Option<serde_json::Value>,
    pub raised_by: Option<i64>,
    pub assigned_to: Option<i64>,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<i64>,
    pub notes: String,
    pub transfer: TransferState,
    /// Why a transfer fell back to the ticket (`desk_unavailable`,
    /// `contact_hung_up`, `agent_cancelled`, `pbx_error`, `interrupted`).
    pub fallback: Option<String>,
    /// The member a live transfer handed the caller to, and when.
    pub live_to: Option<i64>,
    pub live_at: Option<Millis>,
    pub follow_node: Option<String>,
    /// Callbacks tried without reaching the person.
    pub callback_tries: u32,
}

/// A contact as an agent or doctor sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactRecord {
    pub id: ContactId,
    pub list: ListId,
    pub phone: Phone,
    pub name: String,
    pub language: Option<String>,
    pub category: Category,
    pub risk: Vec<RiskFlag>,
    pub follow_up: Option<FollowUp>,
    pub district: Option<String>,
    pub block: Option<String>,
    /// pending, done, invalid, exhausted, discharged or do_not_call.
    pub state: String,
    pub next_due: Millis,
    pub attempts_total: u32,
    pub attributes: serde_json::Value,
}

/// What an agent recorded at the end of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disposition {
    pub id: i64,
    pub attempt: AttemptId,
    pub contact: ContactId,
    pub agent: Option<i64>,
    pub code: String,
    pub answers: serde_json::Value,
    pub notes: String,
    /// Why the agent saved it without escalating, though the answers met an urgent rule.
    pub override_reason: Option<String>,
    pub at: Millis,
}

/// A call's result as its agent records it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDisposition {
    pub attempt: AttemptId,
    pub agent: Option<i64>,
    pub code: String,
    pub answers: serde_json::Value,
    pub notes: String,
    pub triage_override: Option<TriageOverride>,
}

/// What an agent has typed for a call not recorded yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallDraft {
    pub answers: serde_json::Value,
    pub notes: String,
    /// The result picked so far; empty when none.
    pub code: String,
}

/// Why an agent saved a call whose answers met an urgent rule without
/// escalating it: kept with the disposition, and raised in the same write as
/// a `triage_override` alert for supervisors (one a contact a day, renewed).
#[derive(Debug, Clone, PartialEq)]
pub struct TriageOverride {
    /// The rule that held, in English.
    pub rule: String,
    /// The agent's reason.
    pub reason: String,
    /// The date the alert is filed under.
    pub day: String,
}

/// Accounts, sessions, audit, tickets and contact records.
#[async_trait]
pub trait Desk: Send + Sync {
    /// Fails with `Exists` when the username is taken.
    async fn create_user(&self, user: &NewUser, now: Millis) -> Result<i64>;
    /// The user and their password hash, for logging in.
    async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Disabling ends every session of the user.
    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<()>;
    /// A new password hash; every session of the user but `keep` ends.
    async fn set_user_password(
        &self,
        id: i64,
        password_hash: &str,
        must_change: bool,
        keep: Option<&str>,
    ) -> Result<()>;
    async fn set_user_phone(&self, id: i64, phone: Option<&str>) -> Result<()>;

    async fn create_session(
        &self,
        token_hash: &str,
        user: i64,
        now: Millis,
        expires: Millis,
    ) -> Result<()>;
    /// The enabled user whose session this is, unless it expired or went
    /// unused for `idle` ms; a use is noted (at most once a minute).
    async fn session_user(
        &self,
        token_hash: &str,
        now: Millis,
        idle: Millis,
    ) -> Result<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    async fn audit(
        &self,
        user: &User,
        action: &str,
        subject: &str,
        detail: &str,
        now: Millis,
    ) -> Result<()>;
    /// The latest `limit` entries, newest first.
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    async fn create_ticket(&self, ticket: &NewTicket, now: Millis) -> Result<i64>;
    async fn ticket(&self, id: i64) -> Result<Ticket>;
    /// Open tickets, oldest first; with `include_resolved`, the resolved ones too.
    async fn tickets(&self, include_resolved: bool) -> Result<Vec<Ticket>>;
    /// Every ticket of `contact`, open or resolved, oldest first.
    async fn tickets_of(&self, contact: ContactId) -> Result<Vec<Ticket>>;
    async fn assign_ticket(&self, id: i64, user: i64) -> Result<()>;
    /// Fails with `NotFound` unless the ticket is open. `by` is the member
    /// (none: the desk closed it, e.g. unreachable after its tries).
    async fn resolve_ticket(
        &self,
        id: i64,
        resolution: Resolution,
        by: Option<i64>,
        notes: &str,
        now: Millis,
    ) -> Result<()>;
    /// A ringing transfer was handed over to `member`: the ticket stays open,
    /// assigned to them, until they record the action taken.
    /// Fails with `NotFound` unless the ticket's transfer is ringing.
    async fn transfer_went_live(&self, id: i64, member: i64, now: Millis) -> Result<()>;
    /// A ringing transfer did not happen: the ticket stays open for a
    /// callback, assigned to `assign_to` if given. `NotFound` unless ringing.
    async fn transfer_fell_back(&self, id: i64, why: &str, assign_to: Option<i64>) -> Result<()>;
    /// The transfers `node` left ringing (it stopped or crashed) fall back as
    /// `interrupted`; returns how many.
    async fn recover_transfers(&self, node: &str) -> Result<u64>;
    /// Open tickets `node` follows up, not in a transfer, oldest first.
    async fn followed_tickets(&self, node: &str) -> Result<Vec<Ticket>>;
    /// A callback of the open ticket did not reach the person; returns the
    /// tries so far.
    async fn callback_unreached(&self, id: i64) -> Result<u32>;

    async fn contact(&self, id: ContactId) -> Result<ContactRecord>;
    async fn dispositions_of(&self, contact: ContactId) -> Result<Vec<Disposition>>;
}

/// Implements [`Desk`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! desk_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use crate::desk::*;
            use crate::sql::*;
            use crate::*;
            use async_trait::async_trait;
            use sanjeevani_contacts::Phone;
            use sqlx::Row as _;

            type DbRow = <$db as sqlx::Database>::Row;

            fn user_from_row(row: &DbRow) -> Result<User> {
                let role: String = row.try_get("role")?;
                Ok(User {
                    id: row.try_get("id")?,
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: Role::parse(&role).ok_or_else(|| corrupt(format!("role {role:?}")))?,
                    disabled: row.try_get("disabled")?,
                    phone: row.try_get("phone")?,
                    must_change_password: row.try_get("must_change_password")?,
                })
            }

            fn json(text: String) -> Result<serde_json::Value> {
                serde_json::from_str(&text).map_err(corrupt)
            }

            fn ticket_from_row(row: &DbRow) -> Result<Ticket> {
                let urgency: String = row.try_get("urgency")?;
                let resolution: Option<String> = row.try_get("resolution")?;
                let transfer: String = row.try_get("transfer")?;
                Ok(Ticket {
                    id: row.try_get("id")?,
                    contact: ContactId(row.try_get("contact_id")?),
                    campaign: CampaignId(row.try_get("campaign_id")?),
                    attempt: row.try_get::<Option<i64>, _>("attempt_id")?.map(AttemptId),
                    urgency: Urgency::parse(&urgency).ok_or_else(|| corrupt(format!("urgency {urgency:?}")))?,
                    reason: row.try_get("reason")?,
                    answers: json(row.try_get("answers")?)?,
                    rule: row.try_get::<Option<String>, _>("rule_reason")?.map(json).transpose()?,
                    raised_by: row.try_get("raised_by")?,
                    assigned_to: row.try_get("assigned_to")?,
                    created_at: row.try_get("created_ms")?,
                    resolved_at: row.try_get("resolved_ms")?,
                    resolution: resolution
                        .map(|r| Resolution::parse(&r).ok_or_else(|| corrupt(format!("resolution {r:?}"))))
                        .transpose()?,
                    resolved_by: row.try_get("resolved_by")?,
                    notes: row.try_get("notes")?,
                    transfer: TransferState::parse(&transfer).ok_or_else(|| corrupt(format!("transfer {transfer:?}")))?,
                    fallback: row.try_get("fallback")?,
                    live_to: row.try_get("live_to")?,
                    live_at: row.try_get("live_ms")?,
                    follow_node: row.try_get("follow_node")?,
                    callback_tries: u32::try_from(row.try_get::<i64, _>("callback_tries")?).map_err(corrupt)?,
                })
            }

            const USER_COLUMNS: &str = "id, username, display_name, role, disabled, phone, must_change_password";
            const TICKET_COLUMNS: &str = "id, contact_id, campaign_id, attempt_id, urgency, reason, answers, raised_by,
                assigned_to, created_ms, resolved_ms, resolution, resolved_by, notes, transfer, fallback, live_to,
                follow_node, callback_tries, rule_reason, live_ms";

            #[async_trait]
            impl Desk for $store {
                async fn create_user(&self, user: &NewUser, now: Millis) -> Result<i64> {
                    let row = sqlx::query(
                        "INSERT INTO users (username, display_name, role, password_hash, created_ms, must_change_password)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING id",
                    )
                    .bind(&user.username)
                    .bind(&user.display_name)
                    .bind(user.role.name())
                    .bind(&user.password_hash)
                    .bind(now)
                    .bind(user.must_change_password)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::Exists { what: "user", name: user.username.clone() })?;
                    Ok(row.try_get("id")?)
                }

                async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
                    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
                    let row = sqlx::query(&sql).bind(username).fetch_optional(&self.pool).await?;
                    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose()
                }

                async fn users(&self) -> Result<Vec<User>> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
                    sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(user_from_row).collect()
                }

                async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<()> {
                    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                        .bind(id)
                        .bind(disabled)
                        .execute(&self.pool)
                        .await?;
                    found(done.rows_affected(), "user", id)?;
                    if disabled {
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&self.pool).await?;
                    }
                    Ok(())
                }

                async fn set_user_password(
                    &self,
                    id: i64,
                    password_hash: &str,
                    must_change: bool,
                    keep: Option<&str>,
                ) -> Result<()> {
                    let done = sqlx::query("UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1")
                        .bind(id)
                        .bind(password_hash)
                        .bind(must_change)
                        .execute(&self.pool)
                        .await?;
                    found(done.rows_affected(), "user", id)?;
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                        .bind(id)
                        .bind(keep.unwrap_or(""))
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn set_user_phone(&self, id: i64, phone: Option<&str>) -> Result<()> {
                    let done = sqlx::query("UPDATE users SET phone = $2 WHERE id = $1")
                        .bind(id)
                        .bind(phone)
                        .execute(&self.pool)
                        .await?;
                    found(done.rows_affected(), "user", id)
                }

                async fn create_session(&self, token_hash: &str, user: i64, now: Millis, expires: Millis) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE expires_ms < $1").bind(now).execute(&self.pool).await?;
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, user_id, created_ms, expires_ms, last_seen_ms)
                         VALUES ($1, $2, $3, $4, $3)",
                    )
                        .bind(token_hash)
                        .bind(user)
                        .bind(now)
                        .bind(expires)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn session_user(&self, token_hash: &str, now: Millis, idle: Millis) -> Result<Option<User>> {
                    let sql = format!(
                        "SELECT {} FROM users u JOIN sessions s ON s.user_id = u.id
                         WHERE s.token_hash = $1 AND s.expires_ms > $2 AND s.last_seen_ms > $3 AND NOT u.disabled",
                        USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
                    );
                    let row = sqlx::query(&sql)
                        .bind(token_hash)
                        .bind(now)
                        .bind(now - idle)
                        .fetch_optional(&self.pool)
                        .await?;
                    let Some(row) = row else { return Ok(None) };
                    // Noted at most once a minute, so that reads do not all write.
                    sqlx::query("UPDATE sessions SET last_seen_ms = $2 WHERE token_hash = $1 AND last_seen_ms < $3")
                        .bind(token_hash)
                        .bind(now)
                        .bind(now - 60_000)
                        .execute(&self.pool)
                        .await?;
                    user_from_row(&row).map(Some)
                }

                async fn delete_session(&self, token_hash: &str) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
                    Ok(())
                }

                async fn audit(&self, user: &User, action: &str, subject: &str, detail: &str, now: Millis) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO audit_log (user_id, username, action, subject, detail, created_ms)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(user.id)
                    .bind(&user.username)
                    .bind(action)
                    .bind(subject)
                    .bind(detail)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
                    let rows = sqlx::query(
                        "SELECT id, user_id, username, action, subject, detail, created_ms FROM audit_log
                         ORDER BY created_ms DESC, id DESC LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(AuditEntry {
                                id: r.try_get("id")?,
                                user_id: r.try_get("user_id")?,
                                username: r.try_get("username")?,
                                action: r.try_get("action")?,
                                subject: r.try_get("subject")?,
                                detail: r.try_get("detail")?,
                                at: r.try_get("created_ms")?,
                            })
                        })
                        .collect()
                }

                async fn create_ticket(&self, t: &NewTicket, now: Millis) -> Result<i64> {
                    let row = sqlx::query(
                        "INSERT INTO tickets (contact_id, campaign_id, attempt_id, urgency, reason, answers, raised_by, created_ms,
                                              transfer, transfer_node, follow_node, rule_reason)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                    )
                    .bind(t.contact.0)
                    .bind(t.campaign.0)
                    .bind(t.attempt.map(|a| a.0))
                    .bind(t.urgency.name())
                    .bind(&t.reason)
                    .bind(t.answers.to_string())
                    .bind(t.raised_by)
                    .bind(now)
                    .bind(if t.transfer_node.is_some() { "ringing" } else { "none" })
                    .bind(&t.transfer_node)
                    .bind(&t.follow_node)
                    .bind(t.rule.as_ref().map(|r| r.to_string()))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(row.try_get("id")?)
                }

                async fn ticket(&self, id: i64) -> Result<Ticket> {
                    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
                    let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
                    let row = row.ok_or_else(|| StoreError::NotFound { what: "ticket", id: id.to_string() })?;
                    ticket_from_row(&row)
                }

                async fn tickets(&self, include_resolved: bool) -> Result<Vec<Ticket>> {
                    let filter = if include_resolved { "" } else { "WHERE resolved_ms IS NULL" };
                    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets {filter} ORDER BY created_ms, id");
                    sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(ticket_from_row).collect()
                }

                async fn tickets_of(&self, contact: ContactId) -> Result<Vec<Ticket>> {
                    let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE contact_id = $1 ORDER BY created_ms, id");
                    sqlx::query(&sql).bind(contact.0).fetch_all(&self.pool).await?.iter().map(ticket_from_row).collect()
                }

                async fn assign_ticket(&self, id: i64, user: i64) -> Result<()> {
                    let done = sqlx::query("UPDATE tickets SET assigned_to = $2 WHERE id = $1 AND resolved_ms IS NULL")
                        .bind(id)
                        .bind(user)
                        .execute(&self.pool)
                        .await?;
                    found(done.rows_affected(), "open ticket", id)
                }

                async fn resolve_ticket(&self, id: i64, resolution: Resolution, by: Option<i64>, notes: &str, now: Millis) -> Result<()> {
                    let done = sqlx::query(
                        "UPDATE tickets SET resolved_ms = $2, resolution = $3, resolved_by = $4, notes = $5
                         WHERE id = $1 AND resolved_ms IS NULL",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(resolution.name())
                    .bind(by)
                    .bind(notes)
                    .execute(&self.pool)
                    .await?;
                    found(done.rows_affected(), "open ticket", id)
                }

                async fn transfer_went_live(&self, id: i64, member: i64, now: Millis) -> Result<()> {
                    let done = sqlx::query(
                        "UPDATE tickets SET transfer = 'live', transfer_node = NULL, live_to = $2, assigned_to = $2,
                                live_ms = $3
                         WHERE id = $1 AND transfer = 'ringing'",
                    )
                    .bind(id)
                    .bind(member)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    found(done.rows_affected(), "ringing transfer", id)
                }

                async fn transfer_fell_back(&self, id: i64, why: &str, assign_to: Option<i64>) -> Result<()> {
                    let done = sqlx::query(
                        "UPDATE tickets SET transfer = 'fallback', transfer_node = NULL, fallback = $2,
                                assigned_to = COALESCE($3, assigned_to)
                         WHERE id = $1 AND transfer = 'ringing'",
                    )
                    .bind(id)
                    .bind(why)
                    .bind(assign_to)
                    .execute(&self.pool)
                    .await?;
                    found(done.rows_affected(), "ringing transfer", id)
                }

                async fn recover_transfers(&self, node: &str) -> Result<u64> {
                    let done = sqlx::query(
                        "UPDATE tickets SET transfer = 'fallback', transfer_node = NULL, fallback = 'interrupted'
                         WHERE transfer = 'ringing' AND transfer_node = $1",
                    )
                    .bind(node)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn followed_tickets(&self, node: &str) -> Result<Vec<Ticket>> {
                    let sql = format!(
                        "SELECT {TICKET_COLUMNS} FROM tickets
                         WHERE resolved_ms IS NULL AND follow_node = $1 AND transfer NOT IN ('ringing', 'live')
                         ORDER BY created_ms, id"
                    );
                    sqlx::query(&sql).bind(node).fetch_all(&self.pool).await?.iter().map(ticket_from_row).collect()
                }

                async fn callback_unreached(&self, id: i64) -> Result<u32> {
                    let row = sqlx::query(
                        "UPDATE tickets SET callback_tries = callback_tries + 1
                         WHERE id = $1 AND resolved_ms IS NULL AND transfer <> 'live' RETURNING callback_tries",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::NotFound { what: "open ticket", id: id.to_string() })?;
                    u32::try_from(row.try_get::<i64, _>("callback_tries")?).map_err(corrupt)
                }

                async fn contact(&self, id: ContactId) -> Result<ContactRecord> {
                    let row = sqlx::query(
                        "SELECT id, list_id, phone, name, language, category, risk_flags, follow_up_start, follow_up_days,
                                district, block, state, next_due_ms, attempts_total, attributes
                         FROM contacts WHERE id = $1",
                    )
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::NotFound { what: "contact", id: id.to_string() })?;
                    let phone: String = row.try_get("phone")?;
                    let category: String = row.try_get("category")?;
                    Ok(ContactRecord {
                        id,
                        list: ListId(row.try_get("list_id")?),
                        phone: Phone::try_from(phone).map_err(corrupt)?,
                        name: row.try_get("name")?,
                        language: row.try_get("language")?,
                        category: category.parse().map_err(corrupt)?,
                        risk: parse_risk(row.try_get("risk_flags")?)?,
                        follow_up: parse_follow_up(row.try_get("follow_up_start")?, row.try_get("follow_up_days")?)?,
                        district: row.try_get("district")?,
                        block: row.try_get("block")?,
                        state: row.try_get("state")?,
                        next_due: row.try_get("next_due_ms")?,
                        attempts_total: u32::try_from(row.try_get::<i64, _>("attempts_total")?).map_err(corrupt)?,
                        attributes: json(row.try_get("attributes")?)?,
                    })
                }

                async fn dispositions_of(&self, contact: ContactId) -> Result<Vec<Disposition>> {
                    let rows = sqlx::query(
                        "SELECT id, attempt_id, contact_id, agent_id, code, answers, notes, override_reason, created_ms
                         FROM dispositions WHERE contact_id = $1 ORDER BY created_ms, id",
                    )
                    .bind(contact.0)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(Disposition {
                                id: r.try_get("id")?,
                                attempt: AttemptId(r.try_get("attempt_id")?),
                                contact: ContactId(r.try_get("contact_id")?),
                                agent: r.try_get("agent_id")?,
                                code: r.try_get("code")?,
                                answers: json(r.try_get("answers")?)?,
                                notes: r.try_get("notes")?,
                                override_reason: r.try_get("override_reason")?,
                                at: r.try_get("created_ms")?,
                            })
                        })
                        .collect()
                }
            }
        };
    };
}

pub(crate) use desk_store;
