//! The WebSocket at `/ws`: live screens.
//!
//! - agents: their own state when it changes, a screen pop when a call
//!   reaches them, the end of that call, and how their transfers to the
//!   medical desk go;
//! - supervisors and admins: the wallboard once a second;
//! - the medical desk: escalations and resolutions as they happen, the
//!   caller's details when a member takes a transfer, callbacks offered.
//!
//! Each connection has its own task that reads the latest state (watch
//! channels) rather than a queue, so a slow client only misses intermediate
//! snapshots; one that lags behind the event feed gets a fresh snapshot, and
//! one that does not take a message within [`SEND_TIMEOUT`] is closed.
//!
//! A socket lives only as long as its session: it checks the session again
//! the moment one of its user's sessions ends (logout, disabled, password
//! reset) and every [`SESSION_CHECK`] otherwise (expiry, idle end), and
//! closes when it is gone. Clients' frames are small and each user has at
//! most [`SOCKETS_PER_USER`] sockets.

use crate::api::agent::{status_of, AgentStatus};
use crate::api::desk::{contact_view, ticket_view, TicketView};
use crate::api::session::UserView;
use crate::auth::Caller;
use crate::centre::DeskEvent;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use parking_lot::Mutex;
use sanjeevani_dialer::{LiveView, Notice};
use sanjeevani_store::{CampaignId, Role};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an open socket checks its session when nothing prompts it.
pub const SESSION_CHECK: Duration = Duration::from_secs(30);

/// Sockets one user may hold open (a few tabs or screens).
pub const SOCKETS_PER_USER: usize = 4;

/// The largest message a client may send: clients send nothing but pings.
const MAX_CLIENT_MESSAGE: usize = 4096;

/// Open sockets per user.
#[derive(Default)]
pub struct Sockets(Mutex<HashMap<i64, usize>>);

/// One open socket of a user; dropping it frees the place.
struct SocketPlace {
    state: AppState,
    user: i64,
}

impl SocketPlace {
    fn take(state: &AppState, user: i64) -> Option<SocketPlace> {
        let mut open = state.sockets.0.lock();
        let n = open.entry(user).or_default();
        if *n >= SOCKETS_PER_USER {
            return None;
        }
        *n += 1;
        Some(SocketPlace {
            state: state.clone(),
            user,
        })
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut open = self.state.sockets.0.lock();
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Some(place) = SocketPlace::take(&state, caller.id()) else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("at most {SOCKETS_PER_USER} live connections per user: close another page"),
        ));
    };
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _place = place;
            let user = caller.id();
            if let Err(e) = serve(state.clone(), caller, socket).await {
                tracing::debug!(user, error = %e, "websocket closed");
            }
        }))
}

#[derive(Debug, thiserror::Error)]
enum WsError {
    #[error("the client is too slow")]
    Slow,
    #[error(transparent)]
    Socket(#[from] axum::Error),
    #[error("{}", .0.message)]
    Api(crate::error::ApiError),
}

impl From<crate::error::ApiError> for WsError {
    fn from(e: crate::error::ApiError) -> Self {
        WsError::Api(e)
    }
}

async fn send_text(socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), WsError> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await {
        Ok(sent) => Ok(sent?),
        Err(_) => Err(WsError::Slow),
    }
}

async fn send_json(socket: &mut WebSocket, value: &impl Serialize) -> Result<(), WsError> {
    let text = serde_json::to_string(value).expect("messages serialize");
    send_text(socket, text.into()).await
}

