//! The dialer core as a JSON-lines process: one event per input line, the core's
//! commands and a `sync` line per output, so operators can replay their own call
//! records or drive the core from any simulator. The protocol is specified in
//! `docs/engine-protocol.md`.
//!
//! [`parse_line`] never touches I/O; [`run`] reads and writes whatever it is given.

use sanjeevani_core::{
    AgentId, AgentRole, CallId, CallerClass, Campaign, CampaignConfig, Command, Event, FailCause,
    Instant,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use thiserror::Error;

/// Longest input line accepted; longer lines are refused, not buffered.
pub const MAX_LINE: usize = 64 * 1024;

/// What is wrong with one input line.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProtocolError {
    #[error("not a JSON object of the protocol: {0}")]
    Json(String),
    #[error("\"t\" must be a finite number of seconds >= 0, got {0}")]
    BadTime(f64),
    #[error("unknown event {0:?} (expected agent_ready, agent_login, agent_pause, agent_logout, agent_role, preview, ringing, answered, failed, hangup, connect_failed, inbound, tick or end)")]
    UnknownEvent(String),
    #[error("event {event:?} needs {field:?}")]
    Missing { event: String, field: &'static str },
    #[error(
        "unknown cause {0:?} (expected busy, no_answer, congestion, invalid, rejected or machine)"
    )]
    UnknownCause(String),
    #[error("unknown class {0:?} (expected urgent_ticket, high_risk, returning_missed or other)")]
    UnknownClass(String),
    #[error("unknown role {0:?} (expected blended, inbound_only or outbound_only)")]
    UnknownRole(String),
    #[error("call id {0:?} was not issued by this engine (call ids look like \"C7\")")]
    BadCallId(String),
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("{0}")]
    Core(#[from] sanjeevani_core::CoreError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    t: f64,
    event: String,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// One parsed input line. Agents are still named as the driver names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub t: Instant,
    pub event: InputEvent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    AgentLogin(String),
    AgentReady(String),
    AgentPause(String),
    AgentLogout(String),
    Preview(String),
    Ringing(CallId),
    Answered(CallId),
    Failed(CallId, FailCause),
    Hangup(CallId),
    ConnectFailed(CallId),
    Inbound(CallerClass),
    AgentRole(String, AgentRole),
    Tick,
    End,
}

fn parse_call(s: &str) -> Result<CallId, ProtocolError> {
    s.strip_prefix('C')
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .map(CallId)
        .ok_or_else(|| ProtocolError::BadCallId(s.to_string()))
}

/// Parse one input line.
pub fn parse_line(line: &str) -> Result<Input, ProtocolError> {
    if line.len() > MAX_LINE {
        return Err(ProtocolError::TooLong);
    }
    let raw: RawLine =
        serde_json::from_str(line).map_err(|e| ProtocolError::Json(e.to_string()))?;
    let t = Instant::from_secs_f64(raw.t).ok_or(ProtocolError::BadTime(raw.t))?;
    let missing = |field| ProtocolError::Missing {
        event: raw.event.clone(),
        field,
    };
    let agent = || raw.agent.clone().ok_or_else(|| missing("agent"));
    let call = || {
        raw.call
            .as_deref()
            .ok_or_else(|| missing("call"))
            .and_then(parse_call)
    };
    let event = match raw.event.as_str() {
        "agent_login" => InputEvent::AgentLogin(agent()?),
        "agent_ready" => InputEvent::AgentReady(agent()?),
        "agent_pause" => InputEvent::AgentPause(agent()?),
        "agent_logout" => InputEvent::AgentLogout(agent()?),
        "preview" => InputEvent::Preview(agent()?),
        "ringing" => InputEvent::Ringing(call()?),
        "answered" => InputEvent::Answered(call()?),
        "failed" => {
            let cause = raw.cause.as_deref().ok_or_else(|| missing("cause"))?;
            let cause = FailCause::parse(cause)
                .ok_or_else(|| ProtocolError::UnknownCause(cause.to_string()))?;
            InputEvent::Failed(call()?, cause)
        }
        "hangup" => InputEvent::Hangup(call()?),
        "connect_failed" => InputEvent::ConnectFailed(call()?),
        "inbound" => {
            let class = raw.class.as_deref().unwrap_or("other");
            InputEvent::Inbound(
                CallerClass::parse(class)
                    .ok_or_else(|| ProtocolError::UnknownClass(class.to_string()))?,
            )
        }
        "agent_role" => {
            let role = raw.role.as_deref().ok_or_else(|| missing("role"))?;
            let role =
                AgentRole::parse(role).ok_or_else(|| ProtocolError::UnknownRole(role.to_string()))?;
            InputEvent::AgentRole(agent()?, role)
        }
        "tick" => InputEvent::Tick,
        "end" => InputEvent::End,
        other => return Err(ProtocolError::UnknownEvent(other.to_string())),
    };
    Ok(Input { t, event })
}

