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
//! - continue into `dialer-amd` at the extension named after our app (the
//!   shipped `extensions.conf`): `StasisEnd`, then `StasisStart` with
//!   `amd,{AMDSTATUS},{AMDCAUSE}`: MACHINE (a long greeting, as the kit's
//!   Asterisk says of a voicemail) for a number ending in 066, HUMAN
//!   otherwise; anywhere else the dialplan has nothing for it and the
//!   channel is hung up;
//! - addChannel moves a channel out of its bridge (`ChannelLeftBridge`)
//!   into the new one (`ChannelEnteredBridge`); holding bridges take music
//!   on hold (no events);
//! - snoop: a new channel with the given id enters Stasis with the args;
//! - bridge recording: 201 and `RecordingStarted`; stop: `RecordingFinished`.
//!
//! As in Asterisk, an application has one WebSocket (a new connection for
//! the same name replaces the old one) and a channel's events go to the
//! application it was created for; bridge and recording events go to all.
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

#[derive(Clone, Default)]
struct Channel {
    state: String,
    stasis: bool,
    bridge: Option<String>,
    endpoint: String,
    app: String,
}

#[derive(Default)]
struct World {
    channels: HashMap<String, Channel>,
    /// The Stasis application each channel was created for (kept after the
    /// channel is gone, for its last events).
    channel_apps: HashMap<String, String>,
    bridges: HashMap<String, Vec<String>>,
    /// Bridges with music on hold.
    moh: Vec<String>,
    /// Live recordings: name → bridge.
    recordings: HashMap<String, String>,
    /// Recordings stopped, in order.
    finished: Vec<String>,
}

struct Inner {
    requests: Mutex<Vec<String>>,
    world: Mutex<World>,
    /// Events for one application (by name), or for every one (bridges,
    /// recordings).
    events: broadcast::Sender<(Option<String>, String)>,
    /// Applications with a WebSocket, and which connection is theirs: as in
    /// Asterisk, one WebSocket per application, a new one replacing the old.
    apps: Mutex<HashMap<String, u64>>,
    connections: std::sync::atomic::AtomicU64,
    /// Bumped to close every WebSocket.
    cut: watch::Sender<u64>,
    /// While false, events are dropped (as Asterisk drops them with no socket).
    listening: Mutex<bool>,
    /// A module Asterisk runs without.
    missing_module: Mutex<Option<String>>,
    /// How long a contact's originate takes to be answered, as on a
    /// loaded Asterisk (the call itself goes on meanwhile).
    originate_reply_after: Mutex<Duration>,
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

/// Waits up to 5 s for `condition`; panics naming `what` if it never holds.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..100 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

impl AriServer {
    pub async fn start() -> AriServer {
        let (events, _) = broadcast::channel(4096);
        let inner = Arc::new(Inner {
            requests: Mutex::default(),
            apps: Mutex::default(),
            connections: Default::default(),
            world: Mutex::default(),
            events,
            cut: watch::channel(0).0,
            listening: Mutex::new(true),
            missing_module: Mutex::default(),
            originate_reply_after: Mutex::default(),
        });
        let router = Router::new()
            .route("/ari/events", get(events_socket))
            .route("/ari/channels", post(originate))
            .route(
                "/ari/channels/{id}",
                axum::routing::delete(hangup).get(get_channel),
            )
            .route("/ari/channels/{id}/play", post(play))
            .route("/ari/channels/{id}/continue", post(continue_in_dialplan))
            .route("/ari/channels/{id}/snoop", post(snoop))
            .route("/ari/bridges", post(create_bridge))
            .route("/ari/bridges/{id}", axum::routing::delete(destroy_bridge))
            .route("/ari/bridges/{id}/addChannel", post(add_channel))
            .route("/ari/bridges/{id}/moh", post(start_moh).delete(stop_moh))
            .route("/ari/bridges/{id}/record", post(record_bridge))
            .route("/ari/recordings/live/{name}/stop", post(stop_recording))
            .route("/ari/applications/{app}", get(application))
            .route("/ari/asterisk/modules", get(modules))
            .route("/ari/asterisk/info", get(info))
            .layer(axum::middleware::from_fn(require_auth))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        AriServer { addr, inner }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Contacts' originates are answered only after `after`.
    pub fn slow_originates(&self, after: Duration) {
        *self.inner.originate_reply_after.lock().unwrap() = after;
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

    /// The channels in `bridge`, sorted (None: no such bridge).
    pub fn members(&self, bridge: &str) -> Option<Vec<String>> {
        let world = self.inner.world.lock().unwrap();
        let mut members = world.bridges.get(bridge)?.clone();
        members.sort();
        Some(members)
    }

    /// Bridges playing music on hold.
    pub fn on_hold(&self) -> Vec<String> {
        self.inner.world.lock().unwrap().moh.clone()
    }

    /// Live recordings (name → bridge) and those stopped.
    pub fn recordings(&self) -> (HashMap<String, String>, Vec<String>) {
        let world = self.inner.world.lock().unwrap();
        (world.recordings.clone(), world.finished.clone())
    }
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": format!("{what} not found")})),
    )
        .into_response()
}

/// Every resource needs our user's credentials: 401 otherwise.
async fn require_auth(
    Query(params): Params,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if auth_ok(&params, request.headers()) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authentication required"})),
        )
            .into_response()
    }
}

