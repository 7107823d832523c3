//! The running centre: one dialer task per campaign on this node, which agent
//! works which campaign, the wallboard's recent history, and the node's
//! medical desk with its feed of news for the screens. Routes and WebSocket
//! connections read from here; the dialers and the desk machine hold the
//! business rules.

use crate::config::Config;
use crate::desk::DeskLink;
use crate::phones::PhoneUse;
use parking_lot::Mutex;
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_core::AgentId;
use sanjeevani_dialer::{
    ClockMode, Control, ControlRequest, Dialer, DialerLinks, DialerOptions, LiveView, Notice,
    SimulatedLine, Telephony,
};
use sanjeevani_sim::Scenario;
use sanjeevani_sip::{Credentials, LineConfig, SipConfig, SipLine, Transport};
use sanjeevani_store::{Campaign, CampaignId, CampaignState, Store, Ticket};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Agent ids from here up are simulated agents; people use their user id.
pub const FIRST_SIMULATED_AGENT: u64 = 1_000_000_000;

/// The campaign the demo seeds; it alone gets simulated agents.
pub const DEMO_CAMPAIGN: &str = "demo-wellness";

/// The scenario whose called parties the built-in simulation acts out.
const DISTRICT_DAY: &str = include_str!("../../../config/scenarios/district-day.toml");

/// How many wallboard samples are kept (every 15 s: four hours).
const HISTORY_SAMPLES: usize = 960;
pub const HISTORY_EVERY: Duration = Duration::from_secs(15);

/// One point of a wallboard chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Sample {
    pub at: i64,
    pub occupancy: f64,
    pub abandon_rate: f64,
    pub dial_level: f64,
    pub answer_rate: f64,
    pub agents_staffed: u64,
    pub calls_connected: u64,
    /// The pacing then, so that a chart can mark where it was changed.
    #[schema(value_type = String)]
    pub mode: sanjeevani_core::PacingMode,
    pub max_lines_per_agent: f64,
    pub abandon_target: f64,
}

/// What the medical desk and the agents escalating to it are told as it
/// happens.
#[derive(Debug, Clone)]
pub enum DeskEvent {
    /// A ticket was opened (or a transfer fell back to one).
    Escalation { ticket: Ticket },
    /// A ticket was closed.
    TicketResolved { ticket: Ticket },
    /// An open ticket changed: handed over live to a member, who records
    /// what they did.
    TicketUpdated { ticket: Ticket },
    /// How the agent's transfer goes: `ringing` a member, `consulting` with
    /// them; the agent `free` (handed over, or the caller hung up) or
    /// `back_with_contact` (to say a doctor will call back); then how it
    /// ended: `live` (with `member`) or `ticket`.
    Transfer {
        agent: u64,
        ticket: i64,
        stage: &'static str,
        member: Option<i64>,
    },
    /// The member answered a transfer: their screen shows the caller.
    Consult { member: i64, ticket: Ticket },
    /// The member is offered the ticket's callback (preview).
    CallbackOffered { ticket: i64, member: i64 },
}

/// Why a control was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the campaign is not running on this node")]
    NotRunning,
    #[error("{0}")]
    Refused(sanjeevani_core::CoreError),
    #[error("the campaign's dialer did not answer in time")]
    NoAnswer,
}

struct Running {
    controls: mpsc::Sender<ControlRequest>,
    view: watch::Receiver<LiveView>,
    task: JoinHandle<()>,
}

