//! The ARI adapter and the dialer against a real Asterisk, started from the
//! operator's kit (`tests/asterisk_support`), with the telephone network
//! and the phones played by sipp on loopback. Each test asserts what the
//! store recorded and what the far ends saw, not only our own requests, and
//! that nothing is left in Asterisk at the end. Without an Asterisk on the
//! machine each test says so and is skipped.

mod asterisk_support;
mod sip_support;

use asterisk_support::{
    band_level, sipp_calls, sound_length, wav_length, Options, Pbx, ARI_PASSWORD, ARI_USER,
    KIT_PHONES,
};
use sanjeevani_ari::calls::supervise::{SpyMode, SupervisionEvent};
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_contacts::{AttemptOutcome, Phone, Region};
use sanjeevani_core::{AgentId, CallId};
use sanjeevani_dialer::{LineEvent, Telephony, TransferEvent, Transfers};
use sip_support::{Desk, Test};
use std::time::{Duration, Instant};
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

/// The adapter's settings for application `app` on `pbx`.
fn settings(pbx: &Pbx, app: &str) -> AriSettings {
    AriSettings {
        base: pbx.base(),
        username: ARI_USER.into(),
        password: ARI_PASSWORD.into(),
        calls: AriConfig {
            caller_id: "District Health <1075>".into(),
            originate_timeout: 30,
            consult_timeout: 20,
            ..AriConfig::new(app, "n1")
        },
        ping: Duration::from_secs(1),
    }
}

/// `+91 99999 00{last}`: the network behaves as `last` says.
fn number(last: &str) -> String {
    format!("+91 99999 00{last}")
}

/// `n` numbers the network answers and talks on: none ends in the digits of
/// another behaviour (`uas_network.xml`).
fn answering_numbers(n: usize) -> Vec<String> {
    const OTHERS: [&str; 10] = [
        "486", "404", "503", "480", "019", "183", "077", "066", "055", "044",
    ];
    (10_000..)
        .map(|i| format!("+91 99998 {i:05}"))
        .filter(|number| !OTHERS.iter().any(|last| number.ends_with(last)))
        .take(n)
        .collect()
}

/// What the network saw of the call to the number ending in `last`.
fn seen_by_network(pbx: &Pbx, last: &str) -> Vec<String> {
    seen_by(&pbx.network, last)
}

/// What the phones saw of the one call to a user ending in `user`.
fn seen_by_phone(pbx: &Pbx, user: &str) -> Vec<Vec<String>> {
    sipp_calls(&pbx.phones)
        .into_iter()
        .filter(|(u, _)| u == user)
        .map(|(_, seen)| seen)
        .collect()
}