/// The engine's state: the campaign and the names the driver gave its agents.
pub struct Engine {
    campaign: Campaign,
    agent_ids: BTreeMap<String, AgentId>,
    agent_names: Vec<String>,
    out: Vec<Command>,
    last_t: Instant,
}

impl Engine {
    pub fn new(config: CampaignConfig) -> Result<Self, sanjeevani_core::CoreError> {
        Ok(Engine {
            campaign: Campaign::try_new(config)?,
            agent_ids: BTreeMap::new(),
            agent_names: Vec::new(),
            out: Vec::new(),
            last_t: Instant::ZERO,
        })
    }

    fn agent(&mut self, name: String) -> AgentId {
        if let Some(id) = self.agent_ids.get(&name) {
            return *id;
        }
        let id = AgentId(self.agent_names.len() as u64);
        self.agent_names.push(name.clone());
        self.agent_ids.insert(name, id);
        id
    }

    fn agent_name(&self, id: AgentId) -> &str {
        self.agent_names
            .get(id.0 as usize)
            .map_or("?", String::as_str)
    }

    /// Apply one input; the output lines (commands, then `sync`) are appended to
    /// `lines`. Returns the input's error, if any; output is produced either way.
    pub fn step(&mut self, input: Input, lines: &mut Vec<String>) -> Result<(), ProtocolError> {
        let event = match input.event {
            InputEvent::AgentLogin(a) => Event::AgentLogin(self.agent(a)),
            InputEvent::AgentReady(a) => Event::AgentReady(self.agent(a)),
            InputEvent::AgentPause(a) => Event::AgentPause(self.agent(a)),
            InputEvent::AgentLogout(a) => Event::AgentLogout(self.agent(a)),
            InputEvent::Preview(a) => Event::PreviewDial(self.agent(a)),
            InputEvent::Ringing(c) => Event::Ringing(c),
            InputEvent::Answered(c) => Event::Answered(c),
            InputEvent::Failed(c, cause) => Event::Failed(c, cause),
            InputEvent::Hangup(c) => Event::Hangup(c),
            InputEvent::ConnectFailed(c) => Event::ConnectFailed(c),
            InputEvent::Inbound(class) => Event::InboundArrived(class),
            InputEvent::AgentRole(a, role) => Event::SetRole(self.agent(a), role),
            InputEvent::Tick | InputEvent::End => Event::Tick,
        };
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        let result = self.campaign.handle(input.t, event, &mut out);
        if result.is_ok() {
            self.last_t = input.t;
        }
        for command in &out {
            lines.push(self.command_line(command));
        }
        self.out = out;
        lines.push(self.sync_line());
        result.map_err(ProtocolError::from)
    }

    /// The `sync` line for the current state (also written after a refused line).
    pub fn sync_line(&self) -> String {
        let wake = self
            .campaign
            .next_wake()
            .map(|w| w.max(self.last_t).as_secs_f64());
        serde_json::json!({ "cmd": "sync", "t": self.last_t.as_secs_f64(), "wake_at": wake })
            .to_string()
    }

    fn command_line(&self, command: &Command) -> String {
        let value = match *command {
            Command::Dial { call, agent: None } => {
                serde_json::json!({ "cmd": "dial", "call": call.to_string() })
            }
            Command::Dial {
                call,
                agent: Some(a),
            } => {
                serde_json::json!({ "cmd": "dial", "call": call.to_string(), "agent": self.agent_name(a) })
            }
            Command::Connect { call, agent } => {
                serde_json::json!({ "cmd": "connect", "call": call.to_string(), "agent": self.agent_name(agent) })
            }
            Command::Drop { call } => {
                serde_json::json!({ "cmd": "drop", "call": call.to_string() })
            }
            Command::Cancel { call, reason } => {
                serde_json::json!({ "cmd": "cancel", "call": call.to_string(), "reason": reason })
            }
            Command::Ended { call, outcome } => {
                serde_json::json!({ "cmd": "ended", "call": call.to_string(), "outcome": outcome })
            }
            Command::Queued { call, class } => {
                serde_json::json!({ "cmd": "queued", "call": call.to_string(), "class": class })
            }
            Command::Release { call } => {
                serde_json::json!({ "cmd": "release", "call": call.to_string() })
            }
            Command::Callback { call } => {
                serde_json::json!({ "cmd": "callback", "call": call.to_string() })
            }
            Command::InboundEnded { call, outcome } => {
                serde_json::json!({ "cmd": "inbound_ended", "call": call.to_string(), "outcome": outcome })
            }
        };
        value.to_string()
    }
}

