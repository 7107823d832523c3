//! Logging in and out, who am I, and the questionnaire every desk shows.

use super::Json;
use crate::auth::{hash_password, new_token, token_hash, verify_password, Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::questionnaire::Questionnaire;
use crate::{now_ms, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use sanjeevani_store::Role;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
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
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; also set as an HttpOnly cookie.
    pub token: String,
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

/// A hash to verify against when the user does not exist, so that a wrong
/// username takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password"))
}

#[utoipa::path(post, path = "/api/login", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this username", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    state.logins.check(&request.username)?;
    let found = state.store.user_for_login(&request.username).await?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password = request.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match found {
        Some((user, _)) if ok && !user.disabled => user,
        _ => {
            tracing::info!(username = %request.username, "failed login");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "wrong username or password",
            ));
        }
    };
    let token = new_token();
    let now = now_ms();
    let expires = now + i64::from(state.config.auth.session_hours) * 3_600_000;
    state
        .store
        .create_session(&token_hash(&token), user.id, now, expires)
        .await?;
    tracing::info!(user = %user.username, role = user.role.name(), "logged in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        i64::from(state.config.auth.session_hours) * 3600
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    Ok((
        headers,
        Json(LoginResponse {
            token,
            user: UserView::from(&user),
        }),
    ))
}

#[utoipa::path(post, path = "/api/logout", tag = "session",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    state.store.delete_session(&caller.token_hash).await?;
    // A member who logs out is not rung any more.
    if caller.user.role == Role::Medical {
        state.centre.desk().member_out(caller.id()).await;
    }
    let mut headers = HeaderMap::new();
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    headers.insert(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    Ok((StatusCode::NO_CONTENT, headers))
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
