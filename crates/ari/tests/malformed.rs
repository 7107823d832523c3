//! What comes off the WebSocket is untrusted: arbitrary text and
//! well-formed events with arbitrary ids, args and causes, interleaved with
//! the dialer's commands and arbitrary REST answers. The parser and the call
//! control never panic, and every dialed call still ends at most once: no
//! event for a call after its end, no answer after it failed.

use proptest::prelude::*;
use sanjeevani_ari::calls::supervise::SpyMode;
use sanjeevani_ari::calls::{AriConfig, Calls, Tag};
use sanjeevani_ari::events;
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_telephony::LineEvent;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

fn config() -> AriConfig {
    AriConfig {
        amd_context: Some("dialer-amd".into()),
        record_calls: true,
        ..AriConfig::new("sanjeevani", "n1")
    }
}

#[derive(Debug, Clone)]
enum Step {
    Dial(u64),
    Connect(u64),
    Drop(u64),
    HangUp(u64),
    Consult(u64),
    Complete(u64),
    Cancel(u64),
    Supervise(u64),
    StopSupervising(u64),
    Response(Tag, u16),
    Event(String),
    Reconcile(Vec<String>, bool),
}

fn channel_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec!['c', 'a', 'd', 's', 'v', 'x', 'h', 'p']),
            0u64..4
        )
            .prop_map(|(kind, n)| format!("n1-{kind}{n}")),
        Just("n1-".to_string()),
        Just("n1-c".to_string()),
        Just("n1-c99999999999999999999999.".to_string()),
        Just("n2-c1".to_string()),
        ".{0,12}",
    ]
}

fn event() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        "StasisStart",
        "StasisEnd",
        "ChannelStateChange",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "Dial",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "PlaybackFinished",
        "RecordingFinished",
    ]);
    let arg = prop_oneof![
        prop::sample::select(vec![
            "contact",
            "agent",
            "consult",
            "snoop",
            "supervisor",
            "amd",
            "MACHINE",
            "HUMAN",
            "0",
            "1",
            "2",
            "3"
        ])
        .prop_map(String::from),
        ".{0,6}",
    ];
    (
        kind,
        channel_id(),
        prop::collection::vec(arg, 0..4),
        -2i64..60,
        prop::sample::select(vec!["Up", "Ringing", "Down"]),
        prop::sample::select(vec!["RINGING", "PROGRESS", "ANSWER", "BUSY"]),
        any::<bool>(),
    )
        .prop_map(|(kind, id, args, cause, state, dialstatus, drop_field)| {
            let channel = json!({"id": id, "name": "PJSIP/x", "state": state});
            let mut event = json!({
                "type": kind, "args": args, "channel": channel, "peer": channel,
                "cause": cause, "cause_txt": "x", "dialstatus": dialstatus,
                "bridge": {"id": "n1-b1"},
                "playback": {"id": id.replace("-c", "-p"), "state": "done"},
            });
            if drop_field {
                event.as_object_mut().unwrap().remove("cause");
            }
            event.to_string()
        })
}

/// Events that fit the adapter's own ids and args: what Asterisk would send
/// about our calls, in any order.
fn fitting_event() -> impl Strategy<Value = String> {
    (0u8..8, 0u64..4, -1i64..40, any::<bool>()).prop_map(|(what, n, cause, human)| {
        let start = |id: String, args: Vec<String>| {
            json!({"type": "StasisStart", "args": args,
                "channel": {"id": id, "name": "PJSIP/x", "state": "Up"}})
        };
        let destroyed = |id: String| {
            json!({"type": "ChannelDestroyed", "cause": cause, "cause_txt": "x",
                "channel": {"id": id, "name": "PJSIP/x", "state": "Up"}})
        };
        let event = match what {
            0 => start(format!("n1-c{n}."), vec!["contact".into(), n.to_string()]),
            1 => {
                let status = if human { "HUMAN" } else { "MACHINE" };
                start(
                    format!("n1-c{n}."),
                    vec!["amd".into(), status.into(), "x".into()],
                )
            }
            2 => start(format!("n1-a{n}."), vec!["agent".into(), n.to_string()]),
            3 => start(
                format!("n1-d{n}-{}.", 1 + cause.rem_euclid(3)),
                vec!["consult".into(), n.to_string()],
            ),
            4 if human => start(format!("n1-s{n}."), vec!["snoop".into(), n.to_string()]),
            4 => start(
                format!("n1-v{n}."),
                vec!["supervisor".into(), n.to_string()],
            ),
            5 => destroyed(format!("n1-c{n}.")),
            6 => destroyed(format!("n1-d{n}-{}.", 1 + cause.rem_euclid(3))),
            _ => json!({"type": "PlaybackFinished",
                "playback": {"id": format!("n1-p{n}"), "state": "done"}}),
        };
        event.to_string()
    })
}

