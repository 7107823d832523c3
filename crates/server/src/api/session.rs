//! Logging in and out, who am I, changing one's own password, and the
//! questionnaire every desk shows.

use super::Json;
use crate::accounts;
use crate::auth::{
    new_token, session_cookie, token_hash, Caller, Refusal, MAX_PASSWORD, MAX_USERNAME,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::protect::Client;
use crate::questionnaire::Questionnaire;
use crate::{now_ms, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// At most 64 characters.
    pub username: String,
    /// At most 1024 characters.
    pub password: String,
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// admin, supervisor, agent or medical.
    pub role: String,
    pub disabled: bool,
    /// The phone their calls reach; absent: the telephony's rule from the
    /// username.
    pub phone: Option<String>,
    /// Their password was set by someone else: until they choose one
    /// (`POST /api/me/password`), nothing else is allowed.
    pub must_change_password: bool,
}

impl From<&sanjeevani_store::User> for UserView {
    fn from(u: &sanjeevani_store::User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.name().into(),
            disabled: u.disabled,
            phone: u.phone.clone(),
            must_change_password: u.must_change_password,
        }
    }
}

/// The session is the HttpOnly cookie set with this answer (send it back as
/// the cookie, or its value as `Authorization: Bearer …`); the token is
/// never in a body a page's script could read.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
    /// True when calls are simulated (no real PBX): every page says so.
    pub simulated_telephony: bool,
    /// The campaign an agent is logged in to.
    pub campaign: Option<i64>,
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "wrong username or password",
    )
}

#[utoipa::path(post, path = "/api/login", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Logged in: the session cookie is set"),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this username, or failures from this address", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    Json(request): Json<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let LoginRequest { username, password } = request;
    if username.is_empty() || username.len() > MAX_USERNAME || password.len() > MAX_PASSWORD {
        return Err(ApiError::invalid(format!(
            "username: 1 to {MAX_USERNAME} bytes; password: at most {MAX_PASSWORD}"
        )));
    }
    let admitted = state
        .logins
        .admit(client.ip, &username, now_ms())
        .map_err(|refusal| {
            let why = match refusal {
                Refusal::Account => "too many login attempts for this user; wait a minute",
                Refusal::Client => "too many failed logins from your address; wait a minute",
            };
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", why)
        })?;
    let found = state.store.user_for_login(&username).await?;
    let user = match found {
        Some((user, hash)) => {
            let ok = state.logins.check_password(password, hash).await;
            (ok && !user.disabled).then_some(user)
        }
        None => {
            // As slow as a wrong password, without the work.
            state.logins.pretend_check().await;
            None
        }
    };
    let Some(user) = user else {
        // The username is not logged: people type passwords into it.
        if admitted.first_from_client {
            tracing::info!(client = %client.ip, "failed login (more from this address this minute are counted, not logged)");
        }
        metrics::counter!("sanjeevani_failed_logins_total").increment(1);
        return Err(wrong_credentials());
    };
    state.logins.succeeded(client.ip, &username);
    let token = new_token();
    let now = now_ms();
    let max_age = i64::from(state.config.auth.session_hours) * 3600;
    state
        .store
        .create_session(&token_hash(&token), user.id, now, now + max_age * 1000)
        .await?;
    tracing::info!(user = user.id, role = user.role.name(), "logged in");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session_cookie(Some(&token), max_age, client.https),
    );
    Ok((
        headers,
        Json(LoginResponse {
            user: UserView::from(&user),
        }),
    ))
}

#[utoipa::path(post, path = "/api/logout", tag = "session",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "The session ends; an agent leaves their campaign, a desk member the desk"),
        (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    client: Client,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    state.store.delete_session(&caller.token_hash).await?;
    // Whoever logs out stops working: no more calls, no more consults.
    state.centre.user_left(&caller.user).await;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(None, 0, client.https));
    Ok((StatusCode::NO_CONTENT, headers))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// 12 to 128 characters, not a common password nor the username.
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/me/password", tag = "session", request_body = ChangePassword,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Changed; the user's other sessions end"),
        (status = 401, body = ErrorBody), (status = 403, description = "The current password is wrong", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    client: Client,
    caller: Caller,
    Json(request): Json<ChangePassword>,
) -> ApiResult<StatusCode> {
    if request.current_password.len() > MAX_PASSWORD {
        return Err(ApiError::invalid(format!(
            "current_password: at most {MAX_PASSWORD} bytes"
        )));
    }
    // Guessing the current password through this route is limited like a login.
    let username = &caller.user.username;
    state
        .logins
        .admit(client.ip, username, now_ms())
        .map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts; wait a minute",
            )
        })?;
    let hash = state
        .store
        .user_for_login(username)
        .await?
        .map(|(_, hash)| hash)
        .ok_or_else(ApiError::unauthenticated)?;
    if !state
        .logins
        .check_password(request.current_password, hash)
        .await
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "current_password: wrong password",
        ));
    }
    state.logins.succeeded(client.ip, username);
    accounts::change_own(
        &*state.store,
        &caller.user,
        request.new_password,
        &caller.token_hash,
    )
    .await
    .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/me", tag = "session",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserView::from(&caller.user),
        simulated_telephony: state.centre.is_simulated(),
        campaign: state.centre.agent_campaign(caller.id()).map(|c| c.0),
    })
}

#[utoipa::path(get, path = "/api/questionnaire", tag = "session",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Questionnaire), (status = 401, body = ErrorBody)))]
pub async fn questionnaire(State(state): State<AppState>, _caller: Caller) -> Json<Questionnaire> {
    Json(state.questionnaire.clone())
}
