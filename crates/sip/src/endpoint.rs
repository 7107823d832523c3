//! The SIP endpoint, sans-io: client transactions and the dialogs we start.
//!
//! Like quinn-proto, it never touches a socket or a clock. Datagrams come in
//! through [`Endpoint::handle`], time through [`Endpoint::handle_timeout`];
//! what to send comes out of [`Endpoint::poll_transmit`], what happened out of
//! [`Endpoint::poll_event`], and when to call again out of
//! [`Endpoint::poll_timeout`].
//!
//! It implements the client INVITE and non-INVITE transactions of RFC 3261
//! section 17.1 (timers A, B, D, E, F, K; no retransmissions over a reliable
//! transport), ACK for non-2xx finals inside the transaction and for 2xx by
//! the dialog (delayed when the INVITE carried no offer, so third-party call
//! control can put the answer in it), CANCEL (held until a provisional
//! response, section 9.1), BYE both ways, re-INVITE, OPTIONS probes and one
//! digest-authenticated retry of a challenged INVITE. Requests it receives are
//! answered statelessly, with the answer repeated for retransmissions.

use crate::digest::{self, Credentials};
use crate::message::{self, Fields, Message, Method, Request, Response};
use crate::sdp::{self, Origin};
use rand::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Datagram (retransmissions) or stream (none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn via(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    fn reliable(self) -> bool {
        self == Transport::Tcp
    }
}

/// How the endpoint presents itself and times its transactions.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Our address, written in `Via` and `Contact`.
    pub local: SocketAddr,
    pub transport: Transport,
    /// The URI in our `From`.
    pub from: String,
    pub credentials: Option<Credentials>,
    /// RFC 3261 T1 (500 ms), T2 (4 s) and T4 (5 s).
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
    pub seed: u64,
}

impl EndpointConfig {
    pub fn new(local: SocketAddr, transport: Transport, seed: u64) -> EndpointConfig {
        EndpointConfig {
            local,
            transport,
            from: format!("sip:sanjeevani@{}", host_port(local)),
            credentials: None,
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            seed,
        }
    }
}

fn host_port(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// One dialog we start with an INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// What a transaction or the far end did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// A provisional response other than 100 (180, 183, ...).
    Progress { leg: LegId, status: u16 },
    /// A 2xx to the INVITE; `sdp` is its body. When the INVITE carried no
    /// offer this is the offer, and the leg waits for [`Endpoint::ack`].
    Answered { leg: LegId, sdp: Vec<u8> },
    /// A final failure (`None`: no response in time). The leg is gone.
    Failed { leg: LegId, status: Option<u16> },
    /// A 2xx to our re-INVITE.
    Updated { leg: LegId, sdp: Vec<u8> },
    /// A re-INVITE failed; the dialog stays as it was.
    UpdateFailed { leg: LegId, status: Option<u16> },
    /// The far end sent BYE. The leg is gone.
    Ended { leg: LegId },
    /// An OPTIONS probe's answer (`None`: none in time).
    Probe { probe: u64, status: Option<u16> },
}

/// Bytes to send and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

