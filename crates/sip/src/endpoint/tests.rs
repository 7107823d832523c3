//! Tests of the endpoint's transactions, driven by hand: time is passed in
//! and the far end's answers are written from the requests it got.

use super::*;

const PEER: &str = "127.0.0.1:5070";

fn endpoint(credentials: Option<Credentials>) -> Endpoint {
    let mut config = EndpointConfig::new("127.0.0.1:5060".parse().unwrap(), Transport::Udp, 7);
    config.credentials = credentials;
    Endpoint::new(config)
}

fn sent(endpoint: &mut Endpoint) -> Vec<Request> {
    std::iter::from_fn(|| endpoint.poll_transmit())
        .map(|t| match message::parse(&t.bytes).unwrap() {
            Message::Request(r) => r,
            Message::Response(r) => panic!("expected a request, sent {} {}", r.status, r.reason),
        })
        .collect()
}

fn events(endpoint: &mut Endpoint) -> Vec<LegEvent> {
    std::iter::from_fn(|| endpoint.poll_event()).collect()
}

/// The far end's answer to `request`.
fn answer(request: &Request, status: u16, extra: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut response = request.response(status, "X", (status > 100).then_some("far"));
    for (name, value) in extra {
        response.headers.push(name, *value);
    }
    response.body = body.to_vec();
    response.encode()
}

fn dial(endpoint: &mut Endpoint, now: Instant, offer: Option<&[u8]>) -> (LegId, Request) {
    let leg = endpoint
        .invite(
            now,
            Invite {
                uri: format!("sip:919800000001@{PEER}"),
                next_hop: PEER.parse().unwrap(),
                offer: offer.map(<[u8]>::to_vec),
            },
        )
        .unwrap();
    let mut requests = sent(endpoint);
    assert_eq!(requests.len(), 1);
    (leg, requests.remove(0))
}

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

#[test]
fn invite_is_retransmitted_with_doubling_intervals_until_timer_b() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let (leg, invite) = dial(&mut ep, t0, None);
    assert_eq!(invite.method, Method::Invite);
    assert!(invite.body.is_empty(), "no offer: the callee offers");
    let mut at = Vec::new();
    let mut now = t0;
    while let Some(due) = ep.poll_timeout() {
        now = due;
        ep.handle_timeout(now);
        if !sent(&mut ep).is_empty() {
            at.push((now - t0).as_millis());
        }
        if !ep.events.is_empty() {
            break;
        }
    }
    // Timer A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; timer B at 32 s.
    assert_eq!(at, [500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!((now - t0).as_millis(), 32_000);
    assert_eq!(events(&mut ep), [LegEvent::Failed { leg, status: None }]);
    assert_eq!(ep.legs(), 0);
}

#[test]
fn provisional_stops_retransmissions_and_busy_is_acked() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let (leg, invite) = dial(&mut ep, t0, None);
    ep.handle(t0, peer(), &answer(&invite, 100, &[], b""));
    ep.handle(t0, peer(), &answer(&invite, 180, &[], b""));
    assert_eq!(events(&mut ep), [LegEvent::Progress { leg, status: 180 }]);
    // No timer A, no timer B once a provisional came.
    assert_eq!(ep.poll_timeout(), None);
    ep.handle(t0, peer(), &answer(&invite, 486, &[], b""));
    let ack = sent(&mut ep);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].method, Method::Ack);
    assert_eq!(
        ack[0].branch(),
        invite.branch(),
        "ACK of a non-2xx is in the INVITE's transaction"
    );
    assert_eq!(ack[0].tag_in_to(), Some("far"));
    assert_eq!(
        events(&mut ep),
        [LegEvent::Failed {
            leg,
            status: Some(486)
        }]
    );
    // A repeated 486 gets the same ACK again; after timer D nothing is left.
    ep.handle(t0, peer(), &answer(&invite, 486, &[], b""));
    assert_eq!(sent(&mut ep).len(), 1);
    ep.handle_timeout(t0 + Duration::from_secs(32));
    assert_eq!(ep.transactions(), 0);
}

#[test]
fn cancel_waits_for_a_provisional_and_copies_the_invite() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let (leg, invite) = dial(&mut ep, t0, None);
    ep.hang_up(t0, leg);
    assert!(
        sent(&mut ep).is_empty(),
        "no CANCEL before a provisional response"
    );
    ep.handle(t0, peer(), &answer(&invite, 183, &[], b""));
    let cancel = sent(&mut ep);
    assert_eq!(cancel.len(), 1);
    assert_eq!(cancel[0].method, Method::Cancel);
    assert_eq!(cancel[0].uri, invite.uri);
    assert_eq!(cancel[0].branch(), invite.branch());
    assert_eq!(cancel[0].call_id(), invite.call_id());
    assert_eq!(cancel[0].cseq().number, invite.cseq().number);
    ep.handle(t0, peer(), &answer(&cancel[0], 200, &[], b""));
    ep.handle(t0, peer(), &answer(&invite, 487, &[], b""));
    assert_eq!(sent(&mut ep)[0].method, Method::Ack);
    assert!(events(&mut ep).is_empty(), "a leg we left reports nothing");
}

