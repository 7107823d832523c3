//! Call control over ARI, sans-io: the core's commands become REST requests,
//! ARI events become the dialer's line events.
//!
//! - A contact is originated into our Stasis app with our own channel id
//!   (`{prefix}-c{call}`) and `appArgs=contact,{call}`: ringing from
//!   `ChannelStateChange`/`Dial`, the answer from `StasisStart`, a failure's
//!   cause from `ChannelDestroyed.cause` ([`fail_cause`]).
//! - An agent's phone is originated at login (`{prefix}-a{agent}`) and put in
//!   the agent's own mixing bridge (`{prefix}-b{agent}`); an answered contact
//!   joins it with one `addChannel`.
//! - A dropped call hears the information message (`play`, playback id
//!   `{prefix}-p{call}`), then is hung up when the playback finishes.
//! - With answering-machine detection, an answered contact is sent to the
//!   dialplan (`continue`) and comes back into Stasis with
//!   `amd,{AMDSTATUS},{AMDCAUSE}`: a machine's greeting ends the call as
//!   [`FailCause::Machine`]; anything else, silence included, is the answer.
//! - Warm transfer ([`transfer`]), supervisors' listen/whisper/barge
//!   ([`supervise`]) and call recording (of the agent's bridge, stopped when
//!   the call ends).
//!
//! Channel ids say whose they are: `{prefix}-c{call}.` a contact,
//! `-a{agent}.` an agent's phone, `-d{call}-{n}.` a consulted party, `-s{n}.`
//! a snoop, `-v{n}.` a supervisor's phone; bridges `-b{agent}` (the agent's),
//! `-h{call}-{n}` (holding, per consult), `-x{call}` (a handed-over call), `-m{n}` (a
//! supervisor's). A channel id ends in `.` so that none is the beginning of
//! another: Asterisk 23 refuses a new channel whose id begins another live
//! channel's (its conflict check compares prefixes), so without it agent 1's
//! phone could not be called while agent 10's is up.
//!
//! REST answers come back through [`Calls::response`] with the [`Tag`] of
//! the request; a refused request ends the call it was for.

use crate::events::Event;
use crate::rest::{self, Request};
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_telephony::{LineEvent, TransferEvent};
use std::collections::{HashMap, HashSet, VecDeque};

pub mod supervise;
pub mod transfer;
use std::time::{Duration, Instant};

/// How calls are placed.
#[derive(Debug, Clone)]
pub struct AriConfig {
    /// Our Stasis application.
    pub app: String,
    /// Starts every id we give a channel, bridge or playback: unique per node.
    pub prefix: String,
    /// A contact's endpoint; `{number}` is the E.164 number without `+`.
    pub contact_endpoint: String,
    /// An agent's phone; `{agent}` is the agent's number.
    pub agent_endpoint: String,
    pub caller_id: String,
    /// Seconds Asterisk lets a contact ring (past the core's own no-answer timeout).
    pub originate_timeout: u32,
    /// The information message for abandoned calls (`sound:…`).
    pub message: String,
    /// Dialplan context running `AMD()` then `Stasis(${EXTEN},amd,…)`: the
    /// channel continues there at the extension named after our app, so
    /// that it comes back to this node's app. `None`: no detection.
    pub amd_context: Option<String>,
    /// Music-on-hold class for a held contact.
    pub moh_class: String,
    /// Seconds a consulted party may ring.
    pub consult_timeout: u32,
    /// Record every connected call (otherwise only when asked).
    pub record_calls: bool,
    /// Starts every recording's name, e.g. `sanjeevani-n1-1764380000` (no `/`: it goes in URL paths); must
    /// differ between runs, since call numbers start again.
    pub recording_prefix: String,
}

impl AriConfig {
    /// Our application and id prefix, with the kit's defaults for the rest
    /// (`deploy/asterisk`): contacts through `PJSIP/{number}@trunk`, agents
    /// on `PJSIP/agent{agent}`, the kit's information message and music
    /// class, no answering-machine detection, recording when asked.
    pub fn new(app: &str, prefix: &str) -> AriConfig {
        AriConfig {
            app: app.to_string(),
            prefix: prefix.to_string(),
            contact_endpoint: "PJSIP/{number}@trunk".into(),
            agent_endpoint: "PJSIP/agent{agent}".into(),
            caller_id: String::new(),
            originate_timeout: 60,
            message: "sound:sanjeevani-abandoned".into(),
            amd_context: None,
            moh_class: "default".into(),
            consult_timeout: 30,
            record_calls: false,
            recording_prefix: format!("{app}-{prefix}"),
        }
    }
}