fn seen_by(peer: &sip_support::Peer, last: &str) -> Vec<String> {
    let calls = sipp_calls(peer);
    let mut found: Vec<Vec<String>> = calls
        .into_iter()
        .filter(|(user, _)| user.ends_with(last))
        .map(|(_, seen)| seen)
        .collect();
    assert_eq!(found.len(), 1, "one call to …{last}: {found:?}");
    found.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asterisk_runs_the_kit_as_it_is() {
    let Some(pbx) = Pbx::start(Options {
        test: "asterisk_runs_the_kit_as_it_is",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let asterisk = &pbx.asterisk;
    // Every file of the kit, and nothing but addresses, ports, paths and secrets changed.
    for conf in &asterisk.rendered {
        let kit = asterisk_support::kit::Conf::load(&conf.file).unwrap();
        assert_eq!(
            conf.drift(&kit, &asterisk.added_phones),
            Vec::<String>::new()
        );
    }
    let endpoints = asterisk.cli("pjsip show endpoints");
    for name in std::iter::once("trunk").chain(KIT_PHONES.iter().copied()) {
        assert!(
            endpoints.contains(&format!("Endpoint:  {name}")),
            "{name} in\n{endpoints}"
        );
    }
    let dialplan = asterisk.cli("dialplan show");
    for context in [
        "dialer-amd",
        "dialer-information-message",
        "dialer-fallback",
        "from-trunk",
        "agents",
        "medical-desk",
    ] {
        assert!(
            dialplan.contains(&format!("Context '{context}'")),
            "{context} in\n{dialplan}"
        );
    }
    let modules = asterisk.cli("module show like res_stasis_snoop");
    assert!(modules.contains("Running"), "{modules}");
    let log = asterisk.log();
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARNING"))
        .filter(|l| {
            asterisk_support::kit::files()
                .unwrap()
                .iter()
                .any(|f| l.contains(f.as_str()))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the kit's files load cleanly: {problems:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_come_from_the_real_hangup_causes() {
    let Some(pbx) = Pbx::start(Options {
        test: "outcomes_come_from_the_real_hangup_causes",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let behaviours = [
        ("010", AttemptOutcome::Completed),
        ("486", AttemptOutcome::Busy),
        ("019", AttemptOutcome::NoAnswer),
        ("404", AttemptOutcome::Invalid),
        ("503", AttemptOutcome::Congestion),
        ("480", AttemptOutcome::NoAnswer),
        ("183", AttemptOutcome::Completed),
        ("077", AttemptOutcome::Completed),
    ];
    let contacts: Vec<String> = behaviours.iter().map(|(last, _)| number(last)).collect();
    let test = Test::new(&contacts, SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&pbx, "sanjeevani-outcomes"), events_tx);
    // Agents hang up 3 s into a call; the callee of 077 hangs up first, at 2 s.
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(3)),
    };
    let attempts = test
        .run_with(line, events, &[1, 2], desk, Duration::from_secs(90))
        .await;
    let outcomes: Vec<AttemptOutcome> = attempts.iter().map(|a| a[0].outcome.unwrap()).collect();
    let expected: Vec<AttemptOutcome> = behaviours.iter().map(|(_, o)| *o).collect();
    assert_eq!(outcomes, expected);
    for attempts in &attempts {
        assert_eq!(attempts.len(), 1, "dialed once: {attempts:?}");
    }
    // What the far end saw: the unanswered call cancelled by the no-answer
    // timeout, the answered ones ended by us, 077 ended by the callee.
    let cancelled = seen_by_network(&pbx, "019");
    assert!(cancelled.contains(&"<CANCEL".to_string()), "{cancelled:?}");
    assert!(cancelled.contains(&">487".to_string()), "{cancelled:?}");
    for answered in ["010", "183"] {
        let seen = seen_by_network(&pbx, answered);
        assert!(seen.contains(&"<BYE".to_string()), "{answered}: {seen:?}");
    }
    let hung_up = seen_by_network(&pbx, "077");
    assert!(hung_up.contains(&">BYE".to_string()), "{hung_up:?}");
    let busy = seen_by_network(&pbx, "486");
    assert!(busy.contains(&">486".to_string()), "{busy:?}");
    // Each answered contact reached an agent's phone.
    for attempts in &attempts {
        let attempt = &attempts[0];
        if attempt.answer_at.is_some() {
            assert!(attempt.agent.is_some(), "{attempt:?}");
        }
    }
    pbx.assert_nothing_left(Duration::from_secs(10)).await;
}

/// The next line event that is not `Ringing`.
async fn next_event(events: &mut mpsc::UnboundedReceiver<LineEvent>) -> LineEvent {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(15), events.recv())
            .await
            .expect("an event in time")
            .expect("the adapter runs");
        if !matches!(event, LineEvent::Ringing(_)) {
            return event;
        }
    }
}

async fn next<T>(reports: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(15), reports.recv())
        .await
        .expect("a report in time")
        .expect("the adapter runs")
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

/// Agent 1's phone (the kit's `agent1`) on the line and call 1, to the
/// number ending in `last`, answered and joined to it: both in the agent's
/// bridge as Asterisk reports it, and the join confirmed to the adapter
/// (its answer-to-connect time taken, and returned).
async fn connected_call(
    pbx: &Pbx,
    settings: AriSettings,
    last: &str,
) -> (AriLine, mpsc::UnboundedReceiver<LineEvent>, Duration) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings, events_tx);
    let (agent, call) = (AgentId(1), CallId(1));
    assert!(
        !line.login(agent, None),
        "ready only once the phone is bridged"
    );
    assert_eq!(next_event(&mut events).await, LineEvent::AgentOnLine(agent));
    let number = Phone::parse(&number(last), Region::default()).unwrap();
    line.dial(call, &number, Some("hi"));
    assert_eq!(next_event(&mut events).await, LineEvent::Answered(call));
    line.connect(call, agent);
    pbx.eventually("contact and agent bridged", || async {
        pbx.members("n1-b1").await == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    let mut latencies = Vec::new();
    for _ in 0..100 {
        latencies.extend(line.take_latencies());
        if !latencies.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(latencies.len(), 1, "one join confirmed");
    (line, events, latencies[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_machines_are_told_from_people_by_the_kits_detection() {
    let Some(pbx) = Pbx::start(Options {
        test: "answering_machines_are_told_from_people_by_the_kits_detection",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    // A voicemail greeting, a person who says hello, a person who says nothing.
    let behaviours = [
        ("066", AttemptOutcome::Machine),
        ("055", AttemptOutcome::Completed),
        ("044", AttemptOutcome::Completed),
    ];
    let contacts: Vec<String> = behaviours.iter().map(|(last, _)| number(last)).collect();
    let test = Test::new(&contacts, SETTINGS).await;
    let mut settings = settings(&pbx, "sanjeevani-amd");
    settings.calls.amd_context = Some("dialer-amd".into());
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings, events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(1)),
    };
    let attempts = test
        .run_with(line, events, &[1, 2, 3], desk, Duration::from_secs(60))
        .await;
    let outcomes: Vec<AttemptOutcome> = attempts.iter().map(|a| a[0].outcome.unwrap()).collect();
    let expected: Vec<AttemptOutcome> = behaviours.iter().map(|(_, o)| *o).collect();
    assert_eq!(outcomes, expected);
    // Asterisk's own verdicts: the greeting too long, the hello a person's.
    let log = pbx.asterisk.log();
    let verdicts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Stasis(") && l.contains(",amd,"))
        .collect();
    assert_eq!(verdicts.len(), 3, "{verdicts:#?}");
    assert!(
        verdicts
            .iter()
            .any(|v| v.contains("MACHINE,LONGGREETING") || v.contains("MACHINE,MAXWORDS")),
        "{verdicts:#?}"
    );
    assert!(
        verdicts.iter().any(|v| v.contains("HUMAN")),
        "{verdicts:#?}"
    );
    // Silence ends as INITIALSILENCE or, when frames arrive late, NOTSURE:
    // either way the person is put through.
    assert!(
        verdicts
            .iter()
            .any(|v| v.contains("MACHINE,INITIALSILENCE") || v.contains("NOTSURE")),
        "{verdicts:#?}"
    );
    // The machine was hung up on; the people reached agents.
    let machine = seen_by_network(&pbx, "066");
    assert!(machine.contains(&"<BYE".to_string()), "{machine:?}");
    for attempts in &attempts[1..] {
        assert!(attempts[0].agent.is_some(), "{attempts:?}");
    }
    pbx.assert_nothing_left(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_call_hears_the_whole_message_in_its_language_then_is_hung_up() {
    let Some(pbx) = Pbx::start(Options {
        test: "an_abandoned_call_hears_the_whole_message_in_its_language_then_is_hung_up",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings(&pbx, "sanjeevani-message"), events_tx);
    // Hindi, and a language with no recording of its own (Asterisk's default, English).
    for (call, last, language, sound) in [
        (CallId(1), "010", "hi", "abandoned-hi"),
        (CallId(2), "011", "ta", "abandoned-en"),
    ] {
        let phone = Phone::parse(&number(last), Region::default()).unwrap();
        line.dial(call, &phone, Some(language));
        assert_eq!(next_event(&mut events).await, LineEvent::Answered(call));
        // No agent within the connect grace: the core drops the call.
        let dropped = Instant::now();
        line.drop_call(call);
        let channel = format!("n1-c{}.", call.0);
        let deadline = dropped + Duration::from_secs(30);
        while pbx.ids("channels").await.contains(&channel) {
            assert!(Instant::now() < deadline, "the call was never hung up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let heard = dropped.elapsed();
        let message = sound_length(sound);
        assert!(
            heard + Duration::from_millis(300) >= message
                && heard < message + Duration::from_secs(2),
            "{language}: hung up {heard:?} after the drop, the message lasts {message:?}"
        );
        let seen = seen_by_network(&pbx, last);
        assert!(seen.contains(&"<BYE".to_string()), "{seen:?}");
    }
    let log = pbx.asterisk.log();
    assert!(
        log.contains("Playing 'sanjeevani-abandoned.slin' (language 'hi')"),
        "the Hindi recording played"
    );
    // No further event for an abandoned call: the runtime recorded it.
    assert!(events.try_recv().is_err());
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_call_is_recorded_with_both_voices_for_as_long_as_it_lasted() {
    let Some(pbx) = Pbx::start(Options {
        test: "a_joined_call_is_recorded_with_both_voices_for_as_long_as_it_lasted",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let mut settings = settings(&pbx, "sanjeevani-record");
    settings.calls.record_calls = true;
    let recording = format!("{}-1.wav", settings.calls.recording_prefix);
    let (mut line, _events, latency) = connected_call(&pbx, settings, "010").await;
    let joined = Instant::now();
    assert!(
        latency < Duration::from_millis(500),
        "answer to connect {latency:?}"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    // The agent hangs up from the desk.
    line.hangup(CallId(1));
    let lasted = joined.elapsed();
    let path = pbx.asterisk.recording_dir().join(&recording);
    pbx.eventually("the recording is stored", || async {
        !pbx.ids("channels").await.contains(&"n1-c1.".to_string())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let length = wav_length(&path);
    assert!(
        length + Duration::from_secs(1) >= lasted && length <= lasted + Duration::from_secs(1),
        "{} lasts {length:?}, the call {lasted:?}",
        path.display()
    );
    // The callee's voice (300 Hz) and the agent's phone (500 Hz) are both in it.
    let (callee, phone, neither) = (
        band_level(&path, 270, 330),
        band_level(&path, 470, 530),
        band_level(&path, 1500, 1700),
    );
    assert!(
        callee > neither + 20.0,
        "callee {callee} dB against {neither} dB"
    );
    assert!(
        phone > neither + 20.0,
        "phone {phone} dB against {neither} dB"
    );
    let seen = seen_by_network(&pbx, "010");
    assert!(seen.contains(&"<BYE".to_string()), "{seen:?}");
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_holds_the_caller_with_music_consults_and_hands_over() {
    let Some(pbx) = Pbx::start(Options {
        test: "a_warm_transfer_holds_the_caller_with_music_consults_and_hands_over",
        // The supervisor's phone is busy; the doctor talks 3 s once
        // answered, then hangs up.
        phone_users: vec![
            ("supervisor", "busy-supervisor".into()),
            ("doctor", "brief-doctor".into()),
        ],
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let (mut line, mut events, _) =
        connected_call(&pbx, settings(&pbx, "sanjeevani-transfer"), "010").await;
    let mut transfers = line.take_transfer_events().unwrap();
    let call = CallId(1);
    let desk = line.transfer_handle();

    // A busy member: the music stops and the contact is back with the agent.
    desk.consult(call, "PJSIP/supervisor");
    assert_eq!(next(&mut transfers).await, TransferEvent::Failed(call));
    pbx.eventually("the contact back with the agent", || async {
        pbx.members("n1-b1").await == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    assert_eq!(
        pbx.members("n1-h1-1").await,
        None,
        "the holding bridge gone"
    );
    assert!(seen_by_phone(&pbx, "busy-supervisor")[0].contains(&">486".to_string()));

    // The doctor answers; agent and doctor talk while the caller hears music.
    desk.consult(call, "PJSIP/doctor");
    assert_eq!(next(&mut transfers).await, TransferEvent::Consulting(call));
    assert_eq!(pbx.members("n1-b1").await, strings(&["n1-a1.", "n1-d1-2."]));
    assert_eq!(pbx.members("n1-h1-2").await, strings(&["n1-c1."]));
    // A holding bridge plays its music through an announcer channel of its own.
    let log = pbx.asterisk.log();
    assert!(
        log.contains("joined 'holding_bridge' stasis-bridge <n1-h1-2>")
            && log
                .contains("Started music on hold, class 'default', on channel 'Announcer/ARI_MOH"),
        "the caller hears the kit's music on hold"
    );
    // Cancelled: the doctor's phone is hung up, the caller back with the agent.
    desk.cancel_transfer(call);
    assert_eq!(next(&mut transfers).await, TransferEvent::Failed(call));
    pbx.eventually("the caller back with the agent", || async {
        pbx.members("n1-b1").await == strings(&["n1-a1.", "n1-c1."])
    })
    .await;
    let doctor = seen_by_phone(&pbx, "brief-doctor");
    assert!(doctor[0].contains(&"<BYE".to_string()), "{doctor:?}");

    // Again, and handed over: caller and doctor together, the agent free.
    desk.consult(call, "PJSIP/doctor");
    assert_eq!(next(&mut transfers).await, TransferEvent::Consulting(call));
    desk.complete_transfer(call);
    assert_eq!(next(&mut transfers).await, TransferEvent::Completed(call));
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(call));
    pbx.eventually("caller and doctor joined", || async {
        pbx.members("n1-x1").await == strings(&["n1-c1.", "n1-d1-3."])
    })
    .await;
    assert_eq!(pbx.members("n1-b1").await, strings(&["n1-a1."]));
    // The doctor hangs up: the caller is hung up and their bridge removed.
    pbx.eventually("the handed-over call torn down", || async {
        pbx.ids("channels").await == ["n1-a1."]
    })
    .await;
    let caller = seen_by_network(&pbx, "010");
    assert!(caller.contains(&"<BYE".to_string()), "{caller:?}");
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_on_hold_ends_the_consult() {
    let Some(pbx) = Pbx::start(Options {
        test: "a_caller_who_hangs_up_on_hold_ends_the_consult",
        phone_users: vec![("doctor", "silent-doctor".into())],
        ..Default::default()
    })
    .await
    else {
        return;
    };
    // The caller hangs up two seconds after answering; the doctor's phone rings on.
    let (mut line, mut events, _) =
        connected_call(&pbx, settings(&pbx, "sanjeevani-onhold"), "077").await;
    let mut transfers = line.take_transfer_events().unwrap();
    line.transfer_handle().consult(CallId(1), "PJSIP/doctor");
    pbx.eventually("the caller on hold", || async {
        pbx.members("n1-h1-1").await == strings(&["n1-c1."])
    })
    .await;
    // The call's end is the news (the desk hears of it from the dialer).
    assert_eq!(next_event(&mut events).await, LineEvent::Hangup(CallId(1)));
    pbx.eventually("only the agent's phone left", || async {
        pbx.ids("channels").await == ["n1-a1."]
    })
    .await;
    let doctor = seen_by_phone(&pbx, "silent-doctor");
    assert!(doctor[0].contains(&"<CANCEL".to_string()), "{doctor:?}");
    assert!(
        transfers.try_recv().is_err(),
        "no transfer news after the call ended"
    );
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_whispers_and_barges_through_snoop_channels() {
    let Some(pbx) = Pbx::start(Options {
        test: "a_supervisor_listens_whispers_and_barges_through_snoop_channels",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let (mut line, _events, _) =
        connected_call(&pbx, settings(&pbx, "sanjeevani-supervise"), "010").await;
    let mut supervision = line.take_supervision_events().unwrap();
    for (n, mode) in [
        (1, SpyMode::Listen),
        (2, SpyMode::Whisper),
        (3, SpyMode::Barge),
    ] {
        line.supervise(n, AgentId(1), "PJSIP/supervisor", mode);
        assert_eq!(
            next(&mut supervision).await,
            SupervisionEvent::Started(n),
            "{mode:?}"
        );
        let snoop = format!("n1-s{n}.");
        let phone = format!("n1-v{n}.");
        assert_eq!(
            pbx.members(&format!("n1-m{n}")).await,
            strings(&[&snoop, &phone]),
            "{mode:?}"
        );
        // The agent's call goes on untouched.
        assert_eq!(pbx.members("n1-b1").await, strings(&["n1-a1.", "n1-c1."]));
        line.stop_supervising(n);
        assert_eq!(next(&mut supervision).await, SupervisionEvent::Ended(n));
        pbx.eventually("the session's legs and bridge gone", || async {
            let channels = pbx.ids("channels").await;
            !channels.contains(&snoop) && !channels.contains(&phone)
        })
        .await;
    }
    let supervisor = seen_by_phone(&pbx, "supervisor");
    assert_eq!(supervisor.len(), 3, "rung once per session: {supervisor:?}");
    for call in &supervisor {
        assert!(call.contains(&"<BYE".to_string()), "{call:?}");
    }
    // Asterisk's snoop: spy both ways, whisper out for whisper and both for barge.
    let log = pbx.asterisk.log();
    assert!(log.matches("Snoop/").count() >= 3, "three snoop channels");
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_at_once_are_two_stasis_applications() {
    let Some(pbx) = Pbx::start(Options {
        test: "two_campaigns_at_once_are_two_stasis_applications",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let first = Test::new(&[number("010"), number("011")], SETTINGS).await;
    let second = Test::new(&[number("012"), number("013")], SETTINGS).await;
    let (a_tx, a_events) = mpsc::unbounded_channel();
    let (b_tx, b_events) = mpsc::unbounded_channel();
    let mut a = settings(&pbx, "sanjeevani-n1-1");
    a.calls.prefix = "n1".into();
    let mut b = settings(&pbx, "sanjeevani-n1-2");
    b.calls.prefix = "n2".into();
    let a = AriLine::start(a, a_tx);
    let b = AriLine::start(b, b_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(1)),
    };
    let watch = async {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            for app in pbx.get("/applications").await.as_array().unwrap() {
                seen.insert(app["name"].as_str().unwrap().to_string());
            }
            if seen.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    };
    let (first_attempts, second_attempts, apps) = tokio::join!(
        first.run_with(a, a_events, &[1], desk, Duration::from_secs(60)),
        second.run_with(b, b_events, &[2], desk, Duration::from_secs(60)),
        watch,
    );
    assert_eq!(
        apps,
        ["sanjeevani-n1-1".to_string(), "sanjeevani-n1-2".to_string()].into()
    );
    for attempts in first_attempts.iter().chain(&second_attempts) {
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(
            attempts[0].outcome,
            Some(AttemptOutcome::Completed),
            "{attempts:?}"
        );
    }
    pbx.assert_nothing_left(Duration::from_secs(10)).await;
}

/// Each contact dialled once, its attempt closed with an outcome.
fn each_closed_once(attempts: &[Vec<sanjeevani_store::Attempt>]) {
    for attempts in attempts {
        assert_eq!(attempts.len(), 1, "dialled once: {attempts:?}");
        assert!(attempts[0].outcome.is_some(), "closed: {attempts:?}");
    }
}

/// Waits until some contact is in an agent's bridge.
async fn until_a_call_is_joined(pbx: &Pbx) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let bridges = pbx.get("/bridges").await;
        let joined = bridges.as_array().unwrap().iter().any(|b| {
            b["channels"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c.as_str().is_some_and(|c| c.contains("-c")))
            })
        });
        if joined {
            return;
        }
        assert!(Instant::now() < deadline, "no call was joined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asterisk_killed_mid_campaign_and_started_again_loses_nobody() {
    let Some(pbx) = Pbx::start(Options {
        test: "asterisk_killed_mid_campaign_and_started_again_loses_nobody",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let contacts = answering_numbers(12);
    let test = Test::new(&contacts, SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&pbx, "sanjeevani-crash"), events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(2)),
    };
    let crash = async {
        until_a_call_is_joined(&pbx).await;
        pbx.asterisk.kill();
        let killed = chrono::Utc::now().timestamp_millis();
        tokio::time::sleep(Duration::from_secs(2)).await;
        pbx.asterisk.start().await.unwrap();
        killed
    };
    let (attempts, killed) = tokio::join!(
        test.run_with(line, events, &[1, 2], desk, Duration::from_secs(120)),
        crash
    );
    each_closed_once(&attempts);
    // Calls cut by the crash ended; dialing resumed on the new Asterisk once
    // the agents' phones were called again, and those calls were completed.
    let after: Vec<&sanjeevani_store::Attempt> = attempts
        .iter()
        .map(|a| &a[0])
        .filter(|a| a.dial_at > killed)
        .collect();
    assert!(!after.is_empty(), "dialing resumed after the restart");
    for attempt in &after {
        assert_eq!(
            attempt.outcome,
            Some(AttemptOutcome::Completed),
            "{attempt:?}"
        );
    }
    let phones = sipp_calls(&pbx.phones);
    for agent in ["agent1", "agent2"] {
        let calls = phones.iter().filter(|(u, _)| u == agent).count();
        assert!(
            calls >= 2,
            "{agent}'s phone called again after the restart: {calls}"
        );
    }
    pbx.assert_nothing_left(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_cut_while_asterisk_stays_up_loses_nothing() {
    let Some(pbx) = Pbx::start(Options {
        test: "the_websocket_cut_while_asterisk_stays_up_loses_nothing",
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let proxy = asterisk_support::Proxy::start(pbx.asterisk.http_port).await;
    let contacts = answering_numbers(8);
    let test = Test::new(&contacts, SETTINGS).await;
    let mut settings = settings(&pbx, "sanjeevani-cut");
    settings.base = proxy.base();
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings, events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(2)),
    };
    let cut = async {
        until_a_call_is_joined(&pbx).await;
        proxy.cut();
    };
    let (attempts, ()) = tokio::join!(
        test.run_with(line, events, &[1, 2], desk, Duration::from_secs(90)),
        cut
    );
    each_closed_once(&attempts);
    // The calls up at the cut went on in Asterisk and were ended by their agents.
    for attempts in &attempts {
        assert_eq!(
            attempts[0].outcome,
            Some(AttemptOutcome::Completed),
            "{attempts:?}"
        );
    }
    let log = pbx.asterisk.log();
    assert!(
        log.matches("Creating Stasis app 'sanjeevani-cut'").count()
            + log
                .matches("Activating Stasis app 'sanjeevani-cut'")
                .count()
            >= 2,
        "the adapter connected again"
    );
    pbx.assert_nothing_left(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_originated_at_once_are_all_placed_and_all_end_once() {
    let Some(pbx) = Pbx::start(Options {
        test: "two_hundred_calls_originated_at_once_are_all_placed_and_all_end_once",
        more_agents: 197,
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let contacts = answering_numbers(200);
    let test = Test::new(&contacts, SETTINGS).await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(settings(&pbx, "sanjeevani-burst"), events_tx);
    let desk = Desk {
        hang_up_after: Some(Duration::from_secs(3)),
    };
    let agents: Vec<u64> = (1..=200).collect();
    let attempts = test
        .run_with(line, events, &agents, desk, Duration::from_secs(180))
        .await;
    assert_eq!(attempts.len(), 200);
    each_closed_once(&attempts);
    let failed: Vec<_> = attempts
        .iter()
        .filter(|a| a[0].outcome != Some(AttemptOutcome::Completed))
        .collect();
    assert!(
        failed.is_empty(),
        "{} not completed, the first: {:?}",
        failed.len(),
        failed.first()
    );
    let invites = sipp_calls(&pbx.network).len();
    assert_eq!(invites, 200, "the network saw every call once");
    pbx.assert_nothing_left(Duration::from_secs(20)).await;
}

/// Asterisk 23 refuses a new channel whose id begins a live channel's id
/// (its conflict check compares prefixes): agent 1's phone must still be
/// called while agent 10's is up, and the 6th call placed while the 60th
/// rings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_is_called_while_a_phone_whose_number_it_begins_is_up() {
    let Some(pbx) = Pbx::start(Options {
        test: "a_phone_is_called_while_a_phone_whose_number_it_begins_is_up",
        more_agents: 7,
        ..Default::default()
    })
    .await
    else {
        return;
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut line = AriLine::start(settings(&pbx, "sanjeevani-ids"), events_tx);
    line.login(AgentId(10), None);
    assert_eq!(
        next_event(&mut events).await,
        LineEvent::AgentOnLine(AgentId(10))
    );
    line.login(AgentId(1), None);
    assert_eq!(
        next_event(&mut events).await,
        LineEvent::AgentOnLine(AgentId(1))
    );
    line.logout(AgentId(1));
    line.logout(AgentId(10));
    line.close().await;
    pbx.assert_nothing_left(Duration::from_secs(5)).await;
}
