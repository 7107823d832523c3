//! Supervision and recordings from the console: a supervisor listens to,
//! whispers to or barges into an agent's calls on their own phone (their
//! account's phone setting), and plays back recorded calls, served from
//! Asterisk's recording store through ARI. Every session and every playback
//! is audited.

use super::{Json, Path, Query};
use crate::auth::Caller;
use crate::config::TelephonyKind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::phones::PhoneUse;
use crate::supervision::{Mode, Session};
use crate::{now_ms, AppState};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sanjeevani_store::{AttemptId, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const SUPERVISORS: &[Role] = &[Role::Supervisor, Role::Admin];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseRequest {
    /// The agent's user id.
    pub agent: i64,
    pub mode: Mode,
}

#[utoipa::path(post, path = "/api/supervision", tag = "supervision",
    request_body = SuperviseRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, description = "The supervisor's phone is ringing", body = Session),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The agent is not logged in, the supervisor has no phone, or the telephony cannot supervise", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<SuperviseRequest>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    caller.require(SUPERVISORS, "listen to agents' calls")?;
    if state.config.telephony.kind != TelephonyKind::Ari {
        return Err(ApiError::conflict(
            "listening, whispering and barging need Asterisk (telephony kind \"ari\")",
        ));
    }
    let campaign = state.centre.agent_campaign(request.agent).ok_or_else(|| {
        ApiError::conflict(format!(
            "agent: user {} is not logged in to a campaign",
            request.agent
        ))
    })?;
    let phone = state
        .centre
        .phone_of(&caller.user, PhoneUse::Supervisor)
        .ok_or_else(|| {
            ApiError::conflict("your account has no phone: an admin sets one for you")
        })?;
    let session = state
        .centre
        .supervision()
        .start(campaign, caller.id(), request.agent, &phone, request.mode)
        .ok_or_else(|| {
            ApiError::unavailable("the campaign's telephony is not running on this node")
        })?;
    state
        .store
        .audit(
            &caller.user,
            "supervise",
            &format!("agent/{}", request.agent),
            &format!("{:?} session {}", request.mode, session.id).to_lowercase(),
            now_ms(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(session)))
}

#[utoipa::path(get, path = "/api/supervision", tag = "supervision",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Sessions under way on this node", body = [Session]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Session>>> {
    caller.require(SUPERVISORS, "see supervision sessions")?;
    Ok(Json(state.centre.supervision().sessions()))
}

#[utoipa::path(post, path = "/api/supervision/{id}/stop", tag = "supervision",
    params(("id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Ended: the supervisor's phone is hung up", body = Session),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> ApiResult<Json<Session>> {
    caller.require(SUPERVISORS, "end supervision sessions")?;
    let session = state
        .centre
        .supervision()
        .stop(id)
        .ok_or_else(|| ApiError::not_found(format!("no supervision session {id}")))?;
    state
        .store
        .audit(
            &caller.user,
            "supervise_stop",
            &format!("agent/{}", session.agent),
            &format!("session {id}"),
            now_ms(),
        )
        .await?;
    Ok(Json(session))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordingsQuery {
    /// Calls of the last this many days (default 1, at most 31).
    pub days: Option<u32>,
}

/// A recorded call.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingView {
    pub attempt: i64,
    pub campaign: i64,
    pub agent: Option<i64>,
    pub agent_name: Option<String>,
    /// When the call reached the agent, and ended (ms since the epoch).
    pub connect_at: Option<i64>,
    pub end_at: Option<i64>,
    /// Where it plays: `GET` it for the audio.
    pub audio: String,
}

#[utoipa::path(get, path = "/api/recordings", tag = "supervision", params(RecordingsQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Recorded calls, newest first (at most 500)", body = [RecordingView]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn recordings(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RecordingsQuery>,
) -> ApiResult<Json<Vec<RecordingView>>> {
    caller.require(SUPERVISORS, "list recordings")?;
    let days = query.days.unwrap_or(1);
    if !(1..=31).contains(&days) {
        return Err(ApiError::invalid(format!(
            "days: {days} is not between 1 and 31"
        )));
    }
    let now = now_ms();
    let names = super::people::display_names(&state).await?;
    let mut recorded: Vec<RecordingView> = state
        .store
        .attempts_between(now - i64::from(days) * 86_400_000, now + 1)
        .await?
        .into_iter()
        .filter(|a| a.recording.is_some())
        .map(|a| RecordingView {
            attempt: a.id.0,
            campaign: a.campaign.0,
            agent: a.agent,
            agent_name: a.agent.and_then(|id| names.get(&id).cloned()),
            connect_at: a.connect_at,
            end_at: a.end_at,
            audio: format!("/api/recordings/{}/audio", a.id.0),
        })
        .collect();
    recorded.reverse();
    recorded.truncate(500);
    Ok(Json(recorded))
}

#[utoipa::path(get, path = "/api/recordings/{id}/audio", tag = "supervision",
    params(("id" = i64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The recording (audio/wav)", content_type = "audio/wav", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Asterisk did not give the recording", body = ErrorBody)))]
pub async fn audio(
    State(state): State<AppState>,
    caller: Caller,
    Path(attempt): Path<i64>,
) -> ApiResult<Response> {
    caller.require(SUPERVISORS, "play recordings")?;
    let not_recorded = || ApiError::not_found(format!("call {attempt} has no recording"));
    let record = state
        .store
        .attempt(AttemptId(attempt))
        .await
        .map_err(|_| not_recorded())?;
    let name = record.recording.ok_or_else(not_recorded)?;
    let telephony = &state.config.telephony;
    let url = format!(
        "{}/ari/recordings/stored/{name}/file",
        telephony.ari_url.trim_end_matches('/')
    );
    let answer = reqwest::Client::new()
        .get(url)
        .basic_auth(&telephony.ari_username, Some(&telephony.ari_password))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| ApiError::unavailable(format!("Asterisk did not answer: {e}")))?;
    match answer.status().as_u16() {
        200 => {}
        404 => {
            return Err(ApiError::not_found(format!(
                "Asterisk no longer has the recording of call {attempt}"
            )))
        }
        status => {
            return Err(ApiError::unavailable(format!(
                "Asterisk answered {status} for the recording"
            )))
        }
    }
    state
        .store
        .audit(
            &caller.user,
            "play_recording",
            &format!("attempt/{attempt}"),
            "",
            now_ms(),
        )
        .await?;
    let body = Body::from_stream(answer.bytes_stream());
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
