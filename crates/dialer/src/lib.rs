//! The dialer runtime: one campaign on one node.
//!
//! It feeds the sans-io core with time and events, carries out the core's
//! commands through a [`Telephony`] adapter, and keeps the store in step:
//! contacts come from leases, every dial is recorded before it is placed, and
//! every call's end is written as the core announces it
//! ([`Command::Ended`]), with the outcome the core decided: the runtime never
//! infers one. A node that starts closes the attempts it left open (crash) as
//! `interrupted`.
//!
//! A service attaches [`DialerLinks`]: agents' and supervisors' [`Control`]s
//! come in, a [`LiveView`] and [`Notice`]s go out.

pub mod desk;
mod live;
mod simulated;

pub use live::{
    AbandonView, AgentView, CallCounts, CallView, Control, ControlRequest, LineView, LiveView,
    Notice, Totals,
};
pub use sanjeevani_telephony::{
    Closing, LineEvent, LineProblem, LineStatus, Telephony, TransferEvent, Transfers,
};
pub use simulated::{SimulatedLine, SimulatedTransfers};

use live::Occupancy;
use sanjeevani_contacts::AttemptOutcome;
use sanjeevani_core::{
    AgentId, AgentState, CallId, Campaign, CampaignConfig, Command, CoreError, Event, Instant,
    PacingMode, TrunkLimits,
};
use sanjeevani_store::{
    AttemptEnd, AttemptId, AttemptMark, CampaignId, CampaignState, ContactId, LeasedContact,
    NewAttempt, Store, StoreError,
};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

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
    /// On shutdown, how long calls in progress may go on before they are cut.
    pub drain_deadline: Duration,
    /// The line's calls per second and calls at once, which pacing keeps to.
    pub trunk: TrunkLimits,
    pub clock: ClockMode,
}

/// Which clock the runtime lives by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// The service: tokio's clock runs, and the store's times are the wall clock's.
    #[default]
    Real,
    /// Tests and benchmarks on a paused tokio clock: the clock is kept still
    /// while the store works (its driver waits on threads tokio does not
    /// see, during which a paused clock would jump to the next timer), and
    /// the store's times follow the tokio clock from the wall clock at start.
    Paused,
}

/// Awaits `work` (store I/O); on a paused clock, keeps the clock still until
/// it is done: a blocking task running stops tokio's auto-advance.
pub async fn hold_clock<F: std::future::Future>(clock: ClockMode, work: F) -> F::Output {
    if clock == ClockMode::Real {
        return work.await;
    }
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let holder = tokio::task::spawn_blocking(move || {
        let _ = wait.recv();
    });
    let out = work.await;
    drop(done);
    let _ = holder.await;
    out
}

/// The channels a service uses to steer and watch a running campaign.
pub struct DialerLinks {
    pub controls: mpsc::Receiver<ControlRequest>,
    pub view: watch::Sender<LiveView>,
    pub notices: broadcast::Sender<Notice>,
}

/// A live call: its records in the store and, once connected, its agent.
struct Live {
    attempt: AttemptId,
    contact: ContactId,
    agent: Option<AgentId>,
    connected_at: Option<Instant>,
}