/// The name `call`'s recording is stored under in Asterisk.
pub fn recording_name(config: &AriConfig, call: CallId) -> String {
    format!("{}-{}", config.recording_prefix, call.0)
}

/// Q.850 cause of `ChannelDestroyed` → the core's cause (Asterisk's mapping
/// of SIP answers: 486/600 → 17, 480 → 19, 408 → 18, 403/603 → 21, 404/604 → 1,
/// 503 → 34, 502 → 27, 500 → 38, 488/606 → 58).
pub fn fail_cause(cause: i64) -> FailCause {
    match cause {
        17 => FailCause::Busy,
        16 | 18 | 19 => FailCause::NoAnswer,
        1 | 3 | 22 | 28 => FailCause::Invalid,
        21 => FailCause::Rejected,
        _ => FailCause::Congestion,
    }
}

/// What a request was for, so its answer can be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Originate(CallId),
    Detect(CallId),
    Join(CallId),
    Message(CallId),
    HangUp(CallId),
    Record(CallId),
    Phone(AgentId),
    AgentBridge(AgentId),
    AgentJoin(AgentId),
    /// Holding the contact, or calling the consulted party.
    Consult(CallId),
    /// The consulted party joining the agent's bridge.
    ConsultJoin(CallId),
    /// Contact and consulted party joining their own bridge.
    HandOver(CallId),
    /// Setting up supervision session `n`.
    Supervise(u64),
    /// Snoop channel and supervisor's phone joining their bridge.
    SuperviseJoin(u64),
    /// Tidying up: a failure changes nothing.
    Cleanup,
}

impl Tag {
    /// The contact's call the request is for, if any.
    pub fn call(&self) -> Option<CallId> {
        match *self {
            Tag::Originate(call)
            | Tag::Detect(call)
            | Tag::Join(call)
            | Tag::Message(call)
            | Tag::HangUp(call)
            | Tag::Record(call)
            | Tag::Consult(call)
            | Tag::ConsultJoin(call)
            | Tag::HandOver(call) => Some(call),
            Tag::Phone(_)
            | Tag::AgentBridge(_)
            | Tag::AgentJoin(_)
            | Tag::Supervise(_)
            | Tag::SuperviseJoin(_)
            | Tag::Cleanup => None,
        }
    }
}

