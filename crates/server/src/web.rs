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
const ADMIN: &str = include_str!("../web/admin.html");
const FAVICON: &str = include_str!("../web/favicon.svg");
const APP_CSS: &str = include_str!("../web/app.css");

/// The pages' scripts, all served from `/assets` (the Content-Security-Policy
/// allows no inline script).
const SCRIPTS: [(&str, &str); 6] = [
    ("/assets/app.js", include_str!("../web/app.js")),
    ("/assets/index.js", include_str!("../web/index.js")),
    ("/assets/agent.js", include_str!("../web/agent.js")),
    (
        "/assets/supervisor.js",
        include_str!("../web/supervisor.js"),
    ),
    ("/assets/medical.js", include_str!("../web/medical.js")),
    ("/assets/admin.js", include_str!("../web/admin.js")),
];

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (path, script) in SCRIPTS {
        router = router.route(
            path,
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    script,
                )
                    .into_response()
            }),
        );
    }
    router
        .route("/", get(|| async { Html(INDEX) }))
        .route("/agent", get(|| async { Html(AGENT) }))
        .route("/supervisor", get(|| async { Html(SUPERVISOR) }))
        .route("/medical", get(|| async { Html(MEDICAL) }))
        .route("/admin", get(|| async { Html(ADMIN) }))
        .route(
            "/assets/favicon.svg",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], FAVICON).into_response() }),
        )
        .route(
            "/assets/app.css",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
            }),
        )
}