/// Basic authentication with our user, or `api_key=user:password`.
fn auth_ok(params: &BTreeMap<String, String>, headers: &axum::http::HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!("{USER}:{PASSWORD}");
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .is_some_and(|v| v == expected.as_bytes());
    basic || params.get("api_key") == Some(&expected)
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
    // Channel events go to the channel's application; others to every one.
    let app = ["channel", "peer"].iter().find_map(|key| {
        let id = body[*key]["id"].as_str()?;
        inner.world.lock().unwrap().channel_apps.get(id).cloned()
    });
    body["type"] = json!(kind);
    body["application"] = json!(app.clone().unwrap_or_default());
    body["timestamp"] = json!("2026-11-29T02:00:00.000+0530");
    body["asterisk_id"] = json!("00:00:00:00:00:01");
    let _ = inner.events.send((app, body.to_string()));
}

async fn events_socket(
    State(inner): State<Arc<Inner>>,
    Query(params): Params,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(app) = params.get("app").filter(|a| !a.is_empty()).cloned() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    upgrade
        .on_upgrade(move |socket| feed(socket, inner, app))
        .into_response()
}

async fn feed(mut socket: WebSocket, inner: Arc<Inner>, app: String) {
    let mut events = inner.events.subscribe();
    let mut cut = inner.cut.subscribe();
    cut.borrow_and_update();
    let me = 1 + inner
        .connections
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    inner.apps.lock().unwrap().insert(app.clone(), me);
    *inner.listening.lock().unwrap() = true;
    let replaced = || inner.apps.lock().unwrap().get(&app) != Some(&me);
    let mut check = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok((to, text)) => {
                    if replaced() {
                        return;
                    }
                    if to.as_ref().is_none_or(|to| *to == app)
                        && socket.send(Message::Text(text.into())).await.is_err()
                    {
                        return;
                    }
                }
                Err(_) => return,
            },
            _ = check.tick() => if replaced() { return },
            _ = cut.changed() => break,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Ping(data))) => { let _ = socket.send(Message::Pong(data)).await; }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    // Gone: the application has no WebSocket until it connects again.
    let mut apps = inner.apps.lock().unwrap();
    if apps.get(&app) == Some(&me) {
        apps.remove(&app);
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
    let app = params.get("app").cloned().unwrap_or_default();
    {
        let mut world = inner.world.lock().unwrap();
        world.channel_apps.insert(id.clone(), app.clone());
        world.channels.insert(
            id.clone(),
            Channel {
                state: "Down".into(),
                endpoint: endpoint.clone(),
                app,
                ..Channel::default()
            },
        );
    }
    let args: Vec<String> = params
        .get("appArgs")
        .map(|a| a.split(',').map(String::from).collect())
        .unwrap_or_default();
    let script_inner = inner.clone();
    let (endpoint, channel) = (endpoint.clone(), id.clone());
    let agent = endpoint.starts_with("PJSIP/agent");
    tokio::spawn(async move { call_script(script_inner, endpoint, channel, args).await });
    let after = *inner.originate_reply_after.lock().unwrap();
    let id = id.clone();
    if !agent && !after.is_zero() {
        tokio::time::sleep(after).await;
    }
    Json(channel_json(&id, "Down")).into_response()
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
        channel.state = "Up".into();
        channel.stasis = true;
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
    let Some(Channel {
        state,
        stasis,
        bridge,
        ..
    }) = inner.world.lock().unwrap().channels.get(id).cloned()
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
        Some(channel) => Json(channel_json(&id, &channel.state)).into_response(),
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
    let kind = params
        .get("type")
        .cloned()
        .unwrap_or_else(|| "mixing".into());
    Json(json!({"id": id, "technology": "simple_bridge", "bridge_type": kind,
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
    let removed = {
        let mut world = inner.world.lock().unwrap();
        world.moh.retain(|b| *b != id);
        world.bridges.remove(&id)
    };
    if let Some(members) = removed {
        // Channels still in it are out of any bridge now.
        let mut world = inner.world.lock().unwrap();
        for member in members {
            if let Some(channel) = world.channels.get_mut(&member) {
                channel.bridge = None;
            }
        }
        drop(world);
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
    if !entry.stasis {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let left = entry.bridge.replace(id.clone());
    let state = entry.state.clone();
    if let Some(left) = &left {
        if let Some(members) = world.bridges.get_mut(left) {
            members.retain(|c| *c != channel);
        }
    }
    world.bridges.get_mut(&id).unwrap().push(channel.clone());
    let members = world.bridges[&id].clone();
    drop(world);
    if let Some(left) = left {
        emit(
            &inner,
            "ChannelLeftBridge",
            json!({"bridge": {"id": left, "channels": []}, "channel": channel_json(&channel, &state)}),
        );
    }
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
    if !inner.apps.lock().unwrap().contains_key(&app) {
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

/// When "Asterisk" started.
async fn info(State(inner): State<Arc<Inner>>, Query(params): Params) -> Response {
    record(&inner, "GET", "/asterisk/info", &params);
    Json(json!({"status": {"startup_time": "2026-11-29T02:00:00.000+0530", "last_reload_time": "2026-11-29T02:00:00.000+0530"}}))
        .into_response()
}

/// The modules the kit requires, all running (unless one is taken away).
async fn modules(State(inner): State<Arc<Inner>>) -> Response {
    record(&inner, "GET", "/asterisk/modules", &BTreeMap::new());
    let missing = inner.missing_module.lock().unwrap().clone();
    let names = [
        "res_stasis.so",
        "res_stasis_playback.so",
        "res_stasis_recording.so",
        "res_stasis_snoop.so",
        "res_musiconhold.so",
        "bridge_holding.so",
        "app_amd.so",
    ];
    let modules: Vec<Value> = names
        .iter()
        .filter(|n| Some(n.to_string()) != missing)
        .map(|n| json!({"name": n, "description": "", "use_count": 0, "status": "Running", "support_level": "core"}))
        .collect();
    Json(modules).into_response()
}

/// `continue`: the channel leaves Stasis for the dialplan. In `dialer-amd`
/// it runs `AMD()` and comes back with the result.
async fn continue_in_dialplan(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "POST", &format!("/channels/{id}/continue"), &params);
    let (endpoint, app) = {
        let mut world = inner.world.lock().unwrap();
        let Some(channel) = world.channels.get_mut(&id) else {
            return not_found("Channel");
        };
        if !channel.stasis {
            return (
                StatusCode::CONFLICT,
                Json(json!({"message": "Channel not in a Stasis application"})),
            )
                .into_response();
        }
        channel.stasis = false;
        (channel.endpoint.clone(), channel.app.clone())
    };
    emit(
        &inner,
        "StasisEnd",
        json!({"channel": channel_json(&id, "Up")}),
    );
    let amd = params.get("context").map(String::as_str) == Some("dialer-amd")
        && params.get("extension") == Some(&app);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if !amd {
            destroy(&inner, &id, 1, "Unallocated (unassigned) number");
            return;
        }
        let result = if endpoint.contains("066@") {
            ["amd", "MACHINE", "LONGGREETING-1500-1500"]
        } else {
            ["amd", "HUMAN", "HUMAN-800-800"]
        };
        start_stasis(&inner, &id, result.map(String::from).to_vec());
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn snoop(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "POST", &format!("/channels/{id}/snoop"), &params);
    let (Some(app), Some(snoop_id)) = (params.get("app"), params.get("snoopId")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "app is required"})),
        )
            .into_response();
    };
    if !inner.apps.lock().unwrap().contains_key(app) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "no such app"})),
        )
            .into_response();
    }
    {
        let mut world = inner.world.lock().unwrap();
        if !world.channels.contains_key(&id) {
            return not_found("Channel");
        }
        world.channel_apps.insert(snoop_id.clone(), app.clone());
        world.channels.insert(
            snoop_id.clone(),
            Channel {
                state: "Up".into(),
                endpoint: format!("Snoop/{id}"),
                app: app.clone(),
                ..Channel::default()
            },
        );
    }
    let args: Vec<String> = params
        .get("appArgs")
        .map(|a| a.split(',').map(String::from).collect())
        .unwrap_or_default();
    let (script_inner, snoop_channel) = (inner.clone(), snoop_id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        start_stasis(&script_inner, &snoop_channel, args);
    });
    Json(channel_json(snoop_id, "Up")).into_response()
}

