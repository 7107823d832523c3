//! The ARI flows driven by event sequences of the shapes Asterisk's test
//! suite expects (originate, answer, failure, timeout, playback), parsed from
//! JSON as they would come off the WebSocket.

use super::*;
use crate::events;

fn config() -> AriConfig {
    AriConfig {
        caller_id: "District Health <1075>".into(),
        originate_timeout: 30,
        consult_timeout: 20,
        recording_prefix: "sanjeevani-n1-1764380000".into(),
        ..AriConfig::new("sanjeevani", "n1")
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
    calls.login(agent, None);
    let sent = requests(calls);
    assert_eq!(
        sent[0].1,
        "POST /channels endpoint=PJSIP/agent7&app=sanjeevani&appArgs=agent,7&callerId=District Health <1075>&timeout=30&channelId=n1-a7."
    );
    calls.response(now, Tag::Phone(agent), 200);
    stasis_start(calls, now, "n1-a7.", &["agent", "7"]);
    let sent = requests(calls);
    assert_eq!(
        sent.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(),
        [
            "POST /bridges type=mixing&bridgeId=n1-b7&name=n1-b7",
            "POST /bridges/n1-b7/addChannel channel=n1-a7."
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
    calls.dial(call, "919999900010", None);
    let sent = requests(&mut calls);
    assert_eq!(sent[0].0, Tag::Originate(call));
    assert!(sent[0].1.starts_with(
        "POST /channels endpoint=PJSIP/919999900010@trunk&app=sanjeevani&appArgs=contact,42&"
    ));
    assert!(sent[0].1.ends_with("&channelId=n1-c42."));
    calls.response(t0, Tag::Originate(call), 200);
    // originate: Ringing, then Dial ANSWER, Up, StasisStart with the app args.
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"ChannelStateChange","channel":{}}}"#,
            channel("n1-c42.", "Ringing")
        ),
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"Dial","dialstatus":"RINGING","peer":{}}}"#,
            channel("n1-c42.", "Ringing")
        ),
    );
    feed(
        &mut calls,
        t0,
        &format!(
            r#"{{"type":"Dial","dialstatus":"ANSWER","peer":{}}}"#,
            channel("n1-c42.", "Up")
        ),
    );
    let answered = t0 + Duration::from_millis(3000);
    stasis_start(&mut calls, answered, "n1-c42.", &["contact", "42"]);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Ringing(call), LineEvent::Answered(call)]
    );
    calls.connect(call, agent);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::Join(call),
            "POST /bridges/n1-b7/addChannel channel=n1-c42.".to_string()
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
            channel("n1-c42.", "Up")
        ),
    );
    destroyed(&mut calls, t0, "n1-c42.", 16);
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
        calls.dial(call, "919999900011", None);
        requests(&mut calls);
        // Failure: ChannelHangupRequest{cause}, the final Dial, ChannelDestroyed; no StasisStart.
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"ChannelHangupRequest","cause":{cause},"channel":{}}}"#,
                channel("n1-c5.", "Down")
            ),
        );
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"Dial","dialstatus":"BUSY","peer":{}}}"#,
                channel("n1-c5.", "Down")
            ),
        );
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"ChannelDestroyed","cause":{cause},"cause_txt":"x","channel":{}}}"#,
                channel("n1-c5.", "Down")
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
    calls.dial(call, "919999900012", None);
    requests(&mut calls);
    stasis_start(&mut calls, t0, "n1-c9.", &["contact", "9"]);
    line_events(&mut calls);
    calls.drop_call(call);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::Message(call),
            "POST /channels/n1-c9./play media=sound:sanjeevani-abandoned&playbackId=n1-p9"
                .to_string()
        )]
    );
    feed(
        &mut calls,
        t0,
        r#"{"type":"PlaybackFinished","playback":{"id":"n1-p9","target_uri":"channel:n1-c9.","state":"done","media_uri":"sound:x"}}"#,
    );
    assert_eq!(
        requests(&mut calls),
        [(Tag::HangUp(call), "DELETE /channels/n1-c9. ".to_string())]
    );
    destroyed(&mut calls, t0, "n1-c9.", 16);
    assert!(
        line_events(&mut calls).is_empty(),
        "the dialer recorded the drop itself"
    );
}

