//! The whole service over a real Asterisk started from the operator's kit
//! (`tests/asterisk_support`): agents log in through the API and their
//! phones (sipp, named after their logins as the kit names them) ring; the
//! wallboard says why dialing stopped when Asterisk refuses the password or
//! lacks a module, and dialing resumes once the module is loaded; the
//! medical desk takes an escalated caller live; stopping the service leaves
//! nothing behind in Asterisk and says goodbye on the WebSocket. Without an
//! Asterisk on the machine each test says so and is skipped.

mod asterisk_support;
mod sip_support;
mod support;

use asterisk_support::{sipp_calls, Options, Pbx, ARI_PASSWORD, ARI_USER};
use reqwest::Method;
use sanjeevani_server::config::TelephonyKind;
use serde_json::{json, Value};
use std::time::Duration;
use support::{next_message, next_message_of, test_config, Server};

/// The service over `pbx` with its data in `dir`, the demo's contacts
/// dialled through the kit's trunk.
fn asterisk_config(dir: &std::path::Path, pbx: &Pbx, password: &str) -> sanjeevani_server::Config {
    let mut config = test_config(dir);
    config.demo.contacts = 20;
    let telephony = &mut config.telephony;
    telephony.kind = TelephonyKind::Ari;
    telephony.ari_url = pbx.base();
    telephony.ari_username = ARI_USER.into();
    telephony.ari_password = password.into();
    config
}

/// How many calls the phone of `user` was rung with.
fn rung(pbx: &Pbx, user: &str) -> usize {
    sipp_calls(&pbx.phones)
        .iter()
        .filter(|(u, _)| u == user)
        .count()
}

