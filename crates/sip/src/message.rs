//! SIP messages behind our own types.
//!
//! `rsip` does the tokenising and the serialising; the rest of the adapter
//! only sees [`Message`], [`Request`] and [`Response`], so the parser can be
//! replaced without touching the transaction or call-control code. A message
//! that rsip cannot read, or that lacks a header every SIP message must carry,
//! is a [`ParseError`] naming what is wrong.

use std::fmt;

/// The methods the adapter sends or answers; anything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Other(name) => name,
        }
    }

    fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a datagram or stream frame is not a usable SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a SIP message: {0}")]
    Syntax(String),
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("bad {0} header: {1:?}")]
    Bad(&'static str, String),
}

/// Header fields in order, names in their long form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    /// The first value of a header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every field of a header, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every element of a list header (`Via`, `Record-Route`), each field
    /// split at the commas that are not inside `<>` or quotes.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.all(name).flat_map(split_list).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Replaces the fields of `name` with one field.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.push(name, value);
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

/// The parts of `CSeq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub number: u32,
    pub method: Method,
}

/// Accessors shared by requests and responses.
pub trait Fields {
    fn headers(&self) -> &Headers;

    fn call_id(&self) -> &str {
        self.headers().get("Call-ID").unwrap_or_default()
    }

    fn cseq(&self) -> CSeq {
        // Checked when the message was parsed or built.
        parse_cseq(self.headers().get("CSeq").unwrap_or_default()).unwrap_or(CSeq {
            number: 0,
            method: Method::Other(String::new()),
        })
    }

    fn tag_in_from(&self) -> Option<&str> {
        self.headers()
            .get("From")
            .and_then(|v| header_param(v, "tag"))
    }

    fn tag_in_to(&self) -> Option<&str> {
        self.headers()
            .get("To")
            .and_then(|v| header_param(v, "tag"))
    }

    /// The branch of the top `Via`.
    fn branch(&self) -> Option<String> {
        let top = self.headers().list("Via").into_iter().next()?;
        header_param(&top, "branch").map(str::to_string)
    }

    /// The URI of the `Contact` header.
    fn contact_uri(&self) -> Option<&str> {
        self.headers().get("Contact").map(addr_uri)
    }
}

impl Fields for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Fields for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Request {
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request {
            method,
            uri: uri.into(),
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// A response to this request: its `Via`s, `From`, `To` (with `to_tag`
    /// added if it has none), `Call-ID` and `CSeq`.
    pub fn response(&self, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
        let mut headers = Headers::default();
        for via in self.headers.all("Via") {
            headers.push("Via", via);
        }
        for name in ["From", "To", "Call-ID", "CSeq"] {
            let value = self.headers.get(name).unwrap_or_default();
            match (name, to_tag) {
                ("To", Some(tag)) if header_param(value, "tag").is_none() => {
                    headers.push(name, format!("{value};tag={tag}"))
                }
                _ => headers.push(name, value),
            }
        }
        Response {
            status,
            reason: reason.to_string(),
            headers,
            body: Vec::new(),
        }
    }

    /// The request as it goes on the wire, with `Content-Length`.
    pub fn encode(&self) -> Result<Vec<u8>, ParseError> {
        let method: rsip::Method = self
            .method
            .as_str()
            .parse()
            .map_err(|e| ParseError::Syntax(format!("method {}: {e}", self.method)))?;
        let uri = rsip::Uri::try_from(self.uri.as_str())
            .map_err(|e| ParseError::Syntax(format!("request URI {:?}: {e}", self.uri)))?;
        let request = rsip::Request {
            method,
            uri,
            version: rsip::Version::V2,
            headers: rsip_headers(&self.headers, self.body.len()),
            body: self.body.clone(),
        };
        Ok(rsip::SipMessage::from(request).to_string().into_bytes())
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let response = rsip::Response {
            status_code: rsip::StatusCode::Other(self.status, self.reason.clone()),
            version: rsip::Version::V2,
            headers: rsip_headers(&self.headers, self.body.len()),
            body: self.body.clone(),
        };
        rsip::SipMessage::from(response).to_string().into_bytes()
    }
}

fn rsip_headers(headers: &Headers, body_len: usize) -> rsip::Headers {
    let mut out: Vec<rsip::Header> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("Content-Length"))
        .map(|(n, v)| rsip::Header::Other(n.to_string(), v.to_string()))
        .collect();
    out.push(rsip::Header::Other(
        "Content-Length".into(),
        body_len.to_string(),
    ));
    rsip::Headers::from(out)
}