pub struct Centre {
    store: Arc<dyn Store>,
    config: Config,
    scenario: Scenario,
    running: Mutex<HashMap<CampaignId, Running>>,
    /// Which campaign each logged-in agent (user id) works.
    agents: Mutex<HashMap<i64, CampaignId>>,
    history: Mutex<HashMap<CampaignId, VecDeque<Sample>>>,
    notices: broadcast::Sender<Notice>,
    desk_events: broadcast::Sender<DeskEvent>,
    desk: Arc<DeskLink>,
    supervision: Arc<crate::supervision::Supervision>,
    stopping: watch::Sender<bool>,
    /// Users some of whose sessions just ended (logout, disabled, password
    /// reset): their live sockets check their own session at once.
    sessions_ended: broadcast::Sender<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CentreError {
    #[error("simulation scenario: {0}")]
    Scenario(#[from] sanjeevani_sim::ScenarioError),
    #[error(transparent)]
    Store(#[from] sanjeevani_store::StoreError),
    #[error(transparent)]
    Dialer(#[from] sanjeevani_dialer::DialerError),
    #[error("SIP adapter: {0}")]
    Sip(std::io::Error),
}

/// The SIP adapter's settings from the `[telephony]` section.
fn sip_config(telephony: &crate::config::TelephonyConfig) -> SipConfig {
    let credentials = (!telephony.sip_username.is_empty()).then(|| Credentials {
        username: telephony.sip_username.clone(),
        password: telephony.sip_password.clone(),
    });
    SipConfig {
        bind: telephony.sip_bind,
        transport: match telephony.sip_transport {
            crate::config::SipTransport::Udp => Transport::Udp,
            crate::config::SipTransport::Tcp => Transport::Tcp,
        },
        line: LineConfig {
            contact_uri: telephony.contact_uri.clone(),
            trunk: telephony.trunk,
            agent_uri: telephony.agent_uri.clone(),
            agent_proxy: None,
            announcement_uri: (!telephony.announcement_uri.is_empty())
                .then(|| telephony.announcement_uri.clone()),
        },
        credentials,
        keepalive: (telephony.keepalive_secs > 0)
            .then(|| Duration::from_secs(telephony.keepalive_secs)),
        t1: Duration::from_millis(500),
        seed: None,
    }
}

/// The ARI adapter's settings for one campaign from the `[telephony]`
/// section. Our ids start with node, campaign and start time, so that neither
/// another node nor an earlier run of this one can collide with them.
fn ari_settings(
    telephony: &crate::config::TelephonyConfig,
    node: &str,
    campaign: CampaignId,
) -> AriSettings {
    let node: String = node
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let prefix = format!("{node}-{}-{started}", campaign.0);
    // Asterisk gives an application one WebSocket (a second connection takes
    // the events from the first), so each campaign on each node is its own.
    let app = format!("{}-{node}-{}", telephony.ari_app, campaign.0);
    AriSettings {
        base: telephony.ari_url.clone(),
        username: telephony.ari_username.clone(),
        password: telephony.ari_password.clone(),
        calls: AriConfig {
            contact_endpoint: telephony.ari_contact_endpoint.clone(),
            agent_endpoint: telephony.ari_agent_endpoint.clone(),
            caller_id: telephony.ari_caller_id.clone(),
            message: telephony.ari_message.clone(),
            amd_context: (!telephony.ari_amd_context.is_empty())
                .then(|| telephony.ari_amd_context.clone()),
            moh_class: telephony.ari_moh_class.clone(),
            record_calls: telephony.ari_record_calls,
            ..AriConfig::new(&app, &prefix)
        },
        ping: Duration::from_secs(5),
    }
}

impl Centre {
    pub fn new(store: Arc<dyn Store>, config: Config) -> Result<Arc<Centre>, CentreError> {
        let scenario = if config.telephony.scenario.is_empty() {
            Scenario::parse(DISTRICT_DAY, "built-in district-day scenario")?
        } else {
            Scenario::load(std::path::Path::new(&config.telephony.scenario))?
        };
        let stopping = watch::channel(false).0;
        let desk_events = broadcast::channel(256).0;
        let desk = Arc::new(DeskLink::start(
            config.desk.clone(),
            store.clone(),
            desk_events.clone(),
            stopping.subscribe(),
        ));
        let notices = broadcast::channel(1024).0;
        tokio::spawn(follow_calls(
            desk.clone(),
            notices.subscribe(),
            stopping.subscribe(),
        ));
        Ok(Arc::new(Centre {
            store,
            config,
            scenario,
            running: Mutex::default(),
            agents: Mutex::default(),
            history: Mutex::default(),
            notices,
            desk_events,
            desk,
            supervision: Arc::default(),
            stopping,
            sessions_ended: broadcast::channel(256).0,
        }))
    }

    /// The medical desk of this node.
    pub fn desk(&self) -> &DeskLink {
        &self.desk
    }

    /// Supervisors' sessions on this node.
    pub fn supervision(&self) -> &crate::supervision::Supervision {
        &self.supervision
    }

    /// The phone `user`'s calls reach for `purpose` (see [`crate::phones`]).
    pub fn phone_of(&self, user: &sanjeevani_store::User, purpose: PhoneUse) -> Option<String> {
        crate::phones::phone_of(&self.config.telephony, user, purpose)
    }

    pub fn is_simulated(&self) -> bool {
        self.config.telephony.kind == crate::config::TelephonyKind::Simulated
    }

    /// Starts a dialer for every campaign that is not stopped.
    pub async fn start_all(self: &Arc<Self>) -> Result<(), CentreError> {
        let interrupted = self.store.recover_transfers(&self.config.node).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "transfers left ringing by an earlier run are tickets now"
            );
        }
        // The desk goes on following up what this node followed before.
        for ticket in self.store.followed_tickets(&self.config.node).await? {
            let language = self.store.contact(ticket.contact).await?.language;
            self.desk
                .follow(
                    ticket.id,
                    ticket.urgency,
                    language.unwrap_or_default(),
                    ticket.assigned_to,
                    ticket.callback_tries,
                )
                .await;
        }
        for campaign in self.store.campaigns().await? {
            if campaign.state != CampaignState::Stopped {
                self.spawn(&campaign).await?;
            }
        }
        Ok(())
    }

    /// Starts the dialer task of `campaign` on this node.
    pub async fn spawn(self: &Arc<Self>, campaign: &Campaign) -> Result<(), CentreError> {
        if self.running.lock().contains_key(&campaign.id) {
            return Ok(());
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let line: Box<dyn Telephony> = if self.is_simulated() {
            let mut line = SimulatedLine::new(
                &self.scenario,
                self.config.telephony.seed ^ campaign.id.0 as u64,
                events_tx,
            )
            .with_people_below(FIRST_SIMULATED_AGENT);
            if let Some(events) = line.take_transfer_events() {
                self.desk
                    .attach(campaign.id, Box::new(line.transfer_handle()), events);
            }
            Box::new(line)
        } else if self.config.telephony.kind == crate::config::TelephonyKind::Ari {
            let settings = ari_settings(&self.config.telephony, &self.config.node, campaign.id);
            let mut line = AriLine::start(settings, events_tx);
            if let Some(events) = line.take_transfer_events() {
                self.desk
                    .attach(campaign.id, Box::new(line.transfer_handle()), events);
            }
            if let Some(events) = line.take_supervision_events() {
                self.supervision
                    .attach(campaign.id, line.transfer_handle(), events);
            }
            Box::new(line)
        } else {
            let mut line = SipLine::start(sip_config(&self.config.telephony), events_tx)
                .await
                .map_err(CentreError::Sip)?;
            if let Some(events) = line.take_transfer_events() {
                self.desk
                    .attach(campaign.id, Box::new(line.transfer_handle()), events);
            }
            Box::new(line)
        };
        let simulated_agents = if campaign.name == DEMO_CAMPAIGN && self.is_simulated() {
            self.config.demo.simulated_agents as u64
        } else {
            0
        };
        let options = DialerOptions {
            node: format!("{}/{}", self.config.node, campaign.id),
            lease_ttl: Duration::from_secs(30),
            hopper_size: 20 + 3 * simulated_agents as usize,
            agents: (0..simulated_agents)
                .map(|i| AgentId(FIRST_SIMULATED_AGENT + i))
                .collect(),
            exit_when_done: false,
            drain_deadline: Duration::from_secs(self.config.shutdown.drain_secs),
            trunk: self.config.telephony.trunk_limits(),
            clock: ClockMode::Real,
        };
        let (controls_tx, controls) = mpsc::channel(256);
        let (view_tx, view) = watch::channel(empty_view(campaign));
        let links = DialerLinks {
            controls,
            view: view_tx,
            notices: self.notices.clone(),
        };
        let dialer = Dialer::new(self.store.clone(), campaign.id, line, events, options)
            .await?
            .with_links(links);
        let mut stopping = self.stopping.subscribe();
        let id = campaign.id;
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = stopping.wait_for(|s| *s).await;
            };
            if let Err(e) = dialer.run(stop).await {
                tracing::error!(campaign = id.0, error = %e, "dialer stopped");
            }
        });
        self.running.lock().insert(
            campaign.id,
            Running {
                controls: controls_tx,
                view,
                task,
            },
        );
        Ok(())
    }