/// The first campaign's line on the wallboard, once `wanted` holds of it.
async fn wallboard_line<S>(board: &mut S, wanted: impl Fn(&Value) -> bool) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let mut line = Value::Null;
    for _ in 0..30 {
        let board = next_message(board, "wallboard", 5).await;
        line = board["campaigns"][0]["live"]["line"].clone();
        if wanted(&line) {
            return line;
        }
    }
    panic!("the wallboard never showed the line wanted; last: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_takes_a_call_on_their_phone_and_a_stop_leaves_nothing_in_asterisk() {
    let Some(pbx) = Pbx::start(Options {
        test: "service_agent_call",
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(asterisk_config(dir.path(), &pbx, ARI_PASSWORD), dir).await;
    let (agent, mut ws, pop) = server.agent_takes_a_call("agent1").await;
    assert_eq!(
        rung(&pbx, "agent1"),
        1,
        "the kit's agent1 is the login agent1"
    );
    // The contact and the agent's phone come to share a bridge in Asterisk
    // (the screen pop is sent when the core connects them, before
    // Asterisk has answered the join).
    pbx.eventually("the contact and the agent's phone bridged", || async {
        pbx.get("/bridges")
            .await
            .as_array()
            .is_some_and(|bridges| {
                bridges
                    .iter()
                    .any(|b| b["channels"].as_array().is_some_and(|c| c.len() == 2))
            })
    })
    .await;
    server
        .ok(&agent, Method::POST, "/api/agent/hangup", None)
        .await;
    let ended = next_message(&mut ws, "call_ended", 10).await;
    assert_eq!(
        (&ended["attempt"], &ended["outcome"]),
        (&pop["attempt"], &json!("completed")),
        "{ended}"
    );
    // Stopped with the agent still logged in and their phone up.
    server.stop().await;
    pbx.assert_nothing_left(Duration::from_secs(2)).await;
    let log = pbx.asterisk.log();
    assert!(
        !log.contains("closed abruptly"),
        "the adapter says goodbye on the WebSocket"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ari_password_shows_on_the_wallboard_and_nothing_is_dialled() {
    let Some(pbx) = Pbx::start(Options {
        test: "service_wrong_password",
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(asterisk_config(dir.path(), &pbx, "not-the-secret"), dir).await;
    let supervisor = server.login("supervisor").await;
    let mut board = server.ws(&supervisor).await;
    let line = wallboard_line(&mut board, |l| l["up"] == false).await;
    assert_eq!(line["code"], "unauthorized", "{line}");
    assert!(
        line["problem"].as_str().unwrap().contains("password"),
        "says what to fix: {line}"
    );
    // An agent who asks to be ready is told nothing rings.
    let agent = server.login("agent1").await;
    server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/login",
            Some(json!({"campaign": 1})),
        )
        .await;
    let _ = server
        .call(Some(&agent), Method::POST, "/api/agent/ready", None)
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sipp_calls(&pbx.network).is_empty(), "no contact dialled");
    assert_eq!(rung(&pbx, "agent1"), 0, "no phone rung");
    server.stop().await;
    pbx.assert_nothing_left(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_module_pauses_dialing_until_it_is_loaded() {
    let Some(pbx) = Pbx::start(Options {
        test: "service_missing_module",
        without_modules: vec!["bridge_holding.so"],
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(asterisk_config(dir.path(), &pbx, ARI_PASSWORD), dir).await;
    let supervisor = server.login("supervisor").await;
    let mut board = server.ws(&supervisor).await;
    let line = wallboard_line(&mut board, |l| l["up"] == false).await;
    assert_eq!(
        (&line["code"], &line["module"]),
        (&json!("missing_module"), &json!("bridge_holding.so")),
        "{line}"
    );
    assert!(sipp_calls(&pbx.network).is_empty(), "no contact dialled");

    // The operator loads it; dialing goes on by itself.
    let loaded = pbx.asterisk.cli("module load bridge_holding.so");
    assert!(loaded.contains("Loaded"), "{loaded}");
    let line = wallboard_line(&mut board, |l| l["up"] == true).await;
    assert_eq!(line["code"], Value::Null);
    let (_agent, _ws, _pop) = server.agent_takes_a_call("agent1").await;
    server.stop().await;
    pbx.assert_nothing_left(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalated_caller_reaches_the_doctors_phone_and_is_handed_over_live() {
    let Some(pbx) = Pbx::start(Options {
        test: "service_escalation",
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(asterisk_config(dir.path(), &pbx, ARI_PASSWORD), dir).await;
    let doctor = server.login("doctor").await;
    let mut doctor_ws = server.ws(&doctor).await;
    server
        .ok(
            &doctor,
            Method::POST,
            "/api/desk/in",
            Some(json!({"languages": ["hi", "en"]})),
        )
        .await;
    let (agent, mut agent_ws, pop) = server.agent_takes_a_call("agent1").await;
    let escalated = server
        .ok(
            &agent,
            Method::POST,
            &format!("/api/calls/{}/escalate", pop["attempt"]),
            Some(json!({"reason": "breathless since morning", "answers": {"breathless": true}})),
        )
        .await;
    let ticket = escalated["ticket"].as_i64().unwrap();
    loop {
        let m = next_message(&mut agent_ws, "transfer", 20).await;
        if m["stage"] == "consulting" {
            break;
        }
    }
    next_message(&mut doctor_ws, "consult", 10).await;
    assert_eq!(rung(&pbx, "doctor"), 1, "the kit's doctor phone rang");
    // The caller waits in a holding bridge with the music.
    pbx.eventually("the caller in a holding bridge", || async {
        pbx.get("/bridges")
            .await
            .as_array()
            .is_some_and(|bridges| bridges.iter().any(|b| b["bridge_type"] == "holding"))
    })
    .await;

    let (status, body) = server
        .call(
            Some(&agent),
            Method::POST,
            &format!("/api/escalations/{ticket}/complete"),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{body}");
    loop {
        let m = next_message_of(&mut agent_ws, &["transfer", "call_ended"], 10).await;
        if m["type"] == "transfer" && m["stage"] == "live" {
            break;
        }
    }
    // The caller and the doctor's phone now share a bridge, without the agent.
    pbx.eventually("the caller with the doctor alone", || async {
        let bridges = pbx.get("/bridges").await;
        bridges
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["bridge_type"] == "mixing" && b["channels"].as_array().unwrap().len() == 2)
    })
    .await;
    // Handed over live, the ticket stays open with the doctor until they
    // record what they did for the caller.
    let updated = next_message(&mut doctor_ws, "ticket_updated", 10).await;
    assert_eq!(
        (&updated["ticket"]["id"], &updated["ticket"]["transfer"]),
        (&json!(ticket), &json!("live")),
        "{updated}"
    );
    let recorded = server
        .ok(
            &doctor,
            Method::POST,
            &format!("/api/tickets/{ticket}/resolve"),
            Some(json!({"resolution": "advice_given", "notes": "advised rest"})),
        )
        .await;
    assert_eq!(recorded["resolution"], "advice_given", "{recorded}");
    next_message(&mut doctor_ws, "ticket_resolved", 10).await;
    server.stop().await;
    pbx.assert_nothing_left(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_on_their_phone_and_plays_the_recording_back() {
    let Some(pbx) = Pbx::start(Options {
        test: "service_supervision",
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = asterisk_config(dir.path(), &pbx, ARI_PASSWORD);
    config.telephony.ari_record_calls = true;
    let server = Server::start_with(config, dir).await;
    let (agent, mut ws, pop) = server.agent_takes_a_call("agent1").await;
    let me = server.ok(&agent, Method::GET, "/api/me", None).await;
    let agent_id = me["user"]["id"].as_i64().unwrap();

    // The supervisor's own phone (the kit's `supervisor`) rings and hears the call.
    let supervisor = server.login("supervisor").await;
    let (status, session) = server
        .call(
            Some(&supervisor),
            Method::POST,
            "/api/supervision",
            Some(json!({"agent": agent_id, "mode": "listen"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{session}");
    let id = session["id"].as_u64().unwrap();
    let mut live = Value::Null;
    for _ in 0..100 {
        live = server
            .ok(&supervisor, Method::GET, "/api/supervision", None)
            .await;
        if live[0]["state"] == "live" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(live[0]["state"], "live", "{live}");
    assert_eq!(rung(&pbx, "supervisor"), 1);
    server
        .ok(
            &supervisor,
            Method::POST,
            &format!("/api/supervision/{id}/stop"),
            None,
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    server
        .ok(&agent, Method::POST, "/api/agent/hangup", None)
        .await;
    next_message(&mut ws, "call_ended", 10).await;

    // The call's recording is listed and plays from Asterisk's store.
    let recordings = server
        .ok(&supervisor, Method::GET, "/api/recordings", None)
        .await;
    let recorded = recordings
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["attempt"] == pop["attempt"])
        .unwrap_or_else(|| panic!("the call is listed: {recordings}"))
        .clone();
    let audio = reqwest::Client::new()
        .get(format!(
            "{}{}",
            server.base,
            recorded["audio"].as_str().unwrap()
        ))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(audio.status(), reqwest::StatusCode::OK);
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    let bytes = audio.bytes().await.unwrap();
    assert!(bytes.starts_with(b"RIFF"), "a WAV file");
    assert!(
        bytes.len() > 16_000,
        "at least a second of audio: {}",
        bytes.len()
    );
    // An agent may not play it.
    let (status, _) = server
        .call(
            Some(&agent),
            Method::GET,
            recorded["audio"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);

    // Both are in the audit log.
    let admin = server.login("admin").await;
    let actions = server.audit_actions(&admin).await;
    for action in ["supervise", "supervise_stop", "play_recording"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
    server.stop().await;
    pbx.assert_nothing_left(Duration::from_secs(2)).await;
}
