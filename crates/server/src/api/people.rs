//! Users and roles, the audit log, and the daily report (JSON or CSV).

use super::{Json, Path, Query};
use crate::accounts::{self, AccountRequest};
use crate::api::session::UserView;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::phones::PhoneUse;
use crate::{now_ms, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone};
use sanjeevani_store::{DayCounts, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// An account as the admin's page lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    pub user: UserView,
    /// The phone the telephony calls for their work (the account's own, else
    /// the telephony's rule): what the PBX must have. None with simulated
    /// telephony or for admins.
    pub phone_in_use: Option<String>,
}

#[utoipa::path(get, path = "/api/users", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = [AccountView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountView>>> {
    caller.require(&[Role::Admin], "manage users")?;
    Ok(Json(
        state
            .store
            .users()
            .await?
            .iter()
            .map(|u| AccountView {
                user: UserView::from(u),
                phone_in_use: match u.role {
                    Role::Agent => Some(PhoneUse::Agent),
                    Role::Medical => Some(PhoneUse::Desk),
                    Role::Supervisor => Some(PhoneUse::Supervisor),
                    Role::Admin => None,
                }
                .and_then(|purpose| state.centre.phone_of(u, purpose)),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 3 to 40 characters: letters, digits, `.`, `_`, `-`.
    pub username: String,
    pub display_name: String,
    /// admin, supervisor, agent or medical.
    pub role: String,
    /// 12 to 128 characters, not easily guessed. Absent: a one-time
    /// password is made, returned once, and changed at the first login.
    pub password: Option<String>,
    /// The phone their calls reach: an Asterisk endpoint (`PJSIP/agent7`)
    /// or a SIP URI; absent: the telephony's rule from the username.
    pub phone: Option<String>,
}

/// An account's phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPhone {
    /// An Asterisk endpoint (`PJSIP/agent7`) or a SIP URI; `null`: the
    /// telephony's rule from the username.
    pub phone: Option<String>,
}

fn checked_phone(phone: Option<String>) -> ApiResult<Option<String>> {
    match phone {
        Some(phone) => crate::phones::check_phone(&phone)
            .map(|()| Some(phone))
            .map_err(|why| ApiError::invalid(format!("phone: {why}"))),
        None => Ok(None),
    }
}

#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = CreatedUser), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    caller.require(&[Role::Admin], "manage users")?;
    let one_time_password = request.password.is_none().then(accounts::one_time_password);
    let request = AccountRequest {
        username: request.username,
        display_name: request.display_name,
        role: request.role,
        must_change_password: one_time_password.is_some(),
        password: request
            .password
            .or_else(|| one_time_password.clone())
            .unwrap_or_default(),
        phone: request.phone,
    };
    let user = accounts::create(&*state.store, request, Some(&caller.user)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: UserView::from(&user),
            one_time_password,
        }),
    ))
}

/// A new account, with its one-time password when the admin set none.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    /// Shown once, never stored or logged.
    pub one_time_password: Option<String>,
}

#[utoipa::path(post, path = "/api/users/{id}/disable", tag = "users", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Disabled: their sessions and live screens end, an agent leaves their campaign, a desk member the desk"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(&[Role::Admin], "manage users")?;
    if id == caller.id() {
        return Err(ApiError::conflict("you cannot disable your own account"));
    }
    state.store.set_user_disabled(id, true).await?;
    let user = accounts::user_by_id(&*state.store, id).await?;
    state.centre.user_left(&user).await;
    state
        .store
        .audit(
            &caller.user,
            "user_disable",
            &format!("user/{id}"),
            &user.username,
            now_ms(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/users/{id}/enable", tag = "users", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserView, description = "Enabled again; the old password works (reset it if it may be known)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserView>> {
    caller.require(&[Role::Admin], "manage users")?;
    state.store.set_user_disabled(id, false).await?;
    let user = accounts::user_by_id(&*state.store, id).await?;
    state
        .store
        .audit(
            &caller.user,
            "user_enable",
            &format!("user/{id}"),
            &user.username,
            now_ms(),
        )
        .await?;
    Ok(Json(UserView::from(&user)))
}

/// A one-time password an admin hands over; changed at the next login.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    pub user: UserView,
    /// Shown once, never stored or logged: the user must choose their own
    /// at the next login.
    pub one_time_password: String,
}

#[utoipa::path(post, path = "/api/users/{id}/password", tag = "users", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PasswordReset, description = "Reset: every session of the user ends"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<PasswordReset>> {
    caller.require(&[Role::Admin], "manage users")?;
    let one_time_password = accounts::reset(&*state.store, &caller.user, id).await?;
    let user = accounts::user_by_id(&*state.store, id).await?;
    state.centre.user_left(&user).await;
    Ok(Json(PasswordReset {
        user: UserView::from(&user),
        one_time_password,
    }))
}

