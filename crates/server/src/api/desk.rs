//! Contact records (every view is audited), escalation tickets for the
//! medical desk, and unreachable-high-risk alerts.

use super::{Json, Path, Query};
use crate::auth::Caller;
use crate::centre::DeskEvent;
use crate::desk::Presence;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::phones::PhoneUse;
use crate::{now_ms, AppState};
use axum::extract::State;
use sanjeevani_store::{AttemptId, ContactId, Resolution, Role, Ticket, TransferState, Urgency};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A contact with the calls and answers so far: the screen pop and the
/// doctor's view.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: i64,
    pub name: String,
    /// Masked for agents (the dialer places their calls).
    pub phone: String,
    pub language: Option<String>,
    pub category: String,
    pub risk: Vec<String>,
    /// Day of the daily follow-up, counting from 1, and its length.
    pub follow_up_day: Option<i64>,
    pub follow_up_days: Option<u16>,
    pub district: Option<String>,
    pub block: Option<String>,
    pub state: String,
    /// When the contact is next due to be called (ms since the epoch).
    pub next_due: i64,
    pub calls: Vec<HistoryItem>,
}

/// One earlier call and what was recorded for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryItem {
    pub attempt: i64,
    pub dial_at: i64,
    pub outcome: Option<String>,
    pub agent: Option<i64>,
    pub disposition: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
    pub notes: Option<String>,
}

