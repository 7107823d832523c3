//! The service with Asterisk (ARI) telephony, end to end against the ARI
//! test server: an agent logs in through the API, the adapter originates the
//! agent's phone into its own bridge, the dialer originates a contact, the
//! answered contact joins the agent's bridge and pops on the agent's screen,
//! and the agent's hang-up from the desk hangs the contact's channel up.

mod ari_server;
mod support;

use ari_server::{AriServer, PASSWORD, USER};
use reqwest::Method;
use sanjeevani_server::config::TelephonyKind;
use support::{next_message, test_config, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_call_through_asterisk() {
    let asterisk = AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.demo.contacts = 20;
    let telephony = &mut config.telephony;
    telephony.kind = TelephonyKind::Ari;
    telephony.ari_url = asterisk.base();
    telephony.ari_username = USER.into();
    telephony.ari_password = PASSWORD.into();
    let server = Server::start_with(config, dir).await;
    let (agent, mut ws, _pop) = server.agent_takes_a_call("agent1").await;

    // The agent's phone and the contact share the agent's bridge.
    let requests = asterisk.requests();
    let phone = requests
        .iter()
        .find(|r| r.contains("appArgs=agent,"))
        .expect("the agent's phone originated");
    assert!(phone.contains("endpoint=PJSIP/agent"), "{phone}");
    let joins: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("/addChannel "))
        .collect();
    assert_eq!(joins.len(), 2, "phone, then the contact: {joins:?}");
    let bridge = joins[0].split('/').nth(2).unwrap();
    assert!(joins[1].contains(&format!("/bridges/{bridge}/addChannel")));
    let contact = joins[1].split("channel=").nth(1).unwrap().to_string();

    server
        .ok(&agent, Method::POST, "/api/agent/hangup", None)
        .await;
    let ended = next_message(&mut ws, "call_ended", 10).await;
    assert_eq!(ended["outcome"], "completed", "{ended}");
    assert!(
        asterisk
            .requests()
            .contains(&format!("DELETE /channels/{contact}")),
        "the contact's channel was hung up"
    );
    server
        .ok(&agent, Method::POST, "/api/agent/logout", None)
        .await;
    server.stop().await;
    // Stopping the service leaves nothing in Asterisk.
    for _ in 0..50 {
        if asterisk.live() == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(asterisk.live(), (0, 0), "channels or bridges left behind");
}
