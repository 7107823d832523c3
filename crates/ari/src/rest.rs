//! The REST operations the adapter makes, as data, and the requests built
//! from them.
//!
//! A request can only be built from an [`Operation`] in [`ALL`], and only with
//! the query parameters that operation lists; the spec check verifies every
//! entry against Asterisk's declarations, so the adapter cannot send a call
//! Asterisk does not have.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One ARI operation: method, path template (`{channelId}`) and the query
/// parameters the adapter may send with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub query: &'static [&'static str],
}

/// Originate a contact or an agent's phone into our Stasis app, with our own id.
pub const ORIGINATE: Operation = Operation {
    method: Method::Post,
    path: "/channels",
    query: &[
        "endpoint",
        "app",
        "appArgs",
        "callerId",
        "timeout",
        "channelId",
    ],
};
pub const HANGUP: Operation = Operation {
    method: Method::Delete,
    path: "/channels/{channelId}",
    query: &["reason"],
};
/// Send a channel into the dialplan (answering-machine detection).
pub const CONTINUE: Operation = Operation {
    method: Method::Post,
    path: "/channels/{channelId}/continue",
    query: &["context", "extension", "priority"],
};
/// Play a sound (the information message) with our own playback id.
pub const PLAY: Operation = Operation {
    method: Method::Post,
    path: "/channels/{channelId}/play",
    query: &["media", "lang", "playbackId"],
};
/// A listen, whisper or barge channel for a supervisor.
pub const SNOOP: Operation = Operation {
    method: Method::Post,
    path: "/channels/{channelId}/snoop",
    query: &["spy", "whisper", "app", "appArgs", "snoopId"],
};
pub const CREATE_BRIDGE: Operation = Operation {
    method: Method::Post,
    path: "/bridges",
    query: &["type", "bridgeId", "name"],
};
pub const DESTROY_BRIDGE: Operation = Operation {
    method: Method::Delete,
    path: "/bridges/{bridgeId}",
    query: &[],
};
pub const ADD_CHANNEL: Operation = Operation {
    method: Method::Post,
    path: "/bridges/{bridgeId}/addChannel",
    query: &["channel", "role"],
};
/// Music on hold in a holding bridge.
pub const START_BRIDGE_MOH: Operation = Operation {
    method: Method::Post,
    path: "/bridges/{bridgeId}/moh",
    query: &["mohClass"],
};
pub const STOP_BRIDGE_MOH: Operation = Operation {
    method: Method::Delete,
    path: "/bridges/{bridgeId}/moh",
    query: &[],
};
/// Record a call: a channel in a bridge can only be recorded through its bridge.
pub const RECORD_BRIDGE: Operation = Operation {
    method: Method::Post,
    path: "/bridges/{bridgeId}/record",
    query: &["name", "format", "ifExists"],
};
pub const STOP_RECORDING: Operation = Operation {
    method: Method::Post,
    path: "/recordings/live/{recordingName}/stop",
    query: &[],
};
/// Channels and bridges our app holds, after a reconnect.
pub const GET_APPLICATION: Operation = Operation {
    method: Method::Get,
    path: "/applications/{applicationName}",
    query: &[],
};

/// When Asterisk started: after a reconnect, whether it restarted.
pub const GET_INFO: Operation = Operation {
    method: Method::Get,
    path: "/asterisk/info",
    query: &["only"],
};

/// The modules Asterisk runs, checked at every connection.
pub const GET_MODULES: Operation = Operation {
    method: Method::Get,
    path: "/asterisk/modules",
    query: &[],
};

/// Every operation the adapter can make.
pub const ALL: &[Operation] = &[
    ORIGINATE,
    HANGUP,
    CONTINUE,
    PLAY,
    SNOOP,
    CREATE_BRIDGE,
    DESTROY_BRIDGE,
    ADD_CHANNEL,
    START_BRIDGE_MOH,
    STOP_BRIDGE_MOH,
    RECORD_BRIDGE,
    STOP_RECORDING,
    GET_APPLICATION,
    GET_MODULES,
    GET_INFO,
];

