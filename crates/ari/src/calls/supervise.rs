//! Supervisors listening to, whispering to or barging into an agent's call.
//!
//! A snoop channel `{prefix}-s{n}` is made on the agent's phone channel
//! (`spy=both`: the supervisor hears agent and contact) and the supervisor's
//! phone is originated as `{prefix}-v{n}`; once both are in Stasis they are
//! put in a mixing bridge `{prefix}-m{n}`. What the supervisor says goes
//! nowhere (listen), to the agent only (whisper: `whisper=out`, the audio the
//! agent hears) or to both (barge: `whisper=both`, the agent's side carries
//! it to the contact). A session ends when either leg hangs up or it is
//! stopped; the other leg is hung up and the bridge removed.

use super::{Calls, PhoneState, Tag};
use crate::rest;
use sanjeevani_core::AgentId;

/// What the supervisor's voice reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpyMode {
    Listen,
    Whisper,
    Barge,
}

impl SpyMode {
    fn whisper(self) -> &'static str {
        match self {
            SpyMode::Listen => "none",
            SpyMode::Whisper => "out",
            SpyMode::Barge => "both",
        }
    }
}

/// How a supervision session goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisionEvent {
    /// The supervisor hears the call.
    Started(u64),
    /// Over (either leg hung up, a request was refused, or it was stopped).
    Ended(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Supervision {
    snoop_up: bool,
    phone_up: bool,
    /// Requests to put both in the bridge still unanswered.
    joining: u8,
}

impl Calls {
    /// Session `n`: the supervisor at `endpoint` hears agent `agent`'s calls
    /// in `mode`. The agent's phone must be on the line.
    pub fn supervise(&mut self, n: u64, agent: AgentId, endpoint: &str, mode: SpyMode) {
        if self.supervisions.contains_key(&n)
            || self.phones.get(&agent) != Some(&PhoneState::OnLine)
        {
            self.supervision_events
                .push_back(SupervisionEvent::Ended(n));
            return;
        }
        self.supervisions.insert(n, Supervision::default());
        let query = [
            ("spy", "both".to_string()),
            ("whisper", mode.whisper().to_string()),
            ("app", self.config.app.clone()),
            ("appArgs", format!("snoop,{n}")),
            ("snoopId", self.channel('s', n)),
        ];
        let phone = self.agent_channel(agent);
        self.request(
            Tag::Supervise(n),
            rest::SNOOP,
            &[("channelId", &phone)],
            &query,
        );
        let query = [
            ("endpoint", endpoint.to_string()),
            ("app", self.config.app.clone()),
            ("appArgs", format!("supervisor,{n}")),
            ("callerId", self.config.caller_id.clone()),
            ("timeout", "30".to_string()),
            ("channelId", self.channel('v', n)),
        ];
        self.request(Tag::Supervise(n), rest::ORIGINATE, &[], &query);
    }

    /// Ends session `n`.
    pub fn stop_supervising(&mut self, n: u64) {
        if self.supervisions.remove(&n).is_none() {
            return;
        }
        let (snoop, phone, bridge) = (self.channel('s', n), self.channel('v', n), self.id('m', n));
        self.hang_up_channel(&snoop);
        self.hang_up_channel(&phone);
        self.destroy_bridge(&bridge);
        self.supervision_events
            .push_back(SupervisionEvent::Ended(n));
    }

    /// The snoop channel or the supervisor's phone entered Stasis; with both
    /// there they are bridged.
    pub(super) fn supervision_leg_up(&mut self, n: u64, snoop: bool) {
        let Some(session) = self.supervisions.get_mut(&n) else {
            return;
        };
        if snoop {
            session.snoop_up = true;
        } else {
            session.phone_up = true;
        }
        if !(session.snoop_up && session.phone_up) || session.joining > 0 {
            return;
        }
        session.joining = 2;
        let bridge = self.id('m', n);
        self.create_bridge(Tag::Cleanup, "mixing", &bridge);
        self.add_channel(Tag::SuperviseJoin(n), &bridge, self.channel('s', n));
        self.add_channel(Tag::SuperviseJoin(n), &bridge, self.channel('v', n));
    }

    /// A leg of session `n` is in the bridge; with both, it has started.
    pub(super) fn supervision_joined(&mut self, n: u64) {
        let Some(session) = self.supervisions.get_mut(&n) else {
            return;
        };
        if session.joining == 0 {
            return;
        }
        session.joining -= 1;
        if session.joining == 0 {
            self.supervision_events
                .push_back(SupervisionEvent::Started(n));
        }
    }
}
