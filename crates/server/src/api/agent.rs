//! The agent's own controls: join a campaign, ready, pause, hang up, log out.
//! Only agents use these, and only for themselves.

use super::Json;
use crate::auth::Caller;
use crate::centre::ControlError;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::phones::PhoneUse;
use crate::AppState;
use axum::extract::State;
use sanjeevani_core::AgentId;
use sanjeevani_dialer::{AgentView, Control};
use sanjeevani_store::{CampaignId, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentStatus {
    /// The campaign the agent works; none when logged out.
    pub campaign: Option<i64>,
    /// logged out, paused, ready, reserved, on call or in wrap-up.
    pub state: String,
    pub for_secs: u64,
    /// `pause` or `log out` once the call and its wrap-up are over (a
    /// supervisor's or the agent's own request on a call).
    pub after_call: Option<String>,
    /// The call on the agent's screen: attempt and contact ids.
    #[schema(value_type = Option<Object>)]
    pub call: Option<sanjeevani_dialer::CallView>,
    /// Preview mode: the contact shown to the agent before it is dialled.
    pub preview: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinCampaign {
    pub campaign: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// break, training, meeting, technical …: at most 100 characters, in the
    /// log.
    #[serde(default)]
    pub reason: String,
}

const MAX_PAUSE_REASON: usize = 100;

pub(crate) fn agent_id(caller: &Caller) -> AgentId {
    AgentId(caller.id() as u64)
}

/// The agent's state as the campaign's dialer last published it.
pub(crate) fn status_of(state: &AppState, user: i64) -> AgentStatus {
    let campaign = state.centre.agent_campaign(user);
    let view: Option<AgentView> = campaign.and_then(|c| {
        state
            .centre
            .view(c)
            .and_then(|v| v.agents.into_iter().find(|a| a.id == user as u64))
    });
    AgentStatus {
        campaign: campaign.map(|c| c.0),
        state: view.as_ref().map_or("logged out", |v| v.state).to_string(),
        for_secs: view.as_ref().map_or(0, |v| v.for_secs),
        after_call: view.as_ref().and_then(|v| v.after_call).map(str::to_string),
        preview: view.as_ref().and_then(|v| v.preview).map(|c| c.0),
        call: view.and_then(|v| v.call),
    }
}

fn require_agent(caller: &Caller) -> ApiResult<()> {
    caller.require(&[Role::Agent], "use the agent controls")
}

/// Sends `control` to the agent's campaign, then reports the agent's state
/// once the dialer has handled it.
async fn act(
    state: &AppState,
    caller: &Caller,
    make: fn(AgentId) -> Control,
) -> ApiResult<Json<AgentStatus>> {
    require_agent(caller)?;
    let campaign = state
        .centre
        .agent_campaign(caller.id())
        .ok_or_else(|| ApiError::conflict("log in to a campaign first (POST /api/agent/login)"))?;
    // The core says what may be done in the agent's state (a pause on a call
    // waits for its end; ready on a call is refused).
    send(state, campaign, make(agent_id(caller))).await?;
    Ok(Json(status_of(state, caller.id())))
}

/// Sends a control and waits until the dialer has published the result.
pub(crate) async fn send(
    state: &AppState,
    campaign: CampaignId,
    control: Control,
) -> ApiResult<()> {
    match state.centre.control(campaign, control).await {
        Ok(()) => Ok(()),
        // The core's own refusal, in its words ("agent 3 is on call and cannot be ready").
        Err(ControlError::Refused(refused)) => Err(ApiError::conflict(refused.to_string())),
        Err(ControlError::NotRunning) => Err(ApiError::unavailable(format!(
            "campaign {} is not running on this node",
            campaign.0
        ))),
        Err(e @ ControlError::NoAnswer) => Err(ApiError::unavailable(e.to_string())),
    }
}

#[utoipa::path(get, path = "/api/agent", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    require_agent(&caller)?;
    Ok(Json(status_of(&state, caller.id())))
}

#[utoipa::path(post, path = "/api/agent/login", tag = "agent", request_body = JoinCampaign,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<JoinCampaign>,
) -> ApiResult<Json<AgentStatus>> {
    require_agent(&caller)?;
    let campaign = state.store.campaign(CampaignId(request.campaign)).await?.id;
    match state.centre.agent_campaign(caller.id()) {
        Some(current) if current != campaign => {
            return Err(ApiError::conflict(format!(
                "already logged in to campaign {}; log out first",
                current.0
            )))
        }
        _ => {}
    }
    let login = Control::AgentLogin {
        agent: agent_id(&caller),
        phone: state.centre.phone_of(&caller.user, PhoneUse::Agent),
    };
    send(&state, campaign, login).await?;
    state.centre.set_agent_campaign(caller.id(), Some(campaign));
    Ok(Json(status_of(&state, caller.id())))
}