async fn start_moh(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "POST", &format!("/bridges/{id}/moh"), &params);
    let mut world = inner.world.lock().unwrap();
    if !world.bridges.contains_key(&id) {
        return not_found("Bridge");
    }
    world.moh.push(id);
    StatusCode::NO_CONTENT.into_response()
}

async fn stop_moh(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "DELETE", &format!("/bridges/{id}/moh"), &params);
    let mut world = inner.world.lock().unwrap();
    if !world.bridges.contains_key(&id) {
        return not_found("Bridge");
    }
    world.moh.retain(|b| *b != id);
    StatusCode::NO_CONTENT.into_response()
}

fn live_recording(name: &str, bridge: &str, state: &str) -> Value {
    json!({"name": name, "format": "wav", "target_uri": format!("bridge:{bridge}"), "state": state})
}

async fn record_bridge(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    record(&inner, "POST", &format!("/bridges/{id}/record"), &params);
    let (Some(name), Some(_)) = (params.get("name"), params.get("format")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "name and format"})),
        )
            .into_response();
    };
    let mut world = inner.world.lock().unwrap();
    if !world.bridges.contains_key(&id) {
        return not_found("Bridge");
    }
    let exists = world.recordings.contains_key(name) || world.finished.contains(name);
    if exists && params.get("ifExists").map(String::as_str) == Some("fail") {
        return (
            StatusCode::CONFLICT,
            Json(json!({"message": "Recording already exists"})),
        )
            .into_response();
    }
    world.recordings.insert(name.clone(), id.clone());
    drop(world);
    let recording = live_recording(name, &id, "recording");
    emit(&inner, "RecordingStarted", json!({"recording": recording}));
    (StatusCode::CREATED, Json(recording)).into_response()
}

async fn stop_recording(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    Query(params): Params,
) -> Response {
    record(
        &inner,
        "POST",
        &format!("/recordings/live/{name}/stop"),
        &params,
    );
    let mut world = inner.world.lock().unwrap();
    let Some(bridge) = world.recordings.remove(&name) else {
        return not_found("Recording");
    };
    world.finished.push(name.clone());
    drop(world);
    emit(
        &inner,
        "RecordingFinished",
        json!({"recording": live_recording(&name, &bridge, "done")}),
    );
    StatusCode::NO_CONTENT.into_response()
}
