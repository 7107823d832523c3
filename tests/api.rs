//! The service over real HTTP and WebSocket on loopback, with the embedded
//! store and simulated telephony: every route's role check, the agent →
//! medical desk → supervisor flow, bad input, rate limits and shutdown.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::{next_message, test_config, Server};

/// Every route with the roles that may use it. `{campaign}`, `{spare}`,
/// `{user}` are filled in by the test.
const MATRIX: &[(&str, &str, &[&str])] = &[
    (
        "POST",
        "/api/logout",
        &["admin", "supervisor", "agent", "medical"],
    ),
    (
        "GET",
        "/api/me",
        &["admin", "supervisor", "agent", "medical"],
    ),
    (
        "POST",
        "/api/me/password",
        &["admin", "supervisor", "agent", "medical"],
    ),
    (
        "GET",
        "/api/questionnaire",
        &["admin", "supervisor", "agent", "medical"],
    ),
    ("GET", "/api/campaigns", &["admin", "supervisor", "agent"]),
    ("POST", "/api/campaigns", &["admin", "supervisor"]),
    ("GET", "/api/campaigns/{campaign}", &["admin", "supervisor"]),
    ("POST", "/api/campaigns/{spare}/start", &["supervisor"]),
    ("POST", "/api/campaigns/{spare}/pause", &["supervisor"]),
    ("POST", "/api/campaigns/{spare}/stop", &["supervisor"]),
    ("PUT", "/api/campaigns/{spare}/pacing", &["supervisor"]),
    (
        "GET",
        "/api/campaigns/{campaign}/live",
        &["admin", "supervisor"],
    ),
    (
        "GET",
        "/api/campaigns/{campaign}/history",
        &["admin", "supervisor"],
    ),
    ("GET", "/api/lists", &["admin", "supervisor"]),
    (
        "POST",
        "/api/lists/{list}/contacts",
        &["admin", "supervisor"],
    ),
    ("GET", "/api/agent", &["agent"]),
    ("POST", "/api/agent/login", &["agent"]),
    ("POST", "/api/agent/ready", &["agent"]),
    ("POST", "/api/agent/pause", &["agent"]),
    ("POST", "/api/agent/logout", &["agent"]),
    ("POST", "/api/agent/hangup", &["agent"]),
    ("POST", "/api/agent/next", &["agent"]),
    ("POST", "/api/agent/preview", &["agent"]),
    ("POST", "/api/agent/skip", &["agent"]),
    ("POST", "/api/agents/{user}/pause", &["supervisor"]),
    ("POST", "/api/agents/{user}/logout", &["supervisor"]),
    ("POST", "/api/lists/preview", &["admin", "supervisor"]),
    (
        "PUT",
        "/api/campaigns/{spare}/settings",
        &["admin", "supervisor"],
    ),
    (
        "POST",
        "/api/campaigns/{spare}/lists",
        &["admin", "supervisor"],
    ),
    ("GET", "/api/calls", &["admin", "supervisor", "agent"]),
    ("POST", "/api/calls/{attempt}/disposition", &["agent"]),
    (
        "POST",
        "/api/calls/{attempt}/callback",
        &["agent", "supervisor"],
    ),
    ("POST", "/api/calls/{attempt}/escalate", &["agent"]),
    ("PUT", "/api/calls/{attempt}/draft", &["agent"]),
    ("GET", "/api/calls/{attempt}/draft", &["agent"]),
    ("GET", "/api/agent/unrecorded", &["agent"]),
    ("POST", "/api/escalations/{ticket}/complete", &["agent"]),
    ("POST", "/api/escalations/{ticket}/cancel", &["agent"]),
    (
        "GET",
        "/api/contacts/{contact}",
        &["supervisor", "medical", "agent"],
    ),
    ("GET", "/api/tickets", &["medical", "supervisor"]),
    ("POST", "/api/tickets/{ticket}/assign", &["medical"]),
    ("POST", "/api/tickets/{ticket}/resolve", &["medical"]),
    ("POST", "/api/tickets/{ticket}/callback", &["medical"]),
    ("GET", "/api/desk", &["medical", "supervisor"]),
    ("POST", "/api/desk/in", &["medical"]),
    ("POST", "/api/desk/out", &["medical"]),
    ("POST", "/api/desk/done", &["medical"]),
    ("GET", "/api/alerts", &["supervisor", "medical"]),
    ("GET", "/api/users", &["admin"]),
    ("POST", "/api/users", &["admin"]),
    ("POST", "/api/users/{user}/disable", &["admin"]),
    ("POST", "/api/users/{user}/enable", &["admin"]),
    ("POST", "/api/users/{user}/password", &["admin"]),
    ("POST", "/api/users/{user}/phone", &["admin"]),
    ("GET", "/api/audit", &["admin"]),
    ("GET", "/api/reports/daily", &["admin", "supervisor"]),
    ("POST", "/api/supervision", &["admin", "supervisor"]),
    ("GET", "/api/supervision", &["admin", "supervisor"]),
    (
        "POST",
        "/api/supervision/{ticket}/stop",
        &["admin", "supervisor"],
    ),
    ("GET", "/api/recordings", &["admin", "supervisor"]),
    (
        "GET",
        "/api/recordings/{attempt}/audio",
        &["admin", "supervisor"],
    ),
];

