//! The ARI adapter and the dialer against the ARI test server
//! (`tests/ari_server`): originate, agents in bridges, outcomes from
//! `ChannelDestroyed`, the information message, a WebSocket cut mid-call, and
//! a burst of originates that must each end exactly once with nothing leaked.

mod ari_server;
mod sip_support;

use ari_server::{AriServer, PASSWORD, USER};
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_contacts::AttemptOutcome;
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
            app: "sanjeevani".into(),
            prefix: "n1".into(),
            contact_endpoint: "PJSIP/{number}@trunk".into(),
            agent_endpoint: "PJSIP/agent{agent}".into(),
            caller_id: "District Health <1075>".into(),
            originate_timeout: 30,
            message: "sound:sanjeevani-abandoned".into(),
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
    let agent: Vec<&String> = requests.iter().take(4).collect();
    assert_eq!(agent[0], "GET /applications/sanjeevani");
    assert!(
        agent[1].starts_with("POST /channels app=sanjeevani&appArgs=agent,1&"),
        "{agent:?}"
    );
    assert_eq!(
        agent[2],
        "POST /bridges bridgeId=n1-b1&name=n1-b1&type=mixing"
    );
    assert_eq!(agent[3], "POST /bridges/n1-b1/addChannel channel=n1-a1");
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
            cutter.remote_hangup(&format!("n1-c{id}"));
        }
        // Later calls are hung up by the far end while the socket is up.
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for id in 0..10 {
                cutter.remote_hangup(&format!("n1-c{id}"));
            }
        }
    });
    let attempts = test
        .run_with(line, events, &[1], Desk::default(), Duration::from_secs(40))
        .await;
    outage.abort();
    for attempts in &attempts {
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(
            attempts[0].outcome,
            Some(AttemptOutcome::Completed),
            "{attempts:?}"
        );
    }
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
    for attempts in &attempts {
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(
            attempts[0].outcome,
            Some(AttemptOutcome::Completed),
            "{attempts:?}"
        );
    }
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