impl Live {
    fn view(&self, call: CallId) -> CallView {
        CallView {
            call: call.0,
            attempt: self.attempt,
            contact: self.contact,
        }
    }
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
    /// The call each agent talked on last: what they dispose of in wrap-up.
    last_calls: HashMap<AgentId, CallView>,
    /// Preview mode: the contact each agent is looking at before dialing.
    /// Still leased to this node, so no other node dials it meanwhile.
    previews: HashMap<AgentId, LeasedContact>,
    waiting_for_contacts: bool,
    out: Vec<Command>,
    /// The campaign is meant to dial (it is running and not paused).
    start_running: bool,
    /// Whether the line can place calls (as far as the adapter knows).
    line_status: LineStatus,
    draining: bool,
    /// Agents whose phone has not answered yet, and whether they asked to be ready.
    phones_pending: HashMap<AgentId, bool>,
    links: Option<DialerLinks>,
    /// Notices held until the view that shows their effect is published.
    pending_notices: Vec<Notice>,
    occupancy: Occupancy,
    /// The wall clock when the runtime started, in milliseconds.
    wall_start_ms: i64,
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
        let campaign = hold_clock(options.clock, store.campaign(campaign_id)).await?;
        let recovered = store.recover_node(&options.node, wall_clock_ms());
        let closed = hold_clock(options.clock, recovered).await?;
        if closed > 0 {
            tracing::warn!(node = %options.node, closed, "closed attempts left open by an earlier run as interrupted");
        }
        Ok(Dialer {
            store,
            campaign_id,
            core: Campaign::new(CampaignConfig {
                trunk: options.trunk,
                ..campaign.settings.dialer
            }),
            line,
            events,
            options,
            started: tokio::time::Instant::now(),
            hopper: VecDeque::new(),
            live: HashMap::new(),
            last_calls: HashMap::new(),
            previews: HashMap::new(),
            waiting_for_contacts: false,
            out: Vec::new(),
            start_running: campaign.state == CampaignState::Running,
            line_status: LineStatus::Up,
            draining: false,
            phones_pending: HashMap::new(),
            links: None,
            pending_notices: Vec::new(),
            occupancy: Occupancy::default(),
            wall_start_ms: wall_clock_ms(),
        })
    }

    /// Attaches a service's controls and watchers.
    pub fn with_links(mut self, links: DialerLinks) -> Self {
        self.links = Some(links);
        self
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    /// Milliseconds since the Unix epoch, for the store.
    fn wall_ms(&self) -> i64 {
        match self.options.clock {
            ClockMode::Real => wall_clock_ms(),
            ClockMode::Paused => self.wall_start_ms + self.started.elapsed().as_millis() as i64,
        }
    }

    /// Feeds one event to the core and carries out what it commands.
    async fn feed(&mut self, event: Event) -> Result<(), DialerError> {
        if let Err(e) = self.answer(event).await? {
            // A late event for a call the core has closed (a cancel raced an answer): harmless.
            tracing::debug!(error = %e, "core refused an event");
        }
        Ok(())
    }

    /// Feeds one event to the core, carries out what it commands, and
    /// returns the core's answer to the event.
    async fn answer(&mut self, event: Event) -> Result<Result<(), CoreError>, DialerError> {
        let mut out = std::mem::take(&mut self.out);
        let now = self.now();
        self.occupancy.sample(&self.core, now);
        let answer = self.core.handle(now, event, &mut out);
        for command in out.drain(..) {
            self.execute(command).await?;
        }
        self.out = out;
        self.put_back_previews();
        Ok(answer)
    }

    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), DialerError> {
        tokio::pin!(shutdown);
        for agent in self.options.agents.clone() {
            if self.line.login(agent, None) {
                self.feed(Event::AgentReady(agent)).await?;
            } else {
                self.feed(Event::AgentLogin(agent)).await?;
                self.phones_pending.insert(agent, true);
            }
        }
        if self.start_running && self.line_status == LineStatus::Up {
            self.feed(Event::Start).await?;
        }
        self.publish();
        let mut housekeeping = tokio::time::interval(Duration::from_millis(250));
        let mut renew = tokio::time::interval(self.options.lease_ttl / 3);
        let mut draining: Option<tokio::time::Instant> = None;
        // Every loop turn waits for something; the loop ends on shutdown (after the
        // drain) or when done.
        loop {
            let wake = self
                .core
                .next_wake()
                .map(|t| self.started + Duration::from_millis(t.as_millis()));
            let sleep = tokio::time::sleep_until(
                wake.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)),
            );
            let drain_over = tokio::time::sleep_until(
                draining.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)),
            );
            tokio::select! {
                _ = &mut shutdown, if draining.is_none() => {
                    tracing::info!(live = self.live.len(), "stopping: no new calls, letting live calls finish");
                    draining = Some(tokio::time::Instant::now() + self.options.drain_deadline);
                    self.draining = true;
                    self.feed(Event::Stop).await?;
                    self.publish();
                }
                _ = drain_over, if draining.is_some() => break,
                event = self.events.recv() => {
                    let event = event.ok_or(DialerError::LineClosed)?;
                    self.on_line(event).await?;
                    self.flush_notices();
                }
                Some(request) = next_control(&mut self.links) => {
                    // While stopping, agents may still hang up and wrap up; nothing restarts dialing.
                    let answer = if draining.is_none() || !matches!(request.control, Control::Start) {
                        self.on_control(request.control).await?
                    } else {
                        Err(CoreError::NotDialing)
                    };
                    self.publish();
                    self.flush_notices();
                    // After the view that shows its effect: the asker finds it there.
                    if let Some(reply) = request.answer {
                        let _ = reply.send(answer);
                    }
                }
                _ = sleep => {
                    self.feed(Event::Tick).await?;
                    self.flush_notices();
                }
                _ = renew.tick() => {
                    hold_clock(self.options.clock, self.store.renew_leases(&self.options.node, self.wall_ms(), self.ttl_ms())).await?;
                }
                _ = housekeeping.tick() => {
                    self.publish();
                    if draining.is_some() {
                        if self.live.is_empty() {
                            break;
                        }
                        continue;
                    }
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
        // Calls still up at the deadline are cut, and the core ends them as interrupted.
        let cut: Vec<CallId> = self.live.keys().copied().collect();
        for call in cut {
            self.feed(Event::Interrupt(call)).await?;
            if self.live.contains_key(&call) {
                // Not the core's (it ended it already and its end was lost): cut anyway.
                self.line.cancel(call);
                self.finish(call, AttemptOutcome::Interrupted, "service stopped")
                    .await?;
            }
        }
        let held = self.previews.drain().map(|(_, contact)| contact);
        for contact in std::mem::take(&mut self.hopper).into_iter().chain(held) {
            hold_clock(
                self.options.clock,
                self.store.release(contact.id, &self.options.node),
            )
            .await?;
        }
        self.publish();
        self.flush_notices();
        if tokio::time::timeout(Duration::from_secs(15), self.line.close())
            .await
            .is_err()
        {
            tracing::warn!("the telephony adapter did not finish closing in 15 s");
        }
        Ok(())
    }

    /// Sends the current view to the watchers, if any.
    fn publish(&mut self) {
        let Some(links) = &self.links else { return };
        let now = self.now();
        let wall = self.wall_ms();
        self.occupancy.sample(&self.core, now);
        let calls = self.live.iter().map(|(c, l)| (*c, l.view(*c))).collect();
        let previews = self.previews.iter().map(|(a, c)| (*a, c.id)).collect();
        let beside = live::Beside {
            calls: &calls,
            last_calls: &self.last_calls,
            previews: &previews,
            line: self.line_status,
            occupancy: &self.occupancy,
        };
        let view = live::view(self.campaign_id, &mut self.core, beside, now, wall);
        links.view.send_replace(view);
    }

    fn notify(&mut self, notice: Notice) {
        if self.links.is_some() {
            self.pending_notices.push(notice);
        }
    }

    /// Publishes the view and then the notices it explains, so that whoever
    /// reacts to a notice finds the view already showing it.
    fn flush_notices(&mut self) {
        if self.pending_notices.is_empty() {
            return;
        }
        self.publish();
        if let Some(links) = &self.links {
            for notice in self.pending_notices.drain(..) {
                // No subscriber is fine: nobody is watching.
                let _ = links.notices.send(notice);
            }
        }
    }

    /// Carries out a control; the inner result is the core's answer (a
    /// typed refusal, e.g. an agent on a call cannot be made ready).
    async fn on_control(&mut self, control: Control) -> Result<Result<(), CoreError>, DialerError> {
        tracing::debug!(?control, "control");
        match control {
            Control::AgentLogin { agent, phone } => {
                if !self.line.login(agent, phone.as_deref()) {
                    self.phones_pending.insert(agent, false);
                }
                self.answer(Event::AgentLogin(agent)).await
            }
            Control::AgentReady(agent) => match self.phones_pending.get_mut(&agent) {
                // Ready once the phone is on the line.
                Some(ready) => {
                    *ready = true;
                    Ok(Ok(()))
                }
                None => self.answer(Event::AgentReady(agent)).await,
            },
            Control::AgentPause(agent) => self.answer(Event::AgentPause(agent)).await,
            Control::AgentLogout(agent) => {
                self.phones_pending.remove(&agent);
                self.line.logout(agent);
                self.answer(Event::AgentLogout(agent)).await
            }
            Control::AgentHangup(agent) => match self.core.agent(agent).map(|a| a.state) {
                Some(AgentState::OnCall { call }) => {
                    // Our side ends the call: it is over now, whatever the line says later.
                    self.line.hangup(call);
                    self.answer(Event::Hangup(call)).await
                }
                state => Ok(Err(CoreError::AgentTransition {
                    agent,
                    state: state.map_or("logged out", |s| s.name()),
                    action: "hang up",
                })),
            },
            Control::PreviewShow(agent) => self.hold_preview(agent).await,
            Control::PreviewSkip(agent) => {
                if let Some(contact) = self.previews.remove(&agent) {
                    // Behind the others: the next agent is not shown it at once.
                    self.hopper.push_back(contact);
                }
                self.hold_preview(agent).await
            }
            Control::PreviewDial(agent) => self.answer(Event::PreviewDial(agent)).await,
            Control::SetPacing(pacing) => self.answer(Event::SetPacing(pacing)).await,
            Control::Start => {
                self.start_running = true;
                if self.line_status == LineStatus::Up {
                    return self.answer(Event::Start).await;
                }
                Ok(Ok(()))
            }
            Control::Pause => {
                self.start_running = false;
                self.answer(Event::Stop).await
            }
        }
    }

    /// Holds the next contact for a ready agent of a preview campaign to see.
    async fn hold_preview(&mut self, agent: AgentId) -> Result<Result<(), CoreError>, DialerError> {
        if !self.is_preview() {
            return Ok(Err(CoreError::NotPreviewMode("showing the next contact")));
        }
        let state = self.core.agent(agent).map(|a| a.state);
        if state != Some(AgentState::Ready) {
            return Ok(Err(CoreError::AgentTransition {
                agent,
                state: state.map_or("logged out", |s| s.name()),
                action: "be shown a contact",
            }));
        }
        if self.previews.contains_key(&agent) {
            return Ok(Ok(()));
        }
        if self.hopper.is_empty() {
            self.refill().await?;
        }
        match self.hopper.pop_front() {
            Some(contact) => {
                self.previews.insert(agent, contact);
                Ok(Ok(()))
            }
            None => Ok(Err(CoreError::NotDialing)),
        }
    }

    /// A contact held for an agent who is no longer ready (paused, logged
    /// out, phone gone) or a campaign no longer in preview goes back to the
    /// front of the queue: it is the next one dialed.
    fn put_back_previews(&mut self) {
        let preview = self.is_preview();
        let core = &self.core;
        let gone: Vec<AgentId> = self
            .previews
            .keys()
            .filter(|a| !preview || core.agent(**a).map(|a| a.state) != Some(AgentState::Ready))
            .copied()
            .collect();
        for agent in gone {
            if let Some(contact) = self.previews.remove(&agent) {
                self.hopper.push_front(contact);
            }
        }
    }

    fn is_preview(&self) -> bool {
        self.core.config().pacing.mode == PacingMode::Preview
    }

    fn ttl_ms(&self) -> i64 {
        self.options.lease_ttl.as_millis() as i64
    }

    async fn finished(&mut self) -> Result<bool, DialerError> {
        if !self.live.is_empty() || !self.hopper.is_empty() || !self.previews.is_empty() {
            return Ok(false);
        }
        let counts = self.store.contact_counts(self.campaign_id, self.wall_ms());
        Ok(hold_clock(self.options.clock, counts).await?.pending == 0)
    }

    async fn refill(&mut self) -> Result<usize, DialerError> {
        let want = self.options.hopper_size.saturating_sub(self.hopper.len());
        if want == 0 {
            return Ok(0);
        }
        let leasing = self.store.lease(
            self.campaign_id,
            &self.options.node,
            want,
            self.wall_ms(),
            self.ttl_ms(),
        );
        let leased = hold_clock(self.options.clock, leasing).await?;
        let n = leased.len();
        self.hopper.extend(leased);
        Ok(n)
    }

    async fn execute(&mut self, command: Command) -> Result<(), DialerError> {
        match command {
            Command::Dial { call, agent } => {
                // A contact whose lease lapsed (this node stalled) may be another
                // node's now: skip it and take the next.
                // The contact the agent was shown, if any, else the next one.
                let mut shown = agent.and_then(|a| self.previews.remove(&a));
                let (contact, attempt) = loop {
                    if shown.is_none() && self.hopper.is_empty() {
                        self.refill().await?;
                    }
                    let Some(contact) = shown.take().or_else(|| self.hopper.pop_front()) else {
                        self.waiting_for_contacts = true;
                        return Box::pin(self.feed(Event::NoContact(call))).await;
                    };
                    let attempt = NewAttempt {
                        contact: contact.id,
                        campaign: self.campaign_id,
                        node: self.options.node.clone(),
                        dial_at: self.wall_ms(),
                        agent: agent.map(|a| a.0 as i64),
                    };
                    // Recorded before it is placed: a crash after this line leaves an open
                    // attempt, closed as interrupted when the node starts again.
                    match hold_clock(self.options.clock, self.store.begin_attempt(&attempt)).await {
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
                        contact: contact.id,
                        agent: None,
                        connected_at: None,
                    },
                );
                self.line
                    .dial(call, &contact.phone, contact.language.as_deref());
            }
            Command::Connect { call, agent } => {
                let now = self.now();
                if let Some(answered) = self.core.call(call).and_then(|c| c.answered_at) {
                    metrics::histogram!("sanjeevani_answer_to_connect_seconds")
                        .record(now.secs_since(answered));
                }
                if let Some(live) = self.live.get_mut(&call) {
                    live.agent = Some(agent);
                    live.connected_at = Some(now);
                    let notice = Notice::Connected {
                        campaign: self.campaign_id,
                        agent: agent.0,
                        call: live.view(call),
                    };
                    self.notify(notice);
                }
                let at = self.wall_ms();
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
            Command::Drop { call } => self.line.drop_call(call),
            Command::Cancel { call, .. } => self.line.cancel(call),
            Command::Ended { call, outcome } => {
                self.finish(call, AttemptOutcome::from(outcome), outcome.reason())
                    .await?;
            }
            // Only answers to an inbound arrival, which this runtime does
            // not feed: no telephony here reports incoming calls yet.
            Command::Queued { .. }
            | Command::Release { .. }
            | Command::Callback { .. }
            | Command::InboundEnded { .. } => {}
        }
        Ok(())
    }

    async fn mark(&mut self, call: CallId, mark: AttemptMark) -> Result<(), DialerError> {
        if let Some(live) = self.live.get(&call) {
            hold_clock(
                self.options.clock,
                self.store.mark_attempt(live.attempt, mark),
            )
            .await?;
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
            metrics::counter!("sanjeevani_calls_total", "outcome" => outcome.name()).increment(1);
            if let Some(connected) = live.connected_at {
                let talk = self.now().as_millis().saturating_sub(connected.as_millis());
                self.occupancy.talk_ended(talk);
            }
            if let (Some(agent), Some(_)) = (live.agent, live.connected_at) {
                self.last_calls.insert(agent, live.view(call));
            }
            self.notify(Notice::Ended {
                campaign: self.campaign_id,
                agent: live.agent.map(|a| a.0),
                call: live.view(call),
                outcome,
            });
            let end = AttemptEnd {
                outcome,
                at: self.wall_ms(),
                cause: Some(cause.to_string()),
            };
            match hold_clock(
                self.options.clock,
                self.store.finish_attempt(live.attempt, &end),
            )
            .await
            {
                Ok(_) => {}
                // Our lease lapsed while the call was up and another node closed the
                // attempt as interrupted; its record stands.
                Err(StoreError::AttemptClosed(id)) => {
                    tracing::warn!(attempt = id.0, "attempt closed by another node")
                }
                Err(e) => {
                    metrics::counter!("sanjeevani_store_errors_total").increment(1);
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    async fn on_line(&mut self, event: LineEvent) -> Result<(), DialerError> {
        match event {
            LineEvent::Ringing(call) => {
                self.mark(call, AttemptMark::Ringing { at: self.wall_ms() })
                    .await?;
                self.feed(Event::Ringing(call)).await
            }
            LineEvent::Answered(call) => {
                self.mark(call, AttemptMark::Answered { at: self.wall_ms() })
                    .await?;
                self.feed(Event::Answered(call)).await
            }
            LineEvent::Failed(call, cause) => self.feed(Event::Failed(call, cause)).await,
            LineEvent::Hangup(call) => self.feed(Event::Hangup(call)).await,
            LineEvent::ConnectFailed(call) => {
                if let Some(live) = self.live.get_mut(&call) {
                    // Not talked: no talk time, nothing for the agent to record.
                    live.agent = None;
                    live.connected_at = None;
                    self.mark(call, AttemptMark::NotJoined).await?;
                }
                self.feed(Event::ConnectFailed(call)).await
            }
            LineEvent::AgentReady(agent) => self.feed(Event::AgentReady(agent)).await,
            LineEvent::Recording(call) => {
                if let (Some(live), Some(name)) =
                    (self.live.get(&call), self.line.recording_name(call))
                {
                    hold_clock(
                        self.options.clock,
                        self.store.set_recording(live.attempt, &name),
                    )
                    .await?;
                }
                Ok(())
            }
            LineEvent::AgentOnLine(agent) => match self.phones_pending.remove(&agent) {
                Some(true) => self.feed(Event::AgentReady(agent)).await,
                _ => Ok(()),
            },
            LineEvent::AgentOffLine(agent) => {
                let Some(state) = self.core.agent(agent).map(|a| a.state) else {
                    return Ok(());
                };
                tracing::warn!(
                    agent = agent.0,
                    "agent's phone dropped off with the PBX: calling it again"
                );
                match state {
                    AgentState::LoggedOut => Ok(()),
                    // Ready again once the phone is back.
                    AgentState::Ready => {
                        self.phones_pending.insert(agent, true);
                        self.feed(Event::AgentPause(agent)).await
                    }
                    // Paused, or with a call to finish: ready when they say so
                    // and the phone is back.
                    _ => {
                        self.phones_pending.entry(agent).or_insert(false);
                        Ok(())
                    }
                }
            }
            LineEvent::AgentGone(agent) => {
                self.phones_pending.remove(&agent);
                tracing::warn!(agent = agent.0, "agent's phone is gone: logged out");
                self.feed(Event::AgentLogout(agent)).await
            }
            LineEvent::Line(status) => {
                if status == self.line_status {
                    return Ok(());
                }
                let was_up = self.line_status == LineStatus::Up;
                self.line_status = status;
                if let LineStatus::Down(problem) = status {
                    tracing::warn!(%problem, "telephony down: dialing paused");
                    if was_up {
                        self.feed(Event::Stop).await
                    } else {
                        Ok(())
                    }
                } else if self.start_running && !self.draining {
                    tracing::info!("telephony up: dialing resumed");
                    self.feed(Event::Start).await
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The next control, or never when no service is attached.
async fn next_control(links: &mut Option<DialerLinks>) -> Option<ControlRequest> {
    match links {
        Some(links) => links.controls.recv().await,
        None => std::future::pending().await,
    }
}