fn body_for(method: &str, path: &str, n: usize) -> Option<Value> {
    if method == "GET" {
        return None;
    }
    Some(match path {
        "/api/campaigns" => json!({"name": format!("matrix-{n}"), "lists": ["demo-contacts"]}),
        p if p.ends_with("/pacing") => json!({"max_lines_per_agent": 2.0}),
        p if p.ends_with("/settings") => json!({"questionnaire": "wellness"}),
        p if p.starts_with("/api/campaigns/") && p.ends_with("/lists") => {
            json!({"list": "demo-contacts"})
        }
        "/api/agent/login" => json!({"campaign": 1}),
        "/api/agent/pause" => json!({"reason": "break"}),
        p if p.ends_with("/disposition") => json!({"code": "well"}),
        p if p.starts_with("/api/tickets") && p.ends_with("/callback") => {
            json!({"result": "unreached"})
        }
        p if p.ends_with("/callback") => json!({"in_minutes": 30}),
        "/api/desk/in" => json!({"languages": ["hi"]}),
        "/api/supervision" => json!({"agent": 3, "mode": "listen"}),
        p if p.ends_with("/escalate") => json!({"reason": "fever"}),
        p if p.ends_with("/resolve") => json!({"resolution": "no_action_needed"}),
        p if p.ends_with("/phone") => json!({"phone": "PJSIP/agent7"}),
        // The current password right, the new one refused: the demo passwords stay.
        "/api/me/password" => json!({"current_password": "demo", "new_password": "short"}),
        "/api/users" => {
            json!({"username": format!("user{n}"), "display_name": "U", "role": "agent", "password": "long enough now"})
        }
        _ => json!({}),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_authentication_and_role() {
    let server = Server::start().await;
    let roles = [
        ("admin", "admin"),
        ("supervisor", "supervisor"),
        ("agent", "agent1"),
        ("medical", "doctor"),
    ];

    // The matrix covers exactly the routes the OpenAPI document declares.
    let (status, doc) = server
        .call(None, Method::GET, "/api/openapi.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let declared: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .filter(|(_, p)| p != "/api/login")
        .collect();
    let normalise = |p: &str| {
        p.replace("{campaign}", "{id}")
            .replace("{spare}", "{id}")
            .replace("{attempt}", "{id}")
            .replace("{contact}", "{id}")
            .replace("{ticket}", "{id}")
            .replace("{user}", "{id}")
            .replace("{list}", "{name}")
    };
    let tested: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), normalise(p)))
        .collect();
    assert_eq!(
        declared, tested,
        "the matrix and the OpenAPI document must list the same routes"
    );

    let admin = server.login("admin").await;
    let spare = server
        .ok(
            &admin,
            Method::POST,
            "/api/campaigns",
            Some(json!({"name": "spare", "lists": ["demo-contacts"]})),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let victim = server
        .ok(&admin, Method::POST, "/api/users", Some(json!({"username": "victim", "display_name": "V", "role": "agent", "password": "long enough now"})))
        .await["id"]
        .as_i64()
        .unwrap();

    for (n, (method, template, allowed)) in MATRIX.iter().enumerate() {
        let path = template
            .replace("{campaign}", "1")
            .replace("{spare}", &spare.to_string())
            .replace("{attempt}", "999999")
            .replace("{contact}", "1")
            .replace("{ticket}", "999999")
            .replace("{user}", &victim.to_string())
            .replace("{list}", "matrix-list");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = server
            .call(
                None,
                method.clone(),
                &path,
                body_for(method.as_str(), template, n),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a session: {body}"
        );
        assert_eq!(body["code"], "unauthenticated");
        for (role, username) in roles {
            // A fresh session per request: logging out must not spoil the next check.
            let token = server.login(username).await;
            let body = body_for(method.as_str(), template, n * 10 + role.len());
            let (status, reply) = server.call(Some(&token), method.clone(), &path, body).await;
            assert!(
                !status.is_server_error(),
                "{method} {path} as {role}: {status} {reply}"
            );
            if allowed.contains(&role) {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{method} {path} as {role} should be allowed: {status} {reply}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {reply}"
                );
                assert_eq!(reply["code"], "forbidden");
            }
        }
    }
    // Public: the document, the pages, liveness.
    for path in [
        "/",
        "/agent",
        "/supervisor",
        "/medical",
        "/admin",
        "/assets/app.js",
        "/healthz",
        "/readyz",
    ] {
        let (status, _) = server.call(None, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // Metrics need a session of a manager (or the configured token).
    let (status, _) = server.call(None, Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let agent = server.login("agent2").await;
    let (status, _) = server
        .call(Some(&agent), Method::GET, "/metrics", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_call_reaches_the_medical_desk_and_the_supervisor_steers_pacing() {
    let server = Server::start().await;
    let agent = server.login("agent1").await;
    let doctor = server.login("doctor").await;
    let supervisor = server.login("supervisor").await;
    let admin = server.login("admin").await;
    let mut agent_ws = server.ws(&agent).await;
    let mut desk_ws = server.ws(&doctor).await;
    let mut board_ws = server.ws(&supervisor).await;
    let hello = next_message(&mut agent_ws, "hello", 5).await;
    assert_eq!(hello["simulated_telephony"], true);
    let first_tickets = next_message(&mut desk_ws, "tickets", 5).await;
    assert_eq!(first_tickets["open"], json!([]));

    let status = server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/login",
            Some(json!({"campaign": 1})),
        )
        .await;
    assert_eq!(status["state"], "paused");
    let status = server
        .ok(&agent, Method::POST, "/api/agent/ready", None)
        .await;
    assert_eq!(status["state"], "ready");

    // The dialer calls for the only agent; an answered call pops on the screen.
    let pop = next_message(&mut agent_ws, "screen_pop", 120).await;
    let attempt = pop["attempt"].as_i64().unwrap();
    let contact = &pop["contact"];
    assert!(contact["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(
        contact["phone"].as_str().unwrap().contains('*'),
        "agents see masked numbers: {contact}"
    );
    assert!(contact["category"].is_string());
    let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert_eq!(status["state"], "on call");
    assert_eq!(status["call"]["attempt"], attempt);

    // Answers are checked against the questionnaire, naming the question.
    let (code, err) = server
        .call(
            Some(&agent),
            Method::POST,
            &format!("/api/calls/{attempt}/escalate"),
            Some(json!({"answers": {"spo2": 300}})),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["message"].as_str().unwrap().contains("answers.spo2"),
        "{err}"
    );

    let answers = json!({"fever": true, "fever_days": 3, "spo2": 91, "needs": ["doctor"]});
    let escalated = server
        .ok(
            &agent,
            Method::POST,
            &format!("/api/calls/{attempt}/escalate"),
            Some(json!({"reason": "fever and low oxygen", "answers": answers})),
        )
        .await;
    assert_eq!(escalated["urgency"], "urgent", "SpO2 below 94 is urgent");
    let ticket = escalated["ticket"].as_i64().unwrap();
    let pushed = next_message(&mut desk_ws, "escalation", 5).await;
    assert_eq!(pushed["ticket"]["id"], ticket);
    assert_eq!(pushed["ticket"]["answers"]["spo2"], 91);
    assert_eq!(
        pushed["ticket"]["rule"]["en"], "Oxygen saturation below 94",
        "the rule that made it urgent travels with the ticket"
    );
    assert_eq!(pushed["ticket"]["contact_name"], contact["name"]);
    // Urgent tickets are due 30 minutes after the escalation.
    let due = pushed["ticket"]["due_at"].as_i64().unwrap()
        - pushed["ticket"]["created_at"].as_i64().unwrap();
    assert_eq!(due, 30 * 60 * 1000);
    assert_eq!(pushed["ticket"]["overdue"], false);
    // The caller is held for the desk (simulated transfers); nobody is at the
    // desk, so it becomes a ticket at once and the agent is back with the caller.
    assert_eq!(escalated["transfer"], "ringing");
    let back = next_message(&mut agent_ws, "transfer", 5).await;
    assert_eq!(back["stage"], "back_with_contact", "{back}");
    let fallback = next_message(&mut desk_ws, "escalation", 5).await;
    assert_eq!(
        (&fallback["ticket"]["id"], &fallback["ticket"]["fallback"]),
        (&json!(ticket), &json!("desk_unavailable"))
    );

    // The agent hangs up; while wrapping up, the call is still theirs to
    // dispose of, for a page that reloads too.
    let status = server
        .ok(&agent, Method::POST, "/api/agent/hangup", None)
        .await;
    assert_eq!(status["state"], "in wrap-up", "{status}");
    let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert_eq!(
        (&status["state"], &status["call"]["attempt"]),
        (&json!("in wrap-up"), &json!(attempt)),
        "{status}"
    );
    // Saving the disposition ends the wrap-up and pauses the agent.
    server
        .ok(
            &agent,
            Method::POST,
            &format!("/api/calls/{attempt}/disposition"),
            Some(json!({"code": "escalated", "answers": answers, "then": "pause"})),
        )
        .await;
    let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert_eq!(status["state"], "paused");
    let ended = next_message(&mut agent_ws, "call_ended", 5).await;
    assert_eq!(ended["attempt"], attempt);
    assert_eq!(ended["outcome"], "completed");

    // The doctor sees the contact in full and closes the ticket.
    let record = server
        .ok(
            &doctor,
            Method::GET,
            &format!("/api/contacts/{}", contact["id"]),
            None,
        )
        .await;
    assert!(record["phone"].as_str().unwrap().starts_with("+91"));
    assert!(!record["phone"].as_str().unwrap().contains('*'));
    assert_eq!(record["calls"][0]["disposition"], "escalated");
    server
        .ok(
            &doctor,
            Method::POST,
            &format!("/api/tickets/{ticket}/resolve"),
            Some(json!({"resolution": "teleconsultation_done"})),
        )
        .await;
    let (code, _) = server
        .call(
            Some(&doctor),
            Method::POST,
            &format!("/api/tickets/{ticket}/resolve"),
            Some(json!({"resolution": "admitted"})),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "a ticket is resolved once");

    // The supervisor changes the lines per agent; the wallboard shows it.
    let pacing = server
        .ok(
            &supervisor,
            Method::PUT,
            "/api/campaigns/1/pacing",
            Some(json!({"mode": "power", "max_lines_per_agent": 1.5, "power_ratio": 1.5})),
        )
        .await;
    assert_eq!(pacing["max_lines_per_agent"], 1.5);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let board = next_message(&mut board_ws, "wallboard", 5).await;
        let live = &board["campaigns"][0]["live"];
        if live["pacing"]["max_lines_per_agent"] == 1.5 && live["pacing"]["mode"] == "power" {
            assert_eq!(board["tickets"]["open"], 0);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "wallboard never showed the new pacing"
        );
    }
    let (code, err) = server
        .call(
            Some(&supervisor),
            Method::PUT,
            "/api/campaigns/1/pacing",
            Some(json!({"max_lines_per_agent": 50})),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("max_lines_per_agent"),
        "{err}"
    );

    // The audit log has the pacing change and the views of the contact record.
    let actions = server.audit_actions(&admin).await;
    assert!(actions.iter().any(|a| a == "pacing_change"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "view_contact"), "{actions:?}");
    let audit = server.ok(&admin, Method::GET, "/api/audit", None).await;
    let change = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "pacing_change")
        .unwrap();
    assert_eq!(change["username"], "supervisor");

    // The day's report counts the call for the agent, and its export is audited.
    let csv = server
        .client
        .get(format!("{}/api/reports/daily?format=csv", server.base))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("day,campaign,campaign_name,agent,"),
        "{csv}"
    );
    let agent_row = csv
        .lines()
        .find(|l| l.contains("Asha"))
        .expect("a row for the agent");
    assert!(agent_row.contains("demo-wellness"), "{agent_row}");
    let audit = server
        .ok(&admin, Method::GET, "/api/audit?limit=5", None)
        .await;
    assert_eq!(audit[0]["action"], "export");

    // Metrics count the outcome and the answer-to-connect latency.
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sanjeevani_calls_total{outcome=\"completed\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sanjeevani_answer_to_connect_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sanjeevani_agents{campaign=\"1\",state=\"paused\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_that_name_the_field() {
    let server = Server::start().await;
    let admin = server.login("admin").await;
    let cases = [
        (
            Method::POST,
            "/api/users",
            json!({"username": "x y", "display_name": "A", "role": "agent", "password": "long enough now"}),
            "username",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"username": "abc", "display_name": "A", "role": "king", "password": "long enough now"}),
            "role",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"username": "abc", "display_name": "A", "role": "agent", "password": "short"}),
            "password",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"username": "abc", "display_name": "A", "role": "agent", "password": "long enough now", "extra": 1}),
            "extra",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"username": 5}),
            "username",
        ),
        (
            Method::POST,
            "/api/users",
            json!({"username": "abc", "display_name": "A", "role": "agent", "password": "long enough now", "phone": "PJSIP/a&app=x"}),
            "phone",
        ),
        (
            Method::POST,
            "/api/users/1/phone",
            json!({"phone": "agent7"}),
            "phone",
        ),
        (
            Method::POST,
            "/api/campaigns",
            json!({"name": "c", "lists": ["nope"]}),
            "nope",
        ),
        (
            Method::POST,
            "/api/campaigns",
            json!({"name": "c", "lists": [], "settings": {"dialer": {"pacing": {"mode": "warp"}}}}),
            "warp",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, reply) = server
            .call(Some(&admin), method, path, Some(body.clone()))
            .await;
        assert!(status.is_client_error(), "{path} {body}: {status}");
        assert!(reply["code"].is_string(), "{reply}");
        assert!(
            reply["message"].as_str().unwrap().contains(field),
            "{body} → {reply}"
        );
    }
    // Not JSON at all, and a path id that is not a number.
    let r = server
        .client
        .post(format!("{}/api/users", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_request");
    let (status, reply) = server
        .call(Some(&admin), Method::GET, "/api/campaigns/abc", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply["code"], "invalid_request");
    let (status, reply) = server
        .call(Some(&admin), Method::GET, "/api/campaigns/777", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reply["code"], "not_found");

    // A CSV upload reports bad rows by line and field and keeps the good ones.
    let csv = "phone,name,category\n9876543210,Asha,home\n98765O4321,Typo,home\n,Blank phone,public\n9876543211,Ravi,ccc\n";
    let report: Value = server
        .client
        .post(format!("{}/api/lists/uploaded/contacts", server.base))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["invalid"], 2, "{report}");
    assert_eq!(report["problems"][0]["line"], 3);
    assert_eq!(report["problems"][0]["field"], "phone");
    server.stop().await;
}