#[test]
fn answer_without_offer_waits_for_our_ack_then_bye_follows_the_route_set() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let (leg, invite) = dial(&mut ep, t0, None);
    let ok = answer(
        &invite,
        200,
        &[
            ("Contact", "<sip:callee@127.0.0.1:5071>"),
            ("Record-Route", "<sip:127.0.0.1:5090;lr>"),
        ],
        b"v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n",
    );
    ep.handle(t0, peer(), &ok);
    let [LegEvent::Answered { leg: answered, sdp }] = &events(&mut ep)[..] else {
        panic!("answered")
    };
    assert_eq!(*answered, leg);
    assert!(sdp.starts_with(b"v=0"));
    assert!(sent(&mut ep).is_empty(), "the ACK waits for the answer");
    ep.handle(t0, peer(), &ok);
    assert!(
        sent(&mut ep).is_empty(),
        "a repeated 2xx before our ACK is absorbed"
    );
    ep.ack(leg, b"v=0\r\no=agent 5 5 IN IP4 127.0.0.1\r\n".to_vec())
        .unwrap();
    let ack = ep.poll_transmit().unwrap();
    assert_eq!(ack.to, "127.0.0.1:5090".parse().unwrap(), "first route");
    let Message::Request(ack_request) = message::parse(&ack.bytes).unwrap() else {
        panic!()
    };
    assert_eq!(ack_request.uri, "sip:callee@127.0.0.1:5071");
    assert_eq!(
        ack_request.headers.get("Route"),
        Some("<sip:127.0.0.1:5090;lr>")
    );
    let body = String::from_utf8(ack_request.body.clone()).unwrap();
    assert!(
        body.contains("o=sanjeevani "),
        "our origin, not the agent's: {body}"
    );
    ep.handle(t0, peer(), &ok);
    assert_eq!(
        sent(&mut ep)[0].method,
        Method::Ack,
        "a repeated 2xx gets the ACK again"
    );
    ep.hang_up(t0, leg);
    let bye = sent(&mut ep);
    assert_eq!(bye[0].method, Method::Bye);
    assert_eq!(bye[0].cseq().number, invite.cseq().number + 1);
    assert_eq!(ep.legs(), 0);
}

#[test]
fn bye_from_the_far_end_is_answered_and_repeated() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let (leg, invite) = dial(&mut ep, t0, Some(b"v=0\r\n"));
    ep.handle(
        t0,
        peer(),
        &answer(
            &invite,
            200,
            &[("Contact", "<sip:127.0.0.1:5070>")],
            b"v=0\r\n",
        ),
    );
    assert_eq!(
        sent(&mut ep)[0].method,
        Method::Ack,
        "offer in the INVITE: ACK at once"
    );
    events(&mut ep);
    let mut bye = Request::new(Method::Bye, "sip:sanjeevani@127.0.0.1:5060");
    bye.headers
        .push("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbye");
    bye.headers.push("From", format!("<sip:x@{PEER}>;tag=far"));
    let local_tag = invite.tag_in_from().unwrap().to_string();
    bye.headers
        .push("To", format!("<sip:sanjeevani@127.0.0.1>;tag={local_tag}"));
    bye.headers.push("Call-ID", invite.call_id());
    bye.headers.push("CSeq", "1 BYE");
    let bytes = bye.encode().unwrap();
    ep.handle(t0, peer(), &bytes);
    assert_eq!(events(&mut ep), [LegEvent::Ended { leg }]);
    let first = ep.poll_transmit().unwrap();
    ep.handle(t0, peer(), &bytes);
    assert_eq!(
        ep.poll_transmit().unwrap(),
        first,
        "the same 200 for a retransmitted BYE"
    );
    assert!(String::from_utf8_lossy(&first.bytes).starts_with("SIP/2.0 200"));
}

#[test]
fn a_challenge_is_answered_once() {
    let t0 = Instant::now();
    let mut ep = endpoint(Some(Credentials {
        username: "dialer".into(),
        password: "s3cret".into(),
    }));
    let (leg, invite) = dial(&mut ep, t0, None);
    let challenge = [(
        "Proxy-Authenticate",
        "Digest realm=\"trunk\", nonce=\"abc\", algorithm=MD5",
    )];
    ep.handle(t0, peer(), &answer(&invite, 407, &challenge, b""));
    let requests = sent(&mut ep);
    assert_eq!(requests[0].method, Method::Ack);
    let retry = &requests[1];
    assert_eq!(retry.method, Method::Invite);
    assert_eq!(retry.cseq().number, 2);
    assert_eq!(retry.call_id(), invite.call_id());
    assert_ne!(retry.branch(), invite.branch());
    let authorization = retry.headers.get("Proxy-Authorization").unwrap();
    assert!(authorization.contains("username=\"dialer\""));
    assert!(!authorization.contains("s3cret"));
    // A second challenge is a failure, not a loop.
    ep.handle(t0, peer(), &answer(retry, 407, &challenge, b""));
    assert_eq!(
        events(&mut ep),
        [LegEvent::Failed {
            leg,
            status: Some(407)
        }]
    );
}

#[test]
fn requests_outside_our_dialogs_are_refused() {
    let t0 = Instant::now();
    let mut ep = endpoint(None);
    let mut invite = Request::new(Method::Invite, "sip:sanjeevani@127.0.0.1:5060");
    invite
        .headers
        .push("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKin");
    invite.headers.push("From", "<sip:x@127.0.0.1>;tag=1");
    invite.headers.push("To", "<sip:sanjeevani@127.0.0.1>");
    invite.headers.push("Call-ID", "incoming");
    invite.headers.push("CSeq", "1 INVITE");
    ep.handle(t0, peer(), &invite.encode().unwrap());
    let reply = String::from_utf8(ep.poll_transmit().unwrap().bytes).unwrap();
    assert!(reply.starts_with("SIP/2.0 403"), "{reply}");
    ep.handle(t0, peer(), b"\x00\xffnot sip");
    assert_eq!(ep.malformed, 1);
    assert!(ep.poll_transmit().is_none());
}