#[test]
fn refused_requests_end_what_they_were_for() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    calls.dial(CallId(1), "919999900013", None);
    calls.response(t0, Tag::Originate(CallId(1)), 400);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Failed(CallId(1), FailCause::Invalid)]
    );
    calls.dial(CallId(2), "919999900014", None);
    calls.response(t0, Tag::Originate(CallId(2)), 500);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Failed(CallId(2), FailCause::Congestion)]
    );
    // A contact answered while the agent's phone is gone is not joined to
    // nobody, nor hung up on: the dialer is told, and the contact stays
    // answered for another agent or for the information message.
    requests(&mut calls);
    calls.dial(CallId(3), "919999900015", None);
    stasis_start(&mut calls, t0, "n1-c3.", &["contact", "3"]);
    line_events(&mut calls);
    calls.connect(CallId(3), AgentId(8));
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::ConnectFailed(CallId(3))]
    );
    assert!(
        !requests(&mut calls)
            .iter()
            .any(|(_, r)| r.starts_with("DELETE")),
        "not hung up"
    );
    calls.drop_call(CallId(3));
    let sent = requests(&mut calls);
    assert!(
        sent.iter()
            .any(|(_, r)| r.contains("/channels/n1-c3./play")),
        "the information message is played: {sent:?}"
    );
}

#[test]
fn after_a_reconnect_vanished_calls_are_closed_and_live_ones_go_on() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    let agent = AgentId(7);
    agent_on_line(&mut calls, t0, agent);
    for call in [1, 2, 3] {
        calls.dial(CallId(call), "919999900016", None);
    }
    stasis_start(&mut calls, t0, "n1-c2.", &["contact", "2"]);
    calls.connect(CallId(2), agent);
    calls.response(t0, Tag::Join(CallId(2)), 204);
    line_events(&mut calls);
    requests(&mut calls);
    // Asterisk still holds the agent's phone and call 3; calls 1 and 2 ended unseen.
    let live = ["n1-a7.", "n1-c3."].map(String::from).into_iter().collect();
    calls.reconcile(&live, false);
    assert_eq!(
        line_events(&mut calls),
        [
            LineEvent::Failed(CallId(1), FailCause::Congestion),
            LineEvent::Hangup(CallId(2))
        ]
    );
    // Call 3 answers later as usual.
    stasis_start(&mut calls, t0, "n1-c3.", &["contact", "3"]);
    assert_eq!(line_events(&mut calls), [LineEvent::Answered(CallId(3))]);

    // The agent's phone vanished without a restart: the agent put it down.
    calls.reconcile(&["n1-c3.".to_string()].into_iter().collect(), false);
    assert_eq!(line_events(&mut calls), [LineEvent::AgentGone(agent)]);
}

#[test]
fn after_asterisk_restarts_the_agents_phones_are_called_again() {
    let t0 = Instant::now();
    let mut calls = Calls::new(config());
    let agent = AgentId(7);
    agent_on_line(&mut calls, t0, agent);
    calls.dial(CallId(1), "919999900016", None);
    requests(&mut calls);
    // A new Asterisk holds nothing of ours.
    calls.reconcile(&HashSet::new(), true);
    assert_eq!(
        line_events(&mut calls),
        [
            LineEvent::AgentOffLine(agent),
            LineEvent::Failed(CallId(1), FailCause::Congestion)
        ]
    );
    let originated = requests(&mut calls);
    assert!(
        originated
            .iter()
            .any(|(tag, r)| *tag == Tag::Phone(agent) && r.contains("endpoint=PJSIP/agent7")),
        "{originated:?}"
    );
    // Back on the line once it answers and is in its bridge again.
    stasis_start(&mut calls, t0, "n1-a7.", &["agent", "7"]);
    for (tag, _) in requests(&mut calls) {
        calls.response(t0, tag, 204);
    }
    assert_eq!(line_events(&mut calls), [LineEvent::AgentOnLine(agent)]);
}

fn stasis_start(calls: &mut Calls, now: Instant, id: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    feed(
        calls,
        now,
        &format!(
            r#"{{"type":"StasisStart","args":[{}],"channel":{}}}"#,
            args.join(","),
            channel(id, "Up")
        ),
    );
}

