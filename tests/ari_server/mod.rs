//! A test double of Asterisk's ARI on loopback (HTTP + WebSocket), for what
//! cannot run here. It serves the operations the adapter uses, with the
//! statuses `tests/fixtures/ari/api-docs` declares for them, and emits the
//! event sequences Asterisk's own test suite expects:
//!
//! - originate to a contact: `ChannelStateChange` Ringing, `Dial` RINGING,
//!   `Dial` ANSWER, `ChannelStateChange` Up, `StasisStart` with the app args;
//!   a number ending in 017: `ChannelHangupRequest`, `Dial` BUSY,
//!   `ChannelDestroyed` cause 17 (no Stasis events); ending in 019: only
//!   `ChannelDestroyed` cause 19 (no answer);
//! - originate to an agent's phone: `StasisStart` at once;
//! - hang-up: `ChannelHangupRequest`, `ChannelLeftBridge` if bridged,
//!   `StasisEnd`, `ChannelDestroyed` cause 16;
//! - play: 201, `PlaybackStarted`, then `PlaybackFinished`.
//!
//! Every request is recorded (`METHOD path query`) for the tests to assert.

#![allow(dead_code)]

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub const USER: &str = "sanjeevani";
pub const PASSWORD: &str = "s3cret";

#[derive(Default)]
struct World {
    /// Live channels: id → (state, in Stasis, bridge).
    channels: HashMap<String, (String, bool, Option<String>)>,
    bridges: HashMap<String, Vec<String>>,
}

struct Inner {
    app: String,
    requests: Mutex<Vec<String>>,
    world: Mutex<World>,
    events: broadcast::Sender<String>,
    /// Bumped to close every WebSocket.
    cut: watch::Sender<u64>,
    /// While false, events are dropped (as Asterisk drops them with no socket).
    listening: Mutex<bool>,
}

#[derive(Clone)]
pub struct AriServer {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

type Params = Query<BTreeMap<String, String>>;

fn channel_json(id: &str, state: &str) -> Value {
    json!({
        "id": id, "name": format!("PJSIP/{id}"), "state": state,
        "protocol_id": "", "caller": {"name": "", "number": ""},
        "connected": {"name": "", "number": ""}, "accountcode": "",
        "dialplan": {"context": "default", "exten": "s", "priority": 1, "app_name": "", "app_data": ""},
        "creationtime": "2026-11-29T02:00:00.000+0530", "language": "en"
    })
}

impl AriServer {
    pub async fn start() -> AriServer {
        let (events, _) = broadcast::channel(4096);
        let inner = Arc::new(Inner {
            app: "sanjeevani".into(),
            requests: Mutex::default(),
            world: Mutex::default(),
            events,
            cut: watch::channel(0).0,
            listening: Mutex::new(true),
        });
        let router = Router::new()
            .route("/ari/events", get(events_socket))
            .route("/ari/channels", post(originate))
            .route(
                "/ari/channels/{id}",
                axum::routing::delete(hangup).get(get_channel),
            )
            .route("/ari/channels/{id}/play", post(play))
            .route("/ari/bridges", post(create_bridge))
            .route("/ari/bridges/{id}", axum::routing::delete(destroy_bridge))
            .route("/ari/bridges/{id}/addChannel", post(add_channel))
            .route("/ari/applications/{app}", get(application))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        AriServer { addr, inner }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, as `METHOD path key=value&…` (keys sorted).
    pub fn requests(&self) -> Vec<String> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Channels and bridges still alive.
    pub fn live(&self) -> (usize, usize) {
        let world = self.inner.world.lock().unwrap();
        (world.channels.len(), world.bridges.len())
    }

    /// Closes every WebSocket; events until one reconnects are lost.
    pub fn cut_websockets(&self) {
        *self.inner.listening.lock().unwrap() = false;
        self.inner.cut.send_modify(|n| *n += 1);
    }

    /// The far end hangs up `channel`.
    pub fn remote_hangup(&self, channel: &str) {
        end_channel(&self.inner, channel);
    }
}

fn auth_ok(params: &BTreeMap<String, String>, headers: &axum::http::HeaderMap) -> bool {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    basic || params.get("api_key").map(String::as_str) == Some(&format!("{USER}:{PASSWORD}"))
}

fn record(inner: &Inner, method: &str, path: &str, params: &BTreeMap<String, String>) {
    let query: Vec<String> = params
        .iter()
        .filter(|(k, _)| *k != "api_key")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    inner.requests.lock().unwrap().push(
        format!("{method} {path} {}", query.join("&"))
            .trim_end()
            .to_string(),
    );
}

fn emit(inner: &Inner, kind: &str, mut body: Value) {
    if !*inner.listening.lock().unwrap() {
        return;
    }
    body["type"] = json!(kind);
    body["application"] = json!(inner.app);
    body["timestamp"] = json!("2026-11-29T02:00:00.000+0530");
    body["asterisk_id"] = json!("00:00:00:00:00:01");
    let _ = inner.events.send(body.to_string());
}

async fn events_socket(
    State(inner): State<Arc<Inner>>,
    Query(params): Params,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !auth_ok(&params, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if params.get("app").map(String::as_str) != Some(inner.app.as_str()) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    upgrade
        .on_upgrade(move |socket| feed(socket, inner))
        .into_response()
}

async fn feed(mut socket: WebSocket, inner: Arc<Inner>) {
    let mut events = inner.events.subscribe();
    let mut cut = inner.cut.subscribe();
    cut.borrow_and_update();
    *inner.listening.lock().unwrap() = true;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(text) => if socket.send(Message::Text(text.into())).await.is_err() { return },
                Err(_) => return,
            },
            _ = cut.changed() => return,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Ping(data))) => { let _ = socket.send(Message::Pong(data)).await; }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

async fn originate(State(inner): State<Arc<Inner>>, Query(params): Params) -> Response {
    record(&inner, "POST", "/channels", &params);
    let (Some(endpoint), Some(id)) = (params.get("endpoint"), params.get("channelId")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "endpoint and channelId"})),
        )
            .into_response();
    };
    if inner.world.lock().unwrap().channels.contains_key(id) {
        return (
            StatusCode::CONFLICT,
            Json(json!({"message": "Channel with given unique ID already exists"})),
        )
            .into_response();
    }
    inner
        .world
        .lock()
        .unwrap()
        .channels
        .insert(id.clone(), ("Down".into(), false, None));
    let args: Vec<String> = params
        .get("appArgs")
        .map(|a| a.split(',').map(String::from).collect())
        .unwrap_or_default();
    let script_inner = inner.clone();
    let (endpoint, channel) = (endpoint.clone(), id.clone());
    tokio::spawn(async move { call_script(script_inner, endpoint, channel, args).await });
    Json(channel_json(id, "Down")).into_response()
}

