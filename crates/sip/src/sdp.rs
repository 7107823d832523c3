//! The little SDP handling third-party call control needs: our parking offer
//! and answer, and relaying one party's description to another under our own
//! origin line (RFC 3725 section 4.1: each leg sees one session whose version
//! goes up with every change).

use std::net::IpAddr;

/// The `o=` identity we keep towards one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub session: u64,
    pub version: u64,
    pub address: IpAddr,
}

impl Origin {
    fn line(&mut self) -> String {
        self.version += 1;
        let family = if self.address.is_ipv4() { "IP4" } else { "IP6" };
        format!(
            "o=sanjeevani {} {} IN {family} {}",
            self.session, self.version, self.address
        )
    }
}

/// An offer that sends and receives nothing: an agent's phone waits on it
/// between calls.
pub fn parking_offer(origin: &mut Origin) -> Vec<u8> {
    let family = if origin.address.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    };
    format!(
        "v=0\r\n{}\r\ns=-\r\nc=IN {family} {}\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=inactive\r\n",
        origin.line(),
        origin.address
    )
    .into_bytes()
}

/// An answer to `offer` that accepts its first audio format and sends and
/// receives nothing (used when a call is ended without being connected).
pub fn parking_answer(offer: &[u8], origin: &mut Origin) -> Vec<u8> {
    let format = String::from_utf8_lossy(offer)
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|m| m.split_whitespace().nth(2).map(str::to_string))
        .unwrap_or_else(|| "0".into());
    let family = if origin.address.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    };
    format!(
        "v=0\r\n{}\r\ns=-\r\nc=IN {family} {}\r\nt=0 0\r\nm=audio 9 RTP/AVP {format}\r\na=inactive\r\n",
        origin.line(),
        origin.address
    )
    .into_bytes()
}

/// `sdp` with its `o=` line replaced by ours (next version).
pub fn relay(sdp: &[u8], origin: &mut Origin) -> Vec<u8> {
    let text = String::from_utf8_lossy(sdp);
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        if line.starts_with("o=") {
            out.push_str(&origin.line());
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_descriptions_keep_one_origin_with_rising_versions() {
        let mut origin = Origin {
            session: 7,
            version: 0,
            address: "127.0.0.1".parse().unwrap(),
        };
        let park = String::from_utf8(parking_offer(&mut origin)).unwrap();
        assert!(park.contains("o=sanjeevani 7 1 IN IP4 127.0.0.1\r\n"));
        assert!(park.contains("a=inactive"));
        let callee = "v=0\no=callee 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 16000 RTP/AVP 8\n";
        let relayed = String::from_utf8(relay(callee.as_bytes(), &mut origin)).unwrap();
        assert!(relayed.contains("o=sanjeevani 7 2 IN IP4 127.0.0.1\r\n"));
        assert!(relayed.contains("m=audio 16000 RTP/AVP 8\r\n"));
        assert!(!relayed.contains("callee"));
        let answer = String::from_utf8(parking_answer(callee.as_bytes(), &mut origin)).unwrap();
        assert!(answer.contains("m=audio 9 RTP/AVP 8\r\n"));
    }
}
