//! The ARI adapter and the dialer against the ARI test server
//! (`tests/ari_server`): originate, agents in bridges, outcomes from
//! `ChannelDestroyed`, the information message, answering-machine detection,
//! warm transfer, supervisors' snoop sessions, recording, a WebSocket cut
//! mid-call, and a burst of originates that must each end exactly once with
//! nothing leaked.

mod ari_server;
mod sip_support;

use ari_server::{eventually, AriServer, PASSWORD, USER};
use sanjeevani_ari::calls::supervise::{SpyMode, SupervisionEvent};
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_contacts::{AttemptOutcome, Phone, Region};
use sanjeevani_core::desk::{
    DeskCommand, DeskConfig, EscalationId, EscalationOutcome, MemberId, TicketReason, Urgency,
};
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_dialer::desk::{run_desk, DeskMember, DeskRequest};
use sanjeevani_dialer::{LineEvent, LineProblem, LineStatus, Telephony, TransferEvent, Transfers};
use sip_support::{numbers, Desk, Test};
use std::time::Duration;
use tokio::sync::mpsc;

const SETTINGS: &str = r#"
[dialer]
no_answer_timeout = 10
min_ring = 1
[dialer.pacing]
mode = "progressive"
[contacts]
window = "24x7"
[contacts.retry]
max_per_day = 1
max_total = 1
"#;

