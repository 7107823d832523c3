//! The web pages, compiled into the binary: no separate front-end build.
//! Plain HTML, CSS and JavaScript; data comes from the API and `/ws`.

use crate::AppState;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../web/index.html");
const AGENT: &str = include_str!("../web/agent.html");
const SUPERVISOR: &str = include_str!("../web/supervisor.html");
const MEDICAL: &str = include_str!("../web/medical.html");
const APP_JS: &str = include_str!("../web/app.js");
const APP_CSS: &str = include_str!("../web/app.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Html(INDEX) }))
        .route("/agent", get(|| async { Html(AGENT) }))
        .route("/supervisor", get(|| async { Html(SUPERVISOR) }))
        .route("/medical", get(|| async { Html(MEDICAL) }))
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
                    .into_response()
            }),
        )
        .route(
            "/assets/app.css",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
            }),
        )
}