async fn call_script(inner: Arc<Inner>, endpoint: String, id: String, args: Vec<String>) {
    let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));
    pause(5).await;
    if endpoint.starts_with("PJSIP/agent") {
        start_stasis(&inner, &id, args);
        return;
    }
    if endpoint.contains("017@") {
        emit(
            &inner,
            "ChannelHangupRequest",
            json!({"cause": 17, "channel": channel_json(&id, "Down")}),
        );
        emit(
            &inner,
            "Dial",
            json!({"dialstatus": "BUSY", "dialstring": endpoint, "peer": channel_json(&id, "Down")}),
        );
        destroy(&inner, &id, 17, "User busy");
        return;
    }
    if endpoint.contains("019@") {
        pause(300).await;
        destroy(&inner, &id, 19, "No user responding");
        return;
    }
    emit(
        &inner,
        "ChannelStateChange",
        json!({"channel": channel_json(&id, "Ringing")}),
    );
    emit(
        &inner,
        "Dial",
        json!({"dialstatus": "RINGING", "dialstring": endpoint, "peer": channel_json(&id, "Ringing")}),
    );
    pause(100).await;
    emit(
        &inner,
        "Dial",
        json!({"dialstatus": "ANSWER", "dialstring": endpoint, "peer": channel_json(&id, "Up")}),
    );
    emit(
        &inner,
        "ChannelStateChange",
        json!({"channel": channel_json(&id, "Up")}),
    );
    start_stasis(&inner, &id, args);
}

fn start_stasis(inner: &Inner, id: &str, args: Vec<String>) {
    if let Some(channel) = inner.world.lock().unwrap().channels.get_mut(id) {
        *channel = ("Up".into(), true, None);
    } else {
        return;
    }
    emit(
        inner,
        "StasisStart",
        json!({"args": args, "channel": channel_json(id, "Up")}),
    );
}

fn destroy(inner: &Inner, id: &str, cause: i64, text: &str) {
    inner.world.lock().unwrap().channels.remove(id);
    emit(
        inner,
        "ChannelDestroyed",
        json!({"cause": cause, "cause_txt": text, "channel": channel_json(id, "Down")}),
    );
}

