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
//!
//! REST answers come back through [`Calls::response`] with the [`Tag`] of
//! the request; a refused request ends the call it was for.

use crate::events::Event;
use crate::rest::{self, Request};
use sanjeevani_core::{AgentId, CallId, FailCause};
use sanjeevani_dialer::LineEvent;
use std::collections::{HashMap, VecDeque};
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
    Join(CallId),
    Message(CallId),
    HangUp(CallId),
    Phone(AgentId),
    AgentBridge(AgentId),
    AgentJoin(AgentId),
    AgentHangUp(AgentId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContactState {
    Dialing {
        rang: bool,
    },
    Answered {
        at: Instant,
    },
    Joining {
        agent: AgentId,
        answered_at: Instant,
    },
    Connected,
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
    requests: VecDeque<(Tag, Request)>,
    events: VecDeque<LineEvent>,
    latencies: Vec<Duration>,
}

impl Calls {
    pub fn new(config: AriConfig) -> Calls {
        Calls {
            config,
            contacts: HashMap::new(),
            phones: HashMap::new(),
            requests: VecDeque::new(),
            events: VecDeque::new(),
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

    /// Answer-to-connect times: from `StasisStart` to `addChannel` answered.
    pub fn take_latencies(&mut self) -> Vec<Duration> {
        std::mem::take(&mut self.latencies)
    }

    pub fn contact_channel(&self, call: CallId) -> String {
        format!("{}-c{}", self.config.prefix, call.0)
    }

    pub fn agent_channel(&self, agent: AgentId) -> String {
        format!("{}-a{}", self.config.prefix, agent.0)
    }

    pub fn agent_bridge(&self, agent: AgentId) -> String {
        format!("{}-b{}", self.config.prefix, agent.0)
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

    /// Originates a contact.
    pub fn dial(&mut self, call: CallId, number: &str) {
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
        self.request(Tag::Originate(call), rest::ORIGINATE, &[], &query);
    }

    /// Originates an agent's phone; [`LineEvent::AgentOnLine`] follows once it
    /// is in its bridge.
    pub fn login(&mut self, agent: AgentId) {
        if self.phones.contains_key(&agent) {
            return;
        }
        let query = [
            (
                "endpoint",
                self.config
                    .agent_endpoint
                    .replace("{agent}", &agent.0.to_string()),
            ),
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
        if self.phones.remove(&agent).is_some() {
            let channel = self.agent_channel(agent);
            let bridge = self.agent_bridge(agent);
            self.request(
                Tag::AgentHangUp(agent),
                rest::HANGUP,
                &[("channelId", &channel)],
                &[],
            );
            self.request(
                Tag::AgentHangUp(agent),
                rest::DESTROY_BRIDGE,
                &[("bridgeId", &bridge)],
                &[],
            );
        }
    }

    /// Joins an answered contact to the agent's bridge.
    pub fn connect(&mut self, call: CallId, agent: AgentId) {
        let Some(ContactState::Answered { at }) = self.contacts.get(&call).copied() else {
            return;
        };
        if self.phones.get(&agent) != Some(&PhoneState::OnLine) {
            tracing::warn!(
                call = call.0,
                agent = agent.0,
                "agent's phone not on the line: call ended"
            );
            self.hang_up(call);
            self.events.push_back(LineEvent::Hangup(call));
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
        let query = [
            ("media", self.config.message.clone()),
            ("playbackId", playback),
        ];
        self.request(
            Tag::Message(call),
            rest::PLAY,
            &[("channelId", &channel)],
            &query,
        );
    }

    /// Hangs up a contact (cancel, the agent's hang-up, the end of a message).
    /// No event follows.
    pub fn hang_up(&mut self, call: CallId) {
        self.contacts.remove(&call);
        let channel = self.contact_channel(call);
        self.request(
            Tag::HangUp(call),
            rest::HANGUP,
            &[("channelId", &channel)],
            &[],
        );
    }

    /// A REST answer for the request tagged `tag`.
    pub fn response(&mut self, now: Instant, tag: Tag, status: u16) {
        let ok = (200..300).contains(&status);
        match tag {
            Tag::Originate(call) if !ok => self.originate_refused(call, status),
            Tag::Join(call) => match self.contacts.get(&call).copied() {
                Some(ContactState::Joining { answered_at, .. }) if ok => {
                    self.contacts.insert(call, ContactState::Connected);
                    self.latencies
                        .push(now.saturating_duration_since(answered_at));
                }
                Some(_) if !ok => {
                    tracing::warn!(call = call.0, status, "addChannel refused: call ended");
                    self.hang_up(call);
                    self.events.push_back(LineEvent::Hangup(call));
                }
                _ => {}
            },
            Tag::Message(call) if !ok => self.hang_up(call),
            Tag::Phone(agent) | Tag::AgentBridge(agent) | Tag::AgentJoin(agent) if !ok => {
                tracing::warn!(agent = agent.0, status, "agent's phone could not be set up");
                self.logout(agent);
                self.events.push_back(LineEvent::AgentGone(agent));
            }
            Tag::AgentJoin(agent) if self.phones.get(&agent) == Some(&PhoneState::Bridging) => {
                self.phones.insert(agent, PhoneState::OnLine);
                self.events.push_back(LineEvent::AgentOnLine(agent));
            }
            _ => {}
        }
    }

    /// 400: a bad endpoint; 409: our id in use; 500: no channel.
    fn originate_refused(&mut self, call: CallId, status: u16) {
        if self.contacts.remove(&call).is_none() {
            return;
        }
        let cause = if status == 400 {
            FailCause::Invalid
        } else {
            FailCause::Congestion
        };
        tracing::warn!(call = call.0, status, "originate refused");
        self.events.push_back(LineEvent::Failed(call, cause));
    }

    /// An event from the WebSocket.
    pub fn event(&mut self, now: Instant, event: Event) {
        match event {
            Event::StasisStart { channel, args } => {
                let (kind, id) = match args.as_slice() {
                    [kind, id, ..] => (kind.as_str(), id.parse::<u64>().ok()),
                    _ => ("", None),
                };
                match (kind, id) {
                    ("contact", Some(call)) if channel.id == self.contact_channel(CallId(call)) => {
                        let call = CallId(call);
                        if matches!(self.contacts.get(&call), Some(ContactState::Dialing { .. })) {
                            self.contacts
                                .insert(call, ContactState::Answered { at: now });
                            self.events.push_back(LineEvent::Answered(call));
                        }
                    }
                    ("agent", Some(agent)) if channel.id == self.agent_channel(AgentId(agent)) => {
                        self.phone_answered(AgentId(agent))
                    }
                    _ => {
                        tracing::debug!(channel = %channel.id, ?args, "a channel not ours entered the app")
                    }
                }
            }
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
            _ => {}
        }
    }

    /// Hangs up every contact and agent's phone and removes the agents'
    /// bridges (the dialer is stopping).
    pub fn close(&mut self) {
        let mut contacts: Vec<CallId> = self.contacts.keys().copied().collect();
        contacts.sort();
        for call in contacts {
            self.hang_up(call);
        }
        let mut agents: Vec<AgentId> = self.phones.keys().copied().collect();
        agents.sort();
        for agent in agents {
            self.logout(agent);
        }
    }

    /// After a reconnect: `live` are the channels Asterisk still holds for
    /// our app. Calls whose channel vanished while we were not listening are
    /// closed (a contact that had not answered as congestion, one that had as
    /// hung up); agents whose phone vanished are gone. Live ones go on.
    pub fn reconcile(&mut self, live: &std::collections::HashSet<String>) {
        let mut vanished: Vec<CallId> = self
            .contacts
            .keys()
            .copied()
            .filter(|call| !live.contains(&self.contact_channel(*call)))
            .collect();
        vanished.sort();
        for call in vanished {
            let channel = self.contact_channel(call);
            self.destroyed(&channel, 0);
        }
        let mut gone: Vec<AgentId> = self
            .phones
            .keys()
            .copied()
            .filter(|agent| !live.contains(&self.agent_channel(*agent)))
            .collect();
        gone.sort();
        for agent in gone {
            let channel = self.agent_channel(agent);
            self.destroyed(&channel, 0);
        }
    }

    fn phone_answered(&mut self, agent: AgentId) {
        if self.phones.get(&agent) != Some(&PhoneState::Calling) {
            return;
        }
        self.phones.insert(agent, PhoneState::Bridging);
        let bridge = self.agent_bridge(agent);
        let query = [
            ("type", "mixing".to_string()),
            ("bridgeId", bridge.clone()),
            ("name", bridge.clone()),
        ];
        self.request(Tag::AgentBridge(agent), rest::CREATE_BRIDGE, &[], &query);
        let channel = self.agent_channel(agent);
        self.request(
            Tag::AgentJoin(agent),
            rest::ADD_CHANNEL,
            &[("bridgeId", &bridge)],
            &[("channel", channel)],
        );
    }

    fn call_of(&self, channel: &str) -> Option<CallId> {
        let id = channel.strip_prefix(&format!("{}-c", self.config.prefix))?;
        id.parse().ok().map(CallId)
    }

    fn agent_of(&self, channel: &str) -> Option<AgentId> {
        let id = channel.strip_prefix(&format!("{}-a", self.config.prefix))?;
        id.parse().ok().map(AgentId)
    }

    fn ringing(&mut self, channel: &str) {
        let Some(call) = self.call_of(channel) else {
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
        if let Some(call) = self.call_of(channel) {
            match self.contacts.remove(&call) {
                Some(ContactState::Dialing { .. }) => self
                    .events
                    .push_back(LineEvent::Failed(call, fail_cause(cause))),
                Some(_) => self.events.push_back(LineEvent::Hangup(call)),
                None => {}
            }
        } else if let Some(agent) = self.agent_of(channel) {
            if self.phones.remove(&agent).is_some() {
                let bridge = self.agent_bridge(agent);
                self.request(
                    Tag::AgentHangUp(agent),
                    rest::DESTROY_BRIDGE,
                    &[("bridgeId", &bridge)],
                    &[],
                );
                self.events.push_back(LineEvent::AgentGone(agent));
            }
        }
    }
}

#[cfg(test)]
mod tests;
