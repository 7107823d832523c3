//! `sanjeevani bench ws`: the service with many live screens at once.
//!
//! Starts the service in this process on loopback (embedded store in a
//! temporary folder, simulated telephony), opens one WebSocket per agent and
//! supervisor, logs every agent in to the demo campaign and makes them ready,
//! and measures for a while how late pushes arrive: the time from the
//! server's timestamp on a message (when the wallboard was built, when the
//! dialer published the agent's new state) to its arrival at the client. One
//! more supervisor connection never reads, to show a stalled client does not
//! hold up the others.

use anyhow::{Context, Result};
use futures_util::StreamExt;
use sanjeevani_server::auth::{new_token, token_hash};
use sanjeevani_store::{NewUser, Role};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Serialize)]
pub struct Latency {
    pub kind: &'static str,
    pub messages: usize,
    pub p50_ms: i64,
    pub p99_ms: i64,
    pub max_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct WsBench {
    pub agents: usize,
    pub supervisors: usize,
    pub seconds: u64,
    pub screen_pops: usize,
    pub connections_lost: usize,
    pub latencies: Vec<Latency>,
}

/// What one client saw: (kind, latency in ms) per message, and whether it lost its connection.
type Seen = (Vec<(&'static str, i64)>, bool);

async fn open(
    base: &str,
    token: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let mut request = format!("{}/ws", base.replace("http", "ws")).into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

pub async fn run(agents: usize, supervisors: usize, seconds: u64) -> Result<WsBench> {
    let dir = tempfile::tempdir()?;
    let mut config = sanjeevani_server::Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.demo.contacts = (agents * 4).max(1000) as u32;
    config.demo.simulated_agents = 0;
    config.shutdown.drain_secs = 1;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = sanjeevani_server::prepare(config).await?;
    let store = state.store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sanjeevani_server::run(state, listener, async {
        let _ = stopped.await;
    }));

    // Accounts and sessions straight in the store: hashing 500 passwords is not what is measured.
    let now = chrono::Utc::now().timestamp_millis();
    let mut tokens = Vec::new();
    for (role, count, prefix) in [
        (Role::Agent, agents, "bench-agent"),
        (Role::Supervisor, supervisors + 1, "bench-supervisor"),
    ] {
        for i in 0..count {
            let user = NewUser {
                username: format!("{prefix}-{i}"),
                display_name: format!("{prefix} {i}"),
                role,
                password_hash: "(no password: bench account)".into(),
                must_change_password: false,
            };
            let id = store.create_user(&user, now).await?;
            let token = new_token();
            store
                .create_session(&token_hash(&token), id, now, now + 3_600_000)
                .await?;
            tokens.push((role, token));
        }
    }

    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<Seen>();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut stalled = None;
    let http = reqwest::Client::new();
    for (n, (role, token)) in tokens.iter().enumerate() {
        let mut socket = open(&base, token).await.context("opening a WebSocket")?;
        if *role == Role::Supervisor && n == tokens.len() - 1 {
            stalled = Some(socket); // never read
            continue;
        }
        let seen = seen_tx.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            let mut lost = false;
            loop {
                let next = tokio::time::timeout_at(deadline, socket.next()).await;
                let Ok(message) = next else { break };
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    _ => {
                        lost = true;
                        break;
                    }
                };
                let arrived = chrono::Utc::now().timestamp_millis();
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let kind = match value["type"].as_str() {
                    Some("wallboard") => "wallboard",
                    Some("agent") => "agent state",
                    Some("screen_pop") => "screen pop",
                    _ => continue,
                };
                let at = value["at"].as_i64().unwrap_or(arrived);
                out.push((kind, arrived - at));
            }
            let _ = seen.send((out, lost));
        });
        if *role == Role::Agent {
            for (path, body) in [
                ("/api/agent/login", Some(serde_json::json!({"campaign": 1}))),
                ("/api/agent/ready", None),
            ] {
                let mut request = http.post(format!("{base}{path}")).bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let response = request.send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
            }
        }
    }
    drop(seen_tx);
    let mut all: Vec<(&'static str, i64)> = Vec::new();
    let mut lost = 0;
    while let Some((seen, was_lost)) = seen_rx.recv().await {
        all.extend(seen);
        lost += usize::from(was_lost);
    }
    drop(stalled);
    stop.send(()).ok();
    server.await??;

    let mut latencies = Vec::new();
    for kind in ["wallboard", "agent state"] {
        let mut ms: Vec<i64> = all
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, l)| *l)
            .collect();
        ms.sort_unstable();
        if ms.is_empty() {
            continue;
        }
        let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        latencies.push(Latency {
            kind,
            messages: ms.len(),
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            max_ms: *ms.last().expect("not empty"),
        });
    }
    Ok(WsBench {
        agents,
        supervisors,
        seconds,
        screen_pops: all.iter().filter(|(k, _)| *k == "screen pop").count(),
        connections_lost: lost,
        latencies,
    })
}
