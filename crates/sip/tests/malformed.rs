//! The network-facing parse path under arbitrary input: the parser, the stream
//! framer and the endpoint never panic; what they cannot read they drop.

use proptest::prelude::*;
use sanjeevani_sip::endpoint::{Endpoint, EndpointConfig, Transport};
use sanjeevani_sip::{message, transport};
use std::time::Instant;

const INVITE_200: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
Record-Route: <sip:127.0.0.1:5090;lr>\r\n\
From: <sip:sanjeevani@127.0.0.1:5060>;tag=abc\r\n\
To: <sip:919999900010@127.0.0.1:5070>;tag=xyz\r\n\
Call-ID: 1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:127.0.0.1:5070>\r\n\
WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 10\r\n\r\nv=0\r\no=x\r\n";

const BYE: &str = "BYE sip:sanjeevani@127.0.0.1:5060 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2\r\n\
f: <sip:x@127.0.0.1>;tag=xyz\r\n\
t: <sip:sanjeevani@127.0.0.1>;tag=abc\r\n\
i: 1@127.0.0.1\r\n\
CSeq: 2 BYE\r\n\
l: 0\r\n\r\n";

/// A valid message with some bytes replaced, removed or inserted.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![Just(INVITE_200), Just(BYE)];
    (
        base,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..8),
    )
        .prop_map(|(base, edits)| {
            let mut bytes = base.as_bytes().to_vec();
            for (at, byte, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match kind {
                    0 => bytes[i] = byte,
                    1 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, byte),
                }
            }
            bytes
        })
}

fn endpoint() -> Endpoint {
    let mut config = EndpointConfig::new("127.0.0.1:5060".parse().unwrap(), Transport::Udp, 1);
    config.credentials = Some(sanjeevani_sip::Credentials {
        username: "u".into(),
        password: "p".into(),
    });
    Endpoint::new(config)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = message::parse(&bytes);
        let mut buf = bytes.clone();
        let _ = transport::take_frame(&mut buf);
        let mut ep = endpoint();
        ep.handle(Instant::now(), "127.0.0.1:5070".parse().unwrap(), &bytes);
        while ep.poll_transmit().is_some() {}
    }

    #[test]
    fn mutated_messages_never_panic_and_bad_ones_are_counted(bytes in mutated()) {
        let mut ep = endpoint();
        let from = "127.0.0.1:5070".parse().unwrap();
        ep.handle(Instant::now(), from, &bytes);
        let parsed = message::parse(&bytes);
        prop_assert_eq!(ep.malformed, u64::from(parsed.is_err()));
        // Whatever it answers is itself a readable message.
        while let Some(transmit) = ep.poll_transmit() {
            prop_assert!(message::parse(&transmit.bytes).is_ok());
        }
        let mut buf = bytes.clone();
        let _ = transport::take_frame(&mut buf);
    }
}