fn destroyed(calls: &mut Calls, now: Instant, id: &str, cause: i64) {
    feed(
        calls,
        now,
        &format!(
            r#"{{"type":"ChannelDestroyed","cause":{cause},"cause_txt":"x","channel":{}}}"#,
            channel(id, "Up")
        ),
    );
}

fn paths(sent: Vec<(Tag, String)>) -> Vec<String> {
    sent.into_iter().map(|(_, r)| r).collect()
}

/// Agent 7 on the line and call 42 connected to it.
fn connected(config: AriConfig, t0: Instant) -> Calls {
    let mut calls = Calls::new(config);
    agent_on_line(&mut calls, t0, AgentId(7));
    calls.dial(CallId(42), "919999900010", None);
    stasis_start(&mut calls, t0, "n1-c42.", &["contact", "42"]);
    calls.connect(CallId(42), AgentId(7));
    calls.response(t0, Tag::Join(CallId(42)), 204);
    requests(&mut calls);
    assert_eq!(line_events(&mut calls), [LineEvent::Answered(CallId(42))]);
    calls
}

fn transfers(calls: &mut Calls) -> Vec<TransferEvent> {
    std::iter::from_fn(|| calls.poll_transfer()).collect()
}

#[test]
fn answering_machine_detection_runs_in_the_dialplan_and_a_machine_fails_the_call() {
    let t0 = Instant::now();
    let amd = AriConfig {
        amd_context: Some("dialer-amd".into()),
        ..config()
    };
    // Silence is not a machine: a person too breathless to speak is put
    // through to an agent, not hung up on.
    for (status, cause, expected) in [
        (
            "MACHINE",
            "LONGGREETING-1500-1500",
            Some(FailCause::Machine),
        ),
        ("MACHINE", "MAXWORDS-4-3", Some(FailCause::Machine)),
        ("MACHINE", "INITIALSILENCE-2500-2500", None),
        ("HUMAN", "HUMAN-800-800", None),
        ("NOTSURE", "TOOLONG-4000", None),
    ] {
        let mut calls = Calls::new(amd.clone());
        let call = CallId(5);
        calls.dial(call, "919999900010", None);
        requests(&mut calls);
        stasis_start(&mut calls, t0, "n1-c5.", &["contact", "5"]);
        assert_eq!(
            requests(&mut calls),
            [(
                Tag::Detect(call),
                "POST /channels/n1-c5./continue context=dialer-amd&extension=sanjeevani&priority=1"
                    .to_string()
            )]
        );
        assert!(line_events(&mut calls).is_empty(), "not an answer yet");
        // Leaving Stasis for the dialplan, then back with the result.
        feed(
            &mut calls,
            t0,
            &format!(
                r#"{{"type":"StasisEnd","channel":{}}}"#,
                channel("n1-c5.", "Up")
            ),
        );
        stasis_start(&mut calls, t0, "n1-c5.", &["amd", status, cause]);
        match expected {
            Some(cause) => {
                assert_eq!(line_events(&mut calls), [LineEvent::Failed(call, cause)]);
                assert_eq!(paths(requests(&mut calls)), ["DELETE /channels/n1-c5. "]);
            }
            None => {
                assert_eq!(line_events(&mut calls), [LineEvent::Answered(call)]);
                assert!(requests(&mut calls).is_empty());
            }
        }
    }
    // Hung up during detection: a failure with the channel's cause.
    let mut calls = Calls::new(amd.clone());
    calls.dial(CallId(6), "919999900010", None);
    stasis_start(&mut calls, t0, "n1-c6.", &["contact", "6"]);
    destroyed(&mut calls, t0, "n1-c6.", 16);
    assert_eq!(
        line_events(&mut calls),
        [LineEvent::Failed(CallId(6), FailCause::NoAnswer)]
    );
    // Detection refused by Asterisk: the person is not lost.
    let mut calls = Calls::new(amd);
    calls.dial(CallId(7), "919999900010", None);
    stasis_start(&mut calls, t0, "n1-c7.", &["contact", "7"]);
    calls.response(t0, Tag::Detect(CallId(7)), 404);
    assert_eq!(line_events(&mut calls), [LineEvent::Answered(CallId(7))]);
}

