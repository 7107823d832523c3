//! The ARI flows driven by event sequences of the shapes Asterisk's test
//! suite expects (originate, answer, failure, timeout, playback), parsed from
//! JSON as they would come off the WebSocket.

use super::*;
use crate::events;

fn config() -> AriConfig {
    AriConfig {
        app: "sanjeevani".into(),
        prefix: "n1".into(),
        contact_endpoint: "PJSIP/{number}@trunk".into(),
        agent_endpoint: "PJSIP/agent{agent}".into(),
        caller_id: "District Health <1075>".into(),
        originate_timeout: 30,
        message: "sound:sanjeevani-abandoned".into(),
    }
}

fn channel(id: &str, state: &str) -> String {
    format!(
        r#"{{"id":"{id}","name":"PJSIP/x-0001","state":"{state}","caller":{{"name":"","number":""}}}}"#
    )
}

fn feed(calls: &mut Calls, now: Instant, json: &str) {
    calls.event(now, events::parse(json).expect("a well-formed event"));
}

fn requests(calls: &mut Calls) -> Vec<(Tag, String)> {
    std::iter::from_fn(|| calls.poll_request())
        .map(|(tag, r)| {
            let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (
                tag,
                format!("{} {} {}", r.method.as_str(), r.path, query.join("&")),
            )
        })
        .collect()
}

fn line_events(calls: &mut Calls) -> Vec<LineEvent> {
    std::iter::from_fn(|| calls.poll_event()).collect()
}

/// An agent whose phone is in its bridge.
fn agent_on_line(calls: &mut Calls, now: Instant, agent: AgentId) {
    calls.login(agent);
    let sent = requests(calls);
    assert_eq!(
        sent[0].1,
        "POST /channels endpoint=PJSIP/agent7&app=sanjeevani&appArgs=agent,7&callerId=District Health <1075>&timeout=30&channelId=n1-a7"
    );
    calls.response(now, Tag::Phone(agent), 200);
    feed(
        calls,
        now,
        &format!(
            r#"{{"type":"StasisStart","args":["agent","7"],"channel":{}}}"#,
            channel("n1-a7", "Up")
        ),
    );
    let sent = requests(calls);
    assert_eq!(
        sent.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(),
        [
            "POST /bridges type=mixing&bridgeId=n1-b7&name=n1-b7",
            "POST /bridges/n1-b7/addChannel channel=n1-a7"
        ]
    );
    calls.response(now, Tag::AgentBridge(agent), 200);
    assert!(
        line_events(calls).is_empty(),
        "on the line only once in the bridge"
    );
    calls.response(now, Tag::AgentJoin(agent), 204);
    assert_eq!(line_events(calls), [LineEvent::AgentOnLine(agent)]);
}

#[test]
fn an_answered_contact_joins_the_agents_bridge_with_one_request() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    let (agent, call) = (AgentId(7), CallId(42));
    agent_on_line(&mut calls, t0, agent);
    calls.dial(call, "919999900010");
    let sent = requests(&mut calls);
    assert_eq!(sent[0].0, Tag::Originate(call));
    assert!(sent[0].1.starts_with(
        "POST /channels endpoint=PJSIP/919999900010@trunk&app=sanjeevani&appArgs=contact,42&"
    ));
    assert!(sent[0].1.ends_with("&channelId=n1-c42"));
    calls.response(t0, Tag::Originate(call), 200);
    // originate: Ringing, then Dial ANSWER, Up, StasisStart with the app args.
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"ChannelStateChange","channel":{}}}"#,
            channel("n1-c42", "Ringing")
        ),
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"Dial","dialstatus":"RINGING","peer":{}}}"#,
            channel("n1-c42", "Ringing")
        ),
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"Dial","dialstatus":"ANSWER","peer":{}}}"#,
            channel("n1-c42", "Up")
        ),
    );
    let answered = t0 + Duration::from_millis(3000);
    feed(
        &mut calls,
        answered,
        &format!(
            r#"{{"type":"StasisStart","args":["contact","42"],"channel":{}}}"#,
            channel("n1-c42", "Up")
        ),
    );
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Ringing(call), LineEvent::Answered(call)]
    );
    calls.connect(call, agent);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::Join(call),
            "POST /bridges/n1-b7/addChannel channel=n1-c42".to_string()
        )]
    );
    calls.response(answered + Duration::from_millis(4), Tag::Join(call), 204);
    assert_eq!(calls.take_latencies(), [Duration::from_millis(4)]);
    // The contact hangs up: StasisEnd, ChannelDestroyed (cause 16).
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"StasisEnd","channel":{}}}"#,
            channel("n1-c42", "Up")
        ),
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"ChannelDestroyed","cause":16,"cause_txt":"Normal Clearing","channel":{}}}"#,
            channel("n1-c42", "Up")
        ),
    );
    assert_eq!(line_events(&mut calls), [LineEvent::Hangup(call)]);
    assert!(
        requests(&mut calls).is_empty(),
        "the agent stays in its bridge"
    );
}