#[utoipa::path(post, path = "/api/agent/ready", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    act(&state, &caller, Control::AgentReady).await
}

#[utoipa::path(post, path = "/api/agent/pause", tag = "agent", request_body = PauseRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<PauseRequest>,
) -> ApiResult<Json<AgentStatus>> {
    if request.reason.chars().count() > MAX_PAUSE_REASON {
        return Err(ApiError::invalid(format!(
            "reason: at most {MAX_PAUSE_REASON} characters"
        )));
    }
    let status = act(&state, &caller, Control::AgentPause).await?;
    tracing::info!(user = caller.id(), reason = %request.reason.escape_debug(), "agent paused");
    Ok(status)
}

#[utoipa::path(post, path = "/api/agent/hangup", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn hangup(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    act(&state, &caller, Control::AgentHangup).await
}

#[utoipa::path(post, path = "/api/agent/logout", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    let status = act(&state, &caller, Control::AgentLogout).await?;
    if status.0.state == "logged out" {
        state.centre.set_agent_campaign(caller.id(), None);
    }
    Ok(status)
}

#[utoipa::path(post, path = "/api/agent/next", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Preview mode: the next contact is dialled for the agent", body = AgentStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn next(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    act(&state, &caller, Control::PreviewDial).await
}

#[utoipa::path(post, path = "/api/agent/preview", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Preview mode: the next contact is held for the agent to see (`preview`) before they dial it or skip it", body = AgentStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AgentStatus>> {
    act(&state, &caller, Control::PreviewShow).await
}

#[utoipa::path(post, path = "/api/agent/skip", tag = "agent",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Preview mode: the contact shown goes back to the list and the next one is shown", body = AgentStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn skip(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AgentStatus>> {
    let skipped = status_of(&state, caller.id()).preview;
    let status = act(&state, &caller, Control::PreviewSkip).await?;
    if let Some(contact) = skipped {
        state
            .store
            .audit(
                &caller.user,
                "preview_skipped",
                &format!("contact/{contact}"),
                "",
                crate::now_ms(),
            )
            .await?;
    }
    Ok(status)
}

/// What a supervisor does to an agent's seat.
#[derive(Debug, Clone, Copy)]
enum SeatAction {
    Pause,
    LogOut,
}

/// A supervisor pauses or logs out an agent (gone for a break with the seat
/// ready, say). On a call, the call and its wrap-up finish first; the agent
/// is then paused or logged out instead of becoming ready. Audited.
async fn supervise_seat(
    state: &AppState,
    caller: &Caller,
    agent: i64,
    action: SeatAction,
) -> ApiResult<Json<AgentStatus>> {
    caller.require(&[Role::Supervisor], "pause or log out agents")?;
    let campaign = state
        .centre
        .agent_campaign(agent)
        .ok_or_else(|| ApiError::conflict("the agent is not logged in to a campaign"))?;
    let before = status_of(state, agent);
    let (control, verb) = match action {
        SeatAction::Pause => (
            Control::AgentPause(AgentId(agent as u64)),
            "agent_force_pause",
        ),
        SeatAction::LogOut => (
            Control::AgentLogout(AgentId(agent as u64)),
            "agent_force_logout",
        ),
    };
    send(state, campaign, control).await?;
    let after = status_of(state, agent);
    if after.state == "logged out" {
        state.centre.set_agent_campaign(agent, None);
    }
    state
        .store
        .audit(
            &caller.user,
            verb,
            &format!("user/{agent}"),
            &format!(
                "campaign {}: {} → {}",
                campaign.0, before.state, after.state
            ),
            crate::now_ms(),
        )
        .await?;
    Ok(Json(after))
}

#[utoipa::path(post, path = "/api/agents/{id}/pause", tag = "agent", params(("id" = i64, Path, description = "The agent's user id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Paused, or to be paused when the call and its wrap-up end", body = AgentStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn force_pause(
    State(state): State<AppState>,
    caller: Caller,
    super::Path(id): super::Path<i64>,
) -> ApiResult<Json<AgentStatus>> {
    supervise_seat(&state, &caller, id, SeatAction::Pause).await
}

#[utoipa::path(post, path = "/api/agents/{id}/logout", tag = "agent", params(("id" = i64, Path, description = "The agent's user id")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Logged out, or to be when the call and its wrap-up end", body = AgentStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn force_logout(
    State(state): State<AppState>,
    caller: Caller,
    super::Path(id): super::Path<i64>,
) -> ApiResult<Json<AgentStatus>> {
    supervise_seat(&state, &caller, id, SeatAction::LogOut).await
}
