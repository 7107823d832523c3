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
pub mod protect;
pub mod questionnaire;
pub mod supervision;
mod web;
mod ws;

use auth::LoginGuard;
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
    pub logins: LoginGuard,
    pub questionnaire: Questionnaire,
    /// Live sockets per user.
    pub(crate) sockets: ws::Sockets,
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
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    #[error(
        "refusing to start with real telephony: the accounts {0} still accept the demo password; \
         disable them or change their passwords (sanjeevani users …), or start with --demo on a test bench"
    )]
    DemoPasswordLeft(String),
    #[error("TLS: {0}")]
    Tls(String),
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

/// Opens the store, seeds the demo on an empty database (or, with real
/// telephony, creates the first administrator and shows their one-time
/// password on the terminal), starts the dialers.
pub async fn prepare(config: Config) -> Result<AppState, ServeError> {
    prepare_announcing(config, announce_first_password).await
}

/// [`prepare`], with `announce(data_dir, password)` showing the first
/// administrator's one-time password.
pub async fn prepare_announcing(
    config: Config,
    announce: impl FnOnce(&std::path::Path, &str),
) -> Result<AppState, ServeError> {
    let database = (!config.database.is_empty()).then_some(config.database.as_str());
    let store = sanjeevani_store::open(database, &config.data_dir).await?;
    // Made-up people are never dialled through a real trunk, and real
    // telephony never starts with the demo's well-known passwords.
    let simulated = config.telephony.kind == config::TelephonyKind::Simulated;
    let demo = simulated || config.demo.with_real_telephony;
    if demo && demo::seed(&*store, &config.demo, now_ms()).await? {
        tracing::info!(
            "seeded the demo centre: accounts admin, supervisor, agent1-3 and doctor, a demo list and campaign"
        );
    }
    if !demo {
        refuse_demo_passwords(&*store, &config.demo.password).await?;
    }
    if let Some(password) = accounts::first_admin(&*store).await? {
        announce(&config.data_dir, &password);
    }
    let centre = Centre::new(store.clone(), config.clone())?;
    centre.start_all().await?;
    Ok(AppState(Arc::new(Inner {
        store,
        centre,
        logins: LoginGuard::new(
            config.auth.logins_per_minute,
            config.auth.client_failures_per_minute,
        ),
        questionnaire: Questionnaire::wellness(),
        sockets: ws::Sockets::default(),
        config,
        metrics: metrics_handle(),
        wallboard: tokio::sync::watch::channel(Arc::from("{}")).0,
    })))
}

/// The certificate and key of `[server]`, read once at start.
async fn tls_config(
    server: &config::ServerConfig,
) -> Result<axum_server::tls_rustls::RustlsConfig, ServeError> {
    if server.tls_cert.is_empty() || server.tls_key.is_empty() {
        return Err(ServeError::Tls(
            "[server] tls_cert and tls_key go together: set both or neither".into(),
        ));
    }
    // One process-wide provider; a second install (tests run several servers) is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&server.tls_cert, &server.tls_key)
        .await
        .map_err(|e| {
            ServeError::Tls(format!(
                "cannot use the certificate {} with the key {}: {e}",
                server.tls_cert, server.tls_key
            ))
        })
}

/// Fails when an enabled account still accepts the demo password.
async fn refuse_demo_passwords(store: &dyn Store, password: &str) -> Result<(), ServeError> {
    if password.is_empty() {
        return Ok(());
    }
    let mut left = Vec::new();
    for user in store.users().await?.into_iter().filter(|u| !u.disabled) {
        let Some((_, hash)) = store.user_for_login(&user.username).await? else {
            continue;
        };
        let password = password.to_string();
        let accepts = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
            .await
            .unwrap_or(true);
        if accepts {
            left.push(user.username);
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(ServeError::DemoPasswordLeft(left.join(", ")))
    }
}

/// Where the first administrator's password is left when there is no
/// terminal to show it on (a service manager's log is no place for it).
pub const FIRST_PASSWORD_FILE: &str = "first-admin-password";

/// Shows the first administrator's one-time password once: on the terminal
/// when there is one, otherwise in a file only the service user can read,
/// removed when the password is changed. Never through the log.
pub fn announce_first_password(data_dir: &std::path::Path, password: &str) {
    use std::io::Write;
    let text = format!(
        "\nThe first administrator is \"admin\" with the one-time password\n\n    {password}\n\n\
         Log in and choose a new password; this one is not shown again.\n\n"
    );
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        if tty.write_all(text.as_bytes()).is_ok() {
            return;
        }
    }
    let path = data_dir.join(FIRST_PASSWORD_FILE);
    let written = std::fs::create_dir_all(data_dir).and_then(|()| {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?
            .write_all(format!("{password}\n").as_bytes())
    });
    match written {
        Ok(()) => tracing::warn!(
            file = %path.display(),
            "first start: the administrator \"admin\" has a one-time password in this file (readable by this user only); log in and change it"
        ),
        Err(e) => tracing::error!(
            error = %e,
            "first start: cannot show the administrator's one-time password; reset it with `sanjeevani users`"
        ),
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .route("/ws", get(ws::upgrade))
        .route("/metrics", get(api::ops::metrics))
        .route("/healthz", get(api::ops::healthz))
        .route("/readyz", get(api::ops::readyz))
        .merge(web::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            protect::guard,
        ))
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
    let tls = if state.config.server.tls() {
        Some(tls_config(&state.config.server).await?)
    } else {
        None
    };
    let drain = std::time::Duration::from_secs(state.config.shutdown.drain_secs);
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tracing::info!(address = %listener.local_addr()?, simulated = centre.is_simulated(), https = tls.is_some(), "serving");
    let stop_centre = centre.clone();
    let stopped = async move {
        shutdown.await;
        tracing::info!("shutting down: no new calls; live calls may finish");
        // WebSocket connections watch the same flag and close, so the server can drain.
        stop_centre.shut_down().await;
    };
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await?
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                stopped.await;
                stopper.graceful_shutdown(Some(drain));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, tls)
                .handle(handle)
                .serve(app)
                .await?
        }
    }
    sampler.abort();
    wallboard.abort();
    centre.shut_down().await;
    tracing::info!("stopped; every call is recorded");
    Ok(())
}