fn settings(server: &AriServer) -> AriSettings {
    AriSettings {
        base: server.base(),
        username: USER.into(),
        password: PASSWORD.into(),
        calls: AriConfig {
            caller_id: "District Health <1075>".into(),
            originate_timeout: 30,
            consult_timeout: 20,
            recording_prefix: "sanjeevani-n1-1764380000".into(),
            ..AriConfig::new("sanjeevani", "n1")
        },
        ping: Duration::from_secs(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_reach_agents_in_their_bridges_and_failures_keep_their_cause() {
    let server = AriServer::start().await;
    // Answers, busy (cause 17), no answer (cause 19).
    let contacts = ["+91 99999 00010", "+91 99999 00017", "+91 99999 00019"].map(String::from);
    let test = Test::new(&contacts, SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&server), events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(200)),
    };
    let attempts = test
        .run_with(line, events, &[1], desk, Duration::from_secs(30))
        .await;
    let outcomes: Vec<_> = attempts.iter().map(|a| a[0].outcome.unwrap()).collect();
    assert_eq!(
        outcomes,
        [
            AttemptOutcome::Completed,
            AttemptOutcome::Busy,
            AttemptOutcome::NoAnswer
        ]
    );
    let requests = server.requests();
    let agent: Vec<&String> = requests.iter().take(6).collect();
    // On connecting: when Asterisk started (a restart loses every channel),
    // what the app still holds, and whether Asterisk runs the modules needed.
    assert_eq!(agent[0], "GET /asterisk/info only=status");
    assert_eq!(agent[1], "GET /applications/sanjeevani");
    assert_eq!(agent[2], "GET /asterisk/modules");
    assert!(
        agent[3].starts_with("POST /channels app=sanjeevani&appArgs=agent,1&"),
        "{agent:?}"
    );
    assert_eq!(
        agent[4],
        "POST /bridges bridgeId=n1-b1&name=n1-b1&type=mixing"
    );
    assert_eq!(agent[5], "POST /bridges/n1-b1/addChannel channel=n1-a1.");
    // The answered contact: originate with our id, one addChannel, our hang-up.
    let contact: Vec<&String> = requests.iter().filter(|r| r.contains("n1-c")).collect();
    let answered = contact[0]
        .split("channelId=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    assert!(
        contact[0].contains("appArgs=contact,")
            && contact[0].contains("endpoint=PJSIP/919999900010@trunk")
    );
    let after: Vec<&&String> = contact.iter().filter(|r| r.contains(&answered)).collect();
    assert_eq!(
        after[1..],
        [
            &&format!("POST /bridges/n1-b1/addChannel channel={answered}"),
            &&format!("DELETE /channels/{answered}")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_cut_mid_call_loses_nothing() {
    let server = AriServer::start().await;
    let test = Test::new(&numbers(3), SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&server), events_tx);
    // Agents never hang up: each call ends when the far end does.
    let cutter = server.clone();
    let outage = tokio::spawn(async move {
        // Wait for the first call to be up, cut the socket, hang the call up
        // unseen, then let the adapter reconnect.
        for _ in 0..100 {
            if cutter
                .requests()
                .iter()
                .any(|r| r.contains("addChannel channel=n1-c"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cutter.cut_websockets();
        let live = cutter
            .requests()
            .iter()
            .filter(|r| r.contains("addChannel channel=n1-c"))
            .count();
        assert_eq!(live, 1);
        for id in 0..10 {
            cutter.remote_hangup(&format!("n1-c{id}."));
        }
        // Later calls are hung up by the far end while the socket is up.
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for id in 0..10 {
                cutter.remote_hangup(&format!("n1-c{id}."));
            }
        }
    });
    let attempts = test
        .run_with(line, events, &[1], Desk::default(), Duration::from_secs(40))
        .await;
    outage.abort();
    each_completed_once(&attempts);
    let reconnects = server
        .requests()
        .iter()
        .filter(|r| *r == "GET /applications/sanjeevani")
        .count();
    assert!(reconnects >= 2, "the adapter resynchronised after the cut");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_200_originates_ends_every_call_once_and_leaks_nothing() {
    let server = AriServer::start().await;
    // Numbers the test server answers (not ending in 017 or 019).
    let answering: Vec<String> = numbers(220)
        .into_iter()
        .filter(|n| !n.ends_with("017") && !n.ends_with("019"))
        .take(200)
        .collect();
    let test = Test::new(&answering, SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&server), events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(100)),
    };
    let agents: Vec<u64> = (1..=200).collect();
    let attempts = test
        .run_with(line, events, &agents, desk, Duration::from_secs(60))
        .await;
    assert_eq!(attempts.len(), 200);
    each_completed_once(&attempts);
    let originates = server
        .requests()
        .iter()
        .filter(|r| r.starts_with("POST /channels ") && r.contains("appArgs=contact,"))
        .count();
    assert_eq!(originates, 200);
    // Once the dialer has stopped, every channel and bridge is gone.
    let mut live = server.live();
    for _ in 0..50 {
        if live == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        live = server.live();
    }
    assert_eq!(live, (0, 0), "channels and bridges left behind");
}

/// Every contact was called once, and the call was completed.
fn each_completed_once(attempts: &[Vec<sanjeevani_store::Attempt>]) {
    for attempts in attempts {
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(
            attempts[0].outcome,
            Some(AttemptOutcome::Completed),
            "{attempts:?}"
        );
    }
}

/// Waits for the next line event that is not `Ringing`.
async fn next_event(events: &mut mpsc::UnboundedReceiver<LineEvent>) -> LineEvent {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event in time")
            .expect("the adapter runs");
        if !matches!(event, LineEvent::Ringing(_)) {
            return event;
        }
    }
}

async fn next<T>(reports: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), reports.recv())
        .await
        .expect("a report in time")
        .expect("the adapter runs")
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

/// Agent 1's phone on the line and call 1 (a number the server answers)
/// connected to it: both in the agent's bridge.
async fn connected_call(
    server: &AriServer,
    settings: AriSettings,
) -> (AriLine, mpsc::UnboundedReceiver<LineEvent>) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings, events_tx);
    let (agent, call) = (AgentId(1), CallId(1));
    assert!(
        !line.login(agent, None),
        "ready only once the phone is bridged"
    );
    assert_eq!(next_event(&mut events).await, LineEvent::AgentOnLine(agent));
    let number = Phone::parse("+91 99999 00010", Region::default()).unwrap();
    line.dial(call, &number, None);
    assert_eq!(next_event(&mut events).await, LineEvent::Answered(call));
    line.connect(call, agent);
    eventually("contact and agent bridged", || {
        server.members("n1-b1") == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    // The answer-to-connect time is measured (and exported as a metric).
    let mut latencies = Vec::new();
    for _ in 0..50 {
        latencies.extend(line.take_latencies());
        if !latencies.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(latencies.len(), 1, "one connect measured");
    assert!(latencies[0] < Duration::from_secs(1), "{latencies:?}");
    (line, events)
}

/// On a loaded Asterisk originates are slow to be answered: an answered
/// call's join must not wait behind the originates of the calls placed
/// after it (it waited for all of them when requests went one by one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_is_joined_without_waiting_for_later_originates() {
    let server = AriServer::start().await;
    server.slow_originates(Duration::from_millis(300));
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings(&server), events_tx);
    let agent = AgentId(1);
    line.login(agent, None);
    assert_eq!(next_event(&mut events).await, LineEvent::AgentOnLine(agent));
    for n in 1..=10 {
        let number = Phone::parse(&format!("+91 99999 01{n:03}"), Region::default()).unwrap();
        line.dial(CallId(n), &number, None);
    }
    let first = loop {
        if let LineEvent::Answered(call) = next_event(&mut events).await {
            break call;
        }
    };
    line.connect(first, agent);
    let mut latencies = Vec::new();
    for _ in 0..200 {
        latencies.extend(line.take_latencies());
        if !latencies.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(latencies.len(), 1, "the first answered call was joined");
    // Its own originate's reply (300 ms) is all it may wait for; behind
    // nine more it would wait 2.7 s longer.
    assert!(latencies[0] < Duration::from_millis(1_000), "{latencies:?}");
}

/// The channel the adapter originated for `number`.
fn channel_for(requests: &[String], number: &str) -> String {
    let originate = requests
        .iter()
        .find(|r| r.contains(&format!("endpoint=PJSIP/{number}@trunk")))
        .expect("originated");
    let id = originate.split("channelId=").nth(1).unwrap();
    id.split('&').next().unwrap().to_string()
}

/// The requests naming `id` (a channel or bridge), in order.
fn naming(requests: &[String], id: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.split(['/', '=', '&', ' ', ',']).any(|part| part == id))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_machines_are_detected_in_the_dialplan_and_recorded_as_such() {
    let server = AriServer::start().await;
    // A person answers the first; the test server's AMD() hears a machine on the second.
    let contacts = ["+91 99999 00010", "+91 99999 00066"].map(String::from);
    let test = Test::new(&contacts, SETTINGS).await;
    let mut settings = settings(&server);
    settings.calls.amd_context = Some("dialer-amd".into());
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings, events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(200)),
    };
    let attempts = test
        .run_with(line, events, &[1], desk, Duration::from_secs(30))
        .await;
    let outcomes: Vec<_> = attempts.iter().map(|a| a[0].outcome.unwrap()).collect();
    assert_eq!(
        outcomes,
        [AttemptOutcome::Completed, AttemptOutcome::Machine]
    );
    let requests = server.requests();
    let person = channel_for(&requests, "919999900010");
    let continue_amd = |id: &str| {
        format!("POST /channels/{id}/continue context=dialer-amd&extension=sanjeevani&priority=1")
    };
    let calls = naming(&requests, &person);
    assert_eq!(
        calls[1..],
        [
            continue_amd(&person),
            format!("POST /bridges/n1-b1/addChannel channel={person}"),
            format!("DELETE /channels/{person}"),
        ]
    );
    let machine = channel_for(&requests, "919999900066");
    let calls = naming(&requests, &machine);
    assert_eq!(
        calls[1..],
        [
            continue_amd(&machine),
            format!("DELETE /channels/{machine}")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_holds_the_contact_consults_the_desk_and_hands_over() {
    let server = AriServer::start().await;
    let (mut line, mut events) = connected_call(&server, settings(&server)).await;
    let mut transfers = line.take_transfer_events().unwrap();
    let call = CallId(1);

    // The desk is busy (cause 17): music stops and the agent is back with the contact.
    let before = server.requests().len();
    line.transfer_handle().consult(call, "PJSIP/017@desk");
    assert_eq!(next(&mut transfers).await, TransferEvent::Failed(call));
    eventually("the contact back with the agent", || {
        server.members("n1-b1") == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    eventually("the holding bridge removed", || {
        server.requests().len() >= before + 7
    })
    .await;
    assert_eq!(
        server.requests()[before..],
        [
            "POST /bridges bridgeId=n1-h1-1&name=n1-h1-1&type=holding",
            "POST /bridges/n1-h1-1/addChannel channel=n1-c1.",
            "POST /bridges/n1-h1-1/moh mohClass=default",
            "POST /channels app=sanjeevani&appArgs=consult,1&callerId=District Health <1075>&channelId=n1-d1-1.&endpoint=PJSIP/017@desk&timeout=20",
            "POST /bridges/n1-b1/addChannel channel=n1-c1.",
            "DELETE /bridges/n1-h1-1/moh",
            "DELETE /bridges/n1-h1-1",
        ]
    );
    assert!(server.on_hold().is_empty() && server.members("n1-h1-1").is_none());

    // The doctor answers: agent and doctor talk while the contact hears music.
    let before = server.requests().len();
    line.transfer_handle().consult(call, "PJSIP/doctor@desk");
    assert_eq!(next(&mut transfers).await, TransferEvent::Consulting(call));
    assert_eq!(server.members("n1-b1"), strings(&["n1-a1.", "n1-d1-2."]));
    assert_eq!(server.members("n1-h1-2"), strings(&["n1-c1."]));
    assert_eq!(server.on_hold(), ["n1-h1-2"]);

    // Complete: contact and doctor together, the agent free at once.
    line.transfer_handle().complete_transfer(call);
    assert_eq!(next(&mut transfers).await, TransferEvent::Completed(call));
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(call));
    eventually("contact and doctor joined", || {
        server.members("n1-x1") == strings(&["n1-c1.", "n1-d1-2."])
    })
    .await;
    assert_eq!(server.members("n1-b1"), strings(&["n1-a1."]));
    assert!(server.on_hold().is_empty() && server.members("n1-h1-2").is_none());
    assert_eq!(
        server.requests()[before..],
        [
            "POST /bridges bridgeId=n1-h1-2&name=n1-h1-2&type=holding",
            "POST /bridges/n1-h1-2/addChannel channel=n1-c1.",
            "POST /bridges/n1-h1-2/moh mohClass=default",
            "POST /channels app=sanjeevani&appArgs=consult,1&callerId=District Health <1075>&channelId=n1-d1-2.&endpoint=PJSIP/doctor@desk&timeout=20",
            "POST /bridges/n1-b1/addChannel channel=n1-d1-2.",
            "POST /bridges bridgeId=n1-x1&name=n1-x1&type=mixing",
            "POST /bridges/n1-x1/addChannel channel=n1-d1-2.",
            "DELETE /bridges/n1-h1-2/moh",
            "POST /bridges/n1-x1/addChannel channel=n1-c1.",
            "DELETE /bridges/n1-h1-2",
        ]
    );

    // The doctor hangs up: the contact is hung up and the bridge removed;
    // only the agent's phone and bridge are left, and they go with the adapter.
    server.remote_hangup("n1-d1-2.");
    eventually("the handed-over call torn down", || server.live() == (1, 1)).await;
    drop(line);
    eventually("nothing left", || server.live() == (0, 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_whispers_to_an_agent_on_a_recorded_call() {
    let server = AriServer::start().await;
    let mut settings = settings(&server);
    settings.calls.record_calls = true;
    let (mut line, mut events) = connected_call(&server, settings).await;
    let mut supervision = line.take_supervision_events().unwrap();
    let recording = "sanjeevani-n1-1764380000-1";
    eventually("the call is recorded", || {
        server.recordings().0.get(recording).map(String::as_str) == Some("n1-b1")
    })
    .await;
    // The runtime is told, to keep the recording's name with the attempt.
    assert_eq!(
        next_event(&mut events).await,
        LineEvent::Recording(CallId(1))
    );
    assert_eq!(line.recording_name(CallId(1)).as_deref(), Some(recording));

    let before = server.requests().len();
    line.supervise(1, AgentId(1), "PJSIP/supervisor1", SpyMode::Whisper);
    assert_eq!(next(&mut supervision).await, SupervisionEvent::Started(1));
    assert_eq!(server.members("n1-m1"), strings(&["n1-s1.", "n1-v1."]));
    line.stop_supervising(1);
    assert_eq!(next(&mut supervision).await, SupervisionEvent::Ended(1));
    eventually("the session's legs and bridge gone", || {
        server.members("n1-m1").is_none() && server.live() == (2, 1)
    })
    .await;
    assert_eq!(
        server.requests()[before..],
        [
            "POST /channels/n1-a1./snoop app=sanjeevani&appArgs=snoop,1&snoopId=n1-s1.&spy=both&whisper=out",
            "POST /channels app=sanjeevani&appArgs=supervisor,1&callerId=District Health <1075>&channelId=n1-v1.&endpoint=PJSIP/supervisor1&timeout=30",
            "POST /bridges bridgeId=n1-m1&name=n1-m1&type=mixing",
            "POST /bridges/n1-m1/addChannel channel=n1-s1.",
            "POST /bridges/n1-m1/addChannel channel=n1-v1.",
            "DELETE /channels/n1-s1.",
            "DELETE /channels/n1-v1.",
            "DELETE /bridges/n1-m1",
        ]
    );
    assert_eq!(server.members("n1-b1"), strings(&["n1-a1.", "n1-c1."]));

    // The contact hangs up: the recording stops with the call.
    let before = server.requests().len();
    server.remote_hangup("n1-c1.");
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(CallId(1)));
    eventually("the recording stopped", || {
        server.recordings() == (Default::default(), vec![recording.to_string()])
    })
    .await;
    assert_eq!(
        server.requests()[before..],
        [format!("POST /recordings/live/{recording}/stop")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_pauses_dialing() {
    let server = AriServer::start().await;
    let mut settings = settings(&server);
    settings.password = "wrong".into();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let _line = AriLine::start(settings, events_tx);
    assert_eq!(
        next(&mut events).await,
        LineEvent::Line(LineStatus::Down(LineProblem::Unauthorized))
    );
    assert!(
        server.requests().is_empty(),
        "refused before any resource was reached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_call_hears_the_information_message_then_is_hung_up() {
    let server = AriServer::start().await;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings(&server), events_tx);
    let call = CallId(1);
    let number = Phone::parse("+91 99999 00010", Region::default()).unwrap();
    line.dial(call, &number, None);
    assert_eq!(next_event(&mut events).await, LineEvent::Answered(call));
    // No agent within the connect grace: the core drops the call.
    line.drop_call(call);
    eventually("the message played and the call hung up", || {
        server.live() == (0, 0)
    })
    .await;
    assert_eq!(
        naming(&server.requests(), "n1-c1.")[1..],
        [
            "POST /channels/n1-c1./play media=sound:sanjeevani-abandoned&playbackId=n1-p1",
            "DELETE /channels/n1-c1.",
        ]
    );
    // The runtime has recorded the abandon itself: no further event for the call.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(events.try_recv().is_err());
}

/// The medical desk running over this adapter, with members `(id, endpoint)`.
fn start_desk(
    line: &mut AriLine,
    members: &[(u64, &str)],
    config: DeskConfig,
) -> (
    mpsc::Sender<DeskRequest>,
    mpsc::UnboundedReceiver<DeskCommand>,
) {
    let members = members
        .iter()
        .map(|(id, target)| DeskMember {
            id: MemberId(*id),
            target: target.to_string(),
            languages: vec!["hi".into()],
        })
        .collect();
    let (requests_tx, requests) = mpsc::channel(16);
    let (commands_tx, commands) = mpsc::unbounded_channel();
    tokio::spawn(run_desk(
        config,
        members,
        Box::new(line.transfer_handle()),
        line.take_transfer_events().unwrap(),
        requests,
        commands_tx,
    ));
    (requests_tx, commands)
}

fn escalate(call: CallId) -> DeskRequest {
    DeskRequest::Escalate {
        id: EscalationId(1),
        call,
        agent: AgentId(1),
        urgency: Urgency::Urgent,
        language: "hi".into(),
    }
}

/// The desk's commands up to and including the first that `last` accepts.
async fn commands_until(
    commands: &mut mpsc::UnboundedReceiver<DeskCommand>,
    last: impl Fn(&DeskCommand) -> bool,
) -> Vec<DeskCommand> {
    let mut seen = Vec::new();
    loop {
        let command = next(commands).await;
        let done = last(&command);
        seen.push(command);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_rings_the_desk_in_turn_and_hands_the_caller_over_live() {
    let server = AriServer::start().await;
    let (mut line, mut events) = connected_call(&server, settings(&server)).await;
    // Dr 1 is busy (cause 17); Dr 2 answers.
    let (requests, mut commands) = start_desk(
        &mut line,
        &[(1, "PJSIP/017@desk"), (2, "PJSIP/doctor@desk")],
        DeskConfig::default(),
    );
    let call = CallId(1);
    let id = EscalationId(1);
    requests.send(escalate(call)).await.unwrap();
    let seen = commands_until(
        &mut commands,
        |c| matches!(c, DeskCommand::Consult { member, .. } if *member == MemberId(2)),
    )
    .await;
    assert_eq!(
        seen,
        [
            DeskCommand::Consult {
                id,
                call,
                member: MemberId(1)
            },
            DeskCommand::Consult {
                id,
                call,
                member: MemberId(2)
            },
        ]
    );
    // Dr 2 talks with the agent; the caller hears music.
    assert_eq!(
        next(&mut commands).await,
        DeskCommand::Consulting {
            id,
            member: MemberId(2)
        }
    );
    eventually("agent and doctor together", || {
        server.members("n1-b1") == strings(&["n1-a1.", "n1-d1-2."])
    })
    .await;
    assert_eq!(server.on_hold(), ["n1-h1-2"]);
    requests.send(DeskRequest::Complete(id)).await.unwrap();
    let seen = commands_until(&mut commands, |c| matches!(c, DeskCommand::Ended { .. })).await;
    assert_eq!(
        seen,
        [
            DeskCommand::CompleteTransfer { id, call },
            DeskCommand::ReleaseAgent {
                id,
                agent: AgentId(1),
                with_contact: false
            },
            DeskCommand::Ended {
                id,
                outcome: EscalationOutcome::Live {
                    member: MemberId(2)
                }
            },
        ]
    );
    // For the dialer the call is over: the agent is free for the next one.
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(call));
    eventually("caller and doctor joined", || {
        server.members("n1-x1") == strings(&["n1-c1.", "n1-d1-2."])
    })
    .await;
    assert_eq!(server.members("n1-b1"), strings(&["n1-a1."]));
    let consults: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.contains("appArgs=consult,1"))
        .collect();
    assert_eq!(consults.len(), 2, "{consults:?}");
    assert!(consults[0].contains("endpoint=PJSIP/017@desk"));
    assert!(consults[1].contains("endpoint=PJSIP/doctor@desk"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_nobody_at_the_desk_takes_becomes_a_ticket() {
    let server = AriServer::start().await;
    let (mut line, mut events) = connected_call(&server, settings(&server)).await;
    let config = DeskConfig {
        wait_limit: Duration::from_secs(1),
        ..DeskConfig::default()
    };
    let (requests, mut commands) = start_desk(&mut line, &[(1, "PJSIP/017@desk")], config);
    let (call, id) = (CallId(1), EscalationId(1));
    requests.send(escalate(call)).await.unwrap();
    let seen = commands_until(&mut commands, |c| matches!(c, DeskCommand::Ended { .. })).await;
    assert_eq!(
        seen[0],
        DeskCommand::Consult {
            id,
            call,
            member: MemberId(1)
        }
    );
    assert!(seen.contains(&DeskCommand::ReleaseAgent {
        id,
        agent: AgentId(1),
        with_contact: true
    }));
    assert!(
        seen.iter().any(|c| matches!(
            c,
            DeskCommand::OpenTicket {
                reason: TicketReason::DeskUnavailable,
                urgency: Urgency::Urgent,
                ..
            }
        )),
        "{seen:?}"
    );
    // The agent is back with the caller (to say a doctor will call back);
    // the call goes on for the dialer.
    eventually("the caller back with the agent", || {
        server.members("n1-b1") == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    assert!(server.on_hold().is_empty());
    assert!(
        events.try_recv().is_err(),
        "no call event: the call goes on"
    );
    // The caller hanging up later changes nothing for the desk: it has ended.
    requests.send(DeskRequest::CallEnded(call)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rest: Vec<DeskCommand> = std::iter::from_fn(|| commands.try_recv().ok()).collect();
    assert!(
        rest.iter()
            .all(|c| matches!(c, DeskCommand::OfferCallback { .. })),
        "{rest:?}"
    );
}