    /// Sends `control` to the campaign's dialer and waits (up to five
    /// seconds) for the core's answer, which comes once the dialer has
    /// published the view that shows the control's effect.
    pub async fn control(
        &self,
        campaign: CampaignId,
        control: Control,
    ) -> Result<(), ControlError> {
        let found = self
            .running
            .lock()
            .get(&campaign)
            .map(|r| r.controls.clone());
        let Some(tx) = found else {
            return Err(ControlError::NotRunning);
        };
        let (answer, answered) = oneshot::channel();
        let request = ControlRequest {
            control,
            answer: Some(answer),
        };
        if tx.send(request).await.is_err() {
            return Err(ControlError::NotRunning);
        }
        match tokio::time::timeout(Duration::from_secs(5), answered).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(refused))) => Err(ControlError::Refused(refused)),
            Ok(Err(_)) => Err(ControlError::NotRunning),
            Err(_) => Err(ControlError::NoAnswer),
        }
    }

    pub fn view(&self, campaign: CampaignId) -> Option<LiveView> {
        self.running
            .lock()
            .get(&campaign)
            .map(|r| r.view.borrow().clone())
    }

    /// Follows the campaign's view as its dialer publishes it.
    pub fn watch_view(&self, campaign: CampaignId) -> Option<watch::Receiver<LiveView>> {
        self.running.lock().get(&campaign).map(|r| r.view.clone())
    }

    pub fn views(&self) -> Vec<LiveView> {
        let mut views: Vec<LiveView> = self
            .running
            .lock()
            .values()
            .map(|r| r.view.borrow().clone())
            .collect();
        views.sort_by_key(|v| v.campaign);
        views
    }

    /// The campaign an agent works, if logged in.
    pub fn agent_campaign(&self, user: i64) -> Option<CampaignId> {
        self.agents.lock().get(&user).copied()
    }

    pub fn set_agent_campaign(&self, user: i64, campaign: Option<CampaignId>) {
        let mut agents = self.agents.lock();
        match campaign {
            Some(c) => agents.insert(user, c),
            None => agents.remove(&user),
        };
    }

    /// `user` stopped working, by logging out or being disabled: they are
    /// logged out of their campaign (after the call they are on), taken off
    /// the medical desk, and their live sockets check their sessions.
    pub async fn user_left(&self, user: &sanjeevani_store::User) {
        let _ = self.sessions_ended.send(user.id);
        match user.role {
            sanjeevani_store::Role::Medical => self.desk.member_out(user.id).await,
            sanjeevani_store::Role::Agent => {
                if let Some(campaign) = self.agent_campaign(user.id) {
                    let agent = AgentId(user.id as u64);
                    // Refused only if already logged out: nothing to undo.
                    let _ = self.control(campaign, Control::AgentLogout(agent)).await;
                    self.set_agent_campaign(user.id, None);
                }
            }
            sanjeevani_store::Role::Admin | sanjeevani_store::Role::Supervisor => {}
        }
    }

    /// Users some of whose sessions ended, as it happens.
    pub fn sessions_ended(&self) -> broadcast::Receiver<i64> {
        self.sessions_ended.subscribe()
    }

    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    pub fn desk_events(&self) -> broadcast::Receiver<DeskEvent> {
        self.desk_events.subscribe()
    }

    pub fn tell_desk(&self, event: DeskEvent) {
        let _ = self.desk_events.send(event);
    }

    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn history(&self, campaign: CampaignId) -> Vec<Sample> {
        self.history
            .lock()
            .get(&campaign)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Adds one chart point per running campaign.
    pub fn sample(&self) {
        let views = self.views();
        let mut history = self.history.lock();
        for v in views {
            let points = history.entry(v.campaign).or_default();
            if points.len() == HISTORY_SAMPLES {
                points.pop_front();
            }
            points.push_back(Sample {
                at: v.at,
                occupancy: v.occupancy,
                abandon_rate: v.abandon.rate,
                dial_level: v.dial_level,
                answer_rate: v.totals.answer_rate,
                agents_staffed: v.staffed,
                calls_connected: v.calls.connected,
                mode: v.pacing.mode,
                max_lines_per_agent: v.pacing.max_lines_per_agent,
                abandon_target: v.pacing.abandon_target,
            });
        }
    }

    /// Stops dialing everywhere, lets live calls finish up to the drain
    /// deadline, and waits for every dialer to write its last records.
    pub async fn shut_down(&self) {
        self.stopping.send_replace(true);
        let tasks: Vec<JoinHandle<()>> = self.running.lock().drain().map(|(_, r)| r.task).collect();
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// Tells the desk of every call that ends, so that a caller who hangs up on
/// hold ends their escalation.
async fn follow_calls(
    desk: Arc<DeskLink>,
    mut notices: broadcast::Receiver<Notice>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            notice = notices.recv() => match notice {
                Ok(notice) => desk.on_notice(&notice).await,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "desk: call notices missed");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = async { drop(stopping.wait_for(|s| *s).await) } => return,
        }
    }
}

fn empty_view(campaign: &Campaign) -> LiveView {
    LiveView::empty(
        campaign.id,
        campaign.settings.dialer.pacing,
        crate::now_ms(),
    )
}