#[test]
fn the_outcome_of_a_failed_originate_comes_from_channel_destroyed() {
    let t0 = Instant::now();
    for (cause, expected) in [
        (17, FailCause::Busy),
        (19, FailCause::NoAnswer),
        (18, FailCause::NoAnswer),
        (21, FailCause::Rejected),
        (1, FailCause::Invalid),
        (34, FailCause::Congestion),
        (27, FailCause::Congestion),
        (38, FailCause::Congestion),
        (58, FailCause::Congestion),
    ] {
        let mut calls = Calls::new(config());
        let call = CallId(5);
        calls.dial(call, "919999900011");
        requests(&mut calls);
        // Failure: ChannelHangupRequest{cause}, the final Dial, ChannelDestroyed; no StasisStart.
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"ChannelHangupRequest","cause":{cause},"channel":{}}}"#,
                channel("n1-c5", "Down")
            ),
        );
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"Dial","dialstatus":"BUSY","peer":{}}}"#,
                channel("n1-c5", "Down")
            ),
        );
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"ChannelDestroyed","cause":{cause},"cause_txt":"x","channel":{}}}"#,
                channel("n1-c5", "Down")
            ),
        );
        assert_eq!(
            line_events(&mut calls),
            [LineEvent::Failed(call, expected)],
            "cause {cause}"
        );
    }
}

#[test]
fn a_dropped_call_hears_the_message_then_is_hung_up() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    let call = CallId(9);
    calls.dial(call, "919999900012");
    requests(&mut calls);
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"StasisStart","args":["contact","9"],"channel":{}}}"#,
            channel("n1-c9", "Up")
        ),
    );
    line_events(&mut calls);
    calls.drop_call(call);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::Message(call),
            "POST /channels/n1-c9/play media=sound:sanjeevani-abandoned&playbackId=n1-p9"
                .to_string()
        )]
    );
    feed(
        &mut calls,
        t0,
        r#"{"type":"PlaybackFinished","playback":{"id":"n1-p9","target_uri":"channel:n1-c9","state":"done","media_uri":"sound:x"}}"#,
    );
    assert_eq!(
        requests(&mut calls),
        [(Tag::HangUp(call), "DELETE /channels/n1-c9 ".to_string())]
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"ChannelDestroyed","cause":16,"cause_txt":"x","channel":{}}}"#,
            channel("n1-c9", "Up")
        ),
    );
    assert!(
        line_events(&mut calls).is_empty(),
        "the dialer recorded the drop itself"
    );
}

#[test]
fn refused_requests_end_what_they_were_for() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    calls.dial(CallId(1), "919999900013");
    calls.response(t0, Tag::Originate(CallId(1)), 400);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Failed(CallId(1), FailCause::Invalid)]
    );
    calls.dial(CallId(2), "919999900014");
    calls.response(t0, Tag::Originate(CallId(2)), 500);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Failed(CallId(2), FailCause::Congestion)]
    );
    // A contact answered while the agent's phone is gone is ended, not connected to nobody.
    requests(&mut calls);
    calls.dial(CallId(3), "919999900015");
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"StasisStart","args":["contact","3"],"channel":{}}}"#,
            channel("n1-c3", "Up")
        ),
    );
    line_events(&mut calls);
    calls.connect(CallId(3), AgentId(8));
    assert_eq!(line_events(&mut calls), [LineEvent::Hangup(CallId(3))]);
    let sent = requests(&mut calls);
    assert_eq!(sent.last().unwrap().1, "DELETE /channels/n1-c3 ");
}

#[test]
fn after_a_reconnect_vanished_calls_are_closed_and_live_ones_go_on() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    let agent = AgentId(7);
    agent_on_line(&mut calls, t0, agent);
    for call in [1, 2, 3] {
        calls.dial(CallId(call), "919999900016");
    }
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"StasisStart","args":["contact","2"],"channel":{}}}"#,
            channel("n1-c2", "Up")
        ),
    );
    calls.connect(CallId(2), agent);
    calls.response(t0, Tag::Join(CallId(2)), 204);
    line_events(&mut calls);
    requests(&mut calls);
    // Asterisk still holds the agent's phone and call 3; calls 1 and 2 ended unseen.
    let live = ["n1-a7", "n1-c3"].map(String::from).into_iter().collect();
    calls.reconcile(&live);
    assert_eq!(
        line_events(&mut calls),
        [
            LineEvent::Failed(CallId(1), FailCause::Congestion),
            LineEvent::Hangup(CallId(2))
        ]
    );
    // Call 3 answers later as usual.
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"StasisStart","args":["contact","3"],"channel":{}}}"#,
            channel("n1-c3", "Up")
        ),
    );
    assert_eq!(line_events(&mut calls), [LineEvent::Answered(CallId(3))]);
}
