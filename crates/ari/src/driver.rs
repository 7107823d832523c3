//! The tokio side: the event WebSocket, REST over HTTP, reconnection; and
//! [`AriLine`], the dialer's [`Telephony`] over Asterisk.
//!
//! The WebSocket is read continuously and pinged; a connection that is
//! silent past the deadline, closes or fails is dropped and opened again
//! with capped backoff. While it is down the dialer hears that the line is
//! down (pacing pauses); on reconnect the channels Asterisk still holds for
//! our app are fetched and [`Calls::reconcile`] closes the calls that
//! vanished. REST requests go one after another in the order they were made;
//! their status comes back to the call control with the request's tag.

use crate::calls::supervise::{SpyMode, SupervisionEvent};
use crate::calls::{AriConfig, Calls, Tag};
use crate::events::{self, Application};
use crate::rest::{self, Method, Request};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_telephony::{
    LineEvent, LineProblem, LineStatus, Telephony, TransferEvent, Transfers,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Where Asterisk is and how to reach it.
#[derive(Debug, Clone)]
pub struct AriSettings {
    /// `http://host:8088` (ARI is under `/ari`).
    pub base: String,
    pub username: String,
    pub password: String,
    pub calls: AriConfig,
    /// Ping the WebSocket this often; drop it after twice this without a word.
    pub ping: Duration,
}

enum Op {
    Dial(CallId, String, Option<String>),
    Connect(CallId, AgentId),
    Drop(CallId),
    HangUp(CallId),
    Login(AgentId, Option<String>),
    Logout(AgentId),
    Record(CallId),
    Consult(CallId, String),
    CompleteTransfer(CallId),
    CancelTransfer(CallId),
    Supervise(u64, AgentId, String, SpyMode),
    StopSupervising(u64),
}

/// Where the adapter reports.
struct Reports {
    events: mpsc::UnboundedSender<LineEvent>,
    transfers: mpsc::UnboundedSender<TransferEvent>,
    supervision: mpsc::UnboundedSender<SupervisionEvent>,
    latencies: Arc<Mutex<Vec<Duration>>>,
}

/// Answer-to-connect times as the adapter measures them: from the answer's
/// event to Asterisk's reply to `addChannel`.
#[derive(Clone)]
pub struct Latencies(Arc<Mutex<Vec<Duration>>>);

impl Latencies {
    /// The times so far (taken).
    pub fn take(&self) -> Vec<Duration> {
        std::mem::take(&mut self.0.lock().expect("not poisoned"))
    }
}

/// The dialer's handle on Asterisk. Closing it ([`Telephony::close`]) or
/// dropping it stops the adapter.
pub struct AriLine {
    /// `None` once closed.
    ops: Option<mpsc::UnboundedSender<Op>>,
    task: Option<tokio::task::JoinHandle<()>>,
    latencies: Arc<Mutex<Vec<Duration>>>,
    transfers: Option<mpsc::UnboundedReceiver<TransferEvent>>,
    supervision: Option<mpsc::UnboundedReceiver<SupervisionEvent>>,
    calls: AriConfig,
}

impl AriLine {
    pub fn start(settings: AriSettings, events: mpsc::UnboundedSender<LineEvent>) -> AriLine {
        let (ops_tx, ops) = mpsc::unbounded_channel();
        let (transfers_tx, transfers) = mpsc::unbounded_channel();
        let (supervision_tx, supervision) = mpsc::unbounded_channel();
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let reports = Reports {
            events,
            transfers: transfers_tx,
            supervision: supervision_tx,
            latencies: latencies.clone(),
        };
        let calls = settings.calls.clone();
        let task = tokio::spawn(run(settings, ops, reports));
        AriLine {
            ops: Some(ops_tx),
            task: Some(task),
            latencies,
            transfers: Some(transfers),
            supervision: Some(supervision),
            calls,
        }
    }

    /// A handle for the medical desk's warm transfers and the console's
    /// supervision; it does not keep the adapter running once this line is
    /// dropped.
    pub fn transfer_handle(&self) -> AriHandle {
        AriHandle(match &self.ops {
            Some(ops) => ops.downgrade(),
            None => mpsc::unbounded_channel().0.downgrade(),
        })
    }

    /// How warm transfers go (once: the receiver is handed over).
    pub fn take_transfer_events(&mut self) -> Option<mpsc::UnboundedReceiver<TransferEvent>> {
        self.transfers.take()
    }

    /// How supervision sessions go (once).
    pub fn take_supervision_events(&mut self) -> Option<mpsc::UnboundedReceiver<SupervisionEvent>> {
        self.supervision.take()
    }

    /// Records a connected call until it ends.
    pub fn record(&mut self, call: CallId) {
        self.send(Op::Record(call));
    }

    /// Session `n`: the supervisor's phone at `endpoint` hears `agent`'s calls.
    pub fn supervise(&mut self, n: u64, agent: AgentId, endpoint: &str, mode: SpyMode) {
        self.send(Op::Supervise(n, agent, endpoint.to_string(), mode));
    }

    pub fn stop_supervising(&mut self, n: u64) {
        self.send(Op::StopSupervising(n));
    }

    /// Answer-to-connect times so far (taken).
    pub fn take_latencies(&self) -> Vec<Duration> {
        self.latencies().take()
    }

    /// A handle on the answer-to-connect times that outlives the line.
    pub fn latencies(&self) -> Latencies {
        Latencies(self.latencies.clone())
    }

    fn send(&self, op: Op) {
        if let Some(ops) = &self.ops {
            let _ = ops.send(op);
        }
    }
}

impl Telephony for AriLine {
    fn dial(&mut self, call: CallId, phone: &Phone, language: Option<&str>) {
        let number = phone.as_str().trim_start_matches('+').to_string();
        self.send(Op::Dial(call, number, language.map(str::to_string)));
    }
    fn connect(&mut self, call: CallId, agent: AgentId) {
        self.send(Op::Connect(call, agent));
    }
    fn drop_call(&mut self, call: CallId) {
        self.send(Op::Drop(call));
    }
    fn cancel(&mut self, call: CallId) {
        self.send(Op::HangUp(call));
    }
    fn hangup(&mut self, call: CallId) {
        self.send(Op::HangUp(call));
    }
    fn login(&mut self, agent: AgentId, phone: Option<&str>) -> bool {
        self.send(Op::Login(agent, phone.map(str::to_string)));
        false
    }
    fn logout(&mut self, agent: AgentId) {
        self.send(Op::Logout(agent));
    }
    /// Hangs up everything left, removes our bridges, closes the WebSocket
    /// with a close frame, and ends when that is done.
    fn recording_name(&self, call: CallId) -> Option<String> {
        Some(crate::calls::recording_name(&self.calls, call))
    }
    fn close(&mut self) -> sanjeevani_telephony::Closing {
        self.ops = None;
        let task = self.task.take();
        Box::pin(async move {
            if let Some(task) = task {
                let _ = task.await;
            }
        })
    }
}

/// Warm transfers and supervision without owning the line: see
/// [`AriLine::transfer_handle`].
pub struct AriHandle(mpsc::WeakUnboundedSender<Op>);

impl AriHandle {
    fn send(&self, op: Op) {
        if let Some(ops) = self.0.upgrade() {
            let _ = ops.send(op);
        }
    }

    /// Session `n`: the supervisor's phone at `endpoint` hears `agent`'s calls.
    pub fn supervise(&self, n: u64, agent: AgentId, endpoint: &str, mode: SpyMode) {
        self.send(Op::Supervise(n, agent, endpoint.to_string(), mode));
    }

    pub fn stop_supervising(&self, n: u64) {
        self.send(Op::StopSupervising(n));
    }
}

impl Transfers for AriHandle {
    fn consult(&self, call: CallId, target: &str) {
        self.send(Op::Consult(call, target.to_string()));
    }
    fn complete_transfer(&self, call: CallId) {
        self.send(Op::CompleteTransfer(call));
    }
    fn cancel_transfer(&self, call: CallId) {
        self.send(Op::CancelTransfer(call));
    }
}

/// Contacts' originates in flight at once.
const ORIGINATES_AT_ONCE: usize = 8;

struct Rest {
    client: reqwest::Client,
    settings: AriSettings,
    answers: mpsc::UnboundedSender<(Tag, u16)>,
}

impl Rest {
    fn url(&self, path: &str) -> String {
        format!("{}/ari{path}", self.settings.base.trim_end_matches('/'))
    }

    fn builder(&self, request: &Request) -> reqwest::RequestBuilder {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        self.client
            .request(method, self.url(&request.path))
            .query(&request.query)
            .basic_auth(&self.settings.username, Some(&self.settings.password))
            .timeout(Duration::from_secs(10))
    }

    /// Sends requests in the order the call control made them (a bridge
    /// must exist before a channel is added to it); each status (0: no
    /// answer) goes back on `answers`. A contact's originate is the one
    /// request nothing earlier depends on, so up to [`ORIGINATES_AT_ONCE`]
    /// of them go out beside the rest: a burst of new calls does not hold
    /// up the joins of calls already answered. A later request for the same
    /// call waits for its originate's answer.
    async fn send_in_order(self: Arc<Self>, mut queue: mpsc::UnboundedReceiver<(Tag, Request)>) {
        let slots = Arc::new(tokio::sync::Semaphore::new(ORIGINATES_AT_ONCE));
        let mut originating: HashMap<CallId, tokio::task::JoinHandle<()>> = HashMap::new();
        while let Some((tag, request)) = queue.recv().await {
            originating.retain(|_, task| !task.is_finished());
            if let Tag::Originate(call) = tag {
                let (rest, slots) = (self.clone(), slots.clone());
                let task = tokio::spawn(async move {
                    let Ok(_slot) = slots.acquire().await else {
                        return;
                    };
                    rest.send(tag, &request).await;
                });
                originating.insert(call, task);
                continue;
            }
            if let Some(task) = tag.call().and_then(|call| originating.remove(&call)) {
                let _ = task.await;
            }
            self.send(tag, &request).await;
        }
        for (_, task) in originating {
            let _ = task.await;
        }
    }

    async fn send(&self, tag: Tag, request: &Request) {
        let status = match self.builder(request).send().await {
            Ok(response) => response.status().as_u16(),
            Err(e) => {
                tracing::warn!(error = %e, path = %request.path, "ARI request failed");
                0
            }
        };
        let _ = self.answers.send((tag, status));
    }

    /// `op` read as JSON. The operations are fixed and checked against
    /// Asterisk's declarations by the spec test, so building one cannot fail.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        op: rest::Operation,
        ids: &[(&str, &str)],
        query: &[(&'static str, String)],
    ) -> Result<T, reqwest::Error> {
        let request = op.request(ids, query).expect("a declared operation");
        self.builder(&request)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// When Asterisk started.
    async fn startup_time(&self) -> Result<String, reqwest::Error> {
        let info: events::AsteriskInfo = self
            .read(rest::GET_INFO, &[], &[("only", "status".to_string())])
            .await?;
        Ok(info.status.startup_time)
    }

    /// The first of `needed` that Asterisk does not run, if any.
    async fn missing_module(
        &self,
        needed: &[&'static str],
    ) -> Result<Option<&'static str>, reqwest::Error> {
        let modules: Vec<events::Module> = self.read(rest::GET_MODULES, &[], &[]).await?;
        Ok(needed.iter().copied().find(|name| {
            !modules
                .iter()
                .any(|m| m.name == *name && m.status.eq_ignore_ascii_case("running"))
        }))
    }

    /// The channels Asterisk holds for our app.
    async fn live_channels(&self) -> Result<HashSet<String>, reqwest::Error> {
        let app = self.settings.calls.app.clone();
        let application: Application = self
            .read(rest::GET_APPLICATION, &[("applicationName", &app)], &[])
            .await?;
        Ok(application.channel_ids.into_iter().collect())
    }
}

async fn run(settings: AriSettings, mut ops: mpsc::UnboundedReceiver<Op>, reports: Reports) {
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    let rest = Arc::new(Rest {
        client: reqwest::Client::new(),
        settings: settings.clone(),
        answers: answers_tx,
    });
    let (queue, queued) = mpsc::unbounded_channel();
    let mut sender = AbortOnDrop(Some(tokio::spawn(rest.clone().send_in_order(queued))));
    let mut calls = Calls::new(settings.calls.clone());
    // Credentials go in a header, never in the URL (URLs end up in logs).
    let ws_url = format!(
        "{}/ari/events?app={}",
        settings
            .base
            .trim_end_matches('/')
            .replacen("http", "ws", 1),
        settings.calls.app,
    );
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", settings.username, settings.password));
    let mut backoff = Duration::from_millis(250);
    let mut status = Status::new(&reports);
    let needed = needed_modules(&settings.calls);
    // When the Asterisk we last spoke to started: a later one is a restart.
    let mut started: Option<String> = None;
    'connect: loop {
        let mut request = match ws_url.as_str().into_client_request() {
            Ok(request) => request,
            Err(e) => {
                tracing::error!(error = %e, "ARI URL unusable: adapter stopped");
                return;
            }
        };
        if let Ok(value) = format!("Basic {credentials}").parse() {
            request.headers_mut().insert("authorization", value);
        }
        let socket = match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => socket,
            Err(e) => {
                let problem = match &e {
                    tokio_tungstenite::tungstenite::Error::Http(response)
                        if matches!(response.status().as_u16(), 401 | 403) =>
                    {
                        LineProblem::Unauthorized
                    }
                    _ => LineProblem::Unreachable,
                };
                tracing::warn!(error = %e, %problem, retry_in = ?backoff, "ARI WebSocket unavailable");
                status.set(LineStatus::Down(problem));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    op = ops.recv() => match op {
                        Some(op) => apply(&mut calls, op),
                        None => return close(calls, queue, &mut sender, &reports).await,
                    },
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                flush(&mut calls, &queue, &reports);
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        let restarted = match rest.startup_time().await {
            Ok(now) => {
                let restarted = started.as_ref().is_some_and(|before| *before != now);
                started = Some(now);
                restarted
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not ask Asterisk when it started");
                false
            }
        };
        if restarted {
            tracing::warn!(
                "Asterisk restarted: what it held is gone; agents' phones are called again"
            );
        }
        match rest.live_channels().await {
            Ok(live) => calls.reconcile(&live, restarted),
            Err(e) => tracing::warn!(error = %e, "could not list the app's channels"),
        }
        status.check_modules(&rest, &needed).await;
        flush(&mut calls, &queue, &reports);
        let (mut sink, mut stream) = socket.split();
        let mut ping = tokio::time::interval(settings.ping);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        heard = Instant::now();
                        match events::parse(&text) {
                            Ok(event) => calls.event(Instant::now(), event),
                            Err(e) => tracing::warn!(error = %e, "ignored an ARI event"),
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        tracing::warn!("ARI WebSocket closed: reconnecting");
                        continue 'connect;
                    }
                    Some(Ok(_)) => heard = Instant::now(),
                },
                op = ops.recv() => match op {
                    Some(op) => apply(&mut calls, op),
                    None => {
                        close(calls, queue, &mut sender, &reports).await;
                        // A close frame, so that Asterisk sees a goodbye, not a dropped connection.
                        let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
                        return;
                    }
                },
                Some((tag, status)) = answers.recv() => calls.response(Instant::now(), tag, status),
                _ = ping.tick() => {
                    // A module loaded since: dialing goes on by itself.
                    if matches!(status.now, LineStatus::Down(LineProblem::MissingModule(_))) {
                        status.check_modules(&rest, &needed).await;
                    }
                    if heard.elapsed() > settings.ping * 2 {
                        tracing::warn!("ARI WebSocket silent past its deadline: reconnecting");
                        continue 'connect;
                    }
                    if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                        continue 'connect;
                    }
                }
            }
            flush(&mut calls, &queue, &reports);
        }
    }
}

