//! The tokio side: one task owns the [`Line`], the sockets and the timers;
//! [`SipLine`] is the dialer's handle on it ([`Telephony`]).
//!
//! A dial is placed the moment it is asked for: the trunk's calls per second
//! and calls at once are pacing settings the core keeps to
//! ([`sanjeevani_core::TrunkLimits`]), so nothing waits here unseen while
//! the core's no-answer timer runs. If the trunk is down, a dial fails as
//! congestion at once, so its contact goes back to the list under the retry
//! rules.

use crate::digest::Credentials;
use crate::endpoint::{Endpoint, EndpointConfig, Transport};
use crate::line::{Line, LineConfig};
use crate::transport;
use sanjeevani_contacts::Phone;
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_telephony::{LineEvent, LineStatus, Telephony};
use sanjeevani_telephony::{TransferEvent, Transfers};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Everything the SIP adapter needs to know.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// Where we listen (port 0: any).
    pub bind: SocketAddr,
    pub transport: Transport,
    pub line: LineConfig,
    pub credentials: Option<Credentials>,
    /// How often to probe the trunk with OPTIONS (`None`: never).
    pub keepalive: Option<Duration>,
    /// RFC 3261 T1.
    pub t1: Duration,
    /// Seeds tags, branches and Call-IDs; `None`: from the operating
    /// system, as a service must (a fixed seed repeats Call-IDs across runs).
    pub seed: Option<u64>,
}

enum Op {
    Dial(CallId, String),
    Connect(CallId, AgentId),
    Drop(CallId),
    HangUp(CallId),
    Login(AgentId, Option<String>),
    Logout(AgentId),
    Consult(CallId, String),
    CompleteTransfer(CallId),
    CancelTransfer(CallId),
}

/// Figures the adapter keeps for benchmarks and tests.
#[derive(Debug, Default)]
pub struct SipStats {
    latencies: Mutex<Vec<Duration>>,
}

impl SipStats {
    /// Latencies kept for [`SipStats::take_latencies`].
    const KEPT: usize = 100_000;

    /// Answer-to-connect times recorded so far (taken).
    pub fn take_latencies(&self) -> Vec<Duration> {
        std::mem::take(&mut self.latencies.lock().expect("not poisoned"))
    }
}

/// See [`SipLine::transfer_handle`].
pub struct SipTransfers(mpsc::WeakUnboundedSender<Op>);

impl SipTransfers {
    fn send(&self, op: Op) {
        if let Some(ops) = self.0.upgrade() {
            let _ = ops.send(op);
        }
    }
}

impl Transfers for SipTransfers {
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

/// The dialer's handle on the SIP adapter. Dropping it hangs up every leg.
pub struct SipLine {
    ops: mpsc::UnboundedSender<Op>,
    stats: Arc<SipStats>,
    local: SocketAddr,
    transfers: Option<mpsc::UnboundedReceiver<TransferEvent>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SipLine {
    /// Binds the socket and starts the adapter; line events go to `events`.
    pub async fn start(
        config: SipConfig,
        events: mpsc::UnboundedSender<LineEvent>,
    ) -> io::Result<SipLine> {
        let (sender, local, incoming) = transport::bind(config.bind, config.transport).await?;
        let seed = config.seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            // RandomState's keys come from the operating system's randomness.
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        });
        let mut endpoint_config = EndpointConfig::new(local, config.transport, seed);
        endpoint_config.credentials = config.credentials.clone();
        endpoint_config.t1 = config.t1;
        let line = Line::new(Endpoint::new(endpoint_config), config.line.clone());
        let (ops_tx, ops) = mpsc::unbounded_channel();
        let (transfers_tx, transfers) = mpsc::unbounded_channel();
        let stats = Arc::new(SipStats::default());
        let driver = Driver {
            line,
            sender,
            incoming,
            ops,
            events,
            transfers: transfers_tx,
            stats: stats.clone(),
            config,
            trunk_up: true,
            started: Instant::now(),
        };
        let task = tokio::spawn(driver.run());
        Ok(SipLine {
            ops: ops_tx,
            stats,
            local,
            transfers: Some(transfers),
            task: Some(task),
        })
    }

