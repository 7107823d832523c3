//! The Sanjeevani service: `sanjeevani serve`.
//!
//! An axum server with the JSON API (documented by an OpenAPI document at
//! `/api/openapi.json`), a WebSocket at `/ws` for live screens, the web pages
//! for agents, supervisors and the medical desk, and the operational
//! endpoints (`/metrics`, `/healthz`, `/readyz`). Behind it, one dialer task
//! per campaign drives the sans-io core through the telephony adapter.
//!
//! [`run`] takes a bound listener and a shutdown future, like mini-redis: the
//! binary passes a signal, tests pass a channel.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod centre;
pub mod config;
pub mod demo;
pub mod desk;
pub mod error;
pub mod phones;
pub mod questionnaire;
pub mod supervision;
mod web;
mod ws;

use auth::LoginLimiter;
use axum::routing::get;
use axum::Router;
use centre::Centre;
pub use config::Config;
use metrics_exporter_prometheus::PrometheusHandle;
use questionnaire::Questionnaire;
use sanjeevani_store::Store;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;

/// Milliseconds since the Unix epoch: the service's wall clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub centre: Arc<Centre>,
    pub config: Config,
    pub logins: LoginLimiter,
    pub questionnaire: Questionnaire,
    metrics: PrometheusHandle,
    /// The latest wallboard message, rebuilt once a second.
    wallboard: tokio::sync::watch::Sender<Arc<str>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] sanjeevani_store::StoreError),
    #[error(transparent)]
    Centre(#[from] centre::CentreError),
    #[error("HTTP server: {0}")]
    Io(#[from] std::io::Error),
}

/// The process-wide Prometheus recorder (installed once; tests run several servers).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "sanjeevani_answer_to_connect_seconds".into(),
                    ),
                    &[0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0],
                )
                .expect("valid buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed by an embedding program; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Opens the store, seeds the demo on an empty database, starts the dialers.
pub async fn prepare(config: Config) -> Result<AppState, ServeError> {
    let database = (!config.database.is_empty()).then_some(config.database.as_str());
    let store = sanjeevani_store::open(database, &config.data_dir).await?;
    // Made-up people are never dialled through a real trunk, and real
    // telephony never starts with the demo's well-known passwords.
    let simulated = config.telephony.kind == config::TelephonyKind::Simulated;
    if (simulated || config.demo.with_real_telephony)
        && demo::seed(&*store, &config.demo, now_ms()).await?
    {
        tracing::info!(
            "seeded the demo centre: accounts admin, supervisor, agent1-3 and doctor, a demo list and campaign"
        );
    }
    if store.users().await?.is_empty() {
        tracing::warn!(
            "no accounts yet: create the first administrator with `sanjeevani users add --username NAME --role admin`"
        );
    }
    let centre = Centre::new(store.clone(), config.clone())?;
    centre.start_all().await?;
    Ok(AppState(Arc::new(Inner {
        store,
        centre,
        logins: LoginLimiter::per_minute(config.auth.logins_per_minute),
        questionnaire: Questionnaire::wellness(),
        config,
        metrics: metrics_handle(),
        wallboard: tokio::sync::watch::channel(Arc::from("{}")).0,
    })))
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .route("/ws", get(ws::upgrade))
        .route("/metrics", get(api::ops::metrics))
        .route("/healthz", get(api::ops::healthz))
        .route("/readyz", get(api::ops::readyz))
        .merge(web::routes())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops dialing, lets live calls
/// finish up to the drain deadline, and returns once everything is written.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let centre = state.centre.clone();
    let sampler = {
        let centre = centre.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(centre::HISTORY_EVERY);
            loop {
                every.tick().await;
                centre.sample();
            }
        })
    };
    let wallboard = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                match ws::wallboard(&state).await {
                    Ok(text) => {
                        state.wallboard.send_replace(Arc::from(text));
                    }
                    Err(e) => tracing::warn!(error = %e.message, "wallboard"),
                }
            }
        })
    };
    let app = router(state);
    tracing::info!(address = %listener.local_addr()?, simulated = centre.is_simulated(), "serving");
    let stop_centre = centre.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new calls; live calls may finish");
        // WebSocket connections watch the same flag and close, so the server can drain.
        stop_centre.shut_down().await;
    })
    .await?;
    sampler.abort();
    wallboard.abort();
    centre.shut_down().await;
    tracing::info!("stopped; every call is recorded");
    Ok(())
}