/// The dialer is gone: hang up everything and wait (up to 5 s) until the
/// requests are sent.
async fn close(
    mut calls: Calls,
    queue: mpsc::UnboundedSender<(Tag, Request)>,
    sender: &mut AbortOnDrop,
    reports: &Reports,
) {
    calls.close();
    flush(&mut calls, &queue, reports);
    drop(queue);
    if let Some(task) = sender.0.take() {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
}

/// The modules the adapter's requests need: playback (the information
/// message), recording, snoop (supervision), music on hold and holding
/// bridges (warm transfer), and detection when it is on.
fn needed_modules(calls: &AriConfig) -> Vec<&'static str> {
    let mut needed = vec![
        "res_stasis_playback.so",
        "res_stasis_recording.so",
        "res_stasis_snoop.so",
        "res_musiconhold.so",
        "bridge_holding.so",
    ];
    if calls.amd_context.is_some() {
        needed.push("app_amd.so");
    }
    needed
}

/// What the dialer was last told of the line; told again only on a change.
struct Status<'a> {
    now: LineStatus,
    reports: &'a Reports,
}

impl<'a> Status<'a> {
    fn new(reports: &'a Reports) -> Status<'a> {
        Status {
            now: LineStatus::Up,
            reports,
        }
    }

    fn set(&mut self, status: LineStatus) {
        if status != self.now {
            self.now = status;
            let _ = self.reports.events.send(LineEvent::Line(status));
        }
    }

    /// Up, unless Asterisk runs without a module the adapter needs (a
    /// listing that fails says nothing either way).
    async fn check_modules(&mut self, rest: &Rest, needed: &[&'static str]) {
        match rest.missing_module(needed).await {
            Ok(Some(module)) => {
                let problem = LineProblem::MissingModule(module);
                if self.now != LineStatus::Down(problem) {
                    tracing::error!(%problem, "Asterisk lacks a module: dialing paused");
                }
                self.set(LineStatus::Down(problem));
            }
            Ok(None) => self.set(LineStatus::Up),
            Err(e) => {
                tracing::warn!(error = %e, "could not list Asterisk's modules");
                self.set(LineStatus::Up);
            }
        }
    }
}

/// Stops a task when dropped.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

fn apply(calls: &mut Calls, op: Op) {
    match op {
        Op::Dial(call, number, language) => calls.dial(call, &number, language.as_deref()),
        Op::Connect(call, agent) => calls.connect(call, agent),
        Op::Drop(call) => calls.drop_call(call),
        Op::HangUp(call) => calls.hang_up(call),
        Op::Login(agent, phone) => calls.login(agent, phone.as_deref()),
        Op::Logout(agent) => calls.logout(agent),
        Op::Record(call) => calls.record(call),
        Op::Consult(call, endpoint) => calls.consult(call, &endpoint),
        Op::CompleteTransfer(call) => calls.complete_transfer(call),
        Op::CancelTransfer(call) => calls.cancel_transfer(call),
        Op::Supervise(n, agent, endpoint, mode) => calls.supervise(n, agent, &endpoint, mode),
        Op::StopSupervising(n) => calls.stop_supervising(n),
    }
}

fn flush(calls: &mut Calls, queue: &mpsc::UnboundedSender<(Tag, Request)>, reports: &Reports) {
    while let Some(request) = calls.poll_request() {
        let _ = queue.send(request);
    }
    while let Some(event) = calls.poll_event() {
        let _ = reports.events.send(event);
    }
    while let Some(event) = calls.poll_transfer() {
        let _ = reports.transfers.send(event);
    }
    while let Some(event) = calls.poll_supervision() {
        let _ = reports.supervision.send(event);
    }
    let taken = calls.take_latencies();
    for latency in &taken {
        metrics::histogram!("sanjeevani_ari_answer_to_connect_seconds")
            .record(latency.as_secs_f64());
    }
    let mut kept = reports.latencies.lock().expect("not poisoned");
    kept.extend(taken);
    let excess = kept.len().saturating_sub(100_000);
    kept.drain(..excess);
}
