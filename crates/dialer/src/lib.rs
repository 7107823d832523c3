//! The dialer runtime: one campaign on one node.
//!
//! It feeds the sans-io core with time and events, carries out the core's
//! commands through a [`Telephony`] adapter, and keeps the store in step:
//! contacts come from leases, every dial is recorded before it is placed, and
//! every outcome is written before the core is told it is final. A node that
//! starts closes the attempts it left open (crash) as `interrupted`.

mod simulated;

pub use simulated::SimulatedLine;

use sanjeevani_contacts::{AttemptOutcome, Phone};
use sanjeevani_core::{AgentId, CallId, Campaign, Command, Event, FailCause, Instant};
use sanjeevani_store::{
    AttemptEnd, AttemptId, AttemptMark, CampaignId, LeasedContact, NewAttempt, Store, StoreError,
};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a telephony adapter reports about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    Ringing(CallId),
    Answered(CallId),
    Failed(CallId, FailCause),
    /// The call ended (after a connect: the conversation is over).
    Hangup(CallId),
    /// An agent finished wrap-up and is ready again.
    AgentReady(AgentId),
}

/// The boundary to a PBX or trunk. Commands are fire-and-forget; results come
/// back as [`LineEvent`]s on the channel the adapter was built with.
pub trait Telephony: Send {
    fn dial(&mut self, call: CallId, phone: &Phone);
    fn connect(&mut self, call: CallId, agent: AgentId);
    /// Play the information message, then hang up.
    fn drop_call(&mut self, call: CallId);
    fn cancel(&mut self, call: CallId);
}

/// Why the runtime stopped.
#[derive(Debug, thiserror::Error)]
pub enum DialerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the telephony adapter closed its event channel")]
    LineClosed,
}

/// How a node runs a campaign.
#[derive(Debug, Clone)]
pub struct DialerOptions {
    pub node: String,
    /// How long a leased contact stays ours without renewal.
    pub lease_ttl: Duration,
    /// Contacts kept leased ahead of dialing.
    pub hopper_size: usize,
    /// Agents logged in and made ready at start.
    pub agents: Vec<AgentId>,
    /// Return once no contact of the campaign is pending and no call is live.
    pub exit_when_done: bool,
}

/// A live call: its attempt in the store and, once connected, its agent.
struct Live {
    attempt: AttemptId,
    agent: Option<AgentId>,
}

/// Runs `campaign` until `shutdown` resolves (or, with `exit_when_done`, the list is finished).
pub struct Dialer<T: Telephony> {
    store: Arc<dyn Store>,
    campaign_id: CampaignId,
    core: Campaign,
    line: T,
    events: mpsc::UnboundedReceiver<LineEvent>,
    options: DialerOptions,
    started: tokio::time::Instant,
    hopper: VecDeque<LeasedContact>,
    live: HashMap<CallId, Live>,
    waiting_for_contacts: bool,
    out: Vec<Command>,
}

