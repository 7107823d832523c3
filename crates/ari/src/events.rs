//! The WebSocket events the adapter reads, typed.
//!
//! An event whose type the adapter does not use is [`Event::Other`]; fields
//! the adapter does not read are ignored. [`READS`] lists every model and
//! field the adapter reads, for the spec check.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Bridge {
    pub id: String,
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Playback {
    pub id: String,
    pub target_uri: String,
    pub state: String,
}

/// What our app holds, from `GET /applications/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Application {
    pub name: String,
    pub channel_ids: Vec<String>,
    pub bridge_ids: Vec<String>,
}

/// `GET /asterisk/info?only=status`: when Asterisk started.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AsteriskInfo {
    pub status: StatusInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusInfo {
    pub startup_time: String,
}

/// One of Asterisk's modules, from `GET /asterisk/modules`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Module {
    pub name: String,
    pub status: String,
}

/// An event the adapter acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StasisStart {
        channel: Channel,
        args: Vec<String>,
    },
    StasisEnd {
        channel: Channel,
    },
    ChannelStateChange {
        channel: Channel,
    },
    ChannelHangupRequest {
        channel: Channel,
        cause: Option<i64>,
    },
    ChannelDestroyed {
        channel: Channel,
        cause: i64,
        cause_txt: String,
    },
    Dial {
        peer: Channel,
        dialstatus: String,
    },
    ChannelEnteredBridge {
        bridge: Bridge,
        channel: Channel,
    },
    ChannelLeftBridge {
        bridge: Bridge,
        channel: Channel,
    },
    PlaybackFinished {
        playback: Playback,
    },
    /// A type the adapter does not use (named for the log).
    Other(String),
}

/// Why a WebSocket message is not an event we can use.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no \"type\"")]
    NoType,
    #[error("{kind}: {source}")]
    Fields {
        kind: String,
        source: serde_json::Error,
    },
}

/// Every model and field the adapter reads (events and the objects in them),
/// checked against Asterisk's declarations.
pub const READS: &[(&str, &[&str])] = &[
    ("Message", &["type"]),
    ("StasisStart", &["channel", "args"]),
    ("StasisEnd", &["channel"]),
    ("ChannelStateChange", &["channel"]),
    ("ChannelHangupRequest", &["channel", "cause"]),
    ("ChannelDestroyed", &["channel", "cause", "cause_txt"]),
    ("Dial", &["peer", "dialstatus"]),
    ("ChannelEnteredBridge", &["bridge", "channel"]),
    ("ChannelLeftBridge", &["bridge", "channel"]),
    ("PlaybackFinished", &["playback"]),
    ("Channel", &["id", "name", "state"]),
    ("Bridge", &["id", "channels"]),
    ("Playback", &["id", "target_uri", "state"]),
    ("Application", &["name", "channel_ids", "bridge_ids"]),
    ("Module", &["name", "status"]),
    ("AsteriskInfo", &["status"]),
    ("StatusInfo", &["startup_time"]),
];

#[derive(Deserialize)]
struct WithChannel {
    channel: Channel,
}

#[derive(Deserialize)]
struct Start {
    channel: Channel,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Deserialize)]
struct HangupRequest {
    channel: Channel,
    cause: Option<i64>,
}

#[derive(Deserialize)]
struct Destroyed {
    channel: Channel,
    cause: i64,
    cause_txt: String,
}

#[derive(Deserialize)]
struct DialEvent {
    peer: Channel,
    #[serde(default)]
    dialstatus: String,
}

#[derive(Deserialize)]
struct InBridge {
    bridge: Bridge,
    channel: Channel,
}

#[derive(Deserialize)]
struct PlaybackEvent {
    playback: Playback,
}

/// Reads one WebSocket message.
pub fn parse(text: &str) -> Result<Event, EventError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or(EventError::NoType)?
        .to_string();
    let fields = |e| EventError::Fields {
        kind: kind.clone(),
        source: e,
    };
    let event = match kind.as_str() {
        "StasisStart" => {
            let e: Start = serde_json::from_value(value).map_err(fields)?;
            Event::StasisStart {
                channel: e.channel,
                args: e.args,
            }
        }
        "StasisEnd" | "ChannelStateChange" => {
            let e: WithChannel = serde_json::from_value(value).map_err(fields)?;
            if kind == "StasisEnd" {
                Event::StasisEnd { channel: e.channel }
            } else {
                Event::ChannelStateChange { channel: e.channel }
            }
        }
        "ChannelHangupRequest" => {
            let e: HangupRequest = serde_json::from_value(value).map_err(fields)?;
            Event::ChannelHangupRequest {
                channel: e.channel,
                cause: e.cause,
            }
        }
        "ChannelDestroyed" => {
            let e: Destroyed = serde_json::from_value(value).map_err(fields)?;
            Event::ChannelDestroyed {
                channel: e.channel,
                cause: e.cause,
                cause_txt: e.cause_txt,
            }
        }
        "Dial" => {
            let e: DialEvent = serde_json::from_value(value).map_err(fields)?;
            Event::Dial {
                peer: e.peer,
                dialstatus: e.dialstatus,
            }
        }
        "ChannelEnteredBridge" | "ChannelLeftBridge" => {
            let e: InBridge = serde_json::from_value(value).map_err(fields)?;
            if kind == "ChannelEnteredBridge" {
                Event::ChannelEnteredBridge {
                    bridge: e.bridge,
                    channel: e.channel,
                }
            } else {
                Event::ChannelLeftBridge {
                    bridge: e.bridge,
                    channel: e.channel,
                }
            }
        }
        "PlaybackFinished" => {
            let e: PlaybackEvent = serde_json::from_value(value).map_err(fields)?;
            Event::PlaybackFinished {
                playback: e.playback,
            }
        }
        _ => Event::Other(kind),
    };
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNEL: &str = r#"{"id":"sj-1-42","name":"PJSIP/trunk-00000001","state":"Up",
        "protocol_id":"x","caller":{"name":"","number":""},"creationtime":"2026-11-29T01:00:00.000+0530"}"#;

    #[test]
    fn reads_what_it_uses_and_tolerates_the_rest() {
        let start = format!(
            r#"{{"type":"StasisStart","application":"sanjeevani","timestamp":"t","args":["contact","42"],
                "channel":{CHANNEL},"asterisk_id":"a","a_future_field":1}}"#
        );
        let Event::StasisStart { channel, args } = parse(&start).unwrap() else {
            panic!("StasisStart")
        };
        assert_eq!(channel.id, "sj-1-42");
        assert_eq!(args, ["contact", "42"]);
        let destroyed = format!(
            r#"{{"type":"ChannelDestroyed","cause":17,"cause_txt":"User busy","channel":{CHANNEL}}}"#
        );
        assert!(matches!(
            parse(&destroyed).unwrap(),
            Event::ChannelDestroyed { cause: 17, .. }
        ));
        assert_eq!(
            parse(r#"{"type":"ChannelTalkingStarted","channel":{}}"#).unwrap(),
            Event::Other("ChannelTalkingStarted".into())
        );
    }

    #[test]
    fn bad_messages_are_errors_not_panics() {
        assert!(matches!(parse("not json"), Err(EventError::Json(_))));
        assert!(matches!(parse("{}"), Err(EventError::NoType)));
        let missing = r#"{"type":"ChannelDestroyed","channel":{"id":"x","name":"n","state":"Up"}}"#;
        let err = parse(missing).unwrap_err().to_string();
        assert!(
            err.starts_with("ChannelDestroyed: missing field `cause`"),
            "{err}"
        );
    }
}