#[utoipa::path(post, path = "/api/users/{id}/phone", tag = "users", params(("id" = i64, Path)), request_body = SetPhone,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<SetPhone>,
) -> ApiResult<Json<UserView>> {
    caller.require(&[Role::Admin], "manage users")?;
    let phone = checked_phone(request.phone)?;
    state.store.set_user_phone(id, phone.as_deref()).await?;
    state
        .store
        .audit(
            &caller.user,
            "user_phone",
            &format!("user/{id}"),
            phone.as_deref().unwrap_or("the telephony's rule"),
            now_ms(),
        )
        .await?;
    let user = state
        .store
        .users()
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub username: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub at: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Newest first, at most this many (default 200, at most 5000).
    pub limit: Option<u32>,
}

/// Every user's display name, by id.
pub async fn display_names(state: &AppState) -> ApiResult<BTreeMap<i64, String>> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

#[utoipa::path(get, path = "/api/audit", tag = "users", params(AuditQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = [AuditView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditView>>> {
    caller.require(&[Role::Admin], "read the audit log")?;
    let entries = state
        .store
        .audit_log(query.limit.unwrap_or(200).min(5000))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                username: e.username,
                action: e.action,
                subject: e.subject,
                detail: e.detail,
                at: e.at,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// YYYY-MM-DD in each campaign's time zone; default: each campaign's
    /// today, in its own time zone.
    pub day: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
}

/// One line of the daily report: a campaign's totals (agent empty) or one agent's.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    pub day: String,
    pub campaign: i64,
    pub campaign_name: String,
    pub agent: Option<i64>,
    pub agent_name: String,
    pub dials: u64,
    pub answered: u64,
    pub connected: u64,
    pub completed: u64,
    pub abandoned: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub failed_other: u64,
    pub talk_secs: u64,
    /// Abandoned over answered.
    pub abandon_rate: f64,
}

impl ReportRow {
    /// The row with `counts`, the store's one count of a day's attempts.
    fn with_counts(self, counts: &DayCounts) -> ReportRow {
        ReportRow {
            dials: counts.dials,
            answered: counts.answered,
            connected: counts.connected,
            completed: counts.completed,
            abandoned: counts.abandoned,
            busy: counts.busy,
            no_answer: counts.no_answer,
            failed_other: counts.failed_other,
            talk_secs: counts.talk_secs,
            abandon_rate: counts.abandon_rate(),
            ..self
        }
    }
}

/// A text cell a spreadsheet will not run: one that starts like a formula
/// (`=`, `+`, `-`, `@`, tab or carriage return) is prefixed with `'`
/// (OWASP's advice for CSV injection).
pub fn inert_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[utoipa::path(get, path = "/api/reports/daily", tag = "reports", params(ReportQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Per campaign and agent; CSV with format=csv", body = [ReportRow]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn daily_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> ApiResult<Response> {
    caller.require(&[Role::Admin, Role::Supervisor], "read reports")?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format: {other:?} is not json or csv"
            )))
        }
    };
    let asked =
        match &query.day {
            Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid(format!("day: {d:?} is not a date like 2026-11-28"))
            })?),
            None => None,
        };
    let users = display_names(&state).await?;
    let mut rows = Vec::new();
    for campaign in state.store.campaigns().await? {
        let tz = campaign.settings.contacts.timezone;
        let day = asked.unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
        let start = tz
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest();
        let end = tz
            .from_local_datetime(
                &(day + chrono::Days::new(1))
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight"),
            )
            .earliest();
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        let attempts = state
            .store
            .attempts_between(start.timestamp_millis(), end.timestamp_millis())
            .await?;
        let base = ReportRow {
            day: day.to_string(),
            campaign: campaign.id.0,
            campaign_name: campaign.name.clone(),
            ..Default::default()
        };
        let mut total = DayCounts::default();
        let mut by_agent: BTreeMap<i64, DayCounts> = BTreeMap::new();
        for a in attempts.iter().filter(|a| a.campaign == campaign.id) {
            total.add(a);
            if let Some(agent) = a.agent {
                by_agent.entry(agent).or_default().add(a);
            }
        }
        rows.push(base.clone().with_counts(&total));
        rows.extend(by_agent.into_iter().map(|(agent, counts)| {
            ReportRow {
                agent: Some(agent),
                agent_name: users
                    .get(&agent)
                    .cloned()
                    .unwrap_or_else(|| format!("simulated agent {agent}")),
                ..base.clone()
            }
            .with_counts(&counts)
        }));
    }
    if !csv {
        return Ok(Json(rows).into_response());
    }
    // The day asked, or the one the campaigns' today was.
    let shown = asked
        .map(|d| d.to_string())
        .or_else(|| rows.first().map(|r| r.day.clone()))
        .unwrap_or_else(|| "today".into());
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        let row = ReportRow {
            campaign_name: inert_cell(&row.campaign_name),
            agent_name: inert_cell(&row.agent_name),
            ..row.clone()
        };
        out.serialize(&row)
            .map_err(|e| ApiError::unavailable(e.to_string()))?;
    }
    let body = out
        .into_inner()
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    state
        .store
        .audit(
            &caller.user,
            "export",
            "reports/daily",
            &format!("day {shown}, {} rows", rows.len()),
            now_ms(),
        )
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "text/csv; charset=utf-8".parse().expect("ASCII"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"sanjeevani-{shown}.csv\"")
            .parse()
            .expect("ASCII"),
    );
    Ok((headers, body).into_response())
}
