//! Calls from the agent's side: recent calls, disposition with questionnaire
//! answers, scheduling a callback, escalating to the medical wing. An agent
//! may act only on calls that reached them.

use super::{Json, Path, Query};
use crate::auth::Caller;
use crate::centre::DeskEvent;
use crate::desk::NotTransferable;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::questionnaire::RuleUrgency;
use crate::{now_ms, AppState};
use axum::extract::State;
use sanjeevani_core::CallId;
use sanjeevani_dialer::Control;
use sanjeevani_store::{Attempt, AttemptId, CampaignId, NewTicket, Role, Urgency};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What an agent may record as the result of a call.
pub const DISPOSITIONS: [&str; 8] = [
    "well",
    "symptoms_reported",
    "escalated",
    "callback_requested",
    "wrong_number",
    "refused",
    "discharged",
    "do_not_call",
];

#[derive(Debug, Serialize, ToSchema)]
pub struct CallRecord {
    pub attempt: i64,
    pub contact: i64,
    pub campaign: i64,
    pub agent: Option<i64>,
    pub dial_at: i64,
    pub connect_at: Option<i64>,
    pub end_at: Option<i64>,
    /// Empty while the call is in progress.
    pub outcome: Option<String>,
}

impl From<&Attempt> for CallRecord {
    fn from(a: &Attempt) -> Self {
        CallRecord {
            attempt: a.id.0,
            contact: a.contact.0,
            campaign: a.campaign.0,
            agent: a.agent,
            dial_at: a.dial_at,
            connect_at: a.connect_at,
            end_at: a.end_at,
            outcome: a.outcome.map(|o| o.name().to_string()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallsQuery {
    /// At most this many, newest first (default 50, at most 500).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/calls", tag = "calls", params(CallsQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Calls of the last 24 hours: an agent's own, or everyone's for supervisors", body = [CallRecord]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<CallsQuery>,
) -> ApiResult<Json<Vec<CallRecord>>> {
    caller.require(&[Role::Admin, Role::Supervisor, Role::Agent], "list calls")?;
    let limit = query.limit.unwrap_or(50).min(500) as usize;
    let now = now_ms();
    let attempts = state
        .store
        .attempts_between(now - 86_400_000, now + 1)
        .await?;
    let own = caller.user.role == Role::Agent;
    Ok(Json(
        attempts
            .iter()
            .rev()
            .filter(|a| !own || a.agent == Some(caller.id()))
            .take(limit)
            .map(CallRecord::from)
            .collect(),
    ))
}

/// The attempt, if it reached this agent.
async fn own_call(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Attempt> {
    let attempt = state.store.attempt(AttemptId(id)).await?;
    if caller.user.role == Role::Agent && attempt.agent != Some(caller.id()) {
        // Not "forbidden": an agent learns nothing about other people's calls.
        return Err(ApiError::not_found(format!("no call {id} of yours")));
    }
    Ok(attempt)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionRequest {
    /// well, symptoms_reported, escalated, callback_requested, wrong_number,
    /// refused, discharged or do_not_call.
    pub code: String,
    /// Questionnaire answers keyed by question id.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    #[serde(default)]
    pub notes: String,
    /// After saving: `ready` (default) for the next call, or `pause`.
    #[serde(default)]
    pub then: Option<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub attempt: i64,
    pub code: String,
}

#[utoipa::path(post, path = "/api/calls/{id}/disposition", tag = "calls", params(("id" = i64, Path, description = "Attempt id")),
    request_body = DispositionRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Saved), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn disposition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<DispositionRequest>,
) -> ApiResult<Json<Saved>> {
    caller.require(&[Role::Agent], "record dispositions")?;
    if !DISPOSITIONS.contains(&request.code.as_str()) {
        return Err(ApiError::invalid(format!(
            "code: {:?} is not one of {}",
            request.code,
            DISPOSITIONS.join(", ")
        )));
    }
    let then = request.then.as_deref().unwrap_or("ready");
    if !matches!(then, "ready" | "pause") {
        return Err(ApiError::invalid(format!(
            "then: {then:?} is not ready or pause"
        )));
    }
    state
        .questionnaire
        .check(&request.answers)
        .map_err(ApiError::invalid)?;
    let attempt = own_call(&state, &caller, id).await?;
    let now = now_ms();
    state
        .store
        .record_disposition(
            attempt.id,
            Some(caller.id()),
            &request.code,
            &request.answers,
            &request.notes,
            now,
        )
        .await?;
    match request.code.as_str() {
        "discharged" => state.store.discharge(attempt.contact).await?,
        "do_not_call" | "wrong_number" => {
            let contact = state.store.contact(attempt.contact).await?;
            state
                .store
                .add_do_not_call(&[contact.phone], &request.code, now)
                .await?;
        }
        _ => {}
    }
    // Saving ends the agent's part of the call: hang up if still talking, then go on.
    if let Some(campaign) = state.centre.agent_campaign(caller.id()) {
        let me = super::agent::agent_id(&caller);
        if super::agent::status_of(&state, caller.id())
            .call
            .is_some_and(|c| c.attempt == attempt.id)
        {
            state
                .centre
                .control(campaign, Control::AgentHangup(me))
                .await;
        }
        let next = if then == "pause" {
            Control::AgentPause(me)
        } else {
            Control::AgentReady(me)
        };
        state.centre.control(campaign, next).await;
    }
    Ok(Json(Saved {
        attempt: attempt.id.0,
        code: request.code,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackRequest {
    /// When to call back, in minutes from now (1 to 10080).
    pub in_minutes: u32,
    /// Reserve the callback for the caller (an agent) instead of anyone.
    #[serde(default)]
    pub mine: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackScheduled {
    pub contact: i64,
    pub at: i64,
}

#[utoipa::path(post, path = "/api/calls/{id}/callback", tag = "calls", params(("id" = i64, Path, description = "Attempt id")),
    request_body = CallbackRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CallbackScheduled), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<CallbackRequest>,
) -> ApiResult<Json<CallbackScheduled>> {
    caller.require(&[Role::Agent, Role::Supervisor], "schedule callbacks")?;
    if !(1..=10_080).contains(&request.in_minutes) {
        return Err(ApiError::invalid("in_minutes: from 1 to 10080 (a week)"));
    }
    let attempt = own_call(&state, &caller, id).await?;
    let at = now_ms() + i64::from(request.in_minutes) * 60_000;
    let agent = (request.mine && caller.user.role == Role::Agent).then(|| caller.id());
    state
        .store
        .schedule_callback(attempt.contact, at, agent)
        .await?;
    Ok(Json(CallbackScheduled {
        contact: attempt.contact.0,
        at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// What the caller reported, in the agent's words.
    #[serde(default)]
    pub reason: String,
    /// Questionnaire answers so far.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// `urgent` or `routine`; default: urgent when the answers show danger
    /// signs (SpO2 below 94, breathlessness), else routine.
    pub urgency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Escalated {
    pub ticket: i64,
    pub urgency: String,
    /// `ringing`: the caller is held and the medical desk is being called
    /// (follow it on `/ws`); `none`: the call is not live here or the
    /// telephony has no warm transfer, so the ticket goes to the desk's queue.
    pub transfer: String,
}

#[utoipa::path(post, path = "/api/calls/{id}/escalate", tag = "calls", params(("id" = i64, Path, description = "Attempt id")),
    request_body = EscalateRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Escalated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "The call is already being transferred", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<EscalateRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<Escalated>)> {
    caller.require(&[Role::Agent], "escalate calls")?;
    state
        .questionnaire
        .check(&request.answers)
        .map_err(ApiError::invalid)?;
    let judged = request
        .urgency
        .as_deref()
        .map(|u| {
            Urgency::parse(u).ok_or_else(|| {
                ApiError::invalid(format!("urgency: {u:?} is not urgent or routine"))
            })
        })
        .transpose()?;
    let attempt = own_call(&state, &caller, id).await?;
    let contact = state.store.contact(attempt.contact).await?;
    // The agent's judgement first; otherwise the questionnaire's rules over
    // the answers and the contact's risk flags.
    let urgency = match judged {
        Some(urgency) => urgency,
        None => match state.questionnaire.triage(&request.answers, &contact.risk) {
            Some(rule) if rule.urgency == RuleUrgency::Urgent => Urgency::Urgent,
            _ => Urgency::Routine,
        },
    };
    // A warm transfer when the agent is talking with the caller over a PBX
    // that can hold and consult; otherwise straight to the desk's queue.
    let status = super::agent::status_of(&state, caller.id());
    let live = match (status.campaign, status.call) {
        (Some(campaign), Some(call)) if call.attempt == attempt.id && status.state == "on call" => {
            let (campaign, call) = (CampaignId(campaign), CallId(call.call));
            match state.centre.desk().transferable(campaign, call) {
                Ok(()) => Some((campaign, call)),
                Err(NotTransferable::AlreadyEscalated) => {
                    return Err(ApiError::conflict(format!(
                        "call {id} is already being transferred to the medical desk"
                    )))
                }
                Err(NotTransferable::NoTransfers) => None,
            }
        }
        _ => None,
    };
    let ticket = NewTicket {
        contact: attempt.contact,
        campaign: attempt.campaign,
        attempt: Some(attempt.id),
        urgency,
        reason: request.reason,
        answers: request.answers,
        raised_by: Some(caller.id()),
        transfer_node: live.map(|_| state.config.node.clone()),
        follow_node: Some(state.config.node.clone()),
    };
    // Stored before the desk is asked: whatever happens next, it is not lost.
    // Announced before too, so the desk's own news about it comes after.
    let ticket_id = state.store.create_ticket(&ticket, now_ms()).await?;
    let announce = |ticket| DeskEvent::Escalation { ticket };
    state
        .centre
        .tell_desk(announce(state.store.ticket(ticket_id).await?));
    let language = contact.language.clone().unwrap_or_default();
    let desk = state.centre.desk();
    let mut transfer = "none";
    if let Some((campaign, call)) = live {
        let agent = super::agent::agent_id(&caller);
        match desk
            .escalate(ticket_id, campaign, call, agent, urgency, language.clone())
            .await
        {
            Ok(()) => transfer = "ringing",
            Err(e) => {
                tracing::warn!(ticket = ticket_id, error = %e, "escalation not transferred");
                state
                    .store
                    .transfer_fell_back(ticket_id, "pbx_error", None)
                    .await?;
                state
                    .centre
                    .tell_desk(announce(state.store.ticket(ticket_id).await?));
            }
        }
    }
    if transfer == "none" {
        desk.follow(ticket_id, urgency, language, None, 0).await;
    }
    tracing::info!(ticket = ticket_id, urgency = urgency.name(), transfer, user = %caller.user.username, "escalated to the medical wing");
    Ok((
        axum::http::StatusCode::CREATED,
        Json(Escalated {
            ticket: ticket_id,
            urgency: urgency.name().into(),
            transfer: transfer.into(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferRequested {
    pub ticket: i64,
    /// `complete` or `cancel`; how it goes comes on `/ws` as `transfer` messages.
    pub requested: String,
}

/// Asks the desk to complete or cancel the caller's warm transfer `ticket`,
/// if it is theirs and in progress on this node.
async fn transfer_request(
    state: &AppState,
    caller: &Caller,
    ticket: i64,
    complete: bool,
) -> ApiResult<(axum::http::StatusCode, Json<TransferRequested>)> {
    caller.require(&[Role::Agent], "complete or cancel transfers")?;
    let desk = state.centre.desk();
    if desk.agent_of(ticket) != Some(super::agent::agent_id(caller)) {
        return Err(ApiError::not_found(format!(
            "no transfer {ticket} of yours in progress"
        )));
    }
    if complete {
        desk.complete(ticket).await;
    } else {
        desk.cancel(ticket).await;
    }
    let requested = if complete { "complete" } else { "cancel" };
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(TransferRequested {
            ticket,
            requested: requested.into(),
        }),
    ))
}

#[utoipa::path(post, path = "/api/escalations/{id}/complete", tag = "calls", params(("id" = i64, Path, description = "The escalation's ticket id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, description = "Asked: the caller is joined with the member consulted, the agent freed", body = TransferRequested),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn complete_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(ticket): Path<i64>,
) -> ApiResult<(axum::http::StatusCode, Json<TransferRequested>)> {
    transfer_request(&state, &caller, ticket, true).await
}

#[utoipa::path(post, path = "/api/escalations/{id}/cancel", tag = "calls", params(("id" = i64, Path, description = "The escalation's ticket id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, description = "Asked: the member is dropped, the agent is back with the caller and the escalation becomes a ticket", body = TransferRequested),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(ticket): Path<i64>,
) -> ApiResult<(axum::http::StatusCode, Json<TransferRequested>)> {
    transfer_request(&state, &caller, ticket, false).await
}