/// Reads one SIP message. Header names are normalised to their long forms
/// (`i` → `Call-ID`, `v` → `Via`, …) and the headers every message needs are
/// checked: `Via`, `From`, `To`, `Call-ID` and a well-formed `CSeq`.
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    let message = rsip::SipMessage::try_from(bytes)
        .map_err(|e| ParseError::Syntax(truncate(&e.to_string())))?;
    let message = match message {
        rsip::SipMessage::Request(r) => Message::Request(Request {
            method: Method::from_token(&r.method.to_string()),
            uri: r.uri.to_string(),
            headers: our_headers(&r.headers),
            body: r.body,
        }),
        rsip::SipMessage::Response(r) => Message::Response(Response {
            status: r.status_code.code(),
            reason: reason_phrase(&r.status_code),
            headers: our_headers(&r.headers),
            body: r.body,
        }),
    };
    let headers = match &message {
        Message::Request(r) => &r.headers,
        Message::Response(r) => &r.headers,
    };
    for name in ["Via", "From", "To", "Call-ID"] {
        if headers.get(name).is_none_or(|v| v.trim().is_empty()) {
            return Err(ParseError::Missing(header_static(name)));
        }
    }
    let cseq = headers.get("CSeq").ok_or(ParseError::Missing("CSeq"))?;
    parse_cseq(cseq).ok_or_else(|| ParseError::Bad("CSeq", truncate(cseq)))?;
    Ok(message)
}

fn reason_phrase(status: &rsip::StatusCode) -> String {
    let text = status.to_string();
    text.split_once(' ')
        .map_or(text.clone(), |(_, r)| r.to_string())
}

fn header_static(name: &str) -> &'static str {
    match name {
        "Via" => "Via",
        "From" => "From",
        "To" => "To",
        _ => "Call-ID",
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(120).collect()
}

