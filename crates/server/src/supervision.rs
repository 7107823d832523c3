//! Supervisors listening to, whispering to or barging into an agent's calls
//! from the console: the sessions under way on this node and what each
//! campaign's Asterisk adapter said of them. The adapter does the telephony
//! (a snoop on the agent's phone and the supervisor's phone in one bridge);
//! this only keeps the sessions' numbers, whose they are and how they stand.

use parking_lot::Mutex;
use sanjeevani_ari::calls::supervise::{SpyMode, SupervisionEvent};
use sanjeevani_ari::driver::AriHandle;
use sanjeevani_core::AgentId;
use sanjeevani_store::CampaignId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the supervisor's voice reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nobody hears the supervisor.
    Listen,
    /// Only the agent hears the supervisor.
    Whisper,
    /// Agent and contact hear the supervisor.
    Barge,
}

impl From<Mode> for SpyMode {
    fn from(mode: Mode) -> SpyMode {
        match mode {
            Mode::Listen => SpyMode::Listen,
            Mode::Whisper => SpyMode::Whisper,
            Mode::Barge => SpyMode::Barge,
        }
    }
}

/// How a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    /// The supervisor's phone is ringing.
    Ringing,
    /// The supervisor hears the agent's calls.
    Live,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub id: u64,
    /// The campaign the agent works.
    pub campaign: i64,
    /// The supervisor's user id.
    pub supervisor: i64,
    /// The agent's user id.
    pub agent: i64,
    pub mode: Mode,
    pub state: SessionState,
}

/// Every session of this node, and each campaign's adapter.
#[derive(Default)]
pub struct Supervision {
    next: AtomicU64,
    lines: Mutex<HashMap<CampaignId, AriHandle>>,
    sessions: Mutex<HashMap<u64, Session>>,
}

impl Supervision {
    /// `campaign`'s adapter, and how its sessions go.
    pub fn attach(
        self: &Arc<Self>,
        campaign: CampaignId,
        line: AriHandle,
        mut events: mpsc::UnboundedReceiver<SupervisionEvent>,
    ) {
        self.lines.lock().insert(campaign, line);
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let mut sessions = me.sessions.lock();
                match event {
                    SupervisionEvent::Started(n) => {
                        if let Some(session) = sessions.get_mut(&n) {
                            session.state = SessionState::Live;
                        }
                    }
                    SupervisionEvent::Ended(n) => {
                        sessions.remove(&n);
                    }
                }
            }
        });
    }

    /// A new session: `supervisor`'s phone at `endpoint` rings, then hears
    /// `agent`'s calls in `campaign`. `None` when that campaign's telephony
    /// cannot do it.
    pub fn start(
        &self,
        campaign: CampaignId,
        supervisor: i64,
        agent: i64,
        endpoint: &str,
        mode: Mode,
    ) -> Option<Session> {
        let lines = self.lines.lock();
        let line = lines.get(&campaign)?;
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let session = Session {
            id,
            campaign: campaign.0,
            supervisor,
            agent,
            mode,
            state: SessionState::Ringing,
        };
        self.sessions.lock().insert(id, session.clone());
        line.supervise(id, AgentId(agent as u64), endpoint, mode.into());
        Some(session)
    }

    /// Ends session `id`, if it is under way.
    pub fn stop(&self, id: u64) -> Option<Session> {
        let session = self.sessions.lock().remove(&id)?;
        if let Some(line) = self.lines.lock().get(&CampaignId(session.campaign)) {
            line.stop_supervising(id);
        }
        Some(session)
    }

    /// The sessions under way, oldest first.
    pub fn sessions(&self) -> Vec<Session> {
        let mut all: Vec<Session> = self.sessions.lock().values().cloned().collect();
        all.sort_by_key(|s| s.id);
        all
    }
}