#[test]
fn a_warm_transfer_holds_consults_and_hands_over() {
    let t0 = Instant::now();
    let mut calls = connected(config(), t0);
    let call = CallId(42);
    calls.consult(call, "PJSIP/desk");
    let sent = requests(&mut calls);
    assert_eq!(
        paths(sent.clone()),
        [
            "POST /bridges type=holding&bridgeId=n1-h42-1&name=n1-h42-1",
            "POST /bridges/n1-h42-1/addChannel channel=n1-c42.",
            "POST /bridges/n1-h42-1/moh mohClass=default",
            "POST /channels endpoint=PJSIP/desk&app=sanjeevani&appArgs=consult,42&callerId=District Health <1075>&timeout=20&channelId=n1-d42-1.",
        ]
    );
    assert!(sent.iter().all(|(tag, _)| *tag == Tag::Consult(call)));
    stasis_start(&mut calls, t0, "n1-d42-1.", &["consult", "42"]);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::ConsultJoin(call),
            "POST /bridges/n1-b7/addChannel channel=n1-d42-1.".to_string()
        )]
    );
    assert!(transfers(&mut calls).is_empty());
    calls.response(t0, Tag::ConsultJoin(call), 204);
    assert_eq!(transfers(&mut calls), [TransferEvent::Consulting(call)]);
    calls.complete_transfer(call);
    assert_eq!(
        paths(requests(&mut calls)),
        [
            "POST /bridges type=mixing&bridgeId=n1-x42&name=n1-x42",
            "POST /bridges/n1-x42/addChannel channel=n1-d42-1.",
            "DELETE /bridges/n1-h42-1/moh ",
            "POST /bridges/n1-x42/addChannel channel=n1-c42.",
            "DELETE /bridges/n1-h42-1 ",
        ]
    );
    assert_eq!(transfers(&mut calls), [TransferEvent::Completed(call)]);
    assert_eq!(line_events(&mut calls), [LineEvent::Hangup(call)]);
    // The agent is free; when the doctor hangs up, the contact is hung up too.
    destroyed(&mut calls, t0, "n1-d42-1.", 16);
    assert_eq!(
        paths(requests(&mut calls)),
        [
            "DELETE /channels/n1-c42. ",
            "DELETE /channels/n1-d42-1. ",
            "DELETE /bridges/n1-x42 "
        ]
    );
    destroyed(&mut calls, t0, "n1-c42.", 16);
    assert!(requests(&mut calls).is_empty() && line_events(&mut calls).is_empty());
}

