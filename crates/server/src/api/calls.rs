//! Calls from the agent's side: recent calls, disposition with questionnaire
//! answers, scheduling a callback, escalating to the medical wing. An agent
//! may act only on calls that reached them.

use super::{Json, Path, Query};
use crate::auth::Caller;
use crate::centre::DeskEvent;
use crate::desk::NotTransferable;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::questionnaire::RuleUrgency;
use crate::questionnaire::{Label, Rule};
use crate::{now_ms, AppState};
use axum::extract::State;
use sanjeevani_core::CallId;
use sanjeevani_dialer::Control;
use sanjeevani_store::{
    Attempt, AttemptId, CampaignId, NewDisposition, NewTicket, Role, TriageOverride, Urgency,
};
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
    /// Why the call is saved without an escalation although its answers meet
    /// an urgent rule (at most 500 characters). Without it such a save is
    /// refused (`danger_signs`); with it the supervisor is alerted and the
    /// audit keeps it.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// The longest override reason.
const MAX_OVERRIDE: usize = 500;

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
        (status = 404, body = ErrorBody),
        (status = 409, description = "`danger_signs`: the answers meet an urgent rule; escalate, or give override_reason", body = ErrorBody),
        (status = 422, description = "A field is wrong, or `answers_missing`: required questions unanswered", body = ErrorBody)))]
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
    if request.notes.chars().count() > MAX_NOTES {
        return Err(ApiError::invalid(format!(
            "notes: at most {MAX_NOTES} characters"
        )));
    }
    let override_reason = request.override_reason.as_deref().map(str::trim);
    if override_reason.is_some_and(|r| r.chars().count() > MAX_OVERRIDE) {
        return Err(ApiError::invalid(format!(
            "override_reason: at most {MAX_OVERRIDE} characters"
        )));
    }
    state
        .questionnaire
        .check(&request.answers)
        .map_err(ApiError::invalid)?;
    let attempt = own_call(&state, &caller, id).await?;
    let triage = triage_of(&state, &attempt, &request.answers).await?;
    if matches!(request.code.as_str(), "well" | "symptoms_reported") && !triage.missing.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "answers_missing",
            format!(
                "answers: {} to be answered before saving as {}",
                triage.missing.join(", "),
                request.code
            ),
        ));
    }
    let now = now_ms();
    let triage_override = match (&triage.rule, triage.escalated) {
        (Some(rule), false) if rule.urgency == RuleUrgency::Urgent => {
            match override_reason.filter(|r| !r.is_empty()) {
                Some(reason) => Some(TriageOverride {
                    rule: rule.reason.en.clone(),
                    reason: reason.to_string(),
                    day: chrono::DateTime::from_timestamp_millis(now)
                        .unwrap_or_default()
                        .date_naive()
                        .to_string(),
                }),
                None => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "danger_signs",
                        format!(
                            "the answers meet an urgent rule ({}): escalate the call, or give override_reason",
                            rule.reason.en
                        ),
                    ))
                }
            }
        }
        _ => None,
    };
    let disposition = NewDisposition {
        attempt: attempt.id,
        agent: Some(caller.id()),
        code: request.code.clone(),
        answers: request.answers,
        notes: request.notes,
        triage_override,
    };
    state.store.record_disposition(&disposition, now).await?;
    if let Some(o) = &disposition.triage_override {
        state
            .store
            .audit(
                &caller.user,
                "triage_override",
                &format!("call/{}", attempt.id.0),
                &format!("{}: {}", o.rule, o.reason),
                now,
            )
            .await?;
    }
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
            // Refused only if the caller hung up meanwhile: the call is over either way.
            let _ = state
                .centre
                .control(campaign, Control::AgentHangup(me))
                .await;
        }
        let next = if then == "pause" {
            Control::AgentPause(me)
        } else {
            Control::AgentReady(me)
        };
        if let Err(e) = state.centre.control(campaign, next).await {
            // The result is saved; the agent's state is theirs to set again.
            tracing::info!(error = %e, "after saving, the agent's next state was not set");
        }
    }
    Ok(Json(Saved {
        attempt: attempt.id.0,
        code: request.code,
    }))
}

/// What the agent has typed for a call so far.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// Questionnaire answers so far, keyed by question id.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// At most 2000 characters.
    #[serde(default)]
    pub notes: String,
    /// The result picked so far, or empty.
    #[serde(default)]
    pub code: String,
}

/// The longest notes.
const MAX_NOTES: usize = 2000;

/// The questionnaire's rule that holds, as agent and doctor see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiredRule {
    /// urgent or routine.
    pub urgency: String,
    pub reason: Label,
}

impl From<&Rule> for FiredRule {
    fn from(rule: &Rule) -> Self {
        FiredRule {
            urgency: match rule.urgency {
                RuleUrgency::Urgent => "urgent",
                RuleUrgency::Routine => "routine",
            }
            .into(),
            reason: rule.reason.clone(),
        }
    }
}