fn wall_clock_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl<T: Telephony> Dialer<T> {
    pub async fn new(
        store: Arc<dyn Store>,
        campaign_id: CampaignId,
        line: T,
        events: mpsc::UnboundedReceiver<LineEvent>,
        options: DialerOptions,
    ) -> Result<Self, DialerError> {
        let campaign = store.campaign(campaign_id).await?;
        let closed = store.recover_node(&options.node, wall_clock_ms()).await?;
        if closed > 0 {
            tracing::warn!(node = %options.node, closed, "closed attempts left open by an earlier run as interrupted");
        }
        Ok(Dialer {
            store,
            campaign_id,
            core: Campaign::new(campaign.settings.dialer),
            line,
            events,
            options,
            started: tokio::time::Instant::now(),
            hopper: VecDeque::new(),
            live: HashMap::new(),
            waiting_for_contacts: false,
            out: Vec::new(),
        })
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    /// Feeds one event to the core and carries out what it commands.
    async fn feed(&mut self, event: Event) -> Result<(), DialerError> {
        let mut out = std::mem::take(&mut self.out);
        if let Err(e) = self.core.handle(self.now(), event, &mut out) {
            // A late event for a call the core has closed (a cancel raced an answer): harmless.
            tracing::debug!(error = %e, "core refused an event");
        }
        for command in out.drain(..) {
            self.execute(command).await?;
        }
        self.out = out;
        Ok(())
    }

    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), DialerError> {
        tokio::pin!(shutdown);
        for agent in self.options.agents.clone() {
            self.feed(Event::AgentReady(agent)).await?;
        }
        self.feed(Event::Start).await?;
        let mut housekeeping = tokio::time::interval(Duration::from_millis(500));
        let mut renew = tokio::time::interval(self.options.lease_ttl / 3);
        // Every loop turn waits for something; the loop ends on shutdown or when done.
        loop {
            let wake = self
                .core
                .next_wake()
                .map(|t| self.started + Duration::from_millis(t.as_millis()));
            let sleep = tokio::time::sleep_until(
                wake.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)),
            );
            tokio::select! {
                _ = &mut shutdown => break,
                event = self.events.recv() => {
                    let event = event.ok_or(DialerError::LineClosed)?;
                    self.on_line(event).await?;
                }
                _ = sleep => self.feed(Event::Tick).await?,
                _ = renew.tick() => {
                    self.store.renew_leases(&self.options.node, wall_clock_ms(), self.ttl_ms()).await?;
                }
                _ = housekeeping.tick() => {
                    if self.waiting_for_contacts && self.refill().await? > 0 {
                        self.waiting_for_contacts = false;
                        self.feed(Event::ContactsAvailable).await?;
                    }
                    if self.options.exit_when_done && self.finished().await? {
                        break;
                    }
                }
            }
        }
        self.feed(Event::Stop).await?;
        for contact in std::mem::take(&mut self.hopper) {
            self.store.release(contact.id, &self.options.node).await?;
        }
        Ok(())
    }

    fn ttl_ms(&self) -> i64 {
        self.options.lease_ttl.as_millis() as i64
    }

    async fn finished(&mut self) -> Result<bool, DialerError> {
        if !self.live.is_empty() || !self.hopper.is_empty() {
            return Ok(false);
        }
        Ok(self
            .store
            .contact_counts(self.campaign_id, wall_clock_ms())
            .await?
            .pending
            == 0)
    }

    async fn refill(&mut self) -> Result<usize, DialerError> {
        let want = self.options.hopper_size.saturating_sub(self.hopper.len());
        if want == 0 {
            return Ok(0);
        }
        let leased = self
            .store
            .lease(
                self.campaign_id,
                &self.options.node,
                want,
                wall_clock_ms(),
                self.ttl_ms(),
            )
            .await?;
        let n = leased.len();
        self.hopper.extend(leased);
        Ok(n)
    }

    async fn execute(&mut self, command: Command) -> Result<(), DialerError> {
        match command {
            Command::Dial { call, agent } => {
                // A contact whose lease lapsed (this node stalled) may be another
                // node's now: skip it and take the next.
                let (contact, attempt) = loop {
                    if self.hopper.is_empty() {
                        self.refill().await?;
                    }
                    let Some(contact) = self.hopper.pop_front() else {
                        self.waiting_for_contacts = true;
                        return Box::pin(self.feed(Event::NoContact(call))).await;
                    };
                    let attempt = NewAttempt {
                        contact: contact.id,
                        campaign: self.campaign_id,
                        node: self.options.node.clone(),
                        dial_at: wall_clock_ms(),
                        agent: agent.map(|a| a.0 as i64),
                    };
                    // Recorded before it is placed: a crash after this line leaves an open
                    // attempt, closed as interrupted when the node starts again.
                    match self.store.begin_attempt(&attempt).await {
                        Ok(attempt) => break (contact, attempt),
                        Err(StoreError::NotLeased(id)) => {
                            tracing::warn!(contact = id.0, "lease lapsed; skipped")
                        }
                        Err(e) => return Err(e.into()),
                    }
                };
                tracing::info!(call = call.0, phone = %contact.phone, "dial");
                self.live.insert(
                    call,
                    Live {
                        attempt,
                        agent: None,
                    },
                );
                self.line.dial(call, &contact.phone);
            }
            Command::Connect { call, agent } => {
                if let Some(live) = self.live.get_mut(&call) {
                    live.agent = Some(agent);
                }
                let at = wall_clock_ms();
                self.mark(
                    call,
                    AttemptMark::Connected {
                        at,
                        agent: agent.0 as i64,
                    },
                )
                .await?;
                self.line.connect(call, agent);
            }
            Command::Drop { call } => {
                self.line.drop_call(call);
                self.finish(
                    call,
                    AttemptOutcome::Abandoned,
                    "no agent within the connect grace",
                )
                .await?;
            }
            Command::Cancel { call } => {
                self.line.cancel(call);
                self.finish(
                    call,
                    AttemptOutcome::NoAnswer,
                    "no answer before the timeout",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn mark(&mut self, call: CallId, mark: AttemptMark) -> Result<(), DialerError> {
        if let Some(live) = self.live.get(&call) {
            self.store.mark_attempt(live.attempt, mark).await?;
        }
        Ok(())
    }

    async fn finish(
        &mut self,
        call: CallId,
        outcome: AttemptOutcome,
        cause: &str,
    ) -> Result<(), DialerError> {
        if let Some(live) = self.live.remove(&call) {
            let end = AttemptEnd {
                outcome,
                at: wall_clock_ms(),
                cause: Some(cause.to_string()),
            };
            match self.store.finish_attempt(live.attempt, &end).await {
                Ok(_) => {}
                // Our lease lapsed while the call was up and another node closed the
                // attempt as interrupted; its record stands.
                Err(StoreError::AttemptClosed(id)) => {
                    tracing::warn!(attempt = id.0, "attempt closed by another node")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn on_line(&mut self, event: LineEvent) -> Result<(), DialerError> {
        match event {
            LineEvent::Ringing(call) => {
                self.mark(
                    call,
                    AttemptMark::Ringing {
                        at: wall_clock_ms(),
                    },
                )
                .await?;
                self.feed(Event::Ringing(call)).await
            }
            LineEvent::Answered(call) => {
                self.mark(
                    call,
                    AttemptMark::Answered {
                        at: wall_clock_ms(),
                    },
                )
                .await?;
                self.feed(Event::Answered(call)).await
            }
            LineEvent::Failed(call, cause) => {
                let outcome = AttemptOutcome::from(sanjeevani_core::Outcome::Failed(cause));
                self.finish(call, outcome, cause.name()).await?;
                self.feed(Event::Failed(call, cause)).await
            }
            LineEvent::Hangup(call) => {
                let connected = self.live.get(&call).is_some_and(|l| l.agent.is_some());
                let (outcome, cause) = if connected {
                    (AttemptOutcome::Completed, "conversation ended")
                } else {
                    (AttemptOutcome::Abandoned, "hung up waiting for an agent")
                };
                self.finish(call, outcome, cause).await?;
                self.feed(Event::Hangup(call)).await
            }
            LineEvent::AgentReady(agent) => self.feed(Event::AgentReady(agent)).await,
        }
    }
}