#[test]
fn every_failed_consult_puts_the_agent_back_with_the_contact() {
    let t0 = Instant::now();
    let back = "POST /bridges/n1-b7/addChannel channel=n1-c42.";
    // The contact is moved out before the holding bridge goes: Asterisk
    // dissolves a bridge asynchronously and could eject them from the
    // agent's bridge after the move, leaving them in silence.
    // The desk is busy (or does not answer): destroyed before Stasis.
    let mut calls = connected(config(), t0);
    calls.consult(CallId(42), "PJSIP/desk");
    requests(&mut calls);
    destroyed(&mut calls, t0, "n1-d42-1.", 17);
    assert_eq!(
        paths(requests(&mut calls)),
        [
            back,
            "DELETE /bridges/n1-h42-1/moh ",
            "DELETE /bridges/n1-h42-1 "
        ]
    );
    assert_eq!(transfers(&mut calls), [TransferEvent::Failed(CallId(42))]);
    assert!(line_events(&mut calls).is_empty(), "the call goes on");
    // The doctor hangs up during the consult.
    let mut calls = connected(config(), t0);
    calls.consult(CallId(42), "PJSIP/desk");
    stasis_start(&mut calls, t0, "n1-d42-1.", &["consult", "42"]);
    calls.response(t0, Tag::ConsultJoin(CallId(42)), 204);
    requests(&mut calls);
    destroyed(&mut calls, t0, "n1-d42-1.", 16);
    assert_eq!(requests(&mut calls)[0].1, back);
    assert_eq!(
        transfers(&mut calls),
        [
            TransferEvent::Consulting(CallId(42)),
            TransferEvent::Failed(CallId(42))
        ]
    );
    // The agent cancels: the consulted party is hung up.
    let mut calls = connected(config(), t0);
    calls.consult(CallId(42), "PJSIP/desk");
    requests(&mut calls);
    calls.cancel_transfer(CallId(42));
    assert_eq!(
        paths(requests(&mut calls)),
        [
            "DELETE /channels/n1-d42-1. ",
            back,
            "DELETE /bridges/n1-h42-1/moh ",
            "DELETE /bridges/n1-h42-1 "
        ]
    );
    assert_eq!(transfers(&mut calls), [TransferEvent::Failed(CallId(42))]);
    // Asterisk refuses the originate, or completing before anyone answered.
    for refuse in [true, false] {
        let mut calls = connected(config(), t0);
        calls.consult(CallId(42), "PJSIP/desk");
        requests(&mut calls);
        if refuse {
            calls.response(t0, Tag::Consult(CallId(42)), 500);
        } else {
            calls.complete_transfer(CallId(42));
        }
        let sent = requests(&mut calls);
        assert_eq!(sent[sent.len() - 3].1, back, "{sent:?}");
        assert_eq!(transfers(&mut calls), [TransferEvent::Failed(CallId(42))]);
    }
    // No consult for a call that is not connected.
    let mut calls = Calls::new(config());
    calls.consult(CallId(9), "PJSIP/desk");
    assert!(requests(&mut calls).is_empty());
    assert_eq!(transfers(&mut calls), [TransferEvent::Failed(CallId(9))]);
}

#[test]
fn a_contact_hanging_up_on_hold_ends_the_call_and_the_consult() {
    let t0 = Instant::now();
    let mut calls = connected(config(), t0);
    calls.consult(CallId(42), "PJSIP/desk");
    requests(&mut calls);
    destroyed(&mut calls, t0, "n1-c42.", 16);
    assert_eq!(line_events(&mut calls), [LineEvent::Hangup(CallId(42))]);
    assert_eq!(
        paths(requests(&mut calls)),
        [
            "DELETE /channels/n1-d42-1. ",
            "DELETE /bridges/n1-h42-1/moh ",
            "DELETE /bridges/n1-h42-1 "
        ]
    );
    // The doctor answering afterwards is hung up.
    stasis_start(&mut calls, t0, "n1-d42-1.", &["consult", "42"]);
    assert_eq!(paths(requests(&mut calls)), ["DELETE /channels/n1-d42-1. "]);
    assert!(transfers(&mut calls).is_empty());
}

#[test]
fn a_supervisor_hears_the_call_through_a_snoop_channel() {
    use supervise::{SpyMode, SupervisionEvent};
    let t0 = Instant::now();
    for (mode, whisper) in [
        (SpyMode::Listen, "none"),
        (SpyMode::Whisper, "out"),
        (SpyMode::Barge, "both"),
    ] {
        let mut calls = connected(config(), t0);
        calls.supervise(3, AgentId(7), "PJSIP/supervisor1", mode);
        assert_eq!(
            paths(requests(&mut calls)),
            [
                format!("POST /channels/n1-a7./snoop spy=both&whisper={whisper}&app=sanjeevani&appArgs=snoop,3&snoopId=n1-s3."),
                "POST /channels endpoint=PJSIP/supervisor1&app=sanjeevani&appArgs=supervisor,3&callerId=District Health <1075>&timeout=30&channelId=n1-v3.".to_string(),
            ]
        );
        calls.response(t0, Tag::Supervise(3), 200);
        stasis_start(&mut calls, t0, "n1-s3.", &["snoop", "3"]);
        assert!(requests(&mut calls).is_empty(), "waits for the supervisor");
        stasis_start(&mut calls, t0, "n1-v3.", &["supervisor", "3"]);
        calls.response(t0, Tag::Supervise(3), 200);
        assert_eq!(
            paths(requests(&mut calls)),
            [
                "POST /bridges type=mixing&bridgeId=n1-m3&name=n1-m3",
                "POST /bridges/n1-m3/addChannel channel=n1-s3.",
                "POST /bridges/n1-m3/addChannel channel=n1-v3.",
            ]
        );
        calls.response(t0, Tag::SuperviseJoin(3), 204);
        assert!(calls.poll_supervision().is_none());
        calls.response(t0, Tag::SuperviseJoin(3), 204);
        assert_eq!(calls.poll_supervision(), Some(SupervisionEvent::Started(3)));
        // The supervisor hangs up: the snoop and the bridge go.
        destroyed(&mut calls, t0, "n1-v3.", 16);
        assert_eq!(
            paths(requests(&mut calls)),
            [
                "DELETE /channels/n1-s3. ",
                "DELETE /channels/n1-v3. ",
                "DELETE /bridges/n1-m3 "
            ]
        );
        assert_eq!(calls.poll_supervision(), Some(SupervisionEvent::Ended(3)));
        assert!(line_events(&mut calls).is_empty(), "the call is untouched");
    }
    // Not for an agent who is not on the line.
    let mut calls = Calls::new(config());
    calls.supervise(4, AgentId(8), "PJSIP/supervisor1", SpyMode::Listen);
    assert!(requests(&mut calls).is_empty());
    assert_eq!(calls.poll_supervision(), Some(SupervisionEvent::Ended(4)));
}