/// Builds the view of a contact for `caller` and writes the audit line.
pub(crate) async fn contact_view(
    state: &AppState,
    caller: &Caller,
    id: ContactId,
) -> ApiResult<ContactView> {
    let record = state.store.contact(id).await?;
    let attempts = state.store.attempts_of(id).await?;
    let dispositions = state.store.dispositions_of(id).await?;
    // Only the medical desk, who call people back, read whole numbers.
    let phone = if caller.user.role == Role::Medical {
        record.phone.as_str().to_string()
    } else {
        record.phone.masked().to_string()
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    let calls = attempts
        .iter()
        .map(|a| {
            let d = dispositions.iter().rev().find(|d| d.attempt == a.id);
            HistoryItem {
                attempt: a.id.0,
                dial_at: a.dial_at,
                outcome: a.outcome.map(|o| o.name().to_string()),
                agent: a.agent,
                disposition: d.map(|d| d.code.clone()),
                answers: d.map(|d| d.answers.clone()),
                notes: d.map(|d| d.notes.clone()),
            }
        })
        .collect();
    state
        .store
        .audit(
            &caller.user,
            "view_contact",
            &format!("contact/{}", id.0),
            "",
            now_ms(),
        )
        .await?;
    Ok(ContactView {
        id: id.0,
        name: record.name,
        phone,
        language: record.language,
        category: record.category.name().into(),
        risk: record.risk.iter().map(|r| r.name().to_string()).collect(),
        follow_up_day: record.follow_up.map(|f| (today - f.start).num_days() + 1),
        follow_up_days: record.follow_up.map(|f| f.days),
        district: record.district,
        block: record.block,
        state: record.state,
        next_due: record.next_due,
        calls,
    })
}

#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = ContactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ContactView>> {
    caller.require(
        &[Role::Supervisor, Role::Medical, Role::Agent],
        "read contact records",
    )?;
    let id = ContactId(id);
    // Each role reads the people its work involves, nobody by counting ids:
    // agents those they talked with or are shown before dialling (preview),
    // supervisors those their campaigns called, the desk those with a
    // ticket open or of theirs.
    let theirs = match caller.user.role {
        Role::Agent => {
            super::agent::status_of(&state, caller.id()).preview == Some(id.0)
                || state
                    .store
                    .attempts_of(id)
                    .await?
                    .iter()
                    .any(|a| a.agent == Some(caller.id()))
        }
        Role::Supervisor => !state.store.attempts_of(id).await?.is_empty(),
        Role::Medical => state.store.tickets_of(id).await?.iter().any(|t| {
            t.resolved_at.is_none()
                || t.assigned_to == Some(caller.id())
                || t.resolved_by == Some(caller.id())
        }),
        Role::Admin => false,
    };
    if !theirs {
        return Err(ApiError::not_found(format!("no contact {} of yours", id.0)));
    }
    Ok(Json(contact_view(&state, &caller, id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    pub contact: i64,
    pub contact_name: String,
    pub campaign: i64,
    pub attempt: Option<i64>,
    /// urgent or routine.
    pub urgency: String,
    pub reason: String,
    /// What the agent wrote about the call: its recorded notes, or what they
    /// have typed so far while the call is not yet recorded.
    pub agent_notes: String,
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// The questionnaire rule that held for the answers when it was raised.
    pub rule: Option<crate::questionnaire::Label>,
    pub raised_by: Option<i64>,
    pub assigned_to: Option<i64>,
    pub created_at: i64,
    pub age_secs: i64,
    /// When the ticket should be resolved by (service level by urgency).
    pub due_at: i64,
    /// Not resolved, not handed over live, and past `due_at`.
    pub overdue: bool,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub notes: String,
    /// The warm transfer: `none` (raised without one), `ringing` (the desk is
    /// being called or consulted), `live` (handed to `live_to` at `live_at`,
    /// open until they record what they did) or
    /// `fallback` (why in `fallback`: desk_unavailable, contact_hung_up,
    /// agent_cancelled, pbx_error, interrupted).
    pub transfer: String,
    pub fallback: Option<String>,
    pub live_to: Option<i64>,
    pub live_at: Option<i64>,
    /// Callbacks tried without reaching the person.
    pub callback_tries: u32,
}

/// When a ticket should be resolved by: the service level of its urgency.
pub(crate) fn due_at(state: &AppState, t: &Ticket) -> i64 {
    let within = match t.urgency {
        Urgency::Urgent => state.config.desk.urgent_within,
        Urgency::Routine => state.config.desk.routine_within,
    };
    t.created_at + i64::try_from(within.as_millis()).unwrap_or(i64::MAX / 2)
}

pub(crate) async fn ticket_view(state: &AppState, t: Ticket) -> ApiResult<TicketView> {
    let contact_name = state.store.contact(t.contact).await?.name;
    let due_at = due_at(state, &t);
    let now = now_ms();
    let agent_notes = match t.attempt {
        Some(attempt) => agent_notes(state, t.contact, attempt).await?,
        None => String::new(),
    };
    Ok(TicketView {
        id: t.id,
        contact: t.contact.0,
        contact_name,
        campaign: t.campaign.0,
        attempt: t.attempt.map(|a| a.0),
        urgency: t.urgency.name().into(),
        reason: t.reason,
        agent_notes,
        answers: t.answers,
        rule: t.rule.and_then(|r| serde_json::from_value(r).ok()),
        raised_by: t.raised_by,
        assigned_to: t.assigned_to,
        created_at: t.created_at,
        age_secs: (t.resolved_at.unwrap_or(now) - t.created_at) / 1000,
        due_at,
        overdue: t.resolved_at.is_none() && t.transfer != TransferState::Live && now > due_at,
        resolved_at: t.resolved_at,
        resolution: t.resolution.map(|r| r.name().to_string()),
        notes: t.notes,
        transfer: t.transfer.name().into(),
        fallback: t.fallback,
        live_to: t.live_to,
        live_at: t.live_at,
        callback_tries: t.callback_tries,
    })
}

/// The notes the agent recorded for the call, or typed so far.
async fn agent_notes(
    state: &AppState,
    contact: ContactId,
    attempt: AttemptId,
) -> ApiResult<String> {
    let recorded = state.store.dispositions_of(contact).await?;
    if let Some(d) = recorded.iter().rev().find(|d| d.attempt == attempt) {
        return Ok(d.notes.clone());
    }
    Ok(state
        .store
        .draft(attempt)
        .await?
        .map(|d| d.notes)
        .unwrap_or_default())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketsQuery {
    /// Include resolved tickets.
    #[serde(default)]
    pub all: bool,
}

#[utoipa::path(get, path = "/api/tickets", tag = "tickets", params(TicketsQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Open tickets, oldest first", body = [TicketView]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn tickets(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TicketsQuery>,
) -> ApiResult<Json<Vec<TicketView>>> {
    caller.require(&[Role::Medical, Role::Supervisor], "see tickets")?;
    let mut views = Vec::new();
    for t in state.store.tickets(query.all).await? {
        views.push(ticket_view(&state, t).await?);
    }
    Ok(Json(views))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssignQuery {
    /// Take over a ticket another member holds (audited as such).
    #[serde(default)]
    pub take_over: bool,
}

/// Refuses when another member holds the open ticket.
fn held_by_other(ticket: &Ticket, me: i64) -> ApiResult<()> {
    if ticket.resolved_at.is_some() {
        return Err(ApiError::not_found(format!("no open ticket {}", ticket.id)));
    }
    match ticket.assigned_to {
        Some(member) if member != me => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "held_by_other",
            format!(
                "ticket {} is held by another member (user {member}): take it over first (take_over=true)",
                ticket.id
            ),
        )),
        _ => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/tickets/{id}/assign", tag = "tickets", params(("id" = i64, Path), AssignQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Assigned to the caller", body = TicketView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Another member holds it; take_over=true takes it", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<AssignQuery>,
) -> ApiResult<Json<TicketView>> {
    caller.require(&[Role::Medical], "take tickets")?;
    let ticket = state.store.ticket(id).await?;
    let previous = ticket.assigned_to;
    if !query.take_over {
        held_by_other(&ticket, caller.id())?;
    } else if ticket.resolved_at.is_some() {
        return Err(ApiError::not_found(format!("no open ticket {id}")));
    }
    state.store.assign_ticket(id, caller.id()).await?;
    let (action, detail) = match previous {
        Some(member) if member != caller.id() => {
            ("ticket_take_over", format!("from user {member}"))
        }
        _ => ("ticket_assign", String::new()),
    };
    state
        .store
        .audit(
            &caller.user,
            action,
            &format!("ticket/{id}"),
            &detail,
            now_ms(),
        )
        .await?;
    let ticket = state.store.ticket(id).await?;
    Ok(Json(ticket_view(&state, ticket).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// advice_given, teleconsultation_done, medicine_delivered,
    /// ambulance_sent, admitted, no_action_needed or unreachable.
    pub resolution: String,
    #[serde(default)]
    pub notes: String,
}

#[utoipa::path(post, path = "/api/tickets/{id}/resolve", tag = "tickets", params(("id" = i64, Path)),
    request_body = ResolveRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = TicketView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No open ticket with this id", body = ErrorBody),
        (status = 409, description = "Another member holds it: take it over first", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<ResolveRequest>,
) -> ApiResult<Json<TicketView>> {
    caller.require(&[Role::Medical], "resolve tickets")?;
    let resolution = Resolution::parse(&request.resolution).ok_or_else(|| {
        let names: Vec<&str> = Resolution::ALL.iter().map(|r| r.name()).collect();
        ApiError::invalid(format!(
            "resolution: {:?} is not one of {}",
            request.resolution,
            names.join(", ")
        ))
    })?;
    if request.notes.chars().count() > 4000 {
        return Err(ApiError::invalid("notes: at most 4000 characters"));
    }
    let ticket = state.store.ticket(id).await?;
    held_by_other(&ticket, caller.id())?;
    state
        .store
        .resolve_ticket(id, resolution, Some(caller.id()), &request.notes, now_ms())
        .await?;
    // Recording what was done for a caller handed over live ends that call
    // at the desk: the member is free for the next (news the desk ignores if
    // they said so already).
    if ticket.transfer == TransferState::Live && ticket.live_to == Some(caller.id()) {
        state.centre.desk().live_call_ended(caller.id()).await;
    }
    state
        .store
        .audit(
            &caller.user,
            "ticket_resolve",
            &format!("ticket/{id}"),
            resolution.name(),
            now_ms(),
        )
        .await?;
    state.centre.desk().resolved(id, resolution).await;
    let ticket = state.store.ticket(id).await?;
    state.centre.tell_desk(DeskEvent::TicketResolved {
        ticket: ticket.clone(),
    });
    Ok(Json(ticket_view(&state, ticket).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackResult {
    /// `reached` (the member talks with the person; resolve the ticket next)
    /// or `unreached` (busy, no answer: the desk offers it again later, and
    /// closes it as unreachable after its last try).
    pub result: String,
}

#[utoipa::path(post, path = "/api/tickets/{id}/callback", tag = "tickets", params(("id" = i64, Path)),
    request_body = CallbackResult,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, description = "Recorded; the desk's next step comes on /ws", body = TicketView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The desk has not offered this ticket's callback to the caller (or it was recorded already)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<CallbackResult>,
) -> ApiResult<(axum::http::StatusCode, Json<TicketView>)> {
    caller.require(&[Role::Medical], "call back tickets")?;
    let reached = match request.result.as_str() {
        "reached" => true,
        "unreached" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "result: {other:?} is not reached or unreached"
            )))
        }
    };
    let ticket = state.store.ticket(id).await?;
    if ticket.resolved_at.is_some() {
        return Err(ApiError::not_found(format!("no open ticket {id}")));
    }
    if state.centre.desk().offered_to(id) != Some(caller.id()) {
        return Err(ApiError::conflict(format!(
            "ticket {id}'s callback is not offered to you now"
        )));
    }
    if !reached {
        state.store.callback_unreached(id).await?;
    }
    state.centre.desk().callback(id, reached).await;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(ticket_view(&state, ticket).await?),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskIn {
    /// Languages the member speaks (e.g. `hi`, `en`): callers in them are
    /// offered to this member first.
    #[serde(default)]
    pub languages: Vec<String>,
}

#[utoipa::path(get, path = "/api/desk", tag = "tickets",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Members at the medical desk on this node", body = [Presence]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Presence>>> {
    caller.require(&[Role::Medical, Role::Supervisor], "see the desk")?;
    Ok(Json(state.centre.desk().members()))
}

#[utoipa::path(post, path = "/api/desk/in", tag = "tickets", request_body = DeskIn,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "At the desk: transfers and callbacks may ring this member's phone", body = [Presence]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn desk_in(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<DeskIn>,
) -> ApiResult<Json<Vec<Presence>>> {
    caller.require(&[Role::Medical], "join the desk")?;
    if let Some(bad) = request.languages.iter().find(|l| {
        l.is_empty() || l.len() > 16 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
    }) {
        return Err(ApiError::invalid(format!(
            "languages: {bad:?} is not a language code such as hi or en"
        )));
    }
    // Simulated telephony has no phones: its desk member answers by itself.
    let phone = state
        .centre
        .phone_of(&caller.user, PhoneUse::Desk)
        .unwrap_or_default();
    state
        .centre
        .desk()
        .member_in(caller.id(), phone, request.languages)
        .await;
    Ok(Json(state.centre.desk().members()))
}

#[utoipa::path(post, path = "/api/desk/out", tag = "tickets",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Left the desk (after what the member is doing)", body = [Presence]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn desk_out(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Presence>>> {
    caller.require(&[Role::Medical], "leave the desk")?;
    state.centre.desk().member_out(caller.id()).await;
    Ok(Json(state.centre.desk().members()))
}

#[utoipa::path(post, path = "/api/desk/done", tag = "tickets",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Done with the caller handed over live: free for the next", body = [Presence]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn desk_done(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Presence>>> {
    caller.require(&[Role::Medical], "take the next caller")?;
    state.centre.desk().live_call_ended(caller.id()).await;
    Ok(Json(state.centre.desk().members()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    pub contact: i64,
    pub contact_name: String,
    pub campaign: i64,
    /// `unreachable_high_risk`, or `triage_override` (danger signs saved
    /// without an escalation; `detail` has the rule and the agent's reason).
    pub kind: String,
    pub day: String,
    pub detail: String,
    pub created_at: i64,
}

#[utoipa::path(get, path = "/api/alerts", tag = "contacts",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Open alerts: high-risk people not reached today", body = [AlertView]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AlertView>>> {
    caller.require(&[Role::Supervisor, Role::Medical], "see alerts")?;
    let mut views = Vec::new();
    for a in state.store.open_alerts().await? {
        let contact_name = state.store.contact(a.contact).await?.name;
        views.push(AlertView {
            id: a.id,
            contact: a.contact.0,
            contact_name,
            campaign: a.campaign.0,
            kind: a.kind,
            day: a.day,
            detail: a.detail,
            created_at: a.created_at,
        });
    }
    Ok(Json(views))
}
