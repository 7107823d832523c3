//! The SIP adapter against real SIP peers on loopback: sipp as called parties
//! and as agents' phones, baresip as an auto-answering agent phone, Kamailio
//! as a proxy in front. Every call goes through the dialer core and the store,
//! and the assertions read the attempts the store kept.
//!
//! Peers are started per test on free ports and killed when the test ends.

mod sip_support;

use sanjeevani_contacts::{AttemptOutcome, Phone, Region};
use sanjeevani_core::desk::{
    DeskCommand, DeskConfig, EscalationId, EscalationOutcome, MemberId, Urgency,
};
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_dialer::desk::{run_desk, DeskMember, DeskRequest};
use sanjeevani_dialer::{LineEvent, Telephony, Transfers};
use sanjeevani_sip::{Credentials, SipLine, TransferEvent, Transport};
use sip_support::*;
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
busy = 1
no_answer = 1
congestion = 1
rejected = 1
abandoned = 1
max_per_day = 2
max_total = 2
"#;

fn once(settings: &str) -> String {
    settings
        .replace("max_per_day = 2", "max_per_day = 1")
        .replace("max_total = 2", "max_total = 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_answers_end_attempts_with_their_outcome_and_busy_is_retried() {
    let cases: [(u16, AttemptOutcome); 12] = [
        (486, AttemptOutcome::Busy),
        (600, AttemptOutcome::Busy),
        (480, AttemptOutcome::NoAnswer),
        (408, AttemptOutcome::NoAnswer),
        (404, AttemptOutcome::Invalid),
        (484, AttemptOutcome::Invalid),
        (604, AttemptOutcome::Invalid),
        (403, AttemptOutcome::Rejected),
        (603, AttemptOutcome::Rejected),
        (500, AttemptOutcome::Congestion),
        (502, AttemptOutcome::Congestion),
        (503, AttemptOutcome::Congestion),
    ];
    let numbers: Vec<String> = cases
        .iter()
        .map(|(s, _)| format!("+91 99999 00{s}"))
        .collect();
    let test = Test::new(&numbers, SETTINGS).await;
    let callee = test.sipp("uas_final_from_number.xml", &[]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let config = test.sip_config(callee.port, phones.port);
    let run = test
        .run(config, &[1], Desk::default(), Duration::from_secs(60))
        .await;
    for ((status, outcome), attempts) in cases.iter().zip(&run.attempts) {
        assert_eq!(
            attempts[0].outcome,
            Some(*outcome),
            "{status}: {attempts:?}"
        );
        let retried = match outcome {
            AttemptOutcome::Invalid => 1,
            _ => 2,
        };
        assert_eq!(
            attempts.len(),
            retried,
            "{status} tried {} times",
            attempts.len()
        );
        for pair in attempts.windows(2) {
            let gap = pair[1].dial_at - pair[0].end_at.unwrap();
            assert!(
                gap >= 1000,
                "{status}: retried {gap} ms after the first try"
            );
            assert_eq!(pair[1].outcome, Some(*outcome));
        }
        assert!(attempts[0].ring_at.is_some(), "{status}: 180 marks ringing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_calls_reach_an_agent_and_the_callee_hangs_up() {
    let numbers = numbers(6);
    let test = Test::new(&numbers, SETTINGS).await;
    let callee = test.sipp("uas_hangup_after_talk.xml", &[]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let config = test.sip_config(callee.port, phones.port);
    // Agents would hang up after 20 s: the callees (1-5 s of talk) go first.
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(20)),
    };
    let run = test
        .run(config, &[1, 2], desk, Duration::from_secs(90))
        .await;
    run.assert_all_completed_by_agents(&[1, 2]);
    assert_eq!(run.latencies.len(), numbers.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_hangs_up_and_the_callee_gets_our_bye() {
    let numbers = numbers(4);
    let test = Test::new(&numbers, SETTINGS).await;
    // Rings 1-4 s, answers, waits for our BYE: the sipp run ends only if it comes.
    let callee = test.sipp("uas_answer_random_ring.xml", &["-m", "4"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let config = test.sip_config(callee.port, phones.port);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(500)),
    };
    let run = test
        .run(config, &[1, 2], desk, Duration::from_secs(90))
        .await;
    run.assert_all_completed_by_agents(&[1, 2]);
    assert!(
        callee.exits_cleanly(Duration::from_secs(10)),
        "sipp got every BYE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_cancelled_at_the_timeout() {
    let numbers = numbers(2);
    let settings = once(SETTINGS).replace("no_answer_timeout = 10", "no_answer_timeout = 3");
    let test = Test::new(&numbers, &settings).await;
    // 183 with early media, gives up with 480 only after 10 s; CANCEL gets 487.
    let callee = test.sipp("uas_noanswer_early_media.xml", &["-m", "2"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let config = test.sip_config(callee.port, phones.port);
    let run = test
        .run(config, &[1], Desk::default(), Duration::from_secs(60))
        .await;
    for attempts in &run.attempts {
        let attempt = &attempts[0];
        assert_eq!(attempt.outcome, Some(AttemptOutcome::NoAnswer));
        assert_eq!(
            attempt.cause.as_deref(),
            Some("no answer before the timeout")
        );
        let rang = attempt.end_at.unwrap() - attempt.ring_at.unwrap();
        assert!(
            (2500..6000).contains(&rang),
            "cancelled after {rang} ms of ringing"
        );
    }
    // The callee's scenario completes only through CANCEL → 487 → ACK before its own 480.
    assert!(
        callee.exits_cleanly(Duration::from_secs(10)),
        "CANCEL reached sipp"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_media_then_answer_reaches_a_baresip_agent() {
    let numbers = numbers(2);
    let test = Test::new(&numbers, SETTINGS).await;
    let callee = test.sipp("uas_early_media_answer.xml", &[]);
    let baresip = test.baresip();
    let mut config = test.sip_config(callee.port, baresip.port);
    config.line.agent_uri = format!("sip:agent1@127.0.0.1:{}", baresip.port);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(500)),
    };
    let run = test.run(config, &[1], desk, Duration::from_secs(60)).await;
    run.assert_all_completed_by_agents(&[1]);
    let log = baresip.log();
    assert!(
        log.matches("Call established").count() >= 1,
        "baresip answered: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_challenges_are_answered_and_a_wrong_password_is_rejected() {
    let numbers = numbers(1);
    for (password, outcome) in [
        ("s3cret", AttemptOutcome::Completed),
        ("wrong", AttemptOutcome::Rejected),
    ] {
        let test = Test::new(&numbers, &once(SETTINGS)).await;
        let callee = test.sipp("uas_digest_auth.xml", &[]);
        let phones = test.sipp("agent_phone.xml", &[]);
        let mut config = test.sip_config(callee.port, phones.port);
        config.credentials = Some(Credentials {
            username: "dialer".into(),
            password: password.into(),
        });
        let desk = Desk {
            hang_up_after: Some(Duration::from_millis(300)),
        };
        let run = test.run(config, &[1], desk, Duration::from_secs(30)).await;
        assert_eq!(
            run.attempts[0][0].outcome,
            Some(outcome),
            "password {password}: {}",
            callee.traces()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_trunk_times_out_as_congestion() {
    let numbers = numbers(1);
    let test = Test::new(&numbers, &once(SETTINGS)).await;
    let phones = test.sipp("agent_phone.xml", &[]);
    // Nothing listens on the trunk's port: timer B (64 × T1) ends the INVITE.
    let dead = free_port();
    let mut config = test.sip_config(dead, phones.port);
    config.t1 = Duration::from_millis(20);
    let run = test
        .run(config, &[1], Desk::default(), Duration::from_secs(30))
        .await;
    let attempt = &run.attempts[0][0];
    assert_eq!(attempt.outcome, Some(AttemptOutcome::Congestion));
    let took = attempt.end_at.unwrap() - attempt.dial_at;
    assert!((1200..5000).contains(&took), "timed out after {took} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_tcp() {
    let numbers = numbers(3);
    let test = Test::new(&numbers, SETTINGS).await;
    let callee = test.sipp("uas_answer_random_ring.xml", &["-t", "t1"]);
    let phones = test.sipp("agent_phone.xml", &["-t", "t1"]);
    let mut config = test.sip_config(callee.port, phones.port);
    config.transport = Transport::Tcp;
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(300)),
    };
    let run = test
        .run(config, &[1, 2], desk, Duration::from_secs(60))
        .await;
    run.assert_all_completed_by_agents(&[1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_kamailio_proxy() {
    let numbers = numbers(12);
    let settings = once(SETTINGS).replace("no_answer_timeout = 10", "no_answer_timeout = 6");
    let test = Test::new(&numbers, &settings).await;
    let kamailio = test.kamailio();
    // ~30 % answer, ~20 % busy, ~50 % ring 4-12 s then 480/408 (or our CANCEL at 6 s).
    let callee = test.sipp("uas_mixed_outcomes.xml", &[]);
    test.register(kamailio.port, "service", callee.port);
    let phones = test.sipp("agent_phone.xml", &[]);
    let mut config = test.sip_config(kamailio.port, phones.port);
    config.line.contact_uri = format!("sip:service@127.0.0.1:{}", kamailio.port);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(500)),
    };
    let run = test
        .run(config, &[1, 2], desk, Duration::from_secs(90))
        .await;
    let mut seen = std::collections::BTreeMap::new();
    for attempts in &run.attempts {
        let attempt = &attempts[0];
        let outcome = attempt.outcome.expect("closed");
        *seen.entry(outcome.name()).or_insert(0) += 1;
        match outcome {
            AttemptOutcome::Completed => {
                assert!(attempt.agent.is_some() && attempt.connect_at.is_some())
            }
            AttemptOutcome::Busy | AttemptOutcome::NoAnswer => {
                assert!(attempt.connect_at.is_none())
            }
            other => panic!("unexpected outcome {other:?}: {attempt:?}"),
        }
    }
    assert_eq!(seen.values().sum::<usize>(), numbers.len(), "{seen:?}");
    assert_eq!(
        run.latencies.len(),
        seen.get("completed").copied().unwrap_or(0)
    );
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

/// Agent 1's phone on the line, and call 1 to a contact answered and
/// joined to it (waits until the adapter has measured the connect).
async fn connected_call(line: &mut SipLine, events: &mut mpsc::UnboundedReceiver<LineEvent>) {
    let (agent, call) = (AgentId(1), CallId(1));
    assert!(
        !line.login(agent, None),
        "a SIP agent is ready only once the phone answers"
    );
    assert_eq!(next_event(events).await, LineEvent::AgentOnLine(agent));
    line.dial(
        call,
        &Phone::parse("+91 99999 00010", Region::default()).unwrap(),
        None,
    );
    assert_eq!(next_event(events).await, LineEvent::Answered(call));
    line.connect(call, agent);
    for _ in 0..100 {
        if line.stats().take_latencies().len() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the call was not connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_transfer_consults_a_third_party_then_hands_the_contact_over() {
    let test = Test::new(&numbers(1), SETTINGS).await;
    // Contact, agent and medical desk all accept re-INVITEs (agent_phone.xml).
    let contact = test.sipp("agent_phone.xml", &["-m", "1"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let wing = test.sipp("agent_phone.xml", &["-m", "1"]);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = SipLine::start(test.sip_config(contact.port, phones.port), events_tx)
        .await
        .unwrap();
    let mut transfers = line.take_transfer_events().unwrap();
    let call = CallId(1);
    connected_call(&mut line, &mut events).await;

    line.transfer_handle()
        .consult(call, &format!("sip:wing@127.0.0.1:{}", wing.port));
    let consulting = tokio::time::timeout(Duration::from_secs(10), transfers.recv()).await;
    assert_eq!(consulting.unwrap(), Some(TransferEvent::Consulting(call)));
    line.transfer_handle().complete_transfer(call);
    let completed = tokio::time::timeout(Duration::from_secs(10), transfers.recv()).await;
    assert_eq!(completed.unwrap(), Some(TransferEvent::Completed(call)));
    // For the dialer the call is over and the agent is free.
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(call));

    // The wing hangs up the handed-over call... here the adapter closes and
    // hangs up both: each sipp ends its one call with a BYE it answered.
    line.close().await;
    assert!(
        contact.exits_cleanly(Duration::from_secs(10)),
        "{}",
        contact.traces()
    );
    assert!(
        wing.exits_cleanly(Duration::from_secs(10)),
        "{}",
        wing.traces()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consult_nobody_answers_puts_the_agent_back_with_the_contact() {
    let test = Test::new(&numbers(1), SETTINGS).await;
    let contact = test.sipp("agent_phone.xml", &["-m", "1"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut config = test.sip_config(contact.port, phones.port);
    config.t1 = Duration::from_millis(20);
    let mut line = SipLine::start(config, events_tx).await.unwrap();
    let mut transfers = line.take_transfer_events().unwrap();
    let call = CallId(1);
    connected_call(&mut line, &mut events).await;
    // Nothing listens there: the consult times out (64 × T1).
    line.transfer_handle()
        .consult(call, &format!("sip:wing@127.0.0.1:{}", free_port()));
    let failed = tokio::time::timeout(Duration::from_secs(10), transfers.recv()).await;
    assert_eq!(failed.unwrap(), Some(TransferEvent::Failed(call)));
    // Agent and contact talk again; the agent hangs up and the contact gets the BYE.
    tokio::time::sleep(Duration::from_millis(300)).await;
    line.hangup(call);
    assert!(
        contact.exits_cleanly(Duration::from_secs(10)),
        "{}",
        contact.traces()
    );
    assert!(
        events.try_recv().is_err(),
        "no call event after our own hang-up"
    );
    line.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialing_pauses_while_the_trunk_is_down_and_no_contact_is_lost() {
    let numbers = numbers(10);
    let settings = SETTINGS
        .replace("max_per_day = 2", "max_per_day = 5")
        .replace("max_total = 2", "max_total = 5");
    let test = Test::new(&numbers, &settings).await;
    let kamailio = test.kamailio();
    let port = kamailio.port;
    let callee = test.sipp("uas_answer_random_ring.xml", &[]);
    test.register(port, "service", callee.port);
    let phones = test.sipp("agent_phone.xml", &[]);
    let mut config = test.sip_config(port, phones.port);
    config.line.contact_uri = format!("sip:service@127.0.0.1:{port}");
    config.keepalive = Some(Duration::from_millis(300));
    config.t1 = Duration::from_millis(50);
    let desk = Desk {
        hang_up_after: Some(Duration::from_millis(300)),
    };
    // The proxy stops answering 3 s in, for 8 s.
    let outage = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let down_at = chrono::Utc::now().timestamp_millis();
        kamailio.signal("STOP");
        tokio::time::sleep(Duration::from_secs(8)).await;
        let up_at = chrono::Utc::now().timestamp_millis();
        kamailio.signal("CONT");
        (down_at, up_at)
    };
    let (run, (down_at, up_at)) = tokio::join!(
        test.run(config, &[1, 2], desk, Duration::from_secs(120)),
        outage
    );
    // Nothing lost: every contact talked to an agent in the end.
    run.assert_all_completed_by_agents(&[1, 2]);
    // Nothing dialed once the keepalives had found the trunk down (64 × T1
    // plus one keepalive interval) until it answered again.
    let detected = down_at + 3200 + 300 + 200;
    let dialed_while_down: Vec<_> = run
        .attempts
        .iter()
        .flatten()
        .filter(|a| a.dial_at > detected && a.dial_at < up_at)
        .collect();
    assert!(dialed_while_down.is_empty(), "{dialed_while_down:#?}");
    let after: usize = run
        .attempts
        .iter()
        .flatten()
        .filter(|a| a.dial_at >= up_at)
        .count();
    assert!(after > 0, "dialing resumed when the trunk came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_call_hears_the_information_message_then_is_hung_up() {
    let numbers = numbers(2);
    // Two lines for the one agent: one call reaches the agent, the other finds
    // nobody within the 2 s connect grace.
    let settings = once(SETTINGS).replace(
        "mode = \"progressive\"",
        "mode = \"power\"\npower_ratio = 2.0",
    );
    let test = Test::new(&numbers, &settings).await;
    let callee = test.sipp("uas_answer_random_ring.xml", &["-m", "2"]);
    // Answers, "plays" for 1-5 s, hangs up: the information message.
    let message = test.sipp("uas_hangup_after_talk.xml", &["-m", "1"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    let mut config = test.sip_config(callee.port, phones.port);
    config.line.announcement_uri = Some(format!("sip:abandoned@127.0.0.1:{}", message.port));
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(8)),
    };
    let run = test.run(config, &[1], desk, Duration::from_secs(60)).await;
    let mut outcomes: Vec<_> = run.attempts.iter().map(|a| a[0].outcome.unwrap()).collect();
    outcomes.sort_by_key(|o| o.name());
    assert_eq!(
        outcomes,
        [AttemptOutcome::Abandoned, AttemptOutcome::Completed]
    );
    // The message's call ran to its own BYE; the dropped callee got ours after it.
    assert!(
        message.exits_cleanly(Duration::from_secs(10)),
        "{}",
        message.traces()
    );
    assert!(
        callee.exits_cleanly(Duration::from_secs(10)),
        "{}",
        callee.traces()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_rings_the_desk_in_turn_and_hands_the_caller_over_live() {
    let test = Test::new(&numbers(1), SETTINGS).await;
    let contact = test.sipp("agent_phone.xml", &["-m", "1"]);
    let phones = test.sipp("agent_phone.xml", &[]);
    // Dr 1 answers 486 Busy Here; Dr 2 answers and takes the caller.
    let busy = test.sipp("uas_final_from_number.xml", &[]);
    let doctor = test.sipp("agent_phone.xml", &["-m", "1"]);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = SipLine::start(test.sip_config(contact.port, phones.port), events_tx)
        .await
        .unwrap();
    let members = vec![
        DeskMember {
            id: MemberId(1),
            target: format!("sip:486@127.0.0.1:{}", busy.port),
            languages: vec!["hi".into()],
        },
        DeskMember {
            id: MemberId(2),
            target: format!("sip:doctor@127.0.0.1:{}", doctor.port),
            languages: vec!["hi".into()],
        },
    ];
    let (requests, desk_requests) = mpsc::channel(16);
    let (commands_tx, mut commands) = mpsc::unbounded_channel();
    let desk = tokio::spawn(run_desk(
        DeskConfig::default(),
        members,
        Box::new(line.transfer_handle()),
        line.take_transfer_events().unwrap(),
        desk_requests,
        commands_tx,
    ));
    let (agent, call, id) = (AgentId(1), CallId(1), EscalationId(1));
    connected_call(&mut line, &mut events).await;

    requests
        .send(DeskRequest::Escalate {
            id,
            call,
            agent,
            urgency: Urgency::Urgent,
            language: "hi".into(),
        })
        .await
        .unwrap();
    // Dr 1 is busy: Dr 2 is rung, answers and talks with the agent.
    let consult = |member| DeskCommand::Consult {
        id,
        call,
        member: MemberId(member),
    };
    assert_eq!(next_command(&mut commands).await, consult(1));
    assert_eq!(next_command(&mut commands).await, consult(2));
    assert_eq!(
        next_command(&mut commands).await,
        DeskCommand::Consulting {
            id,
            member: MemberId(2)
        }
    );
    requests.send(DeskRequest::Complete(id)).await.unwrap();
    assert_eq!(
        next_command(&mut commands).await,
        DeskCommand::CompleteTransfer { id, call }
    );
    assert_eq!(
        next_command(&mut commands).await,
        DeskCommand::ReleaseAgent {
            id,
            agent,
            with_contact: false
        }
    );
    assert_eq!(
        next_command(&mut commands).await,
        DeskCommand::Ended {
            id,
            outcome: EscalationOutcome::Live {
                member: MemberId(2)
            }
        }
    );
    // The agent is free: for the dialer the call ended.
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(call));
    drop(requests);
    let _ = desk.await;
    // Closing hangs up the handed-over call: caller and doctor each end their one call.
    line.close().await;
    assert!(
        contact.exits_cleanly(Duration::from_secs(10)),
        "{}",
        contact.traces()
    );
    assert!(
        doctor.exits_cleanly(Duration::from_secs(10)),
        "{}",
        doctor.traces()
    );
}

async fn next_command(commands: &mut mpsc::UnboundedReceiver<DeskCommand>) -> DeskCommand {
    tokio::time::timeout(Duration::from_secs(10), commands.recv())
        .await
        .expect("a desk command in time")
        .expect("the desk runs")
}