fn our_headers(headers: &rsip::Headers) -> Headers {
    let mut out = Headers::default();
    for header in headers.iter() {
        let line = header.to_string();
        let (name, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        out.push(long_name(name.trim()), value.trim());
    }
    out
}

/// RFC 3261 section 7.3.3 compact header names.
fn long_name(name: &str) -> &str {
    match name {
        "i" | "I" => "Call-ID",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "v" | "V" => "Via",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "k" | "K" => "Supported",
        other => other,
    }
}

fn parse_cseq(value: &str) -> Option<CSeq> {
    let mut parts = value.split_whitespace();
    let number = parts.next()?.parse().ok()?;
    let method = Method::from_token(parts.next()?);
    parts.next().is_none().then_some(CSeq { number, method })
}

/// Splits a list header at commas outside `<...>` and quotes.
fn split_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut angle, mut quote, mut start) = (false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quote = !quote,
            '<' if !quote => angle = true,
            '>' if !quote => angle = false,
            ',' if !angle && !quote => {
                out.push(value[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

/// A header parameter (`;tag=`, `;branch=`): one after the `>` of a
/// name-addr, or after the URI of a bare addr-spec.
pub fn header_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let params = match value.rfind('>') {
        Some(end) => &value[end + 1..],
        None => value.split_once(';').map_or("", |(_, p)| p),
    };
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The URI of a name-addr (`"A" <sip:a@h>;tag=1` → `sip:a@h`) or addr-spec.
pub fn addr_uri(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE_200: &str = "SIP/2.0 200 OK\r\n\
        v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport\r\n\
        Record-Route: <sip:127.0.0.1:5090;lr>, <sip:10.0.0.1;lr>\r\n\
        f: <sip:dialer@127.0.0.1>;tag=abc\r\n\
        t: \"Callee, Mr\" <sip:9199@127.0.0.1:5070>;tag=xyz\r\n\
        i: 1234@127.0.0.1\r\n\
        CSeq: 1 INVITE\r\n\
        m: <sip:127.0.0.1:5070;transport=udp>\r\n\
        Content-Type: application/sdp\r\n\
        l: 4\r\n\r\nv=0\n";

    #[test]
    fn reads_compact_headers_and_lists() {
        let Message::Response(r) = parse(INVITE_200.as_bytes()).unwrap() else {
            panic!("a response")
        };
        assert_eq!(r.status, 200);
        assert_eq!(r.call_id(), "1234@127.0.0.1");
        assert_eq!(r.tag_in_from(), Some("abc"));
        assert_eq!(r.tag_in_to(), Some("xyz"));
        assert_eq!(r.branch().as_deref(), Some("z9hG4bK-1"));
        assert_eq!(r.contact_uri(), Some("sip:127.0.0.1:5070;transport=udp"));
        assert_eq!(
            r.headers.list("Record-Route"),
            ["<sip:127.0.0.1:5090;lr>", "<sip:10.0.0.1;lr>"]
        );
        assert_eq!(
            r.cseq(),
            CSeq {
                number: 1,
                method: Method::Invite
            }
        );
        assert_eq!(r.body, b"v=0\n");
    }

    #[test]
    fn request_round_trips_through_the_wire_form() {
        let mut request = Request::new(Method::Invite, "sip:919876543210@127.0.0.1:5070");
        request
            .headers
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx");
        request.headers.push("From", "<sip:dialer@127.0.0.1>;tag=1");
        request
            .headers
            .push("To", "<sip:919876543210@127.0.0.1:5070>");
        request.headers.push("Call-ID", "c1");
        request.headers.push("CSeq", "1 INVITE");
        request.body = b"v=0\r\n".to_vec();
        let Message::Request(back) = parse(&request.encode().unwrap()).unwrap() else {
            panic!("a request")
        };
        assert_eq!(back.method, Method::Invite);
        assert_eq!(back.uri, request.uri);
        assert_eq!(back.body, request.body);
        assert_eq!(back.headers.get("Content-Length"), Some("5"));

        let response = back.response(180, "Ringing", Some("t9"));
        let Message::Response(r) = parse(&response.encode()).unwrap() else {
            panic!("a response")
        };
        assert_eq!((r.status, r.tag_in_to()), (180, Some("t9")));
        assert_eq!(r.cseq().number, 1);
    }

    #[test]
    fn names_what_is_missing_or_bad() {
        let no_call_id =
            "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
            From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert_eq!(
            parse(no_call_id.as_bytes()),
            Err(ParseError::Missing("Call-ID"))
        );
        let bad_cseq = no_call_id.replace("CSeq: 1 OPTIONS", "Call-ID: x\r\nCSeq: one");
        assert!(matches!(
            parse(bad_cseq.as_bytes()),
            Err(ParseError::Bad("CSeq", _))
        ));
        assert!(matches!(parse(b"hello"), Err(ParseError::Syntax(_))));
    }

    #[test]
    fn params_and_addresses() {
        assert_eq!(header_param("<sip:a@h;lr>;tag=7", "tag"), Some("7"));
        assert_eq!(header_param("<sip:a@h;tag=no>", "tag"), None);
        assert_eq!(header_param("sip:a@h;tag=8", "tag"), Some("8"));
        assert_eq!(addr_uri("\"A\" <sip:a@h:5>;x=1"), "sip:a@h:5");
        assert_eq!(addr_uri("sip:a@h;x=1"), "sip:a@h");
    }
}