#[test]
fn every_connected_call_is_recorded_until_it_ends() {
    let t0 = Instant::now();
    let mut calls = Calls::new(AriConfig {
        record_calls: true,
        ..config()
    });
    agent_on_line(&mut calls, t0, AgentId(7));
    calls.dial(CallId(42), "919999900010", None);
    stasis_start(&mut calls, t0, "n1-c42.", &["contact", "42"]);
    calls.connect(CallId(42), AgentId(7));
    requests(&mut calls);
    calls.response(t0, Tag::Join(CallId(42)), 204);
    assert_eq!(
        requests(&mut calls),
        [(
            Tag::Record(CallId(42)),
            "POST /bridges/n1-b7/record name=sanjeevani-n1-1764380000-42&format=wav&ifExists=fail"
                .to_string()
        )]
    );
    // Asked again (on demand): already recording.
    calls.record(CallId(42));
    assert!(requests(&mut calls).is_empty());
    // The agent hangs up: the recording stops with the call.
    calls.hang_up(CallId(42));
    assert_eq!(
        paths(requests(&mut calls)),
        [
            "POST /recordings/live/sanjeevani-n1-1764380000-42/stop ",
            "DELETE /channels/n1-c42. "
        ]
    );
}

#[test]
fn a_second_consult_never_meets_the_first_ones_channel() {
    let t0 = Instant::now();
    let mut calls = connected(config(), t0);
    let call = CallId(42);
    calls.consult(call, "PJSIP/desk1");
    requests(&mut calls);
    // Cancelled while ringing; the next member is called at once.
    calls.cancel_transfer(call);
    calls.consult(call, "PJSIP/desk2");
    let sent = paths(requests(&mut calls));
    assert_eq!(sent[0], "DELETE /channels/n1-d42-1. ");
    assert!(
        sent.last().unwrap().ends_with("&channelId=n1-d42-2."),
        "{sent:?}"
    );
    assert_eq!(
        transfers(&mut calls),
        [TransferEvent::Failed(call)],
        "the cancel is reported"
    );
    // The first one's hang-up and a late answer change nothing for the second.
    destroyed(&mut calls, t0, "n1-d42-1.", 16);
    stasis_start(&mut calls, t0, "n1-d42-1.", &["consult", "42"]);
    assert_eq!(paths(requests(&mut calls)), ["DELETE /channels/n1-d42-1. "]);
    assert!(transfers(&mut calls).is_empty());
    stasis_start(&mut calls, t0, "n1-d42-2.", &["consult", "42"]);
    calls.response(t0, Tag::ConsultJoin(call), 204);
    assert_eq!(transfers(&mut calls), [TransferEvent::Consulting(call)]);
    // Cancelling with no consult going on is still reported.
    calls.cancel_transfer(CallId(9));
    assert_eq!(transfers(&mut calls), [TransferEvent::Failed(CallId(9))]);
}
