//! The queries, written once for both backends.
//!
//! SQLite and PostgreSQL run the same SQL here (numbered `$n` parameters,
//! `ON CONFLICT`, `RETURNING`, partial indexes); they differ only in how a
//! write transaction starts and how candidate rows are locked. sqlx has no
//! generic executor without a long list of trait bounds, so [`sql_store!`]
//! expands the one implementation for each backend's concrete types.

use crate::{ContactId, Millis, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sanjeevani_contacts::{ContactFacts, FollowUp, Progress, RiskFlag};

pub(crate) fn to_utc(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `NotFound` when a statement that names one row changed none.
pub(crate) fn found(
    rows: u64,
    what: &'static str,
    id: impl std::fmt::Display,
) -> Result<(), StoreError> {
    if rows == 0 {
        return Err(StoreError::NotFound {
            what,
            id: id.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn parse_risk(text: &str) -> Result<Vec<RiskFlag>, StoreError> {
    text.split(',')
        .filter(|f| !f.is_empty())
        .map(|f| f.parse().map_err(corrupt))
        .collect()
}

pub(crate) fn parse_follow_up(
    start: Option<String>,
    days: Option<i64>,
) -> Result<Option<FollowUp>, StoreError> {
    match (start, days) {
        (Some(start), Some(days)) => Ok(Some(FollowUp {
            start: start.parse::<NaiveDate>().map_err(corrupt)?,
            days: u16::try_from(days).map_err(corrupt)?,
        })),
        _ => Ok(None),
    }
}

pub(crate) fn parse_tz(tz: Option<String>) -> Result<Option<Tz>, StoreError> {
    tz.map(|t| {
        t.parse::<Tz>()
            .map_err(|_| corrupt(format!("time zone {t:?}")))
    })
    .transpose()
}

/// The facts and progress of one contact as read inside `finish_attempt`.
pub(crate) struct ContactState {
    pub id: ContactId,
    pub facts: ContactFacts,
    pub progress: Progress,
}

pub(crate) fn progress_from(
    total: i64,
    today: i64,
    failures: i64,
    day: Option<String>,
) -> Result<Progress, StoreError> {
    Ok(Progress {
        attempts_total: u32::try_from(total).map_err(corrupt)?,
        attempts_today: u32::try_from(today).map_err(corrupt)?,
        failures_today: u32::try_from(failures).map_err(corrupt)?,
        day: day
            .map(|d| d.parse::<NaiveDate>().map_err(corrupt))
            .transpose()?,
    })
}

/// Implements [`crate::Store`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
/// `begin` is the statement that opens a write transaction; `lock` is appended
/// to the query that picks contacts to lease.
macro_rules! sql_store {
    ($store:ty, $db:ty, begin = $begin:literal, lock = $lock:literal) => {
        use crate::sql::*;
        use crate::*;
        use async_trait::async_trait;
        use sanjeevani_contacts::{
            risk_to_text, start_of_day, AttemptOutcome, ContactFacts, Decision, Finish, NewContact, Next, Phone,
        };
        use sqlx::Row as _;
        use std::collections::HashSet;

        type Tx = sqlx::Transaction<'static, $db>;

        impl $store {
            async fn write(&self) -> Result<Tx> {
                Ok(self.pool.begin_with($begin).await?)
            }

            async fn settings_in(tx: &mut Tx, id: CampaignId) -> Result<CampaignSettings> {
                let row = sqlx::query("SELECT settings FROM campaigns WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound { what: "campaign", id: id.to_string() })?;
                serde_json::from_str(row.try_get("settings")?).map_err(corrupt)
            }

            async fn campaign_from_row(&self, row: Option<<$db as sqlx::Database>::Row>) -> Result<Option<Campaign>> {
                let Some(row) = row else { return Ok(None) };
                let id = CampaignId(row.try_get("id")?);
                let state: String = row.try_get("state")?;
                let lists = sqlx::query("SELECT list_id FROM campaign_lists WHERE campaign_id = $1 ORDER BY list_id")
                    .bind(id.0)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get("list_id").map(ListId))
                    .collect::<Result<_, _>>()?;
                Ok(Some(Campaign {
                    id,
                    name: row.try_get("name")?,
                    settings: serde_json::from_str(row.try_get("settings")?).map_err(corrupt)?,
                    state: CampaignState::parse(&state).ok_or_else(|| corrupt(format!("campaign state {state:?}")))?,
                    lists,
                }))
            }

            async fn finish_in(tx: &mut Tx, attempt: AttemptId, end: &AttemptEnd) -> Result<Decision> {
                // Ending and checking in one statement: of two nodes ending the same
                // attempt at once, the second waits for the first and then finds it closed.
                let row = sqlx::query(
                    "UPDATE call_attempts SET outcome = $2, end_ms = $3, cause = $4
                     WHERE id = $1 AND outcome IS NULL RETURNING contact_id, campaign_id, dial_ms",
                )
                .bind(attempt.0)
                .bind(end.outcome.name())
                .bind(end.at)
                .bind(end.cause.as_deref())
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else {
                    let exists = sqlx::query("SELECT 1 AS one FROM call_attempts WHERE id = $1")
                        .bind(attempt.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    return Err(match exists {
                        Some(_) => StoreError::AttemptClosed(attempt),
                        None => StoreError::NotFound { what: "attempt", id: attempt.to_string() },
                    });
                };
                let contact = ContactId(row.try_get("contact_id")?);
                let campaign = CampaignId(row.try_get("campaign_id")?);
                let dialed: Millis = row.try_get("dial_ms")?;
                let (rules, mut state) = Self::contact_state_in(tx, contact, campaign).await?;
                // A callback asked for since this attempt was dialed stands.
                let callback = sqlx::query(
                    "SELECT next_due_ms FROM contacts
                     WHERE id = $1 AND is_callback AND callback_set_ms >= $2",
                )
                .bind(contact.0)
                .bind(dialed)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get::<Millis, _>("next_due_ms"))
                .transpose()?;
                state.facts.callback = callback.map(to_utc);
                let decision = rules.after_attempt(&state.facts, state.progress, end.outcome, to_utc(end.at));
                let (status, due, agent_required) = match decision.next {
                    Next::Due { at, agent_required } => ("pending", Some(at.timestamp_millis()), agent_required),
                    Next::Finished(finish) => (finish.name(), None, false),
                };
                let p = decision.progress;
                sqlx::query(
                    "UPDATE contacts SET state = $2, next_due_ms = COALESCE($3, next_due_ms),
                        attempts_total = $4, attempts_today = $5, failures_today = $6, attempts_day = $7,
                        last_outcome = $8, agent_required = $9, is_callback = $10,
                        callback_agent = CASE WHEN $10 THEN callback_agent ELSE NULL END,
                        lease_owner = NULL, lease_until_ms = NULL
                     WHERE id = $1",
                )
                .bind(state.id.0)
                .bind(status)
                .bind(due)
                .bind(i64::from(p.attempts_total))
                .bind(i64::from(p.attempts_today))
                .bind(i64::from(p.failures_today))
                .bind(p.day.map(|d| d.to_string()))
                .bind(end.outcome.name())
                .bind(agent_required)
                .bind(callback.is_some())
                .execute(&mut **tx)
                .await?;
                if decision.alert_unreachable {
                    sqlx::query(
                        "INSERT INTO alerts (contact_id, campaign_id, kind, day, detail, created_ms)
                         VALUES ($1, $2, 'unreachable_high_risk', $3, $4, $5)
                         ON CONFLICT (contact_id, kind, day) DO NOTHING",
                    )
                    .bind(contact.0)
                    .bind(campaign.0)
                    .bind(p.day.map(|d| d.to_string()).unwrap_or_default())
                    .bind(format!("{} failed attempts today", p.failures_today))
                    .bind(end.at)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(decision)
            }

            /// The contact's facts and progress, and its campaign's rules.
            async fn contact_state_in(
                tx: &mut Tx,
                id: ContactId,
                campaign: CampaignId,
            ) -> Result<(sanjeevani_contacts::ContactRules, ContactState)> {
                let row = sqlx::query(
                    "SELECT c.risk_flags, c.follow_up_start, c.follow_up_days, c.timezone, c.attempts_total,
                            c.attempts_today, c.failures_today, c.attempts_day, k.settings
                     FROM contacts c, campaigns k WHERE c.id = $1 AND k.id = $2",
                )
                .bind(id.0)
                .bind(campaign.0)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound { what: "contact", id: id.to_string() })?;
                let settings: CampaignSettings = serde_json::from_str(row.try_get("settings")?).map_err(corrupt)?;
                let state = ContactState {
                    id,
                    facts: ContactFacts {
                        high_risk: !row.try_get::<String, _>("risk_flags")?.is_empty(),
                        follow_up: parse_follow_up(row.try_get("follow_up_start")?, row.try_get("follow_up_days")?)?,
                        timezone: parse_tz(row.try_get("timezone")?)?,
                        callback: None,
                    },
                    progress: progress_from(
                        row.try_get("attempts_total")?,
                        row.try_get("attempts_today")?,
                        row.try_get("failures_today")?,
                        row.try_get("attempts_day")?,
                    )?,
                };
                Ok((settings.contacts, state))
            }

            /// Closes open attempts whose contact is no longer leased (its node died).
            async fn close_lapsed_in(tx: &mut Tx, campaign: CampaignId, now: Millis) -> Result<u64> {
                let lapsed: Vec<i64> = sqlx::query(
                    "SELECT a.id FROM call_attempts a JOIN contacts c ON c.id = a.contact_id
                     WHERE a.outcome IS NULL AND a.campaign_id = $1
                       AND (c.lease_until_ms IS NULL OR c.lease_until_ms < $2)",
                )
                .bind(campaign.0)
                .bind(now)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
                let end = AttemptEnd {
                    outcome: AttemptOutcome::Interrupted,
                    at: now,
                    cause: Some("lease lapsed: the dialer node stopped".into()),
                };
                let mut closed = 0;
                for id in &lapsed {
                    match Self::finish_in(tx, AttemptId(*id), &end).await {
                        Ok(_) => closed += 1,
                        Err(StoreError::AttemptClosed(_)) => {} // another node closed it first
                        Err(e) => return Err(e),
                    }
                }
                Ok(closed)
            }
        }

        /// `<update> WHERE id IN (<ids>)`, one statement for a whole batch.
        async fn update_ids(tx: &mut Tx, mut update: sqlx::QueryBuilder<'_, $db>, ids: &[i64]) -> Result<()> {
            if ids.is_empty() {
                return Ok(());
            }
            update.push(" WHERE id IN (");
            let mut list = update.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            update.push(")");
            update.build().execute(&mut **tx).await?;
            Ok(())
        }

        fn attempt_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Attempt> {
            let outcome: Option<String> = row.try_get("outcome")?;
            Ok(Attempt {
                id: AttemptId(row.try_get("id")?),
                contact: ContactId(row.try_get("contact_id")?),
                campaign: CampaignId(row.try_get("campaign_id")?),
                node: row.try_get("node")?,
                agent: row.try_get("agent_id")?,
                dial_at: row.try_get("dial_ms")?,
                ring_at: row.try_get("ring_ms")?,
                answer_at: row.try_get("answer_ms")?,
                connect_at: row.try_get("connect_ms")?,
                end_at: row.try_get("end_ms")?,
                outcome: outcome
                    .map(|o| AttemptOutcome::parse(&o).ok_or_else(|| corrupt(format!("outcome {o:?}"))))
                    .transpose()?,
                cause: row.try_get("cause")?,
                recording: row.try_get("recording")?,
            })
        }

        fn exists_or(err: sqlx::Error, what: &'static str, name: &str) -> StoreError {
            match &err {
                sqlx::Error::Database(e) if e.is_unique_violation() => {
                    StoreError::Exists { what, name: name.to_string() }
                }
                _ => StoreError::Database(err),
            }
        }

        const ATTEMPT_COLUMNS: &str = "id, contact_id, campaign_id, node, agent_id, dial_ms, ring_ms, answer_ms,
            connect_ms, end_ms, outcome, cause, recording";

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn create_list(&self, name: &str, now: Millis) -> Result<ListId> {
                let row = sqlx::query("INSERT INTO contact_lists (name, created_ms) VALUES ($1, $2) RETURNING id")
                    .bind(name)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| exists_or(e, "list", name))?;
                Ok(ListId(row.try_get("id")?))
            }

            async fn list_by_name(&self, name: &str) -> Result<Option<ListId>> {
                let row = sqlx::query("SELECT id FROM contact_lists WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("id").map(ListId)).transpose()?)
            }

            async fn insert_contacts(&self, list: ListId, contacts: &[NewContact], now: Millis) -> Result<Vec<usize>> {
                // 17 parameters a row; keep each statement well under both backends' limits.
                const ROWS_PER_STATEMENT: usize = 500;
                let default_tz = sanjeevani_contacts::ContactRules::default().timezone;
                let mut tx = self.write().await?;
                let mut present = Vec::new();
                for (n, chunk) in contacts.chunks(ROWS_PER_STATEMENT).enumerate() {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO contacts (list_id, phone, name, language, category, risk_flags, priority,
                            follow_up_start, follow_up_days, district, block, timezone, attributes, next_due_ms,
                            created_ms) ",
                    );
                    query.push_values(chunk, |mut row, c| {
                        let due = match c.follow_up {
                            Some(f) => start_of_day(f.start, c.timezone.unwrap_or(default_tz)).timestamp_millis().max(now),
                            None => now,
                        };
                        row.push_bind(list.0)
                            .push_bind(c.phone.as_str().to_string())
                            .push_bind(c.name.clone())
                            .push_bind(c.language.clone())
                            .push_bind(c.category.name())
                            .push_bind(risk_to_text(&c.risk))
                            .push_bind(i64::from(c.priority()))
                            .push_bind(c.follow_up.map(|f| f.start.to_string()))
                            .push_bind(c.follow_up.map(|f| i64::from(f.days)))
                            .push_bind(c.district.clone())
                            .push_bind(c.block.clone())
                            .push_bind(c.timezone.map(|t| t.name().to_string()))
                            .push_bind(serde_json::Value::Object(c.attributes.clone()).to_string())
                            .push_bind(due)
                            .push_bind(now);
                    });
                    query.push(" ON CONFLICT (list_id, phone) DO NOTHING RETURNING phone");
                    let inserted: HashSet<String> = query
                        .build()
                        .fetch_all(&mut *tx)
                        .await?
                        .iter()
                        .map(|row| row.try_get("phone"))
                        .collect::<std::result::Result<_, _>>()?;
                    present.extend(
                        chunk
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| !inserted.contains(c.phone.as_str()))
                            .map(|(i, _)| n * ROWS_PER_STATEMENT + i),
                    );
                }
                tx.commit().await?;
                Ok(present)
            }

            async fn list_size(&self, list: ListId) -> Result<u64> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM contacts WHERE list_id = $1")
                    .bind(list.0)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get::<i64, _>("n")? as u64)
            }

            async fn add_do_not_call(&self, phones: &[Phone], reason: &str, now: Millis) -> Result<u64> {
                let mut tx = self.write().await?;
                let mut added = 0;
                for phone in phones {
                    added += sqlx::query(
                        "INSERT INTO do_not_call (phone, reason, added_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(phone.as_str())
                    .bind(reason)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    sqlx::query("UPDATE contacts SET state = 'do_not_call' WHERE phone = $1 AND state = 'pending'")
                        .bind(phone.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn do_not_call_keys(&self) -> Result<HashSet<u64>> {
                let rows = sqlx::query("SELECT phone FROM do_not_call").fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let phone: String = r.try_get("phone")?;
                        Ok(Phone::try_from(phone).map_err(corrupt)?.key())
                    })
                    .collect()
            }

            async fn create_campaign(
                &self,
                name: &str,
                settings: &CampaignSettings,
                lists: &[ListId],
                now: Millis,
            ) -> Result<CampaignId> {
                settings.validate().map_err(StoreError::Settings)?;
                let json = serde_json::to_string(settings).map_err(corrupt)?;
                let mut tx = self.write().await?;
                let row = sqlx::query("INSERT INTO campaigns (name, settings, created_ms) VALUES ($1, $2, $3) RETURNING id")
                    .bind(name)
                    .bind(json)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| exists_or(e, "campaign", name))?;
                let id = CampaignId(row.try_get("id")?);
                for list in lists {
                    sqlx::query("INSERT INTO campaign_lists (campaign_id, list_id) VALUES ($1, $2)")
                        .bind(id.0)
                        .bind(list.0)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            async fn campaign(&self, id: CampaignId) -> Result<Campaign> {
                let row = sqlx::query("SELECT id, name, settings, state FROM campaigns WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                self.campaign_from_row(row).await?.ok_or(StoreError::NotFound { what: "campaign", id: id.to_string() })
            }

            async fn campaign_by_name(&self, name: &str) -> Result<Option<Campaign>> {
                let row = sqlx::query("SELECT id, name, settings, state FROM campaigns WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                self.campaign_from_row(row).await
            }

            async fn set_campaign_state(&self, id: CampaignId, state: CampaignState) -> Result<()> {
                let done = sqlx::query("UPDATE campaigns SET state = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(state.name())
                    .execute(&self.pool)
                    .await?;
                found(done.rows_affected(), "campaign", id)
            }

            async fn update_campaign_settings(&self, id: CampaignId, settings: &CampaignSettings) -> Result<()> {
                settings.validate().map_err(StoreError::Settings)?;
                let done = sqlx::query("UPDATE campaigns SET settings = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(serde_json::to_string(settings).map_err(corrupt)?)
                    .execute(&self.pool)
                    .await?;
                found(done.rows_affected(), "campaign", id)
            }

            async fn attach_list(&self, campaign: CampaignId, list: ListId) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO campaign_lists (campaign_id, list_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(campaign.0)
                .bind(list.0)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn lease(
                &self,
                campaign: CampaignId,
                node: &str,
                max: usize,
                now: Millis,
                ttl: Millis,
            ) -> Result<Vec<LeasedContact>> {
                let mut tx = self.write().await?;
                Self::close_lapsed_in(&mut tx, campaign, now).await?;
                let rules = Self::settings_in(&mut tx, campaign).await?.contacts;
                let candidates = sqlx::query(concat!(
                    "SELECT c.id, c.phone, c.name, c.language, c.category, c.risk_flags, c.follow_up_start,
                            c.follow_up_days, c.timezone, c.attempts_total, c.agent_required, c.callback_agent,
                            EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone = c.phone) AS dnc
                     FROM contacts c
                     WHERE c.list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = $1)
                       AND c.state = 'pending' AND c.next_due_ms <= $2
                       AND (c.lease_until_ms IS NULL OR c.lease_until_ms < $2)
                       AND NOT EXISTS (SELECT 1 FROM call_attempts a WHERE a.contact_id = c.id AND a.outcome IS NULL)
                     ORDER BY c.is_callback DESC, c.priority DESC, c.next_due_ms, c.id
                     LIMIT $3",
                    $lock
                ))
                .bind(campaign.0)
                .bind(now)
                .bind(max as i64)
                .fetch_all(&mut *tx)
                .await?;

                let until = now + ttl;
                let mut leased = Vec::with_capacity(candidates.len());
                let mut blocked = Vec::new();
                let mut closed: std::collections::BTreeMap<Millis, Vec<i64>> = Default::default();
                for row in candidates {
                    let id = ContactId(row.try_get("id")?);
                    if row.try_get::<bool, _>("dnc")? {
                        blocked.push(id.0);
                        continue;
                    }
                    let tz = parse_tz(row.try_get("timezone")?)?.unwrap_or(rules.timezone);
                    let opens = rules.window.next_open(to_utc(now), tz).timestamp_millis();
                    if opens > now {
                        closed.entry(opens).or_default().push(id.0);
                        continue;
                    }
                    let phone: String = row.try_get("phone")?;
                    let category: String = row.try_get("category")?;
                    leased.push(LeasedContact {
                        id,
                        phone: Phone::try_from(phone).map_err(corrupt)?,
                        name: row.try_get("name")?,
                        language: row.try_get("language")?,
                        category: category.parse().map_err(corrupt)?,
                        risk: parse_risk(row.try_get("risk_flags")?)?,
                        follow_up: parse_follow_up(row.try_get("follow_up_start")?, row.try_get("follow_up_days")?)?,
                        attempts_total: u32::try_from(row.try_get::<i64, _>("attempts_total")?).map_err(corrupt)?,
                        agent_required: row.try_get("agent_required")?,
                        callback_agent: row.try_get("callback_agent")?,
                        lease_until: until,
                    });
                }
                let update = |set: &str| sqlx::QueryBuilder::<$db>::new(format!("UPDATE contacts SET {set}"));
                update_ids(&mut tx, update("state = 'do_not_call'"), &blocked).await?;
                for (opens, ids) in &closed {
                    let mut set = update("next_due_ms = ");
                    set.push_bind(*opens);
                    update_ids(&mut tx, set, ids).await?;
                }
                let mut set = update("lease_owner = ");
                set.push_bind(node.to_string()).push(", lease_until_ms = ").push_bind(until);
                let ids: Vec<i64> = leased.iter().map(|c| c.id.0).collect();
                update_ids(&mut tx, set, &ids).await?;
                tx.commit().await?;
                Ok(leased)
            }

            async fn renew_leases(&self, node: &str, now: Millis, ttl: Millis) -> Result<u64> {
                let done = sqlx::query("UPDATE contacts SET lease_until_ms = $2 WHERE lease_owner = $1 AND lease_until_ms >= $3")
                    .bind(node)
                    .bind(now + ttl)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn release(&self, contact: ContactId, node: &str) -> Result<()> {
                sqlx::query(
                    "UPDATE contacts SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND lease_owner = $2",
                )
                .bind(contact.0)
                .bind(node)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn begin_attempt(&self, attempt: &NewAttempt) -> Result<AttemptId> {
                let row = sqlx::query(
                    "INSERT INTO call_attempts (contact_id, campaign_id, node, agent_id, dial_ms)
                     SELECT $1, $2, $3, $4, $5 WHERE EXISTS
                        (SELECT 1 FROM contacts WHERE id = $1 AND lease_owner = $3 AND lease_until_ms >= $5)
                     RETURNING id",
                )
                .bind(attempt.contact.0)
                .bind(attempt.campaign.0)
                .bind(&attempt.node)
                .bind(attempt.agent)
                .bind(attempt.dial_at)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| match &e {
                    // The one-open-attempt index: someone is dialing this contact already.
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::NotLeased(attempt.contact),
                    _ => StoreError::Database(e),
                })?
                .ok_or(StoreError::NotLeased(attempt.contact))?;
                Ok(AttemptId(row.try_get("id")?))
            }

            async fn mark_attempt(&self, attempt: AttemptId, mark: AttemptMark) -> Result<()> {
                let query = match mark {
                    AttemptMark::Ringing { at } => sqlx::query(
                        "UPDATE call_attempts SET ring_ms = COALESCE(ring_ms, $2) WHERE id = $1 AND outcome IS NULL",
                    )
                    .bind(attempt.0)
                    .bind(at),
                    AttemptMark::Answered { at } => sqlx::query(
                        "UPDATE call_attempts SET answer_ms = COALESCE(answer_ms, $2) WHERE id = $1 AND outcome IS NULL",
                    )
                    .bind(attempt.0)
                    .bind(at),
                    AttemptMark::Connected { at, agent } => sqlx::query(
                        "UPDATE call_attempts SET connect_ms = $2, agent_id = $3 WHERE id = $1 AND outcome IS NULL",
                    )
                    .bind(attempt.0)
                    .bind(at)
                    .bind(agent),
                    AttemptMark::NotJoined => sqlx::query(
                        "UPDATE call_attempts SET connect_ms = NULL WHERE id = $1 AND outcome IS NULL",
                    )
                    .bind(attempt.0),
                };
                let done = query.execute(&self.pool).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::AttemptClosed(attempt));
                }
                Ok(())
            }

            async fn set_recording(&self, attempt: AttemptId, name: &str) -> Result<()> {
                sqlx::query("UPDATE call_attempts SET recording = $2 WHERE id = $1")
                    .bind(attempt.0)
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn finish_attempt(&self, attempt: AttemptId, end: &AttemptEnd) -> Result<Decision> {
                let mut tx = self.write().await?;
                let decision = Self::finish_in(&mut tx, attempt, end).await?;
                tx.commit().await?;
                Ok(decision)
            }

            async fn recover_node(&self, node: &str, now: Millis) -> Result<u64> {
                let mut tx = self.write().await?;
                let open: Vec<i64> = sqlx::query("SELECT id FROM call_attempts WHERE node = $1 AND outcome IS NULL")
                    .bind(node)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?;
                let end = AttemptEnd {
                    outcome: AttemptOutcome::Interrupted,
                    at: now,
                    cause: Some("dialer node restarted".into()),
                };
                for id in &open {
                    Self::finish_in(&mut tx, AttemptId(*id), &end).await?;
                }
                sqlx::query("UPDATE contacts SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1")
                    .bind(node)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(open.len() as u64)
            }

            async fn attempts_of(&self, contact: ContactId) -> Result<Vec<Attempt>> {
                let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM call_attempts WHERE contact_id = $1 ORDER BY dial_ms, id");
                let rows = sqlx::query(&sql).bind(contact.0).fetch_all(&self.pool).await?;
                rows.iter().map(attempt_from_row).collect()
            }

            async fn open_attempts(&self, campaign: CampaignId) -> Result<Vec<Attempt>> {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM call_attempts WHERE campaign_id = $1 AND outcome IS NULL ORDER BY id"
                );
                let rows = sqlx::query(&sql).bind(campaign.0).fetch_all(&self.pool).await?;
                rows.iter().map(attempt_from_row).collect()
            }

            async fn attempt(&self, id: AttemptId) -> Result<Attempt> {
                let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM call_attempts WHERE id = $1");
                let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await?;
                attempt_from_row(&row.ok_or(StoreError::NotFound { what: "attempt", id: id.to_string() })?)
            }

            async fn attempts_between(&self, from: Millis, to: Millis) -> Result<Vec<Attempt>> {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM call_attempts WHERE dial_ms >= $1 AND dial_ms < $2 ORDER BY dial_ms, id"
                );
                let rows = sqlx::query(&sql).bind(from).bind(to).fetch_all(&self.pool).await?;
                rows.iter().map(attempt_from_row).collect()
            }

            async fn campaigns(&self) -> Result<Vec<Campaign>> {
                let rows = sqlx::query("SELECT id, name, settings, state FROM campaigns ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                let mut campaigns = Vec::with_capacity(rows.len());
                for row in rows {
                    campaigns.extend(self.campaign_from_row(Some(row)).await?);
                }
                Ok(campaigns)
            }

            async fn lists(&self) -> Result<Vec<ListSummary>> {
                let rows = sqlx::query(
                    "SELECT l.id, l.name, l.created_ms, (SELECT COUNT(*) FROM contacts c WHERE c.list_id = l.id) AS n
                     FROM contact_lists l ORDER BY l.id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ListSummary {
                            id: ListId(r.try_get("id")?),
                            name: r.try_get("name")?,
                            contacts: r.try_get::<i64, _>("n")? as u64,
                            created_at: r.try_get("created_ms")?,
                        })
                    })
                    .collect()
            }

            async fn schedule_callback(
                &self,
                contact: ContactId,
                at: Millis,
                agent: Option<i64>,
                now: Millis,
            ) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE contacts SET state = 'pending', next_due_ms = $2, is_callback = TRUE, callback_agent = $3,
                        callback_set_ms = $4
                     WHERE id = $1 AND state IN ('pending', 'done', 'exhausted')",
                )
                .bind(contact.0)
                .bind(at)
                .bind(agent)
                .bind(now)
                .execute(&self.pool)
                .await?;
                found(done.rows_affected(), "callable contact", contact)
            }

            async fn discharge(&self, contact: ContactId) -> Result<()> {
                let done = sqlx::query("UPDATE contacts SET state = $2 WHERE id = $1")
                    .bind(contact.0)
                    .bind(Finish::Discharged.name())
                    .execute(&self.pool)
                    .await?;
                found(done.rows_affected(), "contact", contact)
            }

            async fn record_disposition(&self, d: &NewDisposition, now: Millis) -> Result<()> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "INSERT INTO dispositions (attempt_id, contact_id, agent_id, code, answers, notes, override_reason, created_ms)
                     SELECT id, contact_id, $2, $3, $4, $5, $6, $7 FROM call_attempts WHERE id = $1",
                )
                .bind(d.attempt.0)
                .bind(d.agent)
                .bind(&d.code)
                .bind(d.answers.to_string())
                .bind(&d.notes)
                .bind(d.triage_override.as_ref().map(|o| &o.reason))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                found(done.rows_affected(), "attempt", d.attempt)?;
                sqlx::query("DELETE FROM call_drafts WHERE attempt_id = $1")
                    .bind(d.attempt.0)
                    .execute(&mut *tx)
                    .await?;
                if let Some(o) = &d.triage_override {
                    sqlx::query(
                        "INSERT INTO alerts (contact_id, campaign_id, kind, day, detail, created_ms)
                         SELECT contact_id, campaign_id, 'triage_override', $2, $3, $4 FROM call_attempts WHERE id = $1
                         ON CONFLICT (contact_id, kind, day) DO UPDATE
                         SET detail = excluded.detail, created_ms = excluded.created_ms, acknowledged_ms = NULL",
                    )
                    .bind(d.attempt.0)
                    .bind(&o.day)
                    .bind(format!("{} — {}", o.rule, o.reason))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn save_draft(&self, attempt: AttemptId, draft: &CallDraft, now: Millis) -> Result<()> {
                let done = sqlx::query(
                    "INSERT INTO call_drafts (attempt_id, answers, notes, code, updated_ms)
                     SELECT id, $2, $3, $4, $5 FROM call_attempts WHERE id = $1
                     ON CONFLICT (attempt_id) DO UPDATE
                     SET answers = excluded.answers, notes = excluded.notes, code = excluded.code,
                         updated_ms = excluded.updated_ms",
                )
                .bind(attempt.0)
                .bind(draft.answers.to_string())
                .bind(&draft.notes)
                .bind(&draft.code)
                .bind(now)
                .execute(&self.pool)
                .await?;
                found(done.rows_affected(), "attempt", attempt)
            }

            async fn draft(&self, attempt: AttemptId) -> Result<Option<CallDraft>> {
                let row = sqlx::query("SELECT answers, notes, code FROM call_drafts WHERE attempt_id = $1")
                    .bind(attempt.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| {
                    Ok(CallDraft {
                        answers: serde_json::from_str(r.try_get("answers")?).map_err(corrupt)?,
                        notes: r.try_get("notes")?,
                        code: r.try_get("code")?,
                    })
                })
                .transpose()
            }

            async fn unrecorded_calls(&self, agent: i64, since: Millis) -> Result<Vec<Attempt>> {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM call_attempts a
                     WHERE agent_id = $1 AND dial_ms >= $2 AND connect_ms IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.attempt_id = a.id)
                     ORDER BY dial_ms, id"
                );
                let rows = sqlx::query(&sql)
                    .bind(agent)
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(attempt_from_row).collect()
            }

            async fn open_alerts(&self) -> Result<Vec<Alert>> {
                let rows = sqlx::query(
                    "SELECT id, contact_id, campaign_id, kind, day, detail, created_ms FROM alerts
                     WHERE acknowledged_ms IS NULL ORDER BY created_ms, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Alert {
                            id: r.try_get("id")?,
                            contact: ContactId(r.try_get("contact_id")?),
                            campaign: CampaignId(r.try_get("campaign_id")?),
                            kind: r.try_get("kind")?,
                            day: r.try_get("day")?,
                            detail: r.try_get("detail")?,
                            created_at: r.try_get("created_ms")?,
                        })
                    })
                    .collect()
            }

            async fn contact_counts(&self, campaign: CampaignId, now: Millis) -> Result<ContactCounts> {
                let rows = sqlx::query(
                    "SELECT state,
                            COUNT(*) AS n,
                            SUM(CASE WHEN next_due_ms <= $2 THEN 1 ELSE 0 END) AS due,
                            SUM(CASE WHEN lease_until_ms >= $2 THEN 1 ELSE 0 END) AS leased
                     FROM contacts
                     WHERE list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = $1)
                     GROUP BY state",
                )
                .bind(campaign.0)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                let mut counts = ContactCounts::default();
                for row in rows {
                    let state: String = row.try_get("state")?;
                    let n = row.try_get::<i64, _>("n")? as u64;
                    match state.as_str() {
                        "pending" => {
                            counts.pending = n;
                            counts.due = row.try_get::<Option<i64>, _>("due")?.unwrap_or(0) as u64;
                            counts.leased = row.try_get::<Option<i64>, _>("leased")?.unwrap_or(0) as u64;
                        }
                        "done" => counts.done = n,
                        "invalid" => counts.invalid = n,
                        "exhausted" => counts.exhausted = n,
                        "discharged" => counts.discharged = n,
                        "do_not_call" => counts.do_not_call = n,
                        other => return Err(corrupt(format!("contact state {other:?}"))),
                    }
                }
                Ok(counts)
            }
        }
    };
}

pub(crate) use sql_store;