/// Run the protocol until `end` or end of input. Errors in the input are reported on
/// `errors` as `line N: problem` and the engine keeps going; only I/O errors stop it.
pub fn run<R: BufRead, W: Write, E: Write>(
    config: CampaignConfig,
    mut input: R,
    mut output: W,
    mut errors: E,
) -> std::io::Result<()> {
    let mut engine = Engine::new(config)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        let read =
            std::io::Read::take(&mut input, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        number += 1;
        let too_long = buf.len() > MAX_LINE && !buf.ends_with(b"\n");
        if too_long {
            // Skip the rest of the over-long line.
            let mut rest = Vec::new();
            input.read_until(b'\n', &mut rest)?;
        }
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        lines.clear();
        let parsed = if too_long {
            Err(ProtocolError::TooLong)
        } else {
            parse_line(text)
        };
        let end = matches!(
            parsed,
            Ok(Input {
                event: InputEvent::End,
                ..
            })
        );
        let result = match parsed {
            Ok(input) => engine.step(input, &mut lines),
            Err(e) => {
                lines.push(engine.sync_line());
                Err(e)
            }
        };
        if let Err(e) = result {
            writeln!(errors, "line {number}: {e}")?;
        }
        for line in &lines {
            writeln!(output, "{line}")?;
        }
        output.flush()?;
        if end {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(config: CampaignConfig, input: &str) -> (Vec<serde_json::Value>, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        run(config, input.as_bytes(), &mut out, &mut err).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines, String::from_utf8(err).unwrap())
    }

    fn progressive() -> CampaignConfig {
        let mut c = CampaignConfig::default();
        c.pacing.mode = sanjeevani_core::PacingMode::Progressive;
        c
    }

    #[test]
    fn a_call_from_dial_to_connect() {
        let input = r#"{"t":0,"event":"agent_ready","agent":"A1"}
{"t":1,"event":"ringing","call":"C1"}
{"t":6,"event":"answered","call":"C1"}
{"t":66,"event":"hangup","call":"C1"}
{"t":70,"event":"end"}
"#;
        let (lines, err) = drive(progressive(), input);
        assert_eq!(err, "");
        assert_eq!(lines[0]["cmd"], "dial");
        assert_eq!(lines[0]["call"], "C1");
        assert_eq!(lines[1]["cmd"], "sync");
        assert_eq!(lines[1]["t"], 0.0);
        let connect = lines.iter().find(|l| l["cmd"] == "connect").unwrap();
        assert_eq!(connect["agent"], "A1");
        // Exactly one sync per input line.
        assert_eq!(lines.iter().filter(|l| l["cmd"] == "sync").count(), 5);
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_engine_goes_on() {
        let input = r#"{"t":0,"event":"agent_ready","agent":"A1"}
not json
{"t":1,"event":"answered","call":"C99"}
{"t":2,"event":"failed","call":"C1","cause":"weather"}
{"t":0.5,"event":"tick"}
{"t":3,"event":"answered","call":"C1"}
"#;
        let (lines, err) = drive(progressive(), input);
        let errs: Vec<&str> = err.lines().collect();
        assert_eq!(errs.len(), 4, "{err}");
        assert!(
            errs[0].starts_with("line 2: not a JSON object"),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].starts_with("line 3: unknown call C99"),
            "{}",
            errs[1]
        );
        assert!(
            errs[2].starts_with("line 4: unknown cause \"weather\""),
            "{}",
            errs[2]
        );
        assert!(
            errs[3].starts_with("line 5: time went backwards"),
            "{}",
            errs[3]
        );
        assert_eq!(lines.iter().filter(|l| l["cmd"] == "sync").count(), 6);
        assert!(
            lines.iter().any(|l| l["cmd"] == "connect"),
            "the good line after the bad ones still works"
        );
    }

    #[test]
    fn unanswered_call_is_cancelled_at_the_timeout() {
        let input = r#"{"t":0,"event":"agent_ready","agent":"A1"}
{"t":0,"event":"ringing","call":"C1"}
{"t":25,"event":"tick"}
"#;
        let (lines, _) = drive(progressive(), input);
        assert_eq!(lines[1]["wake_at"], 0.5, "pacing re-evaluation first");
        let cancel = lines.iter().position(|l| l["cmd"] == "cancel").unwrap();
        assert_eq!(lines[cancel]["call"], "C1");
    }

    #[test]
    fn an_inbound_caller_waits_by_class_and_a_caller_who_hangs_up_is_called_back() {
        let input = r#"{"t":0,"event":"agent_role","agent":"A1","role":"inbound_only"}
{"t":0,"event":"agent_login","agent":"A1"}
{"t":1,"event":"inbound"}
{"t":2,"event":"inbound","class":"urgent_ticket"}
{"t":3,"event":"agent_ready","agent":"A1"}
{"t":4,"event":"hangup","call":"C1"}
{"t":5,"event":"inbound","class":"weather"}
"#;
        let (lines, err) = drive(progressive(), input);
        assert!(err.starts_with("line 7: unknown class \"weather\""), "{err}");
        let queued: Vec<_> = lines.iter().filter(|l| l["cmd"] == "queued").collect();
        assert_eq!(queued.len(), 2);
        assert_eq!((&queued[1]["call"], &queued[1]["class"]), (&"C2".into(), &"urgent_ticket".into()));
        let connect = lines.iter().find(|l| l["cmd"] == "connect").unwrap();
        assert_eq!((&connect["call"], &connect["agent"]), (&"C2".into(), &"A1".into()), "urgent first");
        assert!(lines.iter().any(|l| l["cmd"] == "callback" && l["call"] == "C1"));
        let ended = lines.iter().find(|l| l["cmd"] == "inbound_ended").unwrap();
        assert_eq!(ended["outcome"], "hung_up_waiting");
        assert!(!lines.iter().any(|l| l["cmd"] == "dial"), "an inbound-only agent is not dialed for");
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(
            parse_line(r#"{"t":1,"event":"ringing"}"#),
            Err(ProtocolError::Missing {
                event: "ringing".into(),
                field: "call"
            })
        );
        assert_eq!(
            parse_line(r#"{"t":-1,"event":"tick"}"#),
            Err(ProtocolError::BadTime(-1.0))
        );
        assert_eq!(
            parse_line(r#"{"t":1,"event":"ringing","call":"X1"}"#),
            Err(ProtocolError::BadCallId("X1".into()))
        );
        assert!(matches!(
            parse_line(r#"{"t":1,"event":"tick","extra":1}"#),
            Err(ProtocolError::Json(_))
        ));
    }

    fn event_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let events = prop_oneof![
            Just("agent_ready"),
            Just("agent_logout"),
            Just("agent_pause"),
            Just("agent_login"),
            Just("ringing"),
            Just("answered"),
            Just("failed"),
            Just("hangup"),
            Just("tick"),
            Just("preview"),
            Just("inbound"),
        ];
        let causes = prop_oneof![Just("busy"), Just("no_answer"), Just("weather")];
        // Mostly forward in time (a few lines go back, to be refused).
        (-200i32..3000, events, 1u8..4, 1u32..12, causes).prop_map(|(step_ms, event, agent, call, cause)| {
            format!(r#"{{"t":{{T{step_ms}}},"event":"{event}","agent":"A{agent}","call":"C{call}","cause":"{cause}"}}"#)
        })
    }

    proptest::proptest! {
        #[test]
        fn no_input_line_panics(line in ".{0,200}") {
            let _ = parse_line(&line);
        }

        /// Whatever a driver sends, every line gets exactly one sync and the core's
        /// commands refer only to calls it dialed or queued.
        #[test]
        fn every_line_gets_one_sync(lines in proptest::collection::vec(event_line(), 1..80), mode in 0usize..6) {
            let mut config = CampaignConfig::default();
            config.pacing.mode = sanjeevani_core::PacingMode::ALL[mode];
            // Replace each {T<step>} with a running time.
            let mut t: i64 = 0;
            let input: String = lines
                .iter()
                .map(|l| {
                    let start = l.find("{T").unwrap_or(0);
                    let end = start + l[start..].find('}').unwrap_or(0);
                    t = (t + l[start + 2..end].parse::<i64>().unwrap_or(0)).max(0);
                    format!("{}{}{}\n", &l[..start], t as f64 / 1000.0, &l[end + 1..])
                })
                .collect();
            let mut out = Vec::new();
            run(config, input.as_bytes(), &mut out, std::io::sink()).unwrap();
            let out: Vec<serde_json::Value> =
                String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            proptest::prop_assert_eq!(out.iter().filter(|l| l["cmd"] == "sync").count(), lines.len());
            let mut dialed = std::collections::BTreeSet::new();
            for line in &out {
                let call = line["call"].as_str().map(str::to_string);
                match line["cmd"].as_str() {
                    Some("dial" | "queued") => { proptest::prop_assert!(dialed.insert(call.clone())); }
                    Some("sync") => {}
                    _ => proptest::prop_assert!(dialed.contains(&call), "{line} for a call never dialed"),
                }
            }
        }
    }
}
