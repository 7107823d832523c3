//! The JSON API under `/api`, and its OpenAPI document.
//!
//! Every route but `POST /api/login` and the document itself takes a
//! [`Caller`](crate::auth::Caller) and checks its role first. Errors are
//! [`ErrorBody`](crate::error::ErrorBody) JSON.

pub mod agent;
pub mod calls;
pub mod campaigns;
pub mod desk;
pub mod ops;
pub mod people;
pub mod session;
pub mod supervision;

use crate::error::ErrorBody;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::routing::{get, post, put};
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// JSON bodies whose rejections are our own error JSON, naming the field.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(crate::error::ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for crate::error::ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // 400 for broken JSON, 415 without a JSON content type, 422 for wrong fields.
        crate::error::ApiError::new(rejection.status(), "invalid_request", rejection.body_text())
    }
}

/// Path parameters with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(crate::error::ApiError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for crate::error::ApiError {
    fn from(rejection: PathRejection) -> Self {
        crate::error::ApiError::invalid(rejection.body_text())
    }
}

/// Query parameters with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(crate::error::ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for crate::error::ApiError {
    fn from(rejection: QueryRejection) -> Self {
        crate::error::ApiError::invalid(rejection.body_text())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sanjeevani",
        description = "Predictive dialer for public-health outreach call centres. \
            Log in with POST /api/login: the answer sets the HttpOnly session cookie; send it \
            back, or its value as `Authorization: Bearer …`."
    ),
    paths(
        session::login, session::logout, session::me, session::change_password, session::questionnaire,
        campaigns::list, campaigns::create, campaigns::get_one, campaigns::start,
        campaigns::pause, campaigns::stop, campaigns::set_pacing, campaigns::set_settings,
        campaigns::attach_list, campaigns::live,
        campaigns::history, campaigns::lists, campaigns::preview, campaigns::upload,
        agent::status, agent::login, agent::ready, agent::pause, agent::logout, agent::hangup, agent::next, agent::preview, agent::skip,
        agent::force_pause, agent::force_logout,
        calls::list, calls::disposition, calls::save_draft, calls::draft, calls::unrecorded,
        calls::callback, calls::escalate,
        calls::complete_transfer, calls::cancel_transfer,
        desk::contact, desk::tickets, desk::assign, desk::resolve, desk::callback, desk::alerts,
        desk::members, desk::desk_in, desk::desk_out, desk::desk_done,
        people::users, people::create_user, people::disable_user, people::enable_user,
        people::reset_password, people::set_phone, people::audit,
        people::daily_report,
        supervision::start, supervision::list, supervision::stop, supervision::recordings,
        supervision::audio,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Bad input is answered the same way everywhere: 400 for broken JSON,
        // 415 for a body that is not JSON, 422 for a field or parameter that is
        // wrong. Declared once here rather than on every route.
        let error = |description: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                // Handler names repeat across modules (list, login, pause): qualify them by tag.
                if let (Some(id), Some(tag)) = (
                    &operation.operation_id,
                    operation.tags.as_ref().and_then(|t| t.first()),
                ) {
                    operation.operation_id = Some(format!("{tag}_{id}"));
                }
                let responses = &mut operation.responses.responses;
                let takes_input =
                    operation.request_body.is_some() || operation.parameters.is_some();
                if operation.request_body.is_some() {
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("Malformed JSON").into());
                    responses.entry("415".into()).or_insert_with(|| {
                        error("The body is not of the declared content type").into()
                    });
                }
                if takes_input {
                    responses.entry("422".into()).or_insert_with(|| {
                        error("A field or parameter is invalid; the message names it").into()
                    });
                }
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        // A login carries two short strings: its body is kept small.
        .route(
            "/api/login",
            post(session::login).layer(axum::extract::DefaultBodyLimit::max(4096)),
        )
        .route("/api/logout", post(session::logout))
        .route("/api/me", get(session::me))
        .route("/api/me/password", post(session::change_password))
        .route("/api/questionnaire", get(session::questionnaire))
        .route(
            "/api/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/api/campaigns/{id}", get(campaigns::get_one))
        .route("/api/campaigns/{id}/start", post(campaigns::start))
        .route("/api/campaigns/{id}/pause", post(campaigns::pause))
        .route("/api/campaigns/{id}/stop", post(campaigns::stop))
        .route("/api/campaigns/{id}/pacing", put(campaigns::set_pacing))
        .route("/api/campaigns/{id}/settings", put(campaigns::set_settings))
        .route("/api/campaigns/{id}/lists", post(campaigns::attach_list))
        .route("/api/campaigns/{id}/live", get(campaigns::live))
        .route("/api/campaigns/{id}/history", get(campaigns::history))
        .route("/api/lists", get(campaigns::lists))
        .route("/api/lists/preview", post(campaigns::preview))
        .route("/api/lists/{name}/contacts", post(campaigns::upload))
        .route("/api/agent", get(agent::status))
        .route("/api/agent/login", post(agent::login))
        .route("/api/agent/ready", post(agent::ready))
        .route("/api/agent/pause", post(agent::pause))
        .route("/api/agent/logout", post(agent::logout))
        .route("/api/agent/hangup", post(agent::hangup))
        .route("/api/agent/next", post(agent::next))
        .route("/api/agent/preview", post(agent::preview))
        .route("/api/agent/skip", post(agent::skip))
        .route("/api/agents/{id}/pause", post(agent::force_pause))
        .route("/api/agents/{id}/logout", post(agent::force_logout))
        .route("/api/calls", get(calls::list))
        .route("/api/calls/{id}/disposition", post(calls::disposition))
        .route("/api/calls/{id}/callback", post(calls::callback))
        .route("/api/calls/{id}/escalate", post(calls::escalate))
        .route(
            "/api/calls/{id}/draft",
            put(calls::save_draft).get(calls::draft),
        )
        .route("/api/agent/unrecorded", get(calls::unrecorded))
        .route(
            "/api/escalations/{id}/complete",
            post(calls::complete_transfer),
        )
        .route("/api/escalations/{id}/cancel", post(calls::cancel_transfer))
        .route("/api/contacts/{id}", get(desk::contact))
        .route("/api/tickets", get(desk::tickets))
        .route("/api/tickets/{id}/assign", post(desk::assign))
        .route("/api/tickets/{id}/resolve", post(desk::resolve))
        .route("/api/tickets/{id}/callback", post(desk::callback))
        .route("/api/desk", get(desk::members))
        .route("/api/desk/in", post(desk::desk_in))
        .route("/api/desk/out", post(desk::desk_out))
        .route("/api/desk/done", post(desk::desk_done))
        .route("/api/alerts", get(desk::alerts))
        .route("/api/users", get(people::users).post(people::create_user))
        .route("/api/users/{id}/disable", post(people::disable_user))
        .route("/api/users/{id}/enable", post(people::enable_user))
        .route("/api/users/{id}/password", post(people::reset_password))
        .route("/api/users/{id}/phone", post(people::set_phone))
        .route("/api/audit", get(people::audit))
        .route("/api/reports/daily", get(people::daily_report))
        .route(
            "/api/supervision",
            get(supervision::list).post(supervision::start),
        )
        .route("/api/supervision/{id}/stop", post(supervision::stop))
        .route("/api/recordings", get(supervision::recordings))
        .route("/api/recordings/{id}/audio", get(supervision::audio))
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