/// An admin adds a new list to a running campaign and changes its settings;
/// wrong moves are refused with the field named, and both changes audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_takes_another_list_and_new_settings() {
    let server = Server::start().await;
    let admin = server.login("admin").await;
    let csv = "phone,name\n9876512345,Meena\n";
    let status = server
        .client
        .post(format!("{}/api/lists/ward-7/contacts", server.base))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let before = server
        .ok(&admin, Method::GET, "/api/campaigns/1", None)
        .await;
    let attached = server
        .ok(
            &admin,
            Method::POST,
            "/api/campaigns/1/lists",
            Some(json!({"list": "ward-7"})),
        )
        .await;
    let lists = attached["lists"].as_array().unwrap().len();
    assert_eq!(
        lists,
        before["lists"].as_array().unwrap().len() + 1,
        "{attached}"
    );
    for (body, code, said) in [
        (json!({"list": "ward-7"}), StatusCode::CONFLICT, "already"),
        (json!({"list": "ward-9"}), StatusCode::NOT_FOUND, "ward-9"),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "list"),
    ] {
        let (status, reply) = server
            .call(
                Some(&admin),
                Method::POST,
                "/api/campaigns/1/lists",
                Some(body),
            )
            .await;
        assert_eq!(status, code, "{reply}");
        assert!(reply["message"].as_str().unwrap().contains(said), "{reply}");
    }

    let mut settings = before["settings"].clone();
    assert!(
        settings["contacts"]["retry"]["max_per_day"].is_u64(),
        "{settings}"
    );
    settings["contacts"]["window"] = json!({"start": "09:00:00", "end": "20:00:00"});
    settings["contacts"]["retry"]["max_per_day"] = json!(2);
    server
        .ok(
            &admin,
            Method::PUT,
            "/api/campaigns/1/settings",
            Some(settings.clone()),
        )
        .await;
    let after = server
        .ok(&admin, Method::GET, "/api/campaigns/1", None)
        .await;
    assert_eq!(after["settings"]["contacts"]["window"]["start"], "09:00:00");
    assert_eq!(after["settings"]["contacts"]["retry"]["max_per_day"], 2);
    assert_eq!(after["pacing"], before["pacing"], "pacing as it was");
    settings["contacts"]["window"] = json!({"start": "20:00:00", "end": "09:00:00"});
    let (status, reply) = server
        .call(
            Some(&admin),
            Method::PUT,
            "/api/campaigns/1/settings",
            Some(settings),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("window"),
        "{reply}"
    );
    let actions = server.audit_actions(&admin).await;
    for action in ["campaign_attach_list", "campaign_settings"] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            1,
            "{action}: {actions:?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_rate_limited_and_sessions_end_at_logout() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.auth.logins_per_minute = 5;
    let server = Server::start_with(config, dir).await;
    let wrong = json!({"username": "doctor", "password": "wrong"});
    for _ in 0..5 {
        let (status, reply) = server
            .call(None, Method::POST, "/api/login", Some(wrong.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    }
    let right = json!({"username": "doctor", "password": "demo"});
    let (status, reply) = server
        .call(None, Method::POST, "/api/login", Some(right))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{reply}");
    assert_eq!(reply["code"], "rate_limited");
    // Other users are not locked out.
    let token = server.login("agent3").await;
    server.ok(&token, Method::GET, "/api/me", None).await;
    let (status, _) = server
        .call(Some(&token), Method::POST, "/api/logout", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .call(Some(&token), Method::GET, "/api/me", None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the token is dead after logout"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_live_calls_finish_and_leaves_no_attempt_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.demo.simulated_agents = 4;
    let data_dir = config.data_dir.clone();
    let server = Server::start_with(config, dir).await;
    let supervisor = server.login("supervisor").await;
    // Wait until calls are in progress.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let live = server
            .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
            .await;
        let calls = &live["calls"];
        let in_progress: i64 = ["dialing", "ringing", "waiting", "connected"]
            .iter()
            .map(|k| calls[k].as_i64().unwrap())
            .sum();
        if in_progress > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no call started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _dir = server.stop().await;
    let store = sanjeevani_store::open(None, &data_dir).await.unwrap();
    let open = store
        .open_attempts(sanjeevani_store::CampaignId(1))
        .await
        .unwrap();
    assert!(open.is_empty(), "attempts left open: {open:?}");
    let now = chrono::Utc::now().timestamp_millis();
    let attempts = store.attempts_between(0, now + 1).await.unwrap();
    assert!(!attempts.is_empty());
    assert!(attempts
        .iter()
        .all(|a| a.outcome.is_some() && a.end_at.is_some()));
    let counts = store
        .contact_counts(sanjeevani_store::CampaignId(1), now)
        .await
        .unwrap();
    assert_eq!(counts.leased, 0, "every lease given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_preview_mode_a_call_is_placed_when_the_agent_asks() {
    let server = Server::start().await;
    let supervisor = server.login("supervisor").await;
    let agent = server.login("agent2").await;
    server
        .ok(
            &supervisor,
            Method::PUT,
            "/api/campaigns/1/pacing",
            Some(json!({"mode": "preview"})),
        )
        .await;
    let mut ws = server.ws(&agent).await;
    let (status, reply) = server
        .call(Some(&agent), Method::POST, "/api/agent/next", None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "not in a campaign yet: {reply}"
    );
    server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/login",
            Some(json!({"campaign": 1})),
        )
        .await;
    server
        .ok(&agent, Method::POST, "/api/agent/ready", None)
        .await;
    // Ready alone places nothing in preview mode.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let live = server
        .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
        .await;
    assert_eq!(live["totals"]["dials"], 0, "{live}");
    // The agent sees the contact before it is dialled, as often as they ask.
    let shown = server
        .ok(&agent, Method::POST, "/api/agent/preview", None)
        .await;
    let first = shown["preview"].as_i64().expect("a contact is shown");
    assert_eq!(shown["state"], "ready");
    let again = server
        .ok(&agent, Method::POST, "/api/agent/preview", None)
        .await;
    assert_eq!(again["preview"], first, "the same contact until skipped");
    let contact = server
        .ok(&agent, Method::GET, &format!("/api/contacts/{first}"), None)
        .await;
    assert!(contact["phone"].is_string(), "{contact}");
    // Skipped: another one is shown; a pause gives it back, a reload sees none.
    let skipped = server
        .ok(&agent, Method::POST, "/api/agent/skip", None)
        .await;
    let second = skipped["preview"]
        .as_i64()
        .expect("the next contact is shown");
    assert_ne!(second, first);
    let admin = server.login("admin").await;
    let audit = server.ok(&admin, Method::GET, "/api/audit", None).await;
    assert!(
        audit.as_array().unwrap().iter().any(|e| e["action"] == "preview_skipped"
            && e["subject"] == format!("contact/{first}")),
        "{audit}"
    );
    server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/pause",
            Some(json!({"reason": "break"})),
        )
        .await;
    let paused = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert!(paused["preview"].is_null(), "{paused}");
    let (status, reply) = server
        .call(Some(&agent), Method::POST, "/api/agent/preview", None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "paused: nothing shown: {reply}"
    );
    server
        .ok(&agent, Method::POST, "/api/agent/ready", None)
        .await;
    let back = server
        .ok(&agent, Method::POST, "/api/agent/preview", None)
        .await;
    assert_eq!(
        back["preview"], second,
        "the contact given back comes first"
    );
    let live = server
        .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
        .await;
    assert_eq!(live["totals"]["dials"], 0, "showing dials nothing: {live}");
    // Dial: the contact shown is the one called.
    let status = server
        .ok(&agent, Method::POST, "/api/agent/next", None)
        .await;
    assert_eq!(status["state"], "reserved");
    assert_eq!(status["call"]["contact"], second, "{status}");
    assert!(status["preview"].is_null(), "{status}");
    let live = server
        .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
        .await;
    assert_eq!(live["totals"]["dials"], 1, "{live}");
    // The reserved call is this agent's alone: answered or not, no other call is placed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
        if status["state"] == "on call" {
            let pop = next_message(&mut ws, "screen_pop", 5).await;
            assert_eq!(pop["attempt"], status["call"]["attempt"]);
            break;
        }
        if status["state"] == "ready" {
            break; // busy or unanswered: the agent asks again
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the preview call never ended: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let live = server
        .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
        .await;
    assert_eq!(live["totals"]["dials"], 1, "{live}");
    server.stop().await;
}

/// The agent's controls answer with the core's own decision: on a call,
/// "ready" is refused in the core's words, a pause is taken for after the
/// call, and a second "ready" (a double click) is harmless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controls_answer_with_the_cores_decision() {
    let server = Server::start().await;
    let (agent, _, _) = agent_on_a_call(&server, "agent1").await;
    let status = server.ok(&agent, Method::GET, "/api/agent", None).await;
    assert_eq!(status["state"], "on call", "{status}");
    let (code, reply) = server
        .call(Some(&agent), Method::POST, "/api/agent/ready", None)
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("on call and cannot become ready"),
        "{reply}"
    );
    let paused = server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/pause",
            Some(json!({"reason": "break"})),
        )
        .await;
    // Unless the caller hung up in between, the call goes on and the pause waits.
    if paused["state"] == "on call" {
        assert_eq!(paused["after_call"], "pause", "{paused}");
    }
    let (code, reply) = server
        .call(Some(&agent), Method::POST, "/api/agent/skip", None)
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("preview mode"),
        "not a preview campaign: {reply}"
    );
    server.stop().await;
}