/// A command the endpoint cannot carry out in the leg's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegError {
    #[error("no such leg {0:?}")]
    Unknown(LegId),
    #[error("leg {0:?} has no established dialog")]
    NotEstablished(LegId),
    #[error("leg {0:?} already has a re-INVITE in progress")]
    Busy(LegId),
    #[error("bad URI {0:?}")]
    Uri(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegState {
    /// INVITE sent, nothing but 100 back.
    Calling,
    /// A provisional response came.
    Early,
    /// A 2xx came; ACK sent or awaited.
    Confirmed,
    /// We want out: CANCEL when a provisional comes, BYE if a 2xx does.
    Leaving,
}

struct Leg {
    call_id: String,
    local_tag: String,
    to: String,
    remote_tag: Option<String>,
    request_uri: String,
    remote_target: Option<String>,
    route_set: Vec<String>,
    /// Where out-of-dialog requests go (the trunk or proxy).
    next_hop: SocketAddr,
    cseq: u32,
    state: LegState,
    invite: Option<TxId>,
    /// The INVITE carried an offer: ACK at once, without a body.
    offered: bool,
    auth_tried: bool,
    /// The CSeq of a 2xx waiting for our ACK.
    awaiting_ack: Option<u32>,
    /// The last ACK for a 2xx, repeated if the 2xx is.
    last_ack: Option<(u32, Transmit)>,
    reinvite: Option<(TxId, bool)>,
    origin: Origin,
    /// What we last offered or answered on this leg.
    local_sdp: Vec<u8>,
    /// The offer of a 2xx we have not answered yet.
    pending_offer: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TxId(u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Invite(LegId),
    Reinvite(LegId),
    Bye,
    Cancel,
    Options(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    Trying,
    Proceeding,
    Completed,
}

struct ClientTx {
    kind: TxKind,
    key: (String, Method),
    request: Transmit,
    state: TxState,
    interval: Duration,
    retransmit_at: Option<Instant>,
    give_up_at: Option<Instant>,
    linger_until: Option<Instant>,
    /// The ACK of a non-2xx final, repeated if the final is.
    ack: Option<Transmit>,
    /// The deadline queued in the timer heap.
    scheduled: Option<Instant>,
}

impl ClientTx {
    fn next_deadline(&self) -> Option<Instant> {
        [self.retransmit_at, self.give_up_at, self.linger_until]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The SIP endpoint. See the module documentation.
pub struct Endpoint {
    config: EndpointConfig,
    rng: rand_pcg::Pcg64,
    next_id: u64,
    legs: HashMap<LegId, Leg>,
    by_call_id: HashMap<String, LegId>,
    txs: HashMap<TxId, ClientTx>,
    by_key: HashMap<(String, Method), TxId>,
    timers: BinaryHeap<Reverse<(Instant, TxId)>>,
    /// Our answers to requests we received, repeated for retransmissions.
    answered: HashMap<(String, Method), Transmit>,
    answered_expiry: VecDeque<(Instant, (String, Method))>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<LegEvent>,
    /// Messages dropped because they could not be read.
    pub malformed: u64,
}

/// What a new leg is for and where it goes.
#[derive(Debug, Clone)]
pub struct Invite {
    pub uri: String,
    pub next_hop: SocketAddr,
    /// Our offer; `None` asks the far end to offer in its 2xx.
    pub offer: Option<Vec<u8>>,
}

impl Endpoint {
    pub fn new(config: EndpointConfig) -> Endpoint {
        Endpoint {
            rng: rand_pcg::Pcg64::seed_from_u64(config.seed),
            config,
            next_id: 1,
            legs: HashMap::new(),
            by_call_id: HashMap::new(),
            txs: HashMap::new(),
            by_key: HashMap::new(),
            timers: BinaryHeap::new(),
            answered: HashMap::new(),
            answered_expiry: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            malformed: 0,
        }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<LegEvent> {
        self.events.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] is next due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let mut next_tx = None;
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            match self.txs.get(&id) {
                Some(tx) if tx.scheduled == Some(at) => {
                    next_tx = Some(at);
                    break;
                }
                // A deadline that has moved or a transaction that is gone.
                _ => {
                    self.timers.pop();
                }
            }
        }
        let next_expiry = self.answered_expiry.front().map(|(at, _)| *at);
        next_tx.into_iter().chain(next_expiry).min()
    }

    /// Legs alive (for leak checks and figures).
    pub fn legs(&self) -> usize {
        self.legs.len()
    }

    /// Transactions alive.
    pub fn transactions(&self) -> usize {
        self.txs.len()
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn token(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }

    fn branch(&mut self) -> String {
        format!("z9hG4bK{}", self.token())
    }

    fn via(&self, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            self.config.transport.via(),
            host_port(self.config.local)
        )
    }

    fn contact(&self) -> String {
        let transport = match self.config.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        };
        format!(
            "<sip:sanjeevani@{}{transport}>",
            host_port(self.config.local)
        )
    }

    /// A fresh origin for a leg's SDP.
    pub fn origin(&mut self) -> Origin {
        Origin {
            session: self.rng.random::<u32>() as u64,
            version: 0,
            address: self.config.local.ip(),
        }
    }

    /// Starts a leg with an INVITE.
    pub fn invite(&mut self, now: Instant, invite: Invite) -> Result<LegId, LegError> {
        if rsip::Uri::try_from(invite.uri.as_str()).is_err() {
            return Err(LegError::Uri(invite.uri));
        }
        let leg_id = LegId(self.id());
        let call_id = format!("{}@{}", self.token(), self.config.local.ip());
        let mut origin = self.origin();
        let offered = invite.offer.is_some();
        let local_sdp = invite
            .offer
            .map(|offer| sdp::relay(&offer, &mut origin))
            .unwrap_or_default();
        let leg = Leg {
            call_id: call_id.clone(),
            local_tag: self.token(),
            to: format!("<{}>", invite.uri),
            remote_tag: None,
            request_uri: invite.uri,
            remote_target: None,
            route_set: Vec::new(),
            next_hop: invite.next_hop,
            cseq: 0,
            state: LegState::Calling,
            invite: None,
            offered,
            auth_tried: false,
            awaiting_ack: None,
            last_ack: None,
            reinvite: None,
            origin,
            local_sdp,
            pending_offer: Vec::new(),
        };
        self.legs.insert(leg_id, leg);
        self.by_call_id.insert(call_id, leg_id);
        self.send_invite(now, leg_id, None);
        Ok(leg_id)
    }

    fn send_invite(&mut self, now: Instant, leg_id: LegId, authorization: Option<(&str, String)>) {
        let branch = self.branch();
        let via = self.via(&branch);
        let contact = self.contact();
        let from = self.config.from.clone();
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return;
        };
        leg.cseq += 1;
        let mut request = Request::new(Method::Invite, leg.request_uri.clone());
        request.headers.push("Via", via);
        request.headers.push("Max-Forwards", "70");
        request
            .headers
            .push("From", format!("<{from}>;tag={}", leg.local_tag));
        request.headers.push("To", leg.to.clone());
        request.headers.push("Call-ID", leg.call_id.clone());
        request.headers.push("CSeq", format!("{} INVITE", leg.cseq));
        request.headers.push("Contact", contact);
        if let Some((name, value)) = authorization {
            request.headers.push(name, value);
        }
        request
            .headers
            .push("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
        request.headers.push("User-Agent", "Sanjeevani");
        if leg.offered {
            request.headers.push("Content-Type", "application/sdp");
            request.body = leg.local_sdp.clone();
        }
        let to = leg.next_hop;
        let tx = self.start_tx(now, TxKind::Invite(leg_id), &request, branch, to);
        if let Some(leg) = self.legs.get_mut(&leg_id) {
            leg.invite = tx;
        }
    }

    /// Sends `request` as a new client transaction.
    fn start_tx(
        &mut self,
        now: Instant,
        kind: TxKind,
        request: &Request,
        branch: String,
        to: SocketAddr,
    ) -> Option<TxId> {
        let bytes = match request.encode() {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "could not encode a request");
                return None;
            }
        };
        let transmit = Transmit { to, bytes };
        self.transmits.push_back(transmit.clone());
        let id = TxId(self.id());
        let t1 = self.config.t1;
        let reliable = self.config.transport.reliable();
        let key = (branch, request.method.clone());
        let tx = ClientTx {
            kind,
            key: key.clone(),
            request: transmit,
            state: TxState::Trying,
            interval: t1,
            retransmit_at: (!reliable).then(|| now + t1),
            give_up_at: Some(now + 64 * t1),
            linger_until: None,
            ack: None,
            scheduled: None,
        };
        self.txs.insert(id, tx);
        self.by_key.insert(key, id);
        self.schedule(id);
        Some(id)
    }

    fn schedule(&mut self, id: TxId) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        let next = tx.next_deadline();
        if next != tx.scheduled {
            tx.scheduled = next;
            if let Some(at) = next {
                self.timers.push(Reverse((at, id)));
            }
        }
    }

    fn end_tx(&mut self, id: TxId) {
        if let Some(tx) = self.txs.remove(&id) {
            self.by_key.remove(&tx.key);
        }
    }

    fn end_leg(&mut self, leg_id: LegId) {
        if let Some(leg) = self.legs.remove(&leg_id) {
            self.by_call_id.remove(&leg.call_id);
        }
    }

    /// An in-dialog request on `leg` (ACK, BYE, re-INVITE), and where it goes:
    /// the first route, else the remote target, else the leg's next hop.
    fn in_dialog(
        &mut self,
        leg_id: LegId,
        method: Method,
        cseq: u32,
    ) -> Option<(Request, String, SocketAddr)> {
        let branch = self.branch();
        let via = self.via(&branch);
        let from = self.config.from.clone();
        let leg = self.legs.get(&leg_id)?;
        let target = leg.remote_target.clone().unwrap_or(leg.request_uri.clone());
        let mut request = Request::new(method.clone(), target.clone());
        request.headers.push("Via", via);
        request.headers.push("Max-Forwards", "70");
        request
            .headers
            .push("From", format!("<{from}>;tag={}", leg.local_tag));
        let to = match &leg.remote_tag {
            Some(tag) => format!("{};tag={tag}", leg.to),
            None => leg.to.clone(),
        };
        request.headers.push("To", to);
        request.headers.push("Call-ID", leg.call_id.clone());
        request.headers.push("CSeq", format!("{cseq} {method}"));
        for route in &leg.route_set {
            request.headers.push("Route", route.clone());
        }
        let next_hop = leg
            .route_set
            .first()
            .and_then(|r| socket_of(message::addr_uri(r)))
            .or_else(|| socket_of(&target))
            .unwrap_or(leg.next_hop);
        Some((request, branch, next_hop))
    }

    /// ACKs the 2xx a leg is waiting on, with our answer.
    pub fn ack(&mut self, leg_id: LegId, answer: Vec<u8>) -> Result<(), LegError> {
        let leg = self
            .legs
            .get_mut(&leg_id)
            .ok_or(LegError::Unknown(leg_id))?;
        let cseq = leg
            .awaiting_ack
            .take()
            .ok_or(LegError::NotEstablished(leg_id))?;
        leg.local_sdp = sdp::relay(&answer, &mut leg.origin);
        leg.pending_offer.clear();
        let body = leg.local_sdp.clone();
        self.send_ack(leg_id, cseq, body);
        Ok(())
    }

    fn send_ack(&mut self, leg_id: LegId, cseq: u32, body: Vec<u8>) {
        let Some((mut request, _, to)) = self.in_dialog(leg_id, Method::Ack, cseq) else {
            return;
        };
        if !body.is_empty() {
            request.headers.push("Content-Type", "application/sdp");
            request.body = body;
        }
        let Ok(bytes) = request.encode() else { return };
        let transmit = Transmit { to, bytes };
        self.transmits.push_back(transmit.clone());
        if let Some(leg) = self.legs.get_mut(&leg_id) {
            leg.last_ack = Some((cseq, transmit));
        }
    }

    /// Sends a re-INVITE with `offer` (ACKed at once), or without one (the
    /// far end offers in its 2xx and the leg waits for [`Endpoint::ack`]).
    pub fn reinvite(
        &mut self,
        now: Instant,
        leg_id: LegId,
        offer: Option<Vec<u8>>,
    ) -> Result<(), LegError> {
        let leg = self
            .legs
            .get_mut(&leg_id)
            .ok_or(LegError::Unknown(leg_id))?;
        if leg.state != LegState::Confirmed || leg.awaiting_ack.is_some() {
            return Err(LegError::NotEstablished(leg_id));
        }
        if leg.reinvite.is_some() {
            return Err(LegError::Busy(leg_id));
        }
        leg.cseq += 1;
        let cseq = leg.cseq;
        let with_offer = offer.is_some();
        if let Some(offer) = offer {
            leg.local_sdp = sdp::relay(&offer, &mut leg.origin);
        }
        let body = leg.local_sdp.clone();
        let contact = self.contact();
        let (mut request, branch, to) = self
            .in_dialog(leg_id, Method::Invite, cseq)
            .ok_or(LegError::Unknown(leg_id))?;
        request.headers.push("Contact", contact);
        if with_offer {
            request.headers.push("Content-Type", "application/sdp");
            request.body = body;
        }
        let tx = self.start_tx(now, TxKind::Reinvite(leg_id), &request, branch, to);
        if let (Some(tx), Some(leg)) = (tx, self.legs.get_mut(&leg_id)) {
            leg.reinvite = Some((tx, with_offer));
        }
        Ok(())
    }

    /// Gives up on a leg: CANCEL while it rings (once it has rung), BYE once
    /// answered (ACKing first if needed). The leg produces no more events.
    pub fn hang_up(&mut self, now: Instant, leg_id: LegId) {
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return;
        };
        match leg.state {
            LegState::Calling => leg.state = LegState::Leaving,
            LegState::Early => {
                leg.state = LegState::Leaving;
                self.send_cancel(now, leg_id);
            }
            LegState::Confirmed => self.send_bye(now, leg_id),
            LegState::Leaving => {}
        }
    }

    fn send_cancel(&mut self, now: Instant, leg_id: LegId) {
        let Some(leg) = self.legs.get(&leg_id) else {
            return;
        };
        let Some(tx) = leg.invite.and_then(|id| self.txs.get(&id)) else {
            return;
        };
        // CANCEL copies the INVITE's Request-URI, top Via, From, To, Call-ID
        // and CSeq number (RFC 3261 section 9.1).
        let Ok(Message::Request(invite)) = message::parse(&tx.request.bytes) else {
            return;
        };
        let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
        for name in ["Via", "Max-Forwards", "From", "To", "Call-ID", "Route"] {
            for value in invite.headers.all(name) {
                cancel.headers.push(name, value);
            }
        }
        cancel
            .headers
            .push("CSeq", format!("{} CANCEL", invite.cseq().number));
        let branch = tx.key.0.clone();
        let to = tx.request.to;
        self.start_tx(now, TxKind::Cancel, &cancel, branch, to);
    }

    fn send_bye(&mut self, now: Instant, leg_id: LegId) {
        if let Some(cseq) = self.legs.get(&leg_id).and_then(|l| l.awaiting_ack) {
            // A 2xx we never answered: ACK it with an answer that carries no media, then BYE.
            let leg = self.legs.get_mut(&leg_id).expect("checked above");
            leg.awaiting_ack = None;
            let offer = std::mem::take(&mut leg.pending_offer);
            let answer = sdp::parking_answer(&offer, &mut leg.origin);
            self.send_ack(leg_id, cseq, answer);
        }
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return;
        };
        leg.cseq += 1;
        let cseq = leg.cseq;
        if let Some((mut request, branch, to)) = self.in_dialog(leg_id, Method::Bye, cseq) {
            request.headers.push("User-Agent", "Sanjeevani");
            self.start_tx(now, TxKind::Bye, &request, branch, to);
        }
        self.end_leg(leg_id);
    }

    /// Sends an OPTIONS probe to `uri` via `next_hop`; the answer comes as
    /// [`LegEvent::Probe`] with the returned id.
    pub fn options(&mut self, now: Instant, uri: &str, next_hop: SocketAddr) -> u64 {
        let probe = self.id();
        let branch = self.branch();
        let mut request = Request::new(Method::Options, uri);
        request.headers.push("Via", self.via(&branch));
        request.headers.push("Max-Forwards", "70");
        let tag = self.token();
        request
            .headers
            .push("From", format!("<{}>;tag={tag}", self.config.from));
        request.headers.push("To", format!("<{uri}>"));
        let call_id = format!("{}@{}", self.token(), self.config.local.ip());
        request.headers.push("Call-ID", call_id);
        request.headers.push("CSeq", "1 OPTIONS");
        request.headers.push("Accept", "application/sdp");
        if self
            .start_tx(now, TxKind::Options(probe), &request, branch, next_hop)
            .is_none()
        {
            self.events.push_back(LegEvent::Probe {
                probe,
                status: None,
            });
        }
        probe
    }

    /// Takes one message from the network. Malformed input is logged and
    /// dropped.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        match message::parse(bytes) {
            Ok(Message::Response(response)) => self.on_response(now, response),
            Ok(Message::Request(request)) => self.on_request(now, from, request),
            Err(e) => {
                self.malformed += 1;
                tracing::warn!(%from, error = %e, "dropped a malformed SIP message");
            }
        }
    }

    fn on_response(&mut self, now: Instant, response: Response) {
        let cseq = response.cseq();
        let Some(branch) = response.branch() else {
            return;
        };
        let Some(&id) = self.by_key.get(&(branch, cseq.method.clone())) else {
            // A 2xx repeated after its transaction ended: repeat our ACK.
            if (200..300).contains(&response.status) && cseq.method == Method::Invite {
                self.repeat_ack(&response);
            }
            return;
        };
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        let kind = tx.kind;
        let status = response.status;
        if tx.state == TxState::Completed {
            // A repeated final: repeat the ACK (INVITE) or ignore.
            if let Some(ack) = tx.ack.clone() {
                self.transmits.push_back(ack);
            }
            return;
        }
        if status < 200 {
            tx.state = TxState::Proceeding;
            match kind {
                // An INVITE that has a provisional answer waits for the callee,
                // however long: the caller's own timer ends it (CANCEL).
                TxKind::Invite(_) | TxKind::Reinvite(_) => {
                    tx.retransmit_at = None;
                    tx.give_up_at = None;
                }
                _ => {
                    tx.interval = self.config.t2;
                    tx.retransmit_at = tx.retransmit_at.map(|_| now + self.config.t2);
                }
            }
            self.schedule(id);
            if let TxKind::Invite(leg) = kind {
                self.on_provisional(now, leg, status);
            }
            return;
        }
        let invite_like = matches!(kind, TxKind::Invite(_) | TxKind::Reinvite(_));
        if invite_like && status < 300 {
            // A 2xx ends an INVITE client transaction; the dialog ACKs it.
            self.end_tx(id);
        } else {
            let linger = if self.config.transport.reliable() {
                Duration::ZERO
            } else if invite_like {
                // Timer D: at least 32 s over UDP.
                Duration::from_secs(32)
            } else {
                self.config.t4
            };
            let tx = self.txs.get_mut(&id).expect("present");
            tx.state = TxState::Completed;
            tx.retransmit_at = None;
            tx.give_up_at = None;
            tx.linger_until = Some(now + linger);
            if invite_like {
                let ack = failure_ack(&tx.request, &response);
                if let Some(ack) = &ack {
                    self.transmits.push_back(ack.clone());
                }
                tx.ack = ack;
            }
            self.schedule(id);
        }
        match kind {
            TxKind::Invite(leg) => self.on_invite_final(now, leg, response),
            TxKind::Reinvite(leg) => self.on_reinvite_final(leg, response),
            TxKind::Options(probe) => self.events.push_back(LegEvent::Probe {
                probe,
                status: Some(status),
            }),
            TxKind::Bye | TxKind::Cancel => {}
        }
    }

    fn on_provisional(&mut self, now: Instant, leg_id: LegId, status: u16) {
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return;
        };
        match leg.state {
            LegState::Calling if status > 100 => leg.state = LegState::Early,
            LegState::Calling | LegState::Early | LegState::Confirmed => {}
            LegState::Leaving => {
                if !self.cancel_sent(leg_id) {
                    self.send_cancel(now, leg_id);
                }
                return;
            }
        }
        if status > 100 {
            self.events.push_back(LegEvent::Progress {
                leg: leg_id,
                status,
            });
        }
    }

    fn cancel_sent(&self, leg_id: LegId) -> bool {
        let Some(invite) = self.legs.get(&leg_id).and_then(|l| l.invite) else {
            return false;
        };
        let Some(branch) = self.txs.get(&invite).map(|t| t.key.0.clone()) else {
            return false;
        };
        self.by_key.contains_key(&(branch, Method::Cancel))
    }

    fn on_invite_final(&mut self, now: Instant, leg_id: LegId, response: Response) {
        let status = response.status;
        let cnonce = self.token();
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            // A 2xx for a leg we gave up: ACK and BYE are owed, but the leg is
            // gone; its dialog times out at the far end.
            return;
        };
        leg.invite = None;
        if (200..300).contains(&status) {
            leg.remote_tag = response.tag_in_to().map(str::to_string);
            leg.remote_target = response.contact_uri().map(str::to_string);
            leg.route_set = response
                .headers
                .list("Record-Route")
                .into_iter()
                .rev()
                .collect();
            let leaving = leg.state == LegState::Leaving;
            leg.state = LegState::Confirmed;
            let cseq = response.cseq().number;
            if leg.offered {
                self.send_ack(leg_id, cseq, Vec::new());
            } else {
                leg.awaiting_ack = Some(cseq);
                leg.pending_offer = response.body.clone();
            }
            if leaving {
                self.send_bye(now, leg_id);
            } else {
                self.events.push_back(LegEvent::Answered {
                    leg: leg_id,
                    sdp: response.body,
                });
            }
            return;
        }
        if matches!(status, 401 | 407) && !leg.auth_tried && leg.state != LegState::Leaving {
            if let Some(credentials) = self.config.credentials.clone() {
                let (challenge, header) = if status == 401 {
                    ("WWW-Authenticate", "Authorization")
                } else {
                    ("Proxy-Authenticate", "Proxy-Authorization")
                };
                leg.auth_tried = true;
                let uri = leg.request_uri.clone();
                let answer = response.headers.get(challenge).map(|c| {
                    digest::authorization(c, &Method::Invite, &uri, &credentials, &cnonce)
                });
                match answer {
                    Some(Ok(value)) => {
                        self.send_invite(now, leg_id, Some((header, value)));
                        return;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "could not answer the trunk's challenge")
                    }
                    None => tracing::warn!(status, "challenge without {challenge}"),
                }
            }
        }
        let leaving = leg.state == LegState::Leaving;
        self.end_leg(leg_id);
        if !leaving {
            self.events.push_back(LegEvent::Failed {
                leg: leg_id,
                status: Some(status),
            });
        }
    }

    fn on_reinvite_final(&mut self, leg_id: LegId, response: Response) {
        let Some(leg) = self.legs.get_mut(&leg_id) else {
            return;
        };
        let Some((_, with_offer)) = leg.reinvite.take() else {
            return;
        };
        if (200..300).contains(&response.status) {
            let cseq = response.cseq().number;
            if with_offer {
                self.send_ack(leg_id, cseq, Vec::new());
            } else {
                leg.awaiting_ack = Some(cseq);
                leg.pending_offer = response.body.clone();
            }
            self.events.push_back(LegEvent::Updated {
                leg: leg_id,
                sdp: response.body,
            });
        } else {
            self.events.push_back(LegEvent::UpdateFailed {
                leg: leg_id,
                status: Some(response.status),
            });
        }
    }

    fn repeat_ack(&mut self, response: &Response) {
        let Some(&leg_id) = self.by_call_id.get(response.call_id()) else {
            return;
        };
        if let Some((cseq, ack)) = self.legs.get(&leg_id).and_then(|l| l.last_ack.clone()) {
            if cseq == response.cseq().number {
                self.transmits.push_back(ack);
            }
        }
    }

    fn on_request(&mut self, now: Instant, from: SocketAddr, request: Request) {
        if request.method == Method::Ack {
            return;
        }
        let Some(branch) = request.branch() else {
            return;
        };
        let key = (branch, request.method.clone());
        if let Some(answer) = self.answered.get(&key) {
            self.transmits.push_back(answer.clone());
            return;
        }
        let leg_id = self
            .by_call_id
            .get(request.call_id())
            .copied()
            .filter(|id| {
                let leg = &self.legs[id];
                request.tag_in_to() == Some(leg.local_tag.as_str())
            });
        let response = match (&request.method, leg_id) {
            (Method::Bye, Some(leg)) => {
                self.end_leg(leg);
                self.events.push_back(LegEvent::Ended { leg });
                request.response(200, "OK", None)
            }
            (Method::Invite, Some(leg)) => {
                // A refresh or change from the far end: we keep our side as it is.
                let mut response = request.response(200, "OK", None);
                response.headers.push("Contact", self.contact());
                response.headers.push("Content-Type", "application/sdp");
                response.body = self.legs[&leg].local_sdp.clone();
                response
            }
            (Method::Options, _) => {
                let tag = self.token();
                let mut response = request.response(200, "OK", Some(&tag));
                response
                    .headers
                    .push("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
                response
            }
            (Method::Invite, None) if request.tag_in_to().is_none() => {
                let tag = self.token();
                request.response(403, "Outbound Only", Some(&tag))
            }
            (Method::Bye | Method::Cancel | Method::Invite, None) => {
                request.response(481, "Call/Transaction Does Not Exist", None)
            }
            _ => request.response(501, "Not Implemented", None),
        };
        let transmit = Transmit {
            // The source address, as with rport (RFC 3581): right behind NAT and proxies.
            to: from,
            bytes: response.encode(),
        };
        self.transmits.push_back(transmit.clone());
        self.answered.insert(key.clone(), transmit);
        self.answered_expiry
            .push_back((now + 64 * self.config.t1, key));
    }

    /// Advances the transaction timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, key)) = self.answered_expiry.front().cloned() {
            if at > now {
                break;
            }
            self.answered_expiry.pop_front();
            self.answered.remove(&key);
        }
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(tx) = self.txs.get_mut(&id) else {
                continue;
            };
            if tx.scheduled != Some(at) {
                continue;
            }
            tx.scheduled = None;
            if tx.linger_until.is_some_and(|t| t <= now) {
                self.end_tx(id);
                continue;
            }
            if tx.give_up_at.is_some_and(|t| t <= now) {
                let kind = tx.kind;
                self.end_tx(id);
                self.on_tx_timeout(now, kind);
                continue;
            }
            if tx.retransmit_at.is_some_and(|t| t <= now) {
                self.transmits.push_back(tx.request.clone());
                tx.interval = match tx.kind {
                    TxKind::Invite(_) | TxKind::Reinvite(_) => tx.interval * 2,
                    _ => (tx.interval * 2).min(self.config.t2),
                };
                tx.retransmit_at = Some(now + tx.interval);
            }
            self.schedule(id);
        }
    }

    fn on_tx_timeout(&mut self, now: Instant, kind: TxKind) {
        match kind {
            TxKind::Invite(leg_id) => {
                let leaving = self
                    .legs
                    .get(&leg_id)
                    .is_some_and(|l| l.state == LegState::Leaving);
                self.end_leg(leg_id);
                if !leaving {
                    self.events.push_back(LegEvent::Failed {
                        leg: leg_id,
                        status: None,
                    });
                }
            }
            TxKind::Reinvite(leg_id) => {
                // RFC 3261 section 14.1: a re-INVITE that times out ends the dialog.
                if let Some(leg) = self.legs.get_mut(&leg_id) {
                    leg.reinvite = None;
                    self.send_bye(now, leg_id);
                    self.events.push_back(LegEvent::UpdateFailed {
                        leg: leg_id,
                        status: None,
                    });
                }
            }
            TxKind::Options(probe) => self.events.push_back(LegEvent::Probe {
                probe,
                status: None,
            }),
            TxKind::Bye | TxKind::Cancel => {}
        }
    }
}