/// What the questionnaire says of a call's answers so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct Triage {
    /// The most urgent rule that holds for the answers and the contact's risk.
    pub rule: Option<FiredRule>,
    /// Required questions not answered yet, in the questionnaire's order.
    pub missing: Vec<String>,
    /// The call has been escalated (a ticket was raised for it).
    pub escalated: bool,
}

/// The triage of `answers` for `attempt`'s contact.
struct TriageOf<'a> {
    rule: Option<&'a Rule>,
    missing: Vec<String>,
    escalated: bool,
}

async fn triage_of<'a>(
    state: &'a AppState,
    attempt: &Attempt,
    answers: &serde_json::Value,
) -> ApiResult<TriageOf<'a>> {
    let contact = state.store.contact(attempt.contact).await?;
    let escalated = state
        .store
        .tickets_of(attempt.contact)
        .await?
        .iter()
        .any(|t| t.attempt == Some(attempt.id));
    Ok(TriageOf {
        rule: state.questionnaire.triage(answers, &contact.risk),
        missing: state
            .questionnaire
            .unanswered(answers)
            .into_iter()
            .map(String::from)
            .collect(),
        escalated,
    })
}

#[utoipa::path(put, path = "/api/calls/{id}/draft", tag = "calls", params(("id" = i64, Path, description = "Attempt id")),
    request_body = Draft,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Kept; the rule that holds, the required questions left, whether escalated", body = Triage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(draft): Json<Draft>,
) -> ApiResult<Json<Triage>> {
    caller.require(&[Role::Agent], "record calls")?;
    if draft.notes.chars().count() > MAX_NOTES {
        return Err(ApiError::invalid(format!(
            "notes: at most {MAX_NOTES} characters"
        )));
    }
    if !draft.code.is_empty() && !DISPOSITIONS.contains(&draft.code.as_str()) {
        return Err(ApiError::invalid(format!(
            "code: {:?} is not a result",
            draft.code
        )));
    }
    state
        .questionnaire
        .check(&draft.answers)
        .map_err(ApiError::invalid)?;
    let attempt = own_call(&state, &caller, id).await?;
    let t = triage_of(&state, &attempt, &draft.answers).await?;
    let kept = sanjeevani_store::CallDraft {
        answers: draft.answers,
        notes: draft.notes,
        code: draft.code,
    };
    state.store.save_draft(attempt.id, &kept, now_ms()).await?;
    Ok(Json(Triage {
        rule: t.rule.map(FiredRule::from),
        missing: t.missing,
        escalated: t.escalated,
    }))
}

#[utoipa::path(get, path = "/api/calls/{id}/draft", tag = "calls", params(("id" = i64, Path, description = "Attempt id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "What was typed for the call so far (empty when nothing)", body = Draft),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Draft>> {
    caller.require(&[Role::Agent], "record calls")?;
    let attempt = own_call(&state, &caller, id).await?;
    let kept = state.store.draft(attempt.id).await?;
    Ok(Json(kept.map_or_else(
        || Draft {
            answers: empty_object(),
            notes: String::new(),
            code: String::new(),
        },
        |d| Draft {
            answers: d.answers,
            notes: d.notes,
            code: d.code,
        },
    )))
}

/// An answered call of the agent's with no result recorded yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unrecorded {
    pub attempt: i64,
    pub contact: i64,
    pub contact_name: String,
    pub dial_at: i64,
    /// Empty while the call is in progress.
    pub outcome: Option<String>,
}

#[utoipa::path(get, path = "/api/agent/unrecorded", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The agent's answered calls of the last 24 hours with no result recorded, oldest first (at most 50)", body = [Unrecorded]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn unrecorded(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Unrecorded>>> {
    caller.require(&[Role::Agent], "record calls")?;
    let since = now_ms() - 86_400_000;
    let mut out = Vec::new();
    for a in state
        .store
        .unrecorded_calls(caller.id(), since)
        .await?
        .into_iter()
        .take(50)
    {
        let contact = state.store.contact(a.contact).await?;
        out.push(Unrecorded {
            attempt: a.id.0,
            contact: a.contact.0,
            contact_name: contact.name,
            dial_at: a.dial_at,
            outcome: a.outcome.map(|o| o.name().to_string()),
        });
    }
    Ok(Json(out))
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
    let now = now_ms();
    let at = now + i64::from(request.in_minutes) * 60_000;
    let agent = (request.mine && caller.user.role == Role::Agent).then(|| caller.id());
    state
        .store
        .schedule_callback(attempt.contact, at, agent, now)
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
    let rule = state.questionnaire.triage(&request.answers, &contact.risk);
    let urgency = match (judged, rule) {
        (Some(urgency), _) => urgency,
        (None, Some(rule)) if rule.urgency == RuleUrgency::Urgent => Urgency::Urgent,
        (None, _) => Urgency::Routine,
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
        rule: rule.and_then(|r| serde_json::to_value(&r.reason).ok()),
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