/// An agent on a simulated call; returns the agent's token and the attempt.
async fn agent_on_a_call(server: &Server, username: &str) -> (String, i64, Value) {
    let agent = server.login(username).await;
    let mut ws = server.ws(&agent).await;
    server
        .ok(
            &agent,
            Method::POST,
            "/api/agent/login",
            Some(json!({"campaign": 1})),
        )
        .await;
    server
        .ok(&agent, Method::POST, "/api/agent/ready", None)
        .await;
    let pop = next_message(&mut ws, "screen_pop", 120).await;
    let attempt = pop["attempt"].as_i64().unwrap();
    (agent, attempt, pop["contact"].clone())
}

/// Breathless, and the agent picks `well`: before, "Saved", no ticket, no
/// warning. Now the questionnaire's rules run on every save: required
/// questions first, then an urgent rule refuses `well` unless the call was
/// escalated or the agent says why (audited, and the supervisor alerted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn danger_signs_are_never_saved_as_well_without_a_reason() {
    let server = Server::start().await;
    let supervisor = server.login("supervisor").await;
    let admin = server.login("admin").await;
    let (agent, attempt, _) = agent_on_a_call(&server, "agent1").await;
    let save = |body: Value| {
        let path = format!("/api/calls/{attempt}/disposition");
        let server = &server;
        let agent = agent.clone();
        async move {
            server
                .call(Some(&agent), Method::POST, &path, Some(body))
                .await
        }
    };
    let (status, reply) = save(json!({"code": "well"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert_eq!(reply["code"], "answers_missing");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("feeling, fever, breathless"),
        "{reply}"
    );

    let danger = json!({"feeling": "unwell", "fever": false, "breathless": true, "spo2": 89});
    let triage = server
        .ok(
            &agent,
            Method::PUT,
            &format!("/api/calls/{attempt}/draft"),
            Some(json!({"answers": danger, "notes": "spo2 read twice"})),
        )
        .await;
    assert_eq!(triage["rule"]["urgency"], "urgent", "{triage}");
    assert_eq!(triage["escalated"], false);
    assert!(triage["missing"].as_array().unwrap().is_empty());
    // What was typed is kept for a reload, and the call is still to record.
    let draft = server
        .ok(
            &agent,
            Method::GET,
            &format!("/api/calls/{attempt}/draft"),
            None,
        )
        .await;
    assert_eq!(
        (&draft["answers"], &draft["notes"]),
        (&danger, &json!("spo2 read twice"))
    );
    let unrecorded = server
        .ok(&agent, Method::GET, "/api/agent/unrecorded", None)
        .await;
    assert_eq!(unrecorded[0]["attempt"], attempt, "{unrecorded}");

    for code in ["well", "symptoms_reported", "callback_requested"] {
        let (status, reply) = save(json!({"code": code, "answers": danger})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{code}: {reply}");
        assert_eq!(reply["code"], "danger_signs");
    }
    let (status, _) =
        save(json!({"code": "well", "answers": danger, "override_reason": "   "})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a blank reason is no reason");
    let (status, _) =
        save(json!({"code": "well", "answers": danger, "override_reason": "x".repeat(501)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let reason = "meter misread; repeated reading 97";
    let (status, reply) = save(json!({
        "code": "well", "answers": danger, "override_reason": reason, "then": "pause"
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let unrecorded = server
        .ok(&agent, Method::GET, "/api/agent/unrecorded", None)
        .await;
    assert_eq!(unrecorded, json!([]), "recorded: nothing left");
    let draft = server
        .ok(
            &agent,
            Method::GET,
            &format!("/api/calls/{attempt}/draft"),
            None,
        )
        .await;
    assert_eq!(draft["answers"], json!({}), "the draft goes with the save");

    let alerts = server
        .ok(&supervisor, Method::GET, "/api/alerts", None)
        .await;
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "triage_override")
        .unwrap_or_else(|| panic!("the supervisor is alerted: {alerts}"));
    assert!(
        alert["detail"].as_str().unwrap().contains(reason),
        "{alert}"
    );
    let actions = server.audit_actions(&admin).await;
    assert!(
        actions.iter().any(|a| a == "triage_override"),
        "{actions:?}"
    );
    server.stop().await;
}

/// The person asks to be called back in two hours; the agent schedules it
/// during the call and saves `call back`. Before, saving hung up the call,
/// whose end moved the contact to its plan and dropped the callback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_scheduled_during_the_call_survives_its_disposition() {
    let server = Server::start().await;
    let supervisor = server.login("supervisor").await;
    let (agent, attempt, contact) = agent_on_a_call(&server, "agent1").await;
    let scheduled = server
        .ok(
            &agent,
            Method::POST,
            &format!("/api/calls/{attempt}/callback"),
            Some(json!({"in_minutes": 120, "mine": true})),
        )
        .await;
    let answers = json!({"feeling": "well", "fever": false, "breathless": false});
    server
        .ok(
            &agent,
            Method::POST,
            &format!("/api/calls/{attempt}/disposition"),
            Some(json!({"code": "callback_requested", "answers": answers, "then": "pause"})),
        )
        .await;
    // The call's end is written after the save: wait for it.
    let path = format!("/api/contacts/{}", contact["id"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let record = server.ok(&supervisor, Method::GET, &path, None).await;
        let ended = record["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["attempt"] == attempt && !c["outcome"].is_null());
        if ended {
            assert_eq!(record["next_due"], scheduled["at"], "{record}");
            assert_eq!(record["state"], "pending", "{record}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the call never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

/// With real telephony a fresh database gets no demo: no well-known
/// passwords, and no made-up numbers dialled through a real trunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_telephony_starts_without_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.demo.with_real_telephony = false;
    config.telephony.kind = sanjeevani_server::config::TelephonyKind::Sip;
    let server = Server::start_with(config, dir).await;
    let (status, _) = server
        .call(
            None,
            Method::POST,
            "/api/login",
            Some(json!({"username": "admin", "password": "demo"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}
