//! The service with Asterisk (ARI) telephony, end to end against the ARI
//! test server: an agent logs in through the API, the adapter originates the
//! agent's phone into its own bridge, the dialer originates a contact, the
//! answered contact joins the agent's bridge and pops on the agent's screen,
//! and the agent's hang-up from the desk hangs the contact's channel up.
//! Escalations go to the medical desk by warm transfer: handed over live,
//! cancelled into a ticket the desk calls back, or ended by the caller on hold.

mod ari_server;
mod support;

use ari_server::{eventually, AriServer, PASSWORD, USER};
use reqwest::Method;
use sanjeevani_server::config::TelephonyKind;
use serde_json::{json, Value};
use support::{next_message, next_message_of, test_config, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_call_through_asterisk() {
    let asterisk = AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = ari_config(dir.path(), &asterisk, Default::default());
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
    // The adapter's request follows the recorded end.
    let hung_up = format!("DELETE /channels/{contact}");
    eventually("the contact's channel was hung up", || {
        asterisk.requests().contains(&hung_up)
    })
    .await;
    server
        .ok(&agent, Method::POST, "/api/agent/logout", None)
        .await;
    server.stop().await;
    // Stopping the service leaves nothing in Asterisk.
    eventually("nothing left behind in Asterisk", || {
        asterisk.live() == (0, 0)
    })
    .await;
}

/// Two campaigns at once: each connects to Asterisk as its own application
/// (Asterisk gives an application one WebSocket), so each gets its events and
/// both agents get their calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_each_get_their_own_events() {
    let asterisk = AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ari_config(dir.path(), &asterisk, Default::default());
    config.demo.contacts = 40;
    let server = Server::start_with(config, dir).await;
    let supervisor = server.login("supervisor").await;
    let second = server
        .ok(
            &supervisor,
            Method::POST,
            "/api/campaigns",
            // Round the clock, as the demo's own: the default window would
            // leave this test failing in the evening.
            Some(json!({
                "name": "second",
                "lists": ["demo-contacts"],
                "settings": {"contacts": {"window": "24x7"}},
            })),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    server
        .ok(
            &supervisor,
            Method::POST,
            &format!("/api/campaigns/{second}/start"),
            None,
        )
        .await;

    let (_, _ws, first_pop) = server.agent_takes_a_call("agent1").await;
    let agent2 = server.login("agent2").await;
    let mut ws2 = server.ws(&agent2).await;
    server
        .ok(
            &agent2,
            Method::POST,
            "/api/agent/login",
            Some(json!({"campaign": second})),
        )
        .await;
    server
        .ok(&agent2, Method::POST, "/api/agent/ready", None)
        .await;
    let second_pop = next_message(&mut ws2, "screen_pop", 30).await;
    assert_eq!(
        (
            first_pop["campaign"].as_i64(),
            second_pop["campaign"].as_i64()
        ),
        (Some(1), Some(second))
    );
    assert_ne!(
        first_pop["contact"]["id"], second_pop["contact"]["id"],
        "one person, one call"
    );
    let apps: std::collections::BTreeSet<String> = asterisk
        .requests()
        .iter()
        .filter_map(|r| r.strip_prefix("GET /applications/"))
        .map(|a| a.trim().to_string())
        .collect();
    assert_eq!(
        apps,
        [
            "sanjeevani-node-1-1".to_string(),
            format!("sanjeevani-node-1-{second}")
        ]
        .into(),
        "{apps:?}"
    );
    server.stop().await;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The service over the ARI test server with the doctor at the desk, and an
/// agent talking with a contact: the server, the Asterisk double, the
/// doctor's and the agent's tokens and sockets, the doctor's user id and the
/// attempt on the agent's screen.
struct Escalation {
    server: Server,
    asterisk: AriServer,
    doctor: (String, Socket, i64),
    agent: (String, Socket),
    attempt: i64,
}

/// The service over `asterisk`, with its data in `dir`.
fn ari_config(
    dir: &std::path::Path,
    asterisk: &AriServer,
    desk: sanjeevani_core::desk::DeskConfig,
) -> sanjeevani_server::Config {
    let mut config = test_config(dir);
    config.demo.contacts = 20;
    config.desk = desk;
    let telephony = &mut config.telephony;
    telephony.kind = TelephonyKind::Ari;
    telephony.ari_url = asterisk.base();
    telephony.ari_username = USER.into();
    telephony.ari_password = PASSWORD.into();
    telephony.ari_desk_endpoint = "PJSIP/doctor{member}@desk".into();
    config
}

/// The doctor logs in, opens the desk page's socket and joins the desk.
async fn doctor_joins_the_desk(server: &Server) -> (String, Socket, i64) {
    let doctor = server.login("doctor").await;
    let me = server.ok(&doctor, Method::GET, "/api/me", None).await;
    let doctor_id = me["user"]["id"].as_i64().unwrap();
    let mut doctor_ws = server.ws(&doctor).await;
    next_message(&mut doctor_ws, "tickets", 5).await;
    let members = server
        .ok(
            &doctor,
            Method::POST,
            "/api/desk/in",
            Some(json!({"languages": ["hi", "en"]})),
        )
        .await;
    assert_eq!(members[0]["member"], doctor_id, "{members}");
    (doctor, doctor_ws, doctor_id)
}

async fn doctor_at_desk_and_agent_on_a_call(desk: sanjeevani_core::desk::DeskConfig) -> Escalation {
    let asterisk = AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = ari_config(dir.path(), &asterisk, desk);
    let server = Server::start_with(config, dir).await;
    let doctor = doctor_joins_the_desk(&server).await;
    let (agent, agent_ws, pop) = server.agent_takes_a_call("agent1").await;
    let attempt = pop["attempt"].as_i64().unwrap();
    Escalation {
        server,
        asterisk,
        doctor,
        agent: (agent, agent_ws),
        attempt,
    }
}

impl Escalation {
    /// The agent escalates; returns the ticket once the doctor consults.
    async fn escalate_until_consulting(&mut self) -> i64 {
        let (agent, agent_ws) = &mut self.agent;
        let escalated = self
            .server
            .ok(
                agent,
                Method::POST,
                &format!("/api/calls/{}/escalate", self.attempt),
                Some(
                    json!({"reason": "breathless since morning", "answers": {"breathless": true}}),
                ),
            )
            .await;
        assert_eq!(escalated["transfer"], "ringing", "{escalated}");
        assert_eq!(
            escalated["urgency"], "urgent",
            "from the rules: {escalated}"
        );
        let ticket = escalated["ticket"].as_i64().unwrap();
        let ringing = next_message(agent_ws, "transfer", 10).await;
        assert_eq!(
            (&ringing["stage"], &ringing["ticket"], &ringing["member"]),
            (&json!("ringing"), &json!(ticket), &json!(self.doctor.2))
        );
        let consulting = next_message(agent_ws, "transfer", 10).await;
        assert_eq!(consulting["stage"], "consulting", "{consulting}");
        // The doctor's screen shows the caller and what they answered.
        let consult = next_message(&mut self.doctor.1, "consult", 10).await;
        assert_eq!(consult["ticket"]["id"], ticket, "{consult}");
        assert_eq!(consult["ticket"]["transfer"], "ringing");
        assert_eq!(consult["ticket"]["answers"]["breathless"], true);
        assert!(consult["contact"]["name"].is_string(), "{consult}");
        assert_eq!(self.asterisk.on_hold().len(), 1, "the caller hears music");
        ticket
    }

    /// The agent cancels the transfer of `ticket`; the reply's status.
    async fn cancel(&self, ticket: i64) -> reqwest::StatusCode {
        let path = format!("/api/escalations/{ticket}/cancel");
        let (status, _) = self
            .server
            .call(Some(&self.agent.0), Method::POST, &path, None)
            .await;
        status
    }

    /// The doctor records the callback of `ticket` (`reached`/`unreached`).
    async fn callback(&self, ticket: i64, result: &str) -> reqwest::StatusCode {
        let path = format!("/api/tickets/{ticket}/callback");
        let body = json!({ "result": result });
        let (status, _) = self
            .server
            .call(Some(&self.doctor.0), Method::POST, &path, Some(body))
            .await;
        status
    }

    async fn ticket(&self, id: i64) -> Value {
        let all = self
            .server
            .ok(&self.doctor.0, Method::GET, "/api/tickets?all=true", None)
            .await;
        all.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("ticket {id} in {all}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalated_caller_is_handed_to_the_doctor_live() {
    let mut e = doctor_at_desk_and_agent_on_a_call(Default::default()).await;
    let ticket = e.escalate_until_consulting().await;
    // The wallboard counts the desk's members and the transfers under way.
    let supervisor = e.server.login("supervisor").await;
    let mut board = e.server.ws(&supervisor).await;
    let mut desk = Value::Null;
    for _ in 0..5 {
        desk = next_message(&mut board, "wallboard", 5).await["desk"].clone();
        if desk["transferring"] == 1 {
            break;
        }
    }
    assert_eq!(
        (&desk["transferring"], &desk["members"]),
        (&json!(1), &json!(1)),
        "{desk}"
    );
    // Complete: the caller is with the doctor, the agent is free.
    let (agent, agent_ws) = &mut e.agent;
    let (status, body) = e
        .server
        .call(
            Some(agent),
            Method::POST,
            &format!("/api/escalations/{ticket}/complete"),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{body}");
    // The desk's news and the call's end come on their own ways, in either order.
    let mut transfer = Vec::new();
    let mut ended = None;
    while transfer.len() < 2 || ended.is_none() {
        let m = next_message_of(agent_ws, &["transfer", "call_ended"], 10).await;
        if m["type"] == "transfer" {
            transfer.push((m["stage"].clone(), m["member"].clone()));
        } else {
            ended = Some(m);
        }
    }
    assert_eq!(
        transfer,
        [
            (json!("free"), Value::Null),
            (json!("live"), json!(e.doctor.2))
        ]
    );
    assert_eq!(ended.unwrap()["attempt"], e.attempt);
    // Handed over live, the ticket stays open with the doctor until they
    // record what they did for the caller.
    let updated = next_message(&mut e.doctor.1, "ticket_updated", 10).await;
    assert_eq!(
        (&updated["ticket"]["id"], &updated["ticket"]["transfer"]),
        (&json!(ticket), &json!("live")),
        "{updated}"
    );

    let t = e.ticket(ticket).await;
    assert_eq!(
        (&t["transfer"], &t["live_to"], &t["overdue"]),
        (&json!("live"), &json!(e.doctor.2), &json!(false)),
        "{t}"
    );
    assert!(t["resolved_at"].is_null(), "open until recorded: {t}");
    assert_eq!(t["assigned_to"], json!(e.doctor.2), "{t}");
    assert!(t["live_at"].is_i64(), "{t}");
    let open = e
        .server
        .ok(&e.doctor.0, Method::GET, "/api/tickets", None)
        .await;
    assert!(open.as_array().unwrap().iter().any(|t| t["id"] == ticket));
    // A second escalation of the finished call is a ticket without a transfer;
    // another agent cannot complete this one.
    let again = e
        .server
        .ok(
            &e.agent.0,
            Method::POST,
            &format!("/api/calls/{}/escalate", e.attempt),
            Some(json!({"urgency": "routine"})),
        )
        .await;
    assert_eq!(again["transfer"], "none", "{again}");
    let other = e.server.login("agent2").await;
    let (status, _) = e
        .server
        .call(
            Some(&other),
            Method::POST,
            &format!("/api/escalations/{ticket}/complete"),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    // Recording what was done for the first caller frees the doctor, who is
    // then offered the second ticket's callback: the desk follows tickets
    // raised without a transfer too.
    let recorded = e
        .server
        .ok(
            &e.doctor.0,
            Method::POST,
            &format!("/api/tickets/{ticket}/resolve"),
            Some(json!({"resolution": "advice_given", "notes": "advised rest, steam"})),
        )
        .await;
    assert_eq!(
        (&recorded["resolution"], &recorded["transfer"]),
        (&json!("advice_given"), &json!("live")),
        "{recorded}"
    );
    let offered = next_message(&mut e.doctor.1, "callback_offered", 10).await;
    assert_eq!(offered["ticket"], again["ticket"], "{offered}");
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_transfer_becomes_a_ticket_the_desk_calls_back_until_unreachable() {
    let desk = sanjeevani_core::desk::DeskConfig {
        callback_tries: 2,
        callback_retry: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let mut e = doctor_at_desk_and_agent_on_a_call(desk).await;
    let ticket = e.escalate_until_consulting().await;
    assert_eq!(e.cancel(ticket).await, reqwest::StatusCode::ACCEPTED);
    let agent_ws = &mut e.agent.1;
    let back = next_message(agent_ws, "transfer", 10).await;
    assert_eq!(back["stage"], "back_with_contact", "{back}");
    let ended = next_message(agent_ws, "transfer", 10).await;
    assert_eq!(ended["stage"], "ticket", "{ended}");
    eventually("the caller is off hold", || e.asterisk.on_hold().is_empty()).await;

    // The ticket is the doctor's; the desk offers its callback (preview).
    let opened = next_message(&mut e.doctor.1, "escalation", 10).await;
    assert_eq!(
        (
            &opened["ticket"]["transfer"],
            &opened["ticket"]["fallback"],
            &opened["ticket"]["assigned_to"]
        ),
        (
            &json!("fallback"),
            &json!("agent_cancelled"),
            &json!(e.doctor.2)
        ),
        "{opened}"
    );
    for _ in 0..2 {
        let offered = next_message(&mut e.doctor.1, "callback_offered", 10).await;
        assert_eq!(offered["ticket"], ticket);
        assert_eq!(
            e.callback(ticket, "unreached").await,
            reqwest::StatusCode::ACCEPTED
        );
    }
    // After the last try the desk closes it as unreachable.
    let resolved = next_message(&mut e.doctor.1, "ticket_resolved", 10).await;
    assert_eq!(resolved["ticket"], ticket);
    let t = e.ticket(ticket).await;
    assert_eq!(t["resolution"], "unreachable", "{t}");
    assert_eq!(
        e.callback(ticket, "reached").await,
        reqwest::StatusCode::NOT_FOUND,
        "closed"
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_on_hold_becomes_a_ticket() {
    let mut e = doctor_at_desk_and_agent_on_a_call(Default::default()).await;
    let ticket = e.escalate_until_consulting().await;
    let held = e.asterisk.on_hold()[0].clone();
    let caller = e
        .asterisk
        .members(&held)
        .and_then(|m| m.first().cloned())
        .expect("the caller in the holding bridge");
    e.asterisk.remote_hangup(&caller);
    let opened = next_message(&mut e.doctor.1, "escalation", 10).await;
    assert_eq!(opened["ticket"]["id"], ticket);
    assert_eq!(opened["ticket"]["fallback"], "contact_hung_up", "{opened}");
    let free = next_message(&mut e.agent.1, "transfer", 10).await;
    assert_eq!(free["stage"], "free", "no caller to go back to: {free}");
    let ended = next_message(&mut e.agent.1, "transfer", 10).await;
    assert_eq!(ended["stage"], "ticket", "{ended}");
    let t = e.ticket(ticket).await;
    assert!(t["resolved_at"].is_null(), "open for a callback: {t}");
    // A doctor who logs out leaves the desk.
    e.server
        .ok(&e.doctor.0, Method::POST, "/api/logout", None)
        .await;
    let supervisor = e.server.login("supervisor").await;
    let members = e
        .server
        .ok(&supervisor, Method::GET, "/api/desk", None)
        .await;
    assert_eq!(members, json!([]));
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_goes_on_following_its_tickets_after_a_restart() {
    let mut e = doctor_at_desk_and_agent_on_a_call(Default::default()).await;
    let ticket = e.escalate_until_consulting().await;
    assert_eq!(e.cancel(ticket).await, reqwest::StatusCode::ACCEPTED);
    let offered = next_message(&mut e.doctor.1, "callback_offered", 10).await;
    assert_eq!(offered["ticket"], ticket);
    assert_eq!(
        e.callback(ticket, "unreached").await,
        reqwest::StatusCode::ACCEPTED
    );
    // Only an offered callback can be recorded, once.
    assert_eq!(
        e.callback(ticket, "unreached").await,
        reqwest::StatusCode::CONFLICT
    );

    // The service stops and starts again on the same data.
    let Escalation {
        server, asterisk, ..
    } = e;
    let dir = server.stop().await;
    let config = ari_config(dir.path(), &asterisk, Default::default());
    let server = Server::start_with(config, dir).await;
    let (doctor, mut doctor_ws, _) = doctor_joins_the_desk(&server).await;
    let offered = next_message(&mut doctor_ws, "callback_offered", 10).await;
    assert_eq!(offered["ticket"], ticket, "followed up after the restart");
    let open = server.ok(&doctor, Method::GET, "/api/tickets", None).await;
    let t = open
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == ticket)
        .cloned()
        .unwrap();
    assert_eq!(
        (&t["callback_tries"], &t["fallback"]),
        (&json!(1), &json!("agent_cancelled")),
        "{t}"
    );
    server.stop().await;
}