fn tag() -> impl Strategy<Value = Tag> {
    (0u64..4, 0u8..14).prop_map(|(n, kind)| {
        let (call, agent) = (CallId(n), AgentId(n));
        match kind {
            0 => Tag::Originate(call),
            1 => Tag::Detect(call),
            2 => Tag::Join(call),
            3 => Tag::Message(call),
            4 => Tag::HangUp(call),
            5 => Tag::Record(call),
            6 => Tag::Phone(agent),
            7 => Tag::AgentBridge(agent),
            8 => Tag::AgentJoin(agent),
            9 => Tag::Consult(call),
            10 => Tag::ConsultJoin(call),
            11 => Tag::HandOver(call),
            12 => Tag::Supervise(n),
            _ => Tag::SuperviseJoin(n),
        }
    })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u64..4).prop_map(Step::Dial),
        (0u64..4).prop_map(Step::Connect),
        (0u64..4).prop_map(Step::Drop),
        (0u64..4).prop_map(Step::HangUp),
        (0u64..4).prop_map(Step::Consult),
        (0u64..4).prop_map(Step::Complete),
        (0u64..4).prop_map(Step::Cancel),
        (0u64..2).prop_map(Step::Supervise),
        (0u64..2).prop_map(Step::StopSupervising),
        (
            tag(),
            prop::sample::select(vec![0u16, 200, 204, 400, 401, 404, 409, 422, 500])
        )
            .prop_map(|(t, s)| Step::Response(t, s)),
        event().prop_map(Step::Event),
        fitting_event().prop_map(Step::Event),
        fitting_event().prop_map(Step::Event),
        fitting_event().prop_map(Step::Event),
        ".{0,40}".prop_map(Step::Event),
        (prop::collection::vec(channel_id(), 0..4), any::<bool>())
            .prop_map(|(live, restarted)| Step::Reconcile(live, restarted)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_text_is_an_error_or_an_event(text in ".{0,200}") {
        let _ = events::parse(&text);
    }

    #[test]
    fn calls_end_at_most_once_whatever_arrives(steps in prop::collection::vec(step(), 0..60)) {
        let now = Instant::now();
        let mut calls = Calls::new(config());
        calls.login(AgentId(1), None);
        calls.event(now, events::parse(r#"{"type":"StasisStart","args":["agent","1"],"channel":{"id":"n1-a1.","name":"PJSIP/agent1","state":"Up"}}"#).unwrap());
        calls.response(now, Tag::AgentJoin(AgentId(1)), 204);
        let mut dialed: HashSet<u64> = HashSet::new();
        // Per call: answered, ended (our own hang-ups end a call without an event).
        let mut answered: HashSet<u64> = HashSet::new();
        let mut ended: HashMap<u64, &'static str> = HashMap::new();
        for step in steps {
            match step {
                Step::Dial(n) => {
                    if dialed.insert(n) {
                        calls.dial(CallId(n), "919999900010", None);
                    }
                }
                Step::Connect(n) => calls.connect(CallId(n), AgentId(1)),
                Step::Drop(n) => calls.drop_call(CallId(n)),
                Step::HangUp(n) => {
                    if dialed.contains(&n) {
                        ended.entry(n).or_insert("our hang-up");
                    }
                    calls.hang_up(CallId(n));
                }
                Step::Consult(n) => calls.consult(CallId(n), "PJSIP/desk1"),
                Step::Complete(n) => calls.complete_transfer(CallId(n)),
                Step::Cancel(n) => calls.cancel_transfer(CallId(n)),
                Step::Supervise(n) => calls.supervise(n, AgentId(1), "PJSIP/supervisor1", SpyMode::Barge),
                Step::StopSupervising(n) => calls.stop_supervising(n),
                Step::Response(tag, status) => calls.response(now, tag, status),
                Step::Event(text) => {
                    if let Ok(event) = events::parse(&text) {
                        calls.event(now, event);
                    }
                }
                Step::Reconcile(live, restarted) => {
                    calls.reconcile(&live.into_iter().collect(), restarted)
                }
            }
            while calls.poll_request().is_some() {}
            while calls.poll_transfer().is_some() {}
            while calls.poll_supervision().is_some() {}
            while let Some(event) = calls.poll_event() {
                let call = match event {
                    LineEvent::Ringing(c) | LineEvent::Answered(c) | LineEvent::Failed(c, _) | LineEvent::Hangup(c) => c.0,
                    _ => continue,
                };
                prop_assert!(dialed.contains(&call), "{event:?} for a call never dialed");
                prop_assert!(!ended.contains_key(&call), "{event:?} after the call ended ({})", ended[&call]);
                match event {
                    LineEvent::Answered(_) => { prop_assert!(answered.insert(call), "answered twice"); }
                    LineEvent::Failed(..) => {
                        prop_assert!(!answered.contains(&call), "failed after it was answered");
                        ended.insert(call, "failed");
                    }
                    LineEvent::Hangup(_) => {
                        prop_assert!(answered.contains(&call), "hang-up of a call never answered");
                        ended.insert(call, "hung up");
                    }
                    _ => {}
                }
            }
        }
    }
}
