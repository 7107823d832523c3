//! The ARI adapter and the dialer against a real Asterisk, started from the
//! operator's kit (`tests/asterisk_support`), with the telephone network
//! and the phones played by sipp on loopback. Each test asserts what the
//! store recorded and what the far ends saw, not only our own requests, and
//! that nothing is left in Asterisk at the end. Without an Asterisk on the
//! machine each test says so and is skipped.

mod asterisk_support;
mod sip_support;

use asterisk_support::{sipp_calls, Options, Pbx, ARI_PASSWORD, ARI_USER, KIT_PHONES};
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_contacts::AttemptOutcome;
use sip_support::{Desk, Test};
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

/// What the network saw of the call to the number ending in `last`.
fn seen_by_network(pbx: &Pbx, last: &str) -> Vec<String> {
    let calls = sipp_calls(&pbx.network);
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
        let kit = asterisk_support::kit::Conf::load(&conf.file);
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