/// Whose a channel is, from its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Contact(CallId),
    Agent(AgentId),
    /// A consulted party: the call, and which consult of it.
    Consulted(CallId, u64),
    Snoop(u64),
    Supervisor(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContactState {
    Dialing {
        rang: bool,
    },
    /// Answered; in the dialplan's answering-machine detection.
    Detecting,
    Answered {
        at: Instant,
    },
    Joining {
        agent: AgentId,
        answered_at: Instant,
    },
    Connected {
        agent: AgentId,
    },
    /// On hold while its agent consults.
    Held {
        agent: AgentId,
    },
    /// Hearing the information message.
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhoneState {
    Calling,
    /// Answered; being put in its bridge.
    Bridging,
    OnLine,
}

/// The ARI side of the dialer. See the module documentation.
pub struct Calls {
    config: AriConfig,
    contacts: HashMap<CallId, ContactState>,
    phones: HashMap<AgentId, PhoneState>,
    consults: HashMap<CallId, transfer::Consult>,
    /// Calls handed over to a consulted party: no longer the dialer's, but
    /// ours to tear down when either side hangs up.
    handed: HashMap<CallId, u64>,
    /// Numbers consults, so that a second consult for a call never meets
    /// the channel of the first.
    consults_made: u64,
    supervisions: HashMap<u64, supervise::Supervision>,
    /// Live recordings by call.
    recordings: HashMap<CallId, String>,
    /// The language of each contact's messages, where known.
    languages: HashMap<CallId, String>,
    /// Each logged-in agent's phone.
    endpoints: HashMap<AgentId, String>,
    requests: VecDeque<(Tag, Request)>,
    events: VecDeque<LineEvent>,
    transfers: VecDeque<TransferEvent>,
    supervision_events: VecDeque<supervise::SupervisionEvent>,
    latencies: Vec<Duration>,
}

impl Calls {
    pub fn new(config: AriConfig) -> Calls {
        Calls {
            config,
            contacts: HashMap::new(),
            phones: HashMap::new(),
            consults: HashMap::new(),
            handed: HashMap::new(),
            consults_made: 0,
            supervisions: HashMap::new(),
            recordings: HashMap::new(),
            languages: HashMap::new(),
            endpoints: HashMap::new(),
            requests: VecDeque::new(),
            events: VecDeque::new(),
            transfers: VecDeque::new(),
            supervision_events: VecDeque::new(),
            latencies: Vec::new(),
        }
    }

    /// The next REST request to make.
    pub fn poll_request(&mut self) -> Option<(Tag, Request)> {
        self.requests.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<LineEvent> {
        self.events.pop_front()
    }

    pub fn poll_transfer(&mut self) -> Option<TransferEvent> {
        self.transfers.pop_front()
    }

    pub fn poll_supervision(&mut self) -> Option<supervise::SupervisionEvent> {
        self.supervision_events.pop_front()
    }

    /// Answer-to-connect times: from `StasisStart` to `addChannel` answered.
    pub fn take_latencies(&mut self) -> Vec<Duration> {
        std::mem::take(&mut self.latencies)
    }

    /// `{prefix}-{kind}{number}`: see the module documentation.
    fn id(&self, kind: char, number: u64) -> String {
        format!("{}-{kind}{number}", self.config.prefix)
    }

    /// A channel's id: like [`Calls::id`], ended by `.` (see the module's doc).
    fn channel(&self, kind: char, number: u64) -> String {
        format!("{}.", self.id(kind, number))
    }

    pub fn contact_channel(&self, call: CallId) -> String {
        self.channel('c', call.0)
    }

    pub fn agent_channel(&self, agent: AgentId) -> String {
        self.channel('a', agent.0)
    }

    pub fn agent_bridge(&self, agent: AgentId) -> String {
        self.id('b', agent.0)
    }

    fn owner(&self, channel: &str) -> Option<Owner> {
        let rest = channel.strip_prefix(self.config.prefix.as_str())?;
        let rest = rest.strip_prefix('-')?.strip_suffix('.')?;
        let mut chars = rest.chars();
        let kind = chars.next()?;
        if kind == 'd' {
            let (call, attempt) = chars.as_str().split_once('-')?;
            return Some(Owner::Consulted(
                CallId(call.parse().ok()?),
                attempt.parse().ok()?,
            ));
        }
        let number: u64 = chars.as_str().parse().ok()?;
        Some(match kind {
            'c' => Owner::Contact(CallId(number)),
            'a' => Owner::Agent(AgentId(number)),
            's' => Owner::Snoop(number),
            'v' => Owner::Supervisor(number),
            _ => return None,
        })
    }

    /// Every channel we hold, for reconciling after a reconnect.
    fn our_channels(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .contacts
            .keys()
            .chain(self.handed.keys())
            .map(|call| self.contact_channel(*call))
            .chain(
                self.consults
                    .iter()
                    .map(|(call, c)| (call, c.attempt))
                    .chain(self.handed.iter().map(|(call, a)| (call, *a)))
                    .map(|(call, attempt)| self.consulted_channel(*call, attempt)),
            )
            .chain(self.phones.keys().map(|agent| self.agent_channel(*agent)))
            .chain(
                self.supervisions
                    .keys()
                    .flat_map(|n| [self.channel('s', *n), self.channel('v', *n)]),
            )
            .collect();
        ids.sort();
        ids
    }

    fn request(
        &mut self,
        tag: Tag,
        op: rest::Operation,
        ids: &[(&str, &str)],
        query: &[(&'static str, String)],
    ) {
        match op.request(ids, query) {
            Ok(request) => self.requests.push_back((tag, request)),
            // The operations are fixed and checked by the spec test: a bug, not input.
            Err(e) => tracing::error!(error = %e, "request not built"),
        }
    }

    /// Originates a contact, whose messages are in `language` (if known).
    pub fn dial(&mut self, call: CallId, number: &str, language: Option<&str>) {
        let channel = self.contact_channel(call);
        let query = [
            (
                "endpoint",
                self.config.contact_endpoint.replace("{number}", number),
            ),
            ("app", self.config.app.clone()),
            ("appArgs", format!("contact,{}", call.0)),
            ("callerId", self.config.caller_id.clone()),
            ("timeout", self.config.originate_timeout.to_string()),
            ("channelId", channel),
        ];
        self.contacts
            .insert(call, ContactState::Dialing { rang: false });
        if let Some(language) = language {
            self.languages.insert(call, language.to_string());
        }
        self.request(Tag::Originate(call), rest::ORIGINATE, &[], &query);
    }

    /// Originates an agent's phone (`phone`, else `agent_endpoint` for the
    /// agent's number); [`LineEvent::AgentOnLine`] follows once it is in
    /// its bridge.
    pub fn login(&mut self, agent: AgentId, phone: Option<&str>) {
        if self.phones.contains_key(&agent) {
            return;
        }
        let endpoint = match phone {
            Some(phone) => phone.to_string(),
            None => self
                .config
                .agent_endpoint
                .replace("{agent}", &agent.0.to_string()),
        };
        self.endpoints.insert(agent, endpoint.clone());
        let query = [
            ("endpoint", endpoint),
            ("app", self.config.app.clone()),
            ("appArgs", format!("agent,{}", agent.0)),
            ("callerId", self.config.caller_id.clone()),
            ("timeout", "30".to_string()),
            ("channelId", self.agent_channel(agent)),
        ];
        self.phones.insert(agent, PhoneState::Calling);
        self.request(Tag::Phone(agent), rest::ORIGINATE, &[], &query);
    }

    pub fn logout(&mut self, agent: AgentId) {
        self.endpoints.remove(&agent);
        if self.phones.remove(&agent).is_some() {
            let channel = self.agent_channel(agent);
            let bridge = self.agent_bridge(agent);
            self.hang_up_channel(&channel);
            self.destroy_bridge(&bridge);
        }
    }

    /// Joins an answered contact to the agent's bridge.
    pub fn connect(&mut self, call: CallId, agent: AgentId) {
        let Some(ContactState::Answered { at }) = self.contacts.get(&call).copied() else {
            return;
        };
        if self.phones.get(&agent) != Some(&PhoneState::OnLine) {
            // The contact stays answered: the dialer gives it to another
            // agent or plays it the information message.
            tracing::warn!(
                call = call.0,
                agent = agent.0,
                "agent's phone not on the line: the call was not joined"
            );
            self.events.push_back(LineEvent::ConnectFailed(call));
            return;
        }
        self.contacts.insert(
            call,
            ContactState::Joining {
                agent,
                answered_at: at,
            },
        );
        let bridge = self.agent_bridge(agent);
        let channel = self.contact_channel(call);
        self.request(
            Tag::Join(call),
            rest::ADD_CHANNEL,
            &[("bridgeId", &bridge)],
            &[("channel", channel)],
        );
    }

    /// The information message, then hang up (when the playback finishes).
    pub fn drop_call(&mut self, call: CallId) {
        if !matches!(
            self.contacts.get(&call),
            Some(ContactState::Answered { .. })
        ) {
            return self.hang_up(call);
        }
        self.contacts.insert(call, ContactState::Dropped);
        let channel = self.contact_channel(call);
        let playback = format!("{}-p{}", self.config.prefix, call.0);
        let mut query = vec![
            ("media", self.config.message.clone()),
            ("playbackId", playback),
        ];
        // Asterisk plays the sound recorded in the person's language, or
        // its default language's where there is none.
        if let Some(language) = self.languages.get(&call) {
            query.push(("lang", language.clone()));
        }
        self.request(
            Tag::Message(call),
            rest::PLAY,
            &[("channelId", &channel)],
            &query,
        );
    }

    /// Hangs up a contact (cancel, the agent's hang-up, the end of a message),
    /// with a consulted party it was waiting for. No event follows.
    pub fn hang_up(&mut self, call: CallId) {
        self.forget(call);
        self.stop_recording(call);
        self.end_consult(call, true);
        let channel = self.contact_channel(call);
        self.request(
            Tag::HangUp(call),
            rest::HANGUP,
            &[("channelId", &channel)],
            &[],
        );
    }

    /// Records a connected call (its agent's bridge) until it ends.
    pub fn record(&mut self, call: CallId) {
        let Some(ContactState::Connected { agent }) = self.contacts.get(&call).copied() else {
            return;
        };
        if self.recordings.contains_key(&call) {
            return;
        }
        let name = recording_name(&self.config, call);
        let bridge = self.agent_bridge(agent);
        let query = [
            ("name", name.clone()),
            ("format", "wav".to_string()),
            ("ifExists", "fail".to_string()),
        ];
        tracing::info!(call = call.0, recording = %name, "recording");
        self.recordings.insert(call, name);
        self.request(
            Tag::Record(call),
            rest::RECORD_BRIDGE,
            &[("bridgeId", &bridge)],
            &query,
        );
    }

    fn stop_recording(&mut self, call: CallId) {
        if let Some(name) = self.recordings.remove(&call) {
            self.request(
                Tag::Cleanup,
                rest::STOP_RECORDING,
                &[("recordingName", &name)],
                &[],
            );
        }
    }

    /// A REST answer for the request tagged `tag`.
    pub fn response(&mut self, now: Instant, tag: Tag, status: u16) {
        let result = rest::RestError::check(status);
        if let Err(error) = result {
            tracing::debug!(?tag, %error, "ARI request refused");
        }
        let ok = result.is_ok();
        match tag {
            Tag::Originate(call) if !ok => self.originate_refused(call, status),
            // No detection: better a person than a lost call.
            Tag::Detect(call)
                if !ok && self.contacts.get(&call) == Some(&ContactState::Detecting) =>
            {
                tracing::warn!(call = call.0, status, "answering-machine detection refused");
                self.answered(now, call);
            }
            Tag::Join(call) => match self.contacts.get(&call).copied() {
                Some(ContactState::Joining { agent, answered_at }) if ok => {
                    self.contacts
                        .insert(call, ContactState::Connected { agent });
                    self.latencies
                        .push(now.saturating_duration_since(answered_at));
                    if self.config.record_calls {
                        self.record(call);
                    }
                }
                Some(ContactState::Joining { answered_at, .. }) => {
                    tracing::warn!(
                        call = call.0,
                        status,
                        "addChannel refused: the call was not joined"
                    );
                    self.contacts
                        .insert(call, ContactState::Answered { at: answered_at });
                    self.events.push_back(LineEvent::ConnectFailed(call));
                }
                _ => {}
            },
            Tag::Message(call)
                if !ok && self.contacts.get(&call) == Some(&ContactState::Dropped) =>
            {
                self.hang_up(call)
            }
            Tag::Record(call) if !ok => {
                tracing::warn!(call = call.0, status, "recording refused");
                self.recordings.remove(&call);
            }
            Tag::Record(call) => self.events.push_back(LineEvent::Recording(call)),
            Tag::Phone(agent) | Tag::AgentBridge(agent) | Tag::AgentJoin(agent) if !ok => {
                tracing::warn!(agent = agent.0, status, "agent's phone could not be set up");
                self.logout(agent);
                self.events.push_back(LineEvent::AgentGone(agent));
            }
            Tag::AgentJoin(agent) if self.phones.get(&agent) == Some(&PhoneState::Bridging) => {
                self.phones.insert(agent, PhoneState::OnLine);
                self.events.push_back(LineEvent::AgentOnLine(agent));
            }
            Tag::Consult(call) if !ok => self.fail_transfer(call, true),
            Tag::ConsultJoin(call) => self.consult_joined(call, ok),
            Tag::HandOver(call) if !ok => self.hand_over_failed(call),
            Tag::Supervise(session) | Tag::SuperviseJoin(session) if !ok => {
                self.stop_supervising(session)
            }
            Tag::SuperviseJoin(session) => self.supervision_joined(session),
            _ => {}
        }
    }

    /// 400: a bad endpoint; 409: our id in use; 500: no channel.
    fn originate_refused(&mut self, call: CallId, status: u16) {
        if !matches!(self.contacts.get(&call), Some(ContactState::Dialing { .. })) {
            return;
        }
        self.forget(call);
        let error = rest::RestError::check(status).err();
        let cause = if error == Some(rest::RestError::BadRequest) {
            FailCause::Invalid
        } else {
            FailCause::Congestion
        };
        tracing::warn!(call = call.0, error = ?error, "originate refused");
        self.events.push_back(LineEvent::Failed(call, cause));
    }

    /// An event from the WebSocket.
    pub fn event(&mut self, now: Instant, event: Event) {
        match event {
            Event::StasisStart { channel, args } => self.stasis_start(now, &channel.id, &args),
            Event::ChannelStateChange { channel } if channel.state == "Ringing" => {
                self.ringing(&channel.id)
            }
            Event::Dial { peer, dialstatus }
                if matches!(dialstatus.as_str(), "RINGING" | "PROGRESS") =>
            {
                self.ringing(&peer.id)
            }
            Event::ChannelDestroyed { channel, cause, .. } => self.destroyed(&channel.id, cause),
            Event::PlaybackFinished { playback } => {
                let prefix = format!("{}-p", self.config.prefix);
                if let Some(call) = playback
                    .id
                    .strip_prefix(&prefix)
                    .and_then(|c| c.parse().ok())
                {
                    if self.contacts.get(&CallId(call)) == Some(&ContactState::Dropped) {
                        self.hang_up(CallId(call));
                    }
                }
            }
            Event::Other(kind) => tracing::trace!(kind, "ARI event not used"),
            _ => {}
        }
    }

    /// A channel entered our app: `args` say why (`contact,{call}`,
    /// `amd,{status},{cause}`, `agent,{agent}`, `consult,{call}`,
    /// `snoop,{n}`, `supervisor,{n}`); the channel id must match.
    fn stasis_start(&mut self, now: Instant, channel: &str, args: &[String]) {
        let owner = self.owner(channel);
        let kind = args.first().map(String::as_str).unwrap_or("");
        let named = |n: u64| args.get(1).and_then(|a| a.parse::<u64>().ok()) == Some(n);
        match (kind, owner) {
            ("contact", Some(Owner::Contact(call))) if named(call.0) => {
                if !matches!(self.contacts.get(&call), Some(ContactState::Dialing { .. })) {
                    return;
                }
                match self.config.amd_context.clone() {
                    Some(context) => {
                        self.contacts.insert(call, ContactState::Detecting);
                        let query = [
                            ("context", context),
                            ("extension", self.config.app.clone()),
                            ("priority", "1".to_string()),
                        ];
                        self.request(
                            Tag::Detect(call),
                            rest::CONTINUE,
                            &[("channelId", channel)],
                            &query,
                        );
                    }
                    None => self.answered(now, call),
                }
            }
            ("amd", Some(Owner::Contact(call))) => {
                if self.contacts.get(&call) != Some(&ContactState::Detecting) {
                    return;
                }
                let status = args.get(1).map(String::as_str).unwrap_or("");
                let cause = args.get(2).map(String::as_str).unwrap_or("");
                tracing::debug!(call = call.0, status, cause, "answering-machine detection");
                // A machine is a greeting's talk (LONGGREETING, MAXWORDS…);
                // silence may be a person who cannot speak, who must reach
                // an agent rather than be hung up on.
                if status == "MACHINE" && !cause.starts_with("INITIALSILENCE") {
                    self.hang_up(call);
                    self.events
                        .push_back(LineEvent::Failed(call, FailCause::Machine));
                } else {
                    self.answered(now, call);
                }
            }
            ("agent", Some(Owner::Agent(agent))) if named(agent.0) => self.phone_answered(agent),
            ("consult", Some(Owner::Consulted(call, attempt))) if named(call.0) => {
                self.consult_answered(call, attempt)
            }
            ("snoop", Some(Owner::Snoop(n))) | ("supervisor", Some(Owner::Supervisor(n)))
                if named(n) =>
            {
                self.supervision_leg_up(n, owner == Some(Owner::Snoop(n)))
            }
            _ => tracing::debug!(channel, ?args, "a channel not ours entered the app"),
        }
    }

    /// The contact is no longer one of the dialer's calls.
    fn forget(&mut self, call: CallId) -> Option<ContactState> {
        self.languages.remove(&call);
        self.contacts.remove(&call)
    }

    fn answered(&mut self, now: Instant, call: CallId) {
        self.contacts
            .insert(call, ContactState::Answered { at: now });
        self.events.push_back(LineEvent::Answered(call));
    }

    /// Hangs up every call, consulted party, supervisor and agent's phone
    /// and removes our bridges (the dialer is stopping).
    pub fn close(&mut self) {
        let mut contacts: Vec<CallId> = self.contacts.keys().copied().collect();
        contacts.sort();
        for call in contacts {
            self.hang_up(call);
        }
        let mut handed: Vec<CallId> = self.handed.keys().copied().collect();
        handed.sort();
        for call in handed {
            self.end_handed(call);
        }
        let mut sessions: Vec<u64> = self.supervisions.keys().copied().collect();
        sessions.sort();
        for session in sessions {
            self.stop_supervising(session);
        }
        let mut agents: Vec<AgentId> = self.phones.keys().copied().collect();
        agents.sort();
        for agent in agents {
            self.logout(agent);
        }
    }

    /// After a reconnect: `live` are the channels Asterisk still holds for
    /// our app. Every channel of ours that vanished while we were not
    /// listening is handled as destroyed (a contact that had not answered
    /// fails as congestion, one that had is hung up; an agent whose phone
    /// vanished is gone); live ones go on. When Asterisk `restarted`, the
    /// agents' phones went with it, not with their agents: each is called
    /// again ([`LineEvent::AgentOffLine`], then `AgentOnLine`).
    pub fn reconcile(&mut self, live: &HashSet<String>, restarted: bool) {
        for channel in self.our_channels() {
            if live.contains(&channel) {
                continue;
            }
            match self.owner(&channel) {
                Some(Owner::Agent(agent)) if restarted => self.call_phone_again(agent),
                _ => self.destroyed(&channel, 0),
            }
        }
    }

    fn call_phone_again(&mut self, agent: AgentId) {
        let endpoint = self.endpoints.get(&agent).cloned();
        self.phones.remove(&agent);
        self.events.push_back(LineEvent::AgentOffLine(agent));
        self.login(agent, endpoint.as_deref());
    }

    fn phone_answered(&mut self, agent: AgentId) {
        if self.phones.get(&agent) != Some(&PhoneState::Calling) {
            return;
        }
        self.phones.insert(agent, PhoneState::Bridging);
        let bridge = self.agent_bridge(agent);
        self.create_bridge(Tag::AgentBridge(agent), "mixing", &bridge);
        let channel = self.agent_channel(agent);
        self.add_channel(Tag::AgentJoin(agent), &bridge, channel);
    }

    fn create_bridge(&mut self, tag: Tag, kind: &str, bridge: &str) {
        let query = [
            ("type", kind.to_string()),
            ("bridgeId", bridge.to_string()),
            ("name", bridge.to_string()),
        ];
        self.request(tag, rest::CREATE_BRIDGE, &[], &query);
    }

    /// Adds `channel` to `bridge`, moving it out of any other bridge.
    fn add_channel(&mut self, tag: Tag, bridge: &str, channel: String) {
        self.request(
            tag,
            rest::ADD_CHANNEL,
            &[("bridgeId", bridge)],
            &[("channel", channel)],
        );
    }

    fn destroy_bridge(&mut self, bridge: &str) {
        self.request(
            Tag::Cleanup,
            rest::DESTROY_BRIDGE,
            &[("bridgeId", bridge)],
            &[],
        );
    }

    /// Hangs up a channel that is not a contact's (no event follows).
    fn hang_up_channel(&mut self, channel: &str) {
        self.request(Tag::Cleanup, rest::HANGUP, &[("channelId", channel)], &[]);
    }

    fn ringing(&mut self, channel: &str) {
        let Some(Owner::Contact(call)) = self.owner(channel) else {
            return;
        };
        if let Some(ContactState::Dialing { rang }) = self.contacts.get_mut(&call) {
            if !*rang {
                *rang = true;
                self.events.push_back(LineEvent::Ringing(call));
            }
        }
    }

    fn destroyed(&mut self, channel: &str, cause: i64) {
        match self.owner(channel) {
            Some(Owner::Contact(call)) if self.handed.contains_key(&call) => self.end_handed(call),
            Some(Owner::Contact(call)) => {
                self.stop_recording(call);
                self.end_consult(call, true);
                match self.forget(call) {
                    Some(ContactState::Dialing { .. }) | Some(ContactState::Detecting) => self
                        .events
                        .push_back(LineEvent::Failed(call, fail_cause(cause))),
                    Some(_) => self.events.push_back(LineEvent::Hangup(call)),
                    None => {}
                }
            }
            Some(Owner::Consulted(call, attempt)) if self.handed.get(&call) == Some(&attempt) => {
                self.end_handed(call)
            }
            Some(Owner::Consulted(call, attempt))
                if self.consult_attempt(call) == Some(attempt) =>
            {
                self.fail_transfer(call, false)
            }
            Some(Owner::Agent(agent)) if self.phones.remove(&agent).is_some() => {
                self.endpoints.remove(&agent);
                let bridge = self.agent_bridge(agent);
                self.destroy_bridge(&bridge);
                self.events.push_back(LineEvent::AgentGone(agent));
            }
            Some(Owner::Snoop(session)) | Some(Owner::Supervisor(session)) => {
                self.stop_supervising(session)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