/// Hang-up of a live channel: leaves its bridge and Stasis, then is destroyed.
fn end_channel(inner: &Inner, id: &str) -> bool {
    let Some((state, stasis, bridge)) = inner.world.lock().unwrap().channels.get(id).cloned()
    else {
        return false;
    };
    emit(
        inner,
        "ChannelHangupRequest",
        json!({"cause": 16, "channel": channel_json(id, &state)}),
    );
    if let Some(bridge) = bridge {
        if let Some(members) = inner.world.lock().unwrap().bridges.get_mut(&bridge) {
            members.retain(|c| c != id);
        }
        emit(
            inner,
            "ChannelLeftBridge",
            json!({"bridge": {"id": bridge, "channels": []}, "channel": channel_json(id, &state)}),
        );
    }
    if stasis {
        emit(
            inner,
            "StasisEnd",
            json!({"channel": channel_json(id, &state)}),
        );
    }
    destroy(inner, id, 16, "Normal Clearing");
    true
}

async fn hangup(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> StatusCode {
    record(&inner, "DELETE", &format!("/channels/{id}"), &params);
    if end_channel(&inner, &id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn get_channel(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    match inner.world.lock().unwrap().channels.get(&id) {
        Some((state, _, _)) => Json(channel_json(&id, state)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn play(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "POST", &format!("/channels/{id}/play"), &params);
    if !inner.world.lock().unwrap().channels.contains_key(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let playback = json!({
        "id": params.get("playbackId").cloned().unwrap_or_default(),
        "media_uri": params.get("media").cloned().unwrap_or_default(),
        "target_uri": format!("channel:{id}"), "language": "en", "state": "playing"
    });
    emit(&inner, "PlaybackStarted", json!({"playback": playback}));
    let mut finished = playback.clone();
    finished["state"] = json!("done");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        emit(&inner, "PlaybackFinished", json!({"playback": finished}));
    });
    (StatusCode::CREATED, Json(playback)).into_response()
}

async fn create_bridge(State(inner): State<Arc<Inner>>, Query(params): Params) -> Response {
    record(&inner, "POST", "/bridges", &params);
    let id = params
        .get("bridgeId")
        .cloned()
        .unwrap_or_else(|| "anonymous".into());
    inner
        .world
        .lock()
        .unwrap()
        .bridges
        .insert(id.clone(), Vec::new());
    Json(json!({"id": id, "technology": "simple_bridge", "bridge_type": "mixing",
        "bridge_class": "stasis", "creator": "Stasis", "name": params.get("name").cloned().unwrap_or_default(),
        "channels": [], "creationtime": "2026-11-29T02:00:00.000+0530", "video_mode": "none"}))
    .into_response()
}

async fn destroy_bridge(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> StatusCode {
    record(&inner, "DELETE", &format!("/bridges/{id}"), &params);
    if inner.world.lock().unwrap().bridges.remove(&id).is_some() {
        emit(
            &inner,
            "BridgeDestroyed",
            json!({"bridge": {"id": id, "channels": []}}),
        );
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn add_channel(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> StatusCode {
    record(
        &inner,
        "POST",
        &format!("/bridges/{id}/addChannel"),
        &params,
    );
    let channel = params.get("channel").cloned().unwrap_or_default();
    let mut world = inner.world.lock().unwrap();
    if !world.bridges.contains_key(&id) {
        return StatusCode::NOT_FOUND;
    }
    // Declared: 400 when the channel is not found, 422 when it is not in Stasis.
    let Some(entry) = world.channels.get_mut(&channel) else {
        return StatusCode::BAD_REQUEST;
    };
    if !entry.1 {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    entry.2 = Some(id.clone());
    let state = entry.0.clone();
    world.bridges.get_mut(&id).unwrap().push(channel.clone());
    let members = world.bridges[&id].clone();
    drop(world);
    emit(
        &inner,
        "ChannelEnteredBridge",
        json!({"bridge": {"id": id, "channels": members}, "channel": channel_json(&channel, &state)}),
    );
    StatusCode::NO_CONTENT
}

async fn application(State(inner): State<Arc<Inner>>, Path(app): Path<String>) -> Response {
    record(
        &inner,
        "GET",
        &format!("/applications/{app}"),
        &BTreeMap::new(),
    );
    if app != inner.app {
        return StatusCode::NOT_FOUND.into_response();
    }
    let world = inner.world.lock().unwrap();
    Json(json!({
        "name": app,
        "channel_ids": world.channels.keys().collect::<Vec<_>>(),
        "bridge_ids": world.bridges.keys().collect::<Vec<_>>(),
        "endpoint_ids": [], "device_names": [], "events_allowed": [], "events_disallowed": []
    }))
    .into_response()
}