/// The ACK for a non-2xx final answer to an INVITE: the INVITE's
/// Request-URI, top Via, From, Call-ID and Route, the response's To.
fn failure_ack(invite: &Transmit, response: &Response) -> Option<Transmit> {
    let Ok(Message::Request(invite_request)) = message::parse(&invite.bytes) else {
        return None;
    };
    let mut ack = Request::new(Method::Ack, invite_request.uri.clone());
    ack.headers
        .push("Via", invite_request.headers.list("Via").first()?.clone());
    ack.headers.push("Max-Forwards", "70");
    ack.headers
        .push("From", invite_request.headers.get("From")?.to_string());
    ack.headers
        .push("To", response.headers.get("To")?.to_string());
    ack.headers
        .push("Call-ID", invite_request.call_id().to_string());
    ack.headers
        .push("CSeq", format!("{} ACK", invite_request.cseq().number));
    for route in invite_request.headers.all("Route") {
        ack.headers.push("Route", route);
    }
    Some(Transmit {
        to: invite.to,
        bytes: ack.encode().ok()?,
    })
}

/// The socket address of a SIP URI whose host is an IP literal.
pub fn socket_of(uri: &str) -> Option<SocketAddr> {
    let rest = uri.split_once(':')?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host_port = rest.split([';', '?', '>']).next()?;
    if let Ok(addr) = host_port.parse::<SocketAddr>() {
        return Some(addr);
    }
    let ip = host_port.trim_start_matches('[').trim_end_matches(']');
    ip.parse().ok().map(|ip| SocketAddr::new(ip, 5060))
}

#[cfg(test)]
mod tests;