async fn serve(state: AppState, caller: Caller, mut socket: WebSocket) -> Result<(), WsError> {
    // Subscribed before anything is sent, and the session checked once
    // after: a session ended while the socket was being set up (before or
    // after the upgrade's check) is not missed until the periodic check.
    let mut stopping = state.centre.stopping();
    let mut sessions_ended = state.centre.sessions_ended();
    let mut session_check = tokio::time::interval(SESSION_CHECK);
    session_check.tick().await;
    let mut notices = state.centre.notices();
    let mut desk = state.centre.desk_events();
    let mut wallboard = state.wallboard.subscribe();
    if !session_alive(&state, &caller).await? {
        let _ = socket.send(Message::Close(None)).await;
        return Ok(());
    }
    send_json(
        &mut socket,
        &json!({
            "type": "hello",
            "user": UserView::from(&caller.user),
            "simulated_telephony": state.centre.is_simulated(),
        }),
    )
    .await?;
    let role = caller.user.role;
    // Agents: their campaign's view, followed as the dialer publishes it; the
    // slow tick notices joining or leaving a campaign.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut view: Option<(CampaignId, watch::Receiver<LiveView>)> = None;
    let mut last_status: Option<String> = None;
    if role == Role::Medical {
        send_tickets(&state, &mut socket).await?;
    }
    loop {
        tokio::select! {
            _ = async { drop(stopping.wait_for(|s| *s).await) } => break,
            ended = sessions_ended.recv() => {
                let mine = match ended {
                    Ok(user) => user == caller.id(),
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => break,
                };
                if mine && !session_alive(&state, &caller).await? {
                    break;
                }
            }
            _ = session_check.tick() => {
                if !session_alive(&state, &caller).await? {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = tick.tick(), if role == Role::Agent => {
                let campaign = state.centre.agent_campaign(caller.id());
                if campaign != view.as_ref().map(|(c, _)| *c) {
                    view = campaign.and_then(|c| state.centre.watch_view(c).map(|rx| (c, rx)));
                }
                send_agent_status(&state, &caller, &mut socket, &mut last_status, crate::now_ms()).await?;
            }
            changed = view_changed(&mut view), if role == Role::Agent => {
                let at = match (&changed, &mut view) {
                    (Ok(()), Some((_, rx))) => rx.borrow_and_update().at,
                    _ => crate::now_ms(),
                };
                if changed.is_err() {
                    view = None;
                }
                send_agent_status(&state, &caller, &mut socket, &mut last_status, at).await?;
            }
            changed = wallboard.changed(), if matches!(role, Role::Supervisor | Role::Admin) => {
                if changed.is_err() {
                    break;
                }
                let text: Arc<str> = wallboard.borrow_and_update().clone();
                send_text(&mut socket, Utf8Bytes::from(&*text)).await?;
            }
            notice = notices.recv(), if role == Role::Agent => match notice {
                Ok(notice) => on_notice(&state, &caller, &mut socket, notice, &mut last_status).await?,
                Err(RecvError::Lagged(_)) => {
                    last_status = None;
                    send_agent_status(&state, &caller, &mut socket, &mut last_status, crate::now_ms()).await?;
                }
                Err(RecvError::Closed) => break,
            },
            event = desk.recv(), if matches!(role, Role::Medical | Role::Agent) => match event {
                Ok(event) => on_desk_event(&state, &caller, &mut socket, event).await?,
                Err(RecvError::Lagged(_)) if role == Role::Medical => send_tickets(&state, &mut socket).await?,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    Ok(())
}

/// Whether the socket's session still holds (a check also keeps it from
/// ending idle: the page is open and live).
async fn session_alive(state: &AppState, caller: &Caller) -> Result<bool, WsError> {
    let alive = Caller::of_session(state, &caller.token_hash)
        .await?
        .is_some();
    if !alive {
        tracing::debug!(user = caller.id(), "websocket: the session ended");
    }
    Ok(alive)
}

/// What a desk event shows this user: agents see their own transfers;
/// members see the queue, the callers handed to them and their callbacks.
async fn on_desk_event(
    state: &AppState,
    caller: &Caller,
    socket: &mut WebSocket,
    event: DeskEvent,
) -> Result<(), WsError> {
    let me = caller.id();
    match (caller.user.role, event) {
        (
            Role::Agent,
            DeskEvent::Transfer {
                agent,
                ticket,
                stage,
                member,
            },
        ) if agent == me as u64 => {
            send_json(
                socket,
                &json!({"type": "transfer", "ticket": ticket, "stage": stage, "member": member}),
            )
            .await
        }
        (Role::Medical, DeskEvent::Escalation { ticket }) => {
            let ticket = ticket_view(state, ticket).await?;
            send_json(socket, &json!({"type": "escalation", "ticket": ticket})).await
        }
        (Role::Medical, DeskEvent::TicketUpdated { ticket }) => {
            let ticket = ticket_view(state, ticket).await?;
            send_json(socket, &json!({"type": "ticket_updated", "ticket": ticket})).await
        }
        (Role::Medical, DeskEvent::TicketResolved { ticket }) => {
            send_json(
                socket,
                &json!({"type": "ticket_resolved", "ticket": ticket.id}),
            )
            .await
        }
        (Role::Medical, DeskEvent::Consult { member, ticket }) if member == me => {
            let contact = contact_view(state, caller, ticket.contact).await?;
            let ticket = ticket_view(state, ticket).await?;
            send_json(
                socket,
                &json!({"type": "consult", "ticket": ticket, "contact": contact}),
            )
            .await
        }
        (Role::Medical, DeskEvent::CallbackOffered { ticket, member }) if member == me => {
            send_json(
                socket,
                &json!({"type": "callback_offered", "ticket": ticket}),
            )
            .await
        }
        _ => Ok(()),
    }
}

/// Sends the agent's state if it changed; `at` is when the server learnt of it.
async fn send_agent_status(
    state: &AppState,
    caller: &Caller,
    socket: &mut WebSocket,
    last: &mut Option<String>,
    at: i64,
) -> Result<(), WsError> {
    let status: AgentStatus = status_of(state, caller.id());
    // Seconds in state change every second; the page counts those itself.
    let key = format!(
        "{:?}/{}/{:?}/{:?}",
        status.campaign, status.state, status.call, status.after_call
    );
    if last.as_deref() == Some(key.as_str()) {
        return Ok(());
    }
    *last = Some(key);
    send_json(
        socket,
        &json!({"type": "agent", "status": status, "at": at}),
    )
    .await
}

/// Resolves when the followed view changes; never when there is none.
async fn view_changed(
    view: &mut Option<(CampaignId, watch::Receiver<LiveView>)>,
) -> Result<(), watch::error::RecvError> {
    match view {
        Some((_, rx)) => rx.changed().await,
        None => std::future::pending().await,
    }
}

async fn on_notice(
    state: &AppState,
    caller: &Caller,
    socket: &mut WebSocket,
    notice: Notice,
    last: &mut Option<String>,
) -> Result<(), WsError> {
    let me = caller.id() as u64;
    match notice {
        Notice::Connected {
            agent,
            call,
            campaign,
        } if agent == me => {
            let contact = contact_view(state, caller, call.contact).await?;
            send_json(
                socket,
                &json!({
                    "type": "screen_pop",
                    "campaign": campaign,
                    "attempt": call.attempt,
                    "contact": contact,
                }),
            )
            .await?;
        }
        Notice::Ended {
            agent: Some(agent),
            call,
            outcome,
            ..
        } if agent == me => {
            send_json(
                socket,
                &json!({"type": "call_ended", "attempt": call.attempt, "outcome": outcome}),
            )
            .await?;
        }
        _ => return Ok(()),
    }
    // Notices follow the view that shows them (see the dialer's flush).
    let at = status_time(state, caller);
    send_agent_status(state, caller, socket, last, at).await
}

fn status_time(state: &AppState, caller: &Caller) -> i64 {
    state
        .centre
        .agent_campaign(caller.id())
        .and_then(|c| state.centre.view(c))
        .map_or_else(crate::now_ms, |v| v.at)
}

async fn send_tickets(state: &AppState, socket: &mut WebSocket) -> Result<(), WsError> {
    let mut open: Vec<TicketView> = Vec::new();
    for t in state
        .store
        .tickets(false)
        .await
        .map_err(crate::error::ApiError::from)?
    {
        open.push(ticket_view(state, t).await?);
    }
    send_json(socket, &json!({"type": "tickets", "open": open})).await
}

/// The wallboard message every supervisor receives, built once a second.
pub async fn wallboard(state: &AppState) -> ApiResult<String> {
    let campaigns = state.store.campaigns().await?;
    let views: Vec<serde_json::Value> = state
        .centre
        .views()
        .into_iter()
        .map(|v| {
            let name = campaigns
                .iter()
                .find(|c| c.id == v.campaign)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            json!({"name": name, "live": v})
        })
        .collect();
    let tickets = state.store.tickets(false).await?;
    let now = crate::now_ms();
    let ages: Vec<i64> = tickets
        .iter()
        .map(|t| (now - t.created_at) / 1000)
        .collect();
    let bucket = |lo: i64, hi: i64| ages.iter().filter(|a| **a >= lo && **a < hi).count();
    let overdue = tickets
        .iter()
        .filter(|t| now > crate::api::desk::due_at(state, t))
        .count();
    let transferring = tickets
        .iter()
        .filter(|t| t.transfer == sanjeevani_store::TransferState::Ringing)
        .count();
    let alerts = state.store.open_alerts().await?.len();
    // Agents by name, for the console's table (ids stay in the views).
    let names: std::collections::BTreeMap<i64, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == sanjeevani_store::Role::Agent)
        .map(|u| (u.id, u.display_name))
        .collect();
    Ok(json!({
        "type": "wallboard",
        "at": now,
        "campaigns": views,
        "agent_names": names,
        "tickets": {
            "open": tickets.len(),
            "urgent": tickets.iter().filter(|t| t.urgency == sanjeevani_store::Urgency::Urgent).count(),
            "by_age": {
                "under_15m": bucket(0, 900),
                "15m_to_1h": bucket(900, 3600),
                "1h_to_4h": bucket(3600, 14_400),
                "over_4h": bucket(14_400, i64::MAX),
            },
            "overdue": overdue,
        },
        "desk": {
            "members": state.centre.desk().members().len(),
            "transferring": transferring,
        },
        "alerts": alerts,
    })
    .to_string())
}
