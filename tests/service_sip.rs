//! The service with SIP telephony, end to end: an agent logs in through the
//! API, the adapter calls the agent's phone (sipp) and keeps it on the line,
//! the dialer calls a contact (sipp) through the trunk, the answered call is
//! joined to the phone and pops on the agent's screen, and the agent's
//! hang-up from the desk ends the call with a BYE.

mod sip_support;
mod support;

use reqwest::Method;
use sanjeevani_server::config::TelephonyKind;
use sip_support::Test;
use std::net::SocketAddr;
use std::time::Duration;
use support::{next_message, test_config, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_a_sip_phone_takes_a_call_from_the_trunk() {
    let peers = Test::new(&[], "[contacts]\nwindow = \"24x7\"\n").await;
    // Answers after 1-4 s of ringing and waits for our BYE: -m 1 ends it after one call.
    let callee = peers.sipp("uas_answer_random_ring.xml", &["-m", "1"]);
    let phones = peers.sipp("agent_phone.xml", &[]);

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.demo.contacts = 20;
    let telephony = &mut config.telephony;
    telephony.kind = TelephonyKind::Sip;
    telephony.trunk = SocketAddr::from(([127, 0, 0, 1], callee.port));
    telephony.contact_uri = format!("sip:{{number}}@127.0.0.1:{}", callee.port);
    telephony.agent_uri = format!("sip:agent{{agent}}@127.0.0.1:{}", phones.port);
    telephony.keepalive_secs = 0;
    let server = Server::start_with(config, dir).await;
    let (agent, mut ws, _pop) = server.agent_takes_a_call("agent1").await;
    let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert_eq!(status["state"], "on call");

    server
        .ok(&agent, Method::POST, "/api/agent/hangup", None)
        .await;
    let ended = next_message(&mut ws, "call_ended", 10).await;
    assert_eq!(ended["outcome"], "completed", "{ended}");
    // The callee's one call ran its scenario to the end: our BYE reached it.
    assert!(
        callee.exits_cleanly(Duration::from_secs(10)),
        "{}",
        callee.traces()
    );
    server
        .ok(&agent, Method::POST, "/api/agent/logout", None)
        .await;
    server.stop().await;
}