/// A request ready for an HTTP client: `path` is relative to `/ari`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
}

/// A REST answer other than success, as Asterisk's declarations describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("Asterisk did not answer")]
    Unreachable,
    #[error("400: invalid parameters")]
    BadRequest,
    #[error("401: wrong ARI user or password")]
    Unauthorized,
    #[error("404: no such channel, bridge, recording or application")]
    NotFound,
    #[error("409: not in our Stasis application, or the id is in use")]
    Conflict,
    #[error("{0}: not allowed in its present state")]
    InvalidState(u16),
    #[error("{0}: Asterisk failed")]
    Server(u16),
    #[error("unexpected status {0}")]
    Unexpected(u16),
}

impl RestError {
    /// `status` 0 means no answer at all.
    pub fn check(status: u16) -> Result<(), RestError> {
        Err(match status {
            200..=299 => return Ok(()),
            0 => RestError::Unreachable,
            400 => RestError::BadRequest,
            401 | 403 => RestError::Unauthorized,
            404 => RestError::NotFound,
            409 => RestError::Conflict,
            412 | 422 => RestError::InvalidState(status),
            500..=599 => RestError::Server(status),
            _ => RestError::Unexpected(status),
        })
    }
}

/// A request the operation does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0} takes no query parameter {1:?}")]
    Undeclared(Operation, String),
    #[error("{0} needs a value for {{{1}}}")]
    MissingPath(Operation, String),
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

impl Operation {
    /// The request for this operation with `ids` filling the path and
    /// `query` as parameters (each must be one the operation lists).
    pub fn request(
        &self,
        ids: &[(&str, &str)],
        query: &[(&'static str, String)],
    ) -> Result<Request, RequestError> {
        let mut path = self.path.to_string();
        for (name, value) in ids {
            path = path.replace(&format!("{{{name}}}"), &percent_encode(value));
        }
        if let Some(start) = path.find('{') {
            let name = path[start + 1..].split('}').next().unwrap_or_default();
            return Err(RequestError::MissingPath(*self, name.to_string()));
        }
        for (name, _) in query {
            if !self.query.contains(name) {
                return Err(RequestError::Undeclared(*self, name.to_string()));
            }
        }
        Ok(Request {
            method: self.method,
            path,
            query: query.to_vec(),
        })
    }
}

/// Escapes what may not stand in a path segment (ids are ours, but a
/// channel name can hold `/` or `@`).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed_by_status() {
        assert_eq!(RestError::check(204), Ok(()));
        assert_eq!(RestError::check(0), Err(RestError::Unreachable));
        assert_eq!(RestError::check(400), Err(RestError::BadRequest));
        assert_eq!(RestError::check(401), Err(RestError::Unauthorized));
        assert_eq!(RestError::check(404), Err(RestError::NotFound));
        assert_eq!(RestError::check(409), Err(RestError::Conflict));
        assert_eq!(RestError::check(422), Err(RestError::InvalidState(422)));
        assert_eq!(RestError::check(500), Err(RestError::Server(500)));
        assert_eq!(RestError::check(302), Err(RestError::Unexpected(302)));
    }

    #[test]
    fn requests_take_only_declared_parameters() {
        let r = ORIGINATE
            .request(
                &[],
                &[
                    ("endpoint", "PJSIP/919999900010@trunk".into()),
                    ("channelId", "sj-1-42".into()),
                ],
            )
            .unwrap();
        assert_eq!((r.method, r.path.as_str()), (Method::Post, "/channels"));
        let wrong = ORIGINATE.request(&[], &[("number", "1".into())]);
        assert!(matches!(wrong, Err(RequestError::Undeclared(_, p)) if p == "number"));
        let r = ADD_CHANNEL
            .request(&[("bridgeId", "agent/7")], &[("channel", "sj-1-42".into())])
            .unwrap();
        assert_eq!(r.path, "/bridges/agent%2F7/addChannel");
        assert!(matches!(
            HANGUP.request(&[], &[]),
            Err(RequestError::MissingPath(_, p)) if p == "channelId"
        ));
    }
}
