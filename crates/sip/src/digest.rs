//! Digest authentication towards a trunk (RFC 3261 section 22, RFC 2617 /
//! RFC 7616), computed by rsip.

use crate::message::{Method, ParseError};
use rsip::headers::auth::{AuthQop, Qop};
use rsip::prelude::*;

/// A username and password for the trunk.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The `Authorization` (or `Proxy-Authorization`) value answering
/// `challenge` (a `WWW-Authenticate` or `Proxy-Authenticate` value) for a
/// request with `method` and `uri`.
pub fn authorization(
    challenge: &str,
    method: &Method,
    uri: &str,
    credentials: &Credentials,
    cnonce: &str,
) -> Result<String, ParseError> {
    let bad = |e: rsip::Error| ParseError::Bad("WWW-Authenticate", e.to_string());
    let challenge = rsip::headers::WwwAuthenticate::new(challenge)
        .typed()
        .map_err(bad)?;
    let uri = rsip::Uri::try_from(uri).map_err(bad)?;
    let method: rsip::Method = method.as_str().parse().map_err(bad)?;
    let qop = challenge.qop.as_ref().map(|qop| match qop {
        Qop::Auth => AuthQop::Auth {
            cnonce: cnonce.to_string(),
            nc: 1,
        },
        Qop::AuthInt => AuthQop::AuthInt {
            cnonce: cnonce.to_string(),
            nc: 1,
        },
    });
    let response = rsip::services::DigestGenerator {
        username: &credentials.username,
        password: &credentials.password,
        nonce: &challenge.nonce,
        uri: &uri,
        realm: &challenge.realm,
        method: &method,
        qop: qop.as_ref(),
        algorithm: challenge
            .algorithm
            .unwrap_or(rsip::headers::auth::Algorithm::Md5),
    }
    .compute();
    let authorization = rsip::typed::Authorization {
        scheme: challenge.scheme,
        username: credentials.username.clone(),
        realm: challenge.realm,
        nonce: challenge.nonce,
        uri,
        response,
        algorithm: challenge.algorithm,
        opaque: challenge.opaque,
        qop,
    };
    Ok(authorization.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_rfc_2617_example() {
        // RFC 2617 section 3.5's credentials and nonce, for a SIP INVITE.
        let challenge = "Digest realm=\"testrealm@host.com\", qop=\"auth\", \
            nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
        let credentials = Credentials {
            username: "Mufasa".into(),
            password: "Circle Of Life".into(),
        };
        let value = authorization(
            challenge,
            &Method::Other("GET".into()),
            "sip:dir@host.com",
            &credentials,
            "0a4f113b",
        );
        // GET is not a SIP method: refused with a clear error, not a panic.
        assert!(value.is_err());
        let value = authorization(
            challenge,
            &Method::Invite,
            "sip:dir@host.com",
            &credentials,
            "0a4f113b",
        )
        .unwrap();
        assert!(value.starts_with("Digest username=\"Mufasa\", realm=\"testrealm@host.com\""));
        assert!(value.contains("cnonce=\"0a4f113b\""));
        // MD5(HA1:nonce:00000001:cnonce:auth:HA2), worked out independently.
        assert!(value.contains("response=\"031a0b6e86a57f46b49ad564e98878bd\""));
        assert!(value.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
        assert!(!format!("{credentials:?}").contains("Circle"));
    }
}