    /// The address we listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn stats(&self) -> Arc<SipStats> {
        self.stats.clone()
    }

    /// Transfer events (once).
    pub fn take_transfer_events(&mut self) -> Option<mpsc::UnboundedReceiver<TransferEvent>> {
        self.transfers.take()
    }

    /// A handle on the warm-transfer primitive for the medical desk; it does
    /// not keep the adapter running once this line is dropped.
    pub fn transfer_handle(&self) -> SipTransfers {
        SipTransfers(self.ops.downgrade())
    }

    /// Stops the adapter after hanging up every leg.
    pub async fn close(mut self) {
        Telephony::close(&mut self).await
    }

    fn send(&self, op: Op) {
        // The task ends only when this handle is dropped.
        let _ = self.ops.send(op);
    }
}

impl Telephony for SipLine {
    fn dial(&mut self, call: CallId, phone: &Phone, _language: Option<&str>) {
        let number = phone.as_str().trim_start_matches('+').to_string();
        self.send(Op::Dial(call, number));
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

    /// Hangs up every leg and ends when the adapter has stopped.
    fn close(&mut self) -> sanjeevani_telephony::Closing {
        // Dropping the only sender of operations stops the driver.
        self.ops = mpsc::unbounded_channel().0;
        let task = self.task.take();
        Box::pin(async move {
            if let Some(task) = task {
                let _ = task.await;
            }
        })
    }
}

struct Driver {
    line: Line,
    sender: transport::Sender,
    incoming: transport::Incoming,
    ops: mpsc::UnboundedReceiver<Op>,
    events: mpsc::UnboundedSender<LineEvent>,
    transfers: mpsc::UnboundedSender<TransferEvent>,
    stats: Arc<SipStats>,
    config: SipConfig,
    trunk_up: bool,
    started: Instant,
}

impl Driver {
    async fn run(mut self) {
        let mut keepalive = self.config.keepalive.map(|every| {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        loop {
            let wake = self.line.endpoint().poll_timeout();
            let sleep = tokio::time::sleep_until(wake.map_or_else(
                || tokio::time::Instant::now() + Duration::from_secs(3600),
                tokio::time::Instant::from_std,
            ));
            tokio::select! {
                message = self.incoming.recv() => {
                    let Some((from, bytes)) = message else { break };
                    self.line.handle(Instant::now(), from, &bytes);
                }
                op = self.ops.recv() => {
                    let Some(op) = op else { break };
                    self.apply(op);
                }
                _ = sleep => self.line.handle_timeout(Instant::now()),
                _ = tick(&mut keepalive) => self.line.probe(Instant::now()),
            }
            self.flush().await;
        }
        // The dialer is gone: hang up everything and send it.
        self.line.close(Instant::now());
        self.flush().await;
        tracing::debug!(uptime = ?self.started.elapsed(), "SIP adapter stopped");
    }

    fn apply(&mut self, op: Op) {
        let now = Instant::now();
        match op {
            Op::Dial(call, number) => {
                if self.trunk_up {
                    self.line.dial(now, call, &number);
                } else {
                    let _ = self
                        .events
                        .send(LineEvent::Failed(call, FailCause::Congestion));
                }
            }
            Op::Connect(call, agent) => self.line.connect(now, call, agent),
            Op::Drop(call) => self.line.drop_call(now, call),
            Op::HangUp(call) => self.line.hang_up(now, call),
            Op::Login(agent, phone) => self.line.login(now, agent, phone.as_deref()),
            Op::Logout(agent) => self.line.logout(now, agent),
            Op::Consult(call, uri) => self.line.consult(now, call, &uri),
            Op::CompleteTransfer(call) => self.line.complete_transfer(now, call),
            Op::CancelTransfer(call) => self.line.cancel_transfer(now, call),
        }
    }

    async fn flush(&mut self) {
        while let Some(transmit) = self.line.endpoint().poll_transmit() {
            self.sender.send(transmit.to, transmit.bytes).await;
        }
        while let Some(event) = self.line.poll_event() {
            if let LineEvent::Line(status) = event {
                self.trunk_up = status == LineStatus::Up;
            }
            let _ = self.events.send(event);
        }
        while let Some(event) = self.line.poll_transfer() {
            let _ = self.transfers.send(event);
        }
        let latencies = self.line.take_latencies();
        if !latencies.is_empty() {
            for latency in &latencies {
                metrics::histogram!("sanjeevani_sip_answer_to_connect_seconds")
                    .record(latency.as_secs_f64());
            }
            let mut kept = self.stats.latencies.lock().expect("not poisoned");
            kept.extend(latencies);
            // Nobody may be taking them (the service reads the metric): keep the latest.
            let excess = kept.len().saturating_sub(SipStats::KEPT);
            kept.drain(..excess);
        }
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
