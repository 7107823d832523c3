//! Warm transfer over ARI, the primitive behind escalation to the medical
//! desk. The agent's bridge `B` holds agent and contact.
//!
//! 1. Consult: a holding bridge `{prefix}-h{call}-{n}` is created, the contact
//!    moved into it and music on hold started; the consulted party is
//!    originated as `{prefix}-d{call}-{n}` (`n` numbers consults, so a later
//!    consult never meets an earlier one's channel) with
//!    `appArgs=consult,{call}`, and on its `StasisStart` added to `B`, where
//!    agent and consulted party talk.
//! 2. Complete: a mixing bridge `{prefix}-x{call}` is created and the
//!    consulted party and the contact are moved into it; the holding bridge
//!    goes. The agent is alone in `B` again: free for the next call.
//! 3. Fail or cancel (no answer, busy, the consulted party hangs up, a
//!    refused request, the agent cancels): the consulted party is hung up,
//!    music stops and the contact goes back into `B`.
//!
//! A handed-over call is torn down (the other side hung up, the bridge
//! removed) when either side hangs up. No `Bridge*Transfer` events take part:
//! those come only from a SIP REFER.

use super::{Calls, ContactState, Tag};
use crate::rest;
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_telephony::{LineEvent, TransferEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Consult {
    agent: AgentId,
    state: ConsultState,
    pub(super) attempt: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsultState {
    Calling,
    /// Answered; being added to the agent's bridge.
    Joining,
    Talking,
}

impl Calls {
    /// Numbered like the consulted party's channel: Asterisk destroys a
    /// bridge asynchronously, so a second consult creating the first one's
    /// id at once can be refused.
    fn holding_bridge(&self, call: CallId, attempt: u64) -> String {
        format!("{}-{attempt}", self.id('h', call.0))
    }

    pub(super) fn consulted_channel(&self, call: CallId, attempt: u64) -> String {
        format!("{}-{attempt}.", self.id('d', call.0))
    }

    pub(super) fn consult_attempt(&self, call: CallId) -> Option<u64> {
        self.consults.get(&call).map(|c| c.attempt)
    }

    fn handed_bridge(&self, call: CallId) -> String {
        self.id('x', call.0)
    }

    /// Holds the contact of a connected call and calls `endpoint` (e.g.
    /// `PJSIP/desk`) for the agent to consult. [`TransferEvent`]s report how
    /// it goes.
    pub fn consult(&mut self, call: CallId, endpoint: &str) {
        let agent = match self.contacts.get(&call) {
            Some(ContactState::Connected { agent }) if !self.consults.contains_key(&call) => *agent,
            _ => {
                self.transfers.push_back(TransferEvent::Failed(call));
                return;
            }
        };
        self.contacts.insert(call, ContactState::Held { agent });
        self.consults_made += 1;
        let attempt = self.consults_made;
        self.consults.insert(
            call,
            Consult {
                agent,
                state: ConsultState::Calling,
                attempt,
            },
        );
        let holding = self.holding_bridge(call, attempt);
        self.create_bridge(Tag::Consult(call), "holding", &holding);
        let contact = self.contact_channel(call);
        self.add_channel(Tag::Consult(call), &holding, contact);
        let moh = [("mohClass", self.config.moh_class.clone())];
        self.request(
            Tag::Consult(call),
            rest::START_BRIDGE_MOH,
            &[("bridgeId", &holding)],
            &moh,
        );
        let query = [
            ("endpoint", endpoint.to_string()),
            ("app", self.config.app.clone()),
            ("appArgs", format!("consult,{}", call.0)),
            ("callerId", self.config.caller_id.clone()),
            ("timeout", self.config.consult_timeout.to_string()),
            ("channelId", self.consulted_channel(call, attempt)),
        ];
        self.request(Tag::Consult(call), rest::ORIGINATE, &[], &query);
    }

    /// Joins the contact with the consulted party and frees the agent.
    pub fn complete_transfer(&mut self, call: CallId) {
        let attempt = match self.consults.get(&call) {
            Some(c) if c.state == ConsultState::Talking => c.attempt,
            _ => return self.fail_transfer(call, true),
        };
        if !matches!(self.contacts.get(&call), Some(ContactState::Held { .. })) {
            return self.fail_transfer(call, true);
        }
        self.consults.remove(&call);
        self.forget(call);
        self.stop_recording(call);
        self.handed.insert(call, attempt);
        let handed = self.handed_bridge(call);
        let holding = self.holding_bridge(call, attempt);
        self.create_bridge(Tag::HandOver(call), "mixing", &handed);
        let consulted = self.consulted_channel(call, attempt);
        self.add_channel(Tag::HandOver(call), &handed, consulted);
        self.request(
            Tag::Cleanup,
            rest::STOP_BRIDGE_MOH,
            &[("bridgeId", &holding)],
            &[],
        );
        let contact = self.contact_channel(call);
        self.add_channel(Tag::HandOver(call), &handed, contact);
        self.destroy_bridge(&holding);
        self.transfers.push_back(TransferEvent::Completed(call));
        self.events.push_back(LineEvent::Hangup(call));
    }

    /// Drops the consulted party and puts the agent back with the contact.
    /// Always reported as [`TransferEvent::Failed`], even with no consult.
    pub fn cancel_transfer(&mut self, call: CallId) {
        if self.consults.contains_key(&call) {
            self.fail_transfer(call, true);
        } else {
            self.transfers.push_back(TransferEvent::Failed(call));
        }
    }

    /// The consult is over without a hand-over: the consulted party is hung
    /// up and the contact, if still with us, is back in the agent's bridge.
    pub(super) fn fail_transfer(&mut self, call: CallId, consulted_alive: bool) {
        if !self.consults.contains_key(&call) {
            return;
        }
        let back_to = match self.contacts.get(&call).copied() {
            Some(ContactState::Held { agent }) => {
                self.contacts
                    .insert(call, ContactState::Connected { agent });
                Some(self.agent_bridge(agent))
            }
            _ => None,
        };
        self.end_consult_back_to(call, consulted_alive, back_to);
        self.transfers.push_back(TransferEvent::Failed(call));
    }

    /// Hangs up the consulted party and removes the holding bridge (music
    /// stops with it); the contact's own state is the caller's business.
    pub(super) fn end_consult(&mut self, call: CallId, consulted_alive: bool) {
        self.end_consult_back_to(call, consulted_alive, None);
    }

    /// [`Calls::end_consult`], moving the contact into `back_to` first: a
    /// holding bridge destroyed with the contact still in it can eject the
    /// contact after it has been moved on (Asterisk dissolves a bridge
    /// asynchronously), leaving them in no bridge, in silence.
    fn end_consult_back_to(
        &mut self,
        call: CallId,
        consulted_alive: bool,
        back_to: Option<String>,
    ) {
        let Some(consult) = self.consults.remove(&call) else {
            return;
        };
        if consulted_alive {
            let consulted = self.consulted_channel(call, consult.attempt);
            self.hang_up_channel(&consulted);
        }
        if let Some(bridge) = back_to {
            let contact = self.contact_channel(call);
            self.add_channel(Tag::Cleanup, &bridge, contact);
        }
        let holding = self.holding_bridge(call, consult.attempt);
        self.request(
            Tag::Cleanup,
            rest::STOP_BRIDGE_MOH,
            &[("bridgeId", &holding)],
            &[],
        );
        self.destroy_bridge(&holding);
    }

    /// The consulted party answered: into the agent's bridge.
    pub(super) fn consult_answered(&mut self, call: CallId, attempt: u64) {
        let Some(consult) = self
            .consults
            .get_mut(&call)
            .filter(|c| c.attempt == attempt)
        else {
            // Too late (cancelled, or the contact hung up): not wanted.
            let consulted = self.consulted_channel(call, attempt);
            return self.hang_up_channel(&consulted);
        };
        if consult.state != ConsultState::Calling {
            return;
        }
        consult.state = ConsultState::Joining;
        let agent = consult.agent;
        let bridge = self.agent_bridge(agent);
        let consulted = self.consulted_channel(call, attempt);
        self.add_channel(Tag::ConsultJoin(call), &bridge, consulted);
    }

    pub(super) fn consult_joined(&mut self, call: CallId, ok: bool) {
        let Some(consult) = self.consults.get_mut(&call) else {
            return;
        };
        if !ok {
            return self.fail_transfer(call, true);
        }
        consult.state = ConsultState::Talking;
        self.transfers.push_back(TransferEvent::Consulting(call));
    }

    /// Contact and consulted party could not be joined: both are hung up.
    pub(super) fn hand_over_failed(&mut self, call: CallId) {
        tracing::warn!(call = call.0, "hand-over refused: both sides hung up");
        self.end_handed(call);
    }

    /// One side of a handed-over call hung up (or we are stopping).
    pub(super) fn end_handed(&mut self, call: CallId) {
        let Some(attempt) = self.handed.remove(&call) else {
            return;
        };
        let contact = self.contact_channel(call);
        let consulted = self.consulted_channel(call, attempt);
        let bridge = self.handed_bridge(call);
        self.hang_up_channel(&contact);
        self.hang_up_channel(&consulted);
        self.destroy_bridge(&bridge);
    }
}
