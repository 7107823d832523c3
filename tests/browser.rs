//! The web pages in a real browser: headless Chromium from Debian driven over
//! WebDriver (chromedriver). An agent logs in, goes ready, gets a simulated
//! call's screen pop, answers the questions and escalates; the medical desk
//! sees the escalation with the answers; a supervisor changes the lines per
//! agent and sees the wallboard change. Over a PBX (the ARI test server), an
//! agent hands a caller to the doctor at the desk. A person whose password an
//! admin reset chooses their own at the first login, and a doctor is asked
//! before taking over a colleague's ticket, in English and in Hindi, wrong
//! moves included. Screenshots of each page go to `target/tmp/browser/`.

mod ari_server;
mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::Server;

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect(
                    "chromedriver must be installed (Debian: chromium-driver); .ci/run installs it",
                );
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,900", "--lang=en"],
            }),
        );
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("chromedriver did not start at {}", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn artifacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A screenshot under `target/tmp/browser/`, and under `$SANJEEVANI_SCREENS`
/// too when set (`docs/screens/` keeps those the README shows).
async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());
    if let Some(dir) = std::env::var_os("SANJEEVANI_SCREENS") {
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), &png).unwrap();
    }
}

/// The service over the ARI test server, with its data in `dir`.
fn over_ari_server(
    dir: &std::path::Path,
    asterisk: &ari_server::AriServer,
) -> sanjeevani_server::Config {
    let mut config = support::test_config(dir);
    config.demo.contacts = 20;
    let telephony = &mut config.telephony;
    telephony.kind = sanjeevani_server::config::TelephonyKind::Ari;
    telephony.ari_url = asterisk.base();
    telephony.ari_username = ari_server::USER.into();
    telephony.ari_password = ari_server::PASSWORD.into();
    config
}

async fn log_in(browser: &Client, base: &str, username: &str, page: &str) {
    log_in_with(browser, base, username, "demo", page).await;
}

async fn log_in_with(browser: &Client, base: &str, username: &str, password: &str, page: &str) {
    browser.goto(&format!("{base}/")).await.unwrap();
    type_into(browser, "#username", username).await;
    type_into(browser, "#password", password).await;
    click(browser, "#login").await;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_url(&url(&format!("{base}{page}")))
        .await
        .unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn clear_and_type(browser: &Client, css: &str, text: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// The text of the confirm box the page opens, within 5 s.
async fn confirm_text(browser: &Client) -> String {
    for _ in 0..50 {
        if let Ok(text) = browser.get_alert_text().await {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page asked nothing");
}

/// Agent `username` logs in, joins the campaign, goes ready (key R) and
/// waits for a simulated call's screen pop; returns the contact's name.
async fn agent_on_a_simulated_call(agent: &Client, base: &str, username: &str) -> String {
    log_in(agent, base, username, "/agent").await;
    click(agent, "#join").await;
    wait_text(agent, "#state", 10, |t| t == "paused").await;
    type_into(agent, "body", "r").await;
    wait_text(agent, "#contact-name", 120, |t| !t.is_empty()).await
}

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

/// Waits until the element's text satisfies `ok`; returns the text.
async fn wait_text(browser: &Client, css: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(el) = browser.find(Locator::Css(css)).await {
            if let Ok(text) = el.text().await {
                if ok(&text) {
                    return text;
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            let shown = match browser.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => "(absent)".into(),
            };
            panic!("{css}: expected text not shown within {secs} s; it shows {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_escalates_doctor_sees_it_supervisor_steers_pacing() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();

    let doctor = driver.browser().await;
    log_in(&doctor, &base, "doctor", "/medical").await;
    wait_text(&doctor, "#tickets", 10, |t| t.contains("No open tickets")).await;

    let agent = driver.browser().await;
    log_in(&agent, &base, "agent1", "/agent").await;
    let banner = agent.find(Locator::Id("banner")).await.unwrap();
    assert!(
        banner.is_displayed().await.unwrap(),
        "simulated telephony is labelled"
    );
    assert!(banner.text().await.unwrap().contains("SIMULATION"));
    // Hindi labels, and back.
    click(&agent, "#lang").await;
    wait_text(&agent, "#ready", 5, |t| t == "तैयार").await;
    click(&agent, "#lang").await;
    wait_text(&agent, "#ready", 5, |t| t == "Ready").await;

    click(&agent, "#join").await;
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    // The keyboard shortcut R makes the agent ready.
    type_into(&agent, "body", "r").await;
    wait_text(&agent, "#state", 10, |t| t == "ready").await;

    // The simulated call reaches the only agent: screen pop with the contact.
    let name = wait_text(&agent, "#contact-name", 120, |t| !t.is_empty()).await;
    wait_text(&agent, "#state", 10, |t| t == "on call").await;
    wait_text(&agent, "#contact-category", 5, |t| !t.is_empty()).await;
    click(&agent, "input[name='q-fever'][value='true']").await;
    type_into(&agent, "input[name='q-spo2']", "91").await;
    click(&agent, "input[name='q-needs'][value='doctor']").await;
    type_into(&agent, "#reason", "fever for three days").await;
    screenshot(&agent, "agent-screen-pop").await;
    click(&agent, "#escalate").await;
    let flash = wait_text(&agent, "#flash", 10, |t| t.contains("ticket")).await;
    assert!(flash.contains("urgent"), "SpO2 91 is urgent: {flash}");

    // The medical desk gets it live, with the answers.
    let row = wait_text(&doctor, "#tickets", 10, |t| t.contains(&name)).await;
    assert!(row.contains("urgent"), "{row}");
    click(&doctor, "#tickets tr button").await;
    let answers = wait_text(&doctor, "#detail-answers", 10, |t| t.contains("91")).await;
    assert!(answers.contains("Do you have fever?: Yes"), "{answers}");
    let rule = wait_text(&doctor, "#detail-rule", 5, |t| !t.is_empty()).await;
    assert!(
        rule.contains("Oxygen saturation below 94"),
        "the rule that fired: {rule}"
    );
    screenshot(&doctor, "medical-desk").await;

    // The agent saves the call and is ready for the next.
    click(&agent, "#save").await;
    wait_text(&agent, "#state", 10, |t| t == "ready" || t == "on call").await;

    // The supervisor changes the lines per agent; the wallboard follows.
    let supervisor = driver.browser().await;
    log_in(&supervisor, &base, "supervisor", "/supervisor").await;
    wait_text(&supervisor, "#pacing-now-1", 10, |t| t.contains("· 3 ")).await;
    let lines = supervisor.find(Locator::Id("lines-1")).await.unwrap();
    lines.clear().await.unwrap();
    lines.send_keys("1.5").await.unwrap();
    click(&supervisor, "#apply-1").await;
    wait_text(&supervisor, "#pacing-now-1", 10, |t| t.contains("· 1.5 ")).await;
    wait_text(&supervisor, "#tickets-open", 10, |t| t == "1").await;
    screenshot(&supervisor, "supervisor-wallboard").await;

    for browser in [agent, doctor, supervisor] {
        browser.close().await.unwrap();
    }
    drop(driver);
    server.stop().await;
}

/// Over a PBX (the ARI test server): the doctor joins the desk, the agent
/// escalates a breathless caller, the doctor's screen shows the caller while
/// the agent briefs them, and the agent hands the caller over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_hands_a_caller_to_the_doctor_live() {
    let asterisk = ari_server::AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = over_ari_server(dir.path(), &asterisk);
    config.telephony.ari_desk_endpoint = "PJSIP/doctor{member}@desk".into();
    let server = Server::start_with(config, dir).await;
    let driver = Driver::start();
    let base = server.base.clone();

    let doctor = driver.browser().await;
    log_in(&doctor, &base, "doctor", "/medical").await;
    wait_text(&doctor, "#tickets", 10, |t| t.contains("No open tickets")).await;
    click(&doctor, "#desk-join").await;
    wait_text(&doctor, "#desk-state", 10, |t| t == "At the desk").await;

    let agent = driver.browser().await;
    log_in(&agent, &base, "agent1", "/agent").await;
    click(&agent, "#join").await;
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    type_into(&agent, "body", "r").await;
    let name = wait_text(&agent, "#contact-name", 60, |t| !t.is_empty()).await;
    wait_text(&agent, "#state", 10, |t| t == "on call").await;
    click(&agent, "input[name='q-breathless'][value='true']").await;
    type_into(&agent, "#notes", "lives with her son, who has a car").await;
    // The notes are kept as the agent types; the doctor reads them.
    tokio::time::sleep(Duration::from_millis(700)).await;
    type_into(&agent, "#reason", "breathless since morning").await;
    click(&agent, "#escalate").await;

    // While the caller is on hold, the doctor sees who it is and what they said.
    wait_text(&agent, "#transfer-stage", 10, |t| {
        t.contains("doctor is on the line")
    })
    .await;
    wait_text(&doctor, "#consult", 10, |t| t.contains("On the line")).await;
    let shown = wait_text(&doctor, "#detail-name", 10, |t| t.contains(&name)).await;
    assert!(
        shown.contains("urgent"),
        "breathlessness is urgent: {shown}"
    );
    let answers = wait_text(&doctor, "#detail-answers", 5, |t| !t.is_empty()).await;
    assert!(answers.contains("breathing?: Yes"), "{answers}");
    let detail = wait_text(&doctor, "#detail", 5, |t| !t.is_empty()).await;
    assert!(!detail.contains("null"), "{detail}");
    wait_text(&doctor, "#detail-rule", 5, |t| {
        t.contains("Difficulty in breathing")
    })
    .await;
    wait_text(&doctor, "#detail-notes", 5, |t| t.contains("has a car")).await;
    screenshot(&doctor, "medical-desk-consult").await;
    screenshot(&agent, "agent-transfer-consulting").await;

    // C hands over; the agent is told. The doctor, now with the caller,
    // records what was done: not without an action, then with one.
    type_into(&agent, "body", "c").await;
    wait_text(&agent, "#transfer-stage", 10, |t| {
        t.contains("Handed to the doctor live")
    })
    .await;
    wait_text(&doctor, "#consult", 10, |t| t.contains("with the caller")).await;
    wait_text(&doctor, "#tickets", 5, |t| t.contains("with me, live")).await;
    click(&doctor, "#resolve").await;
    wait_text(&doctor, "#flash", 5, |t| t.contains("action taken first")).await;
    let action = doctor.find(Locator::Id("resolution")).await.unwrap();
    action.select_by_value("advice_given").await.unwrap();
    type_into(
        &doctor,
        "#resolve-notes",
        "advised prone lying; recheck SpO2 in 2 h",
    )
    .await;
    screenshot(&doctor, "medical-desk-live").await;
    click(&doctor, "#resolve").await;
    wait_text(&doctor, "#flash", 5, |t| t.contains("Saved")).await;
    wait_text(&doctor, "#tickets", 10, |t| t.contains("No open tickets")).await;

    for browser in [agent, doctor] {
        browser.close().await.unwrap();
    }
    drop(driver);
    server.stop().await;
}

/// Over a PBX (the ARI test server): the supervisor picks an agent on a call
/// and listens on their own phone, in English and in Hindi, stops, and after
/// the call plays its recording from the console (after a reload, as a
/// supervisor coming back to the page would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_in_and_plays_a_recorded_call() {
    let asterisk = ari_server::AriServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = over_ari_server(dir.path(), &asterisk);
    config.telephony.ari_record_calls = true;
    let server = Server::start_with(config, dir).await;
    let (agent, mut agent_ws, _pop) = server.agent_takes_a_call("agent1").await;
    let driver = Driver::start();
    let base = server.base.clone();

    let supervisor = driver.browser().await;
    log_in(&supervisor, &base, "supervisor", "/supervisor").await;
    wait_text(&supervisor, "#agents-table-1", 10, |t| t.contains("Listen")).await;
    click(&supervisor, "#agents-table-1 button[data-mode='listen']").await;
    wait_text(&supervisor, "#sessions", 10, |t| t.contains("on the call")).await;
    assert!(
        asterisk
            .requests()
            .iter()
            .any(|r| r.contains("endpoint=PJSIP/supervisor")),
        "the supervisor's own phone is called"
    );
    click(&supervisor, "#lang").await;
    wait_text(&supervisor, "#sessions", 5, |t| {
        t.contains("कॉल पर") && t.contains("रोकें")
    })
    .await;
    wait_text(&supervisor, "#agents-table-1", 5, |t| t.contains("सुनें")).await;
    click(&supervisor, "#lang").await;
    screenshot(&supervisor, "supervisor-listening").await;
    click(&supervisor, "#sessions button").await;
    wait_text(&supervisor, "#sessions", 10, |t| !t.contains("on the call")).await;

    server
        .ok(&agent, reqwest::Method::POST, "/api/agent/hangup", None)
        .await;
    support::next_message(&mut agent_ws, "call_ended", 10).await;
    supervisor.refresh().await.unwrap();
    wait_text(&supervisor, "#recordings", 10, |t| t.contains("Play")).await;
    // The list is redrawn as it refreshes: a click that landed on a button
    // just replaced is made again.
    let mut src = String::new();
    for _ in 0..10 {
        click(&supervisor, "#recordings button").await;
        let player = supervisor.find(Locator::Id("player")).await.unwrap();
        src = player.attr("src").await.unwrap().unwrap_or_default();
        if !src.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(src.contains("/api/recordings/"), "{src}");
    screenshot(&supervisor, "supervisor-recordings").await;

    supervisor.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// An admin resets Asha's password; at her first login she must choose her
/// own. In English: a wrong password, then two new passwords that differ. In
/// Hindi: a guessable password, a reload, the desk's address typed directly
/// (back to the login page), then a double click on Change: changed once,
/// and the desk opens in Hindi. The one-time password no longer works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_is_replaced_at_the_first_login_in_both_languages() {
    let server = Server::start().await;
    let admin = server.login("admin").await;
    let asha = server
        .ok(
            &admin,
            Method::POST,
            "/api/users",
            Some(json!({"username": "asha", "display_name": "Asha", "role": "agent", "password": "tea garden evening"})),
        )
        .await;
    let reset = server
        .ok(
            &admin,
            Method::POST,
            &format!("/api/users/{}/password", asha["id"]),
            None,
        )
        .await;
    let one_time = reset["one_time_password"].as_str().unwrap().to_string();
    let driver = Driver::start();
    let browser = driver.browser().await;
    let base = server.base.clone();

    browser.goto(&format!("{base}/")).await.unwrap();
    type_into(&browser, "#username", "asha").await;
    type_into(&browser, "#password", "tea garden evening").await;
    click(&browser, "#login").await;
    wait_text(&browser, "#flash", 10, |t| {
        t.starts_with("Wrong username or password")
    })
    .await;
    clear_and_type(&browser, "#password", &one_time).await;
    click(&browser, "#login").await;
    wait_text(&browser, "#change-section h2", 10, |t| {
        t == "Choose your own password"
    })
    .await;
    type_into(&browser, "#new-password", "river lantern monsoon").await;
    type_into(&browser, "#repeat-password", "river lantern monsoom").await;
    click(&browser, "#change").await;
    wait_text(&browser, "#change-flash", 5, |t| {
        t == "The two new passwords differ"
    })
    .await;

    click(&browser, "#lang").await;
    wait_text(&browser, "#change-section h2", 5, |t| t == "अपना पासवर्ड चुनें").await;
    clear_and_type(&browser, "#new-password", "password1234").await;
    clear_and_type(&browser, "#repeat-password", "password1234").await;
    click(&browser, "#change").await;
    wait_text(&browser, "#change-flash", 10, |t| {
        t.contains("आसानी से अनुमान")
    })
    .await;
    screenshot(&browser, "password-change-hindi").await;

    // A reload, then the desk's address typed in: the change still comes first.
    browser.refresh().await.unwrap();
    wait_text(&browser, "#login", 5, |t| t == "लॉग इन").await;
    browser.goto(&format!("{base}/agent")).await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_url(&url(&format!("{base}/")))
        .await
        .unwrap();
    type_into(&browser, "#username", "asha").await;
    type_into(&browser, "#password", &one_time).await;
    click(&browser, "#login").await;
    wait_text(&browser, "#change-section h2", 10, |t| {
        t == "अपना पासवर्ड चुनें"
    })
    .await;
    type_into(&browser, "#new-password", "river lantern monsoon").await;
    type_into(&browser, "#repeat-password", "river lantern monsoon").await;
    let change = browser.find(Locator::Id("change")).await.unwrap();
    change.clone().click().await.unwrap();
    // The second click of a double click, if the page is still there.
    let _ = change.click().await;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_url(&url(&format!("{base}/agent")))
        .await
        .unwrap();
    wait_text(&browser, "#ready", 10, |t| t == "तैयार").await;

    let actions = server.audit_actions(&admin).await;
    let changes = actions.iter().filter(|a| *a == "password_change").count();
    assert_eq!(changes, 1, "one change for a double click: {actions:?}");
    for (password, works) in [(one_time.as_str(), false), ("river lantern monsoon", true)] {
        let r = server
            .client
            .post(format!("{base}/api/login"))
            .json(&json!({"username": "asha", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().is_success(), works, "{password}");
    }

    browser.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// Two doctors and one urgent ticket. The first takes it after the second
/// opened the list: the second's Take asks before taking over (cancelled:
/// nothing changes; confirmed: taken, audited). The first takes it back; in
/// Hindi the second is asked again, in Hindi.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_is_asked_before_taking_over_a_colleagues_ticket() {
    let server = Server::start().await;
    let admin = server.login("admin").await;
    server
        .ok(
            &admin,
            Method::POST,
            "/api/users",
            Some(json!({"username": "doctor2", "display_name": "Dr. Two", "role": "medical", "password": "second opinion please"})),
        )
        .await;
    let ticket = server.open_ticket(7).await;
    let doctor = server.login("doctor").await;
    let driver = Driver::start();
    let browser = driver.browser().await;
    let base = server.base.clone();
    log_in_with(
        &browser,
        &base,
        "doctor2",
        "second opinion please",
        "/medical",
    )
    .await;
    wait_text(&browser, "#tickets", 10, |t| {
        t.contains(&format!("#{ticket}"))
    })
    .await;
    click(&browser, &format!("#ticket-{ticket} button")).await;
    wait_text(&browser, "#take", 10, |t| t == "Take").await;

    // The first doctor takes it; this page does not know yet.
    let take = format!("/api/tickets/{ticket}/assign");
    server.ok(&doctor, Method::POST, &take, None).await;
    click(&browser, "#take").await;
    let asked = confirm_text(&browser).await;
    assert!(asked.contains("Take it over?"), "{asked}");
    browser.dismiss_alert().await.unwrap();
    let actions = server.audit_actions(&admin).await;
    assert!(
        !actions.iter().any(|a| a == "ticket_take_over"),
        "cancelled: {actions:?}"
    );
    click(&browser, "#take").await;
    confirm_text(&browser).await;
    browser.accept_alert().await.unwrap();
    wait_text(&browser, "#flash", 10, |t| t == "Saved").await;
    let actions = server.audit_actions(&admin).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "ticket_take_over").count(),
        1,
        "{actions:?}"
    );

    // Taken back; asked again, in Hindi.
    server
        .ok(
            &doctor,
            Method::POST,
            &format!("{take}?take_over=true"),
            None,
        )
        .await;
    click(&browser, "#lang").await;
    click(&browser, "#take").await;
    let asked = confirm_text(&browser).await;
    assert!(asked.contains("क्या आप इसे ले लेंगे"), "{asked}");
    browser.accept_alert().await.unwrap();
    wait_text(&browser, "#flash", 10, |t| t == "सहेजा गया").await;
    let actions = server.audit_actions(&admin).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "ticket_take_over").count(),
        3,
        "the first doctor's and the second's two: {actions:?}"
    );
    screenshot(&browser, "medical-take-over-hindi").await;

    browser.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// Breathless with SpO2 89 and the agent picks "well": the rule shows as the
/// answers are typed (and survives a switch to Hindi with the answers), the
/// save is refused until the agent escalates or says why; a reason saves it,
/// and the next call starts with no result chosen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn danger_signs_are_not_saved_as_well_without_a_reason() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();
    let agent = driver.browser().await;
    agent_on_a_simulated_call(&agent, &base, "agent1").await;

    // Saving with nothing chosen is refused by the page itself.
    click(&agent, "#save").await;
    wait_text(&agent, "#flash", 5, |t| t.contains("result of the call")).await;
    click(&agent, "input[name='q-breathless'][value='true']").await;
    type_into(&agent, "input[name='q-spo2']", "89").await;
    wait_text(&agent, "#triage", 10, |t| {
        t.contains("urgent") && t.contains("Oxygen saturation below 94")
    })
    .await;
    click(&agent, "#lang").await;
    wait_text(&agent, "#triage", 5, |t| t.contains("ऑक्सीजन स्तर 94 से कम")).await;
    let kept = agent
        .find(Locator::Css("input[name='q-spo2']"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("89"),
        "answers survive the language switch"
    );
    click(&agent, "#lang").await;

    // Required questions first, then the danger sign.
    let result = agent.find(Locator::Id("disposition")).await.unwrap();
    result.select_by_value("well").await.unwrap();
    click(&agent, "#save").await;
    wait_text(&agent, "#flash", 5, |t| {
        t.contains("Answer these first") && t.contains("How are you feeling today?")
    })
    .await;
    click(&agent, "input[name='q-fever'][value='false']").await;
    let feeling = agent
        .find(Locator::Css("select[name='q-feeling']"))
        .await
        .unwrap();
    feeling.select_by_value("unwell").await.unwrap();
    click(&agent, "#save").await;
    wait_text(&agent, "#flash", 5, |t| t.contains("danger sign")).await;
    let override_box = agent.find(Locator::Id("override")).await.unwrap();
    assert!(override_box.is_displayed().await.unwrap());
    click(&agent, "#save-override").await;
    wait_text(&agent, "#flash", 5, |t| t.contains("Say why")).await;
    screenshot(&agent, "agent-danger-signs").await;
    type_into(
        &agent,
        "#override-reason",
        "meter misread; second reading 97",
    )
    .await;
    click(&agent, "#save-override").await;
    wait_text(&agent, "#flash", 10, |t| t == "Saved").await;
    let after = agent
        .find(Locator::Id("disposition"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        after.as_deref(),
        Some(""),
        "the next call starts with no result"
    );

    // The supervisor's console shows it.
    let supervisor = driver.browser().await;
    log_in(&supervisor, &base, "supervisor", "/supervisor").await;
    let alert = wait_text(&supervisor, "#alerts", 10, |t| {
        t.contains("second reading 97")
    })
    .await;
    assert!(
        alert.contains("Danger signs saved without escalation"),
        "{alert}"
    );
    for browser in [agent, supervisor] {
        browser.close().await.unwrap();
    }
    drop(driver);
    server.stop().await;
}

/// Mid-call the agent's page is reloaded: the call, the contact and what was
/// typed come back. The agent then goes ready without recording it and
/// reloads again: the call waits in "Calls to record", opens with its
/// answers, and leaves the list once saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_loses_nothing_and_an_unrecorded_call_waits_to_be_recorded() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();
    let agent = driver.browser().await;
    let name = agent_on_a_simulated_call(&agent, &base, "agent1").await;
    agent
        .find(Locator::Css("select[name='q-feeling']"))
        .await
        .unwrap()
        .select_by_value("worse")
        .await
        .unwrap();
    click(&agent, "input[name='q-fever'][value='false']").await;
    type_into(&agent, "#notes", "tired since Sunday").await;
    // The rule shows once the server has the answers.
    wait_text(&agent, "#triage", 10, |t| {
        t.contains("Feeling worse than yesterday")
    })
    .await;

    agent.refresh().await.unwrap();
    wait_text(&agent, "#contact-name", 10, |t| t == name).await;
    let value = |css: &'static str| {
        let agent = &agent;
        async move {
            agent
                .find(Locator::Css(css))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(value("select[name='q-feeling']").await, "worse");
    assert_eq!(value("#notes").await, "tired since Sunday");
    let fever = agent
        .find(Locator::Css("input[name='q-fever'][value='false']"))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(
        fever.as_deref(),
        Some("true"),
        "the radio comes back checked"
    );
    wait_text(&agent, "#triage", 10, |t| {
        t.contains("Feeling worse than yesterday")
    })
    .await;
    screenshot(&agent, "agent-after-reload").await;

    // Hang up, go ready without a result, reload: the call waits to be recorded.
    // (The simulated caller may have hung up first.)
    let hangup = agent.find(Locator::Id("hangup")).await.unwrap();
    if hangup.is_enabled().await.unwrap() {
        hangup.click().await.unwrap();
    }
    wait_text(&agent, "#state", 10, |t| t == "in wrap-up").await;
    click(&agent, "#pause").await;
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    agent.refresh().await.unwrap();
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    wait_text(&agent, "#screen-pop", 10, |t| t.contains("Waiting")).await;
    wait_text(&agent, "#unrecorded", 10, |t| t.contains(&name)).await;
    click(&agent, "#unrecorded button").await;
    wait_text(&agent, "#contact-name", 10, |t| t == name).await;
    wait_text(&agent, "#triage", 10, |t| {
        t.contains("Feeling worse than yesterday")
    })
    .await;
    assert_eq!(value("#notes").await, "tired since Sunday");
    click(&agent, "input[name='q-breathless'][value='false']").await;
    agent
        .find(Locator::Id("disposition"))
        .await
        .unwrap()
        .select_by_value("symptoms_reported")
        .await
        .unwrap();
    click(&agent, "#save-pause").await;
    wait_text(&agent, "#flash", 10, |t| t == "Saved").await;
    wait_text(&agent, "#unrecorded", 10, |t| !t.contains(&name)).await;

    agent.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// Preview mode: the agent sees who is next before dialling, skips one (a
/// double click skips once), reloads and finds the same contact, reads it
/// in Hindi, and dials the one shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_preview_the_agent_sees_the_contact_before_dialling_and_may_skip_it() {
    let server = Server::start().await;
    let supervisor = server.login("supervisor").await;
    server
        .ok(
            &supervisor,
            Method::PUT,
            "/api/campaigns/1/pacing",
            Some(json!({"mode": "preview"})),
        )
        .await;
    let driver = Driver::start();
    let base = server.base.clone();
    let agent = driver.browser().await;
    log_in(&agent, &base, "agent1", "/agent").await;
    click(&agent, "#join").await;
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    type_into(&agent, "body", "r").await;
    wait_text(&agent, "#state", 10, |t| t == "ready").await;
    wait_text(&agent, "#screen-pop", 5, |t| t.contains("Waiting")).await;
    click(&agent, "#next").await;
    wait_text(&agent, "#before-dial", 10, |t| t == "Before you dial").await;
    let first = wait_text(&agent, "#contact-name", 5, |t| !t.is_empty()).await;

    agent
        .execute(
            "const b = document.getElementById('skip'); b.click(); b.click();",
            vec![],
        )
        .await
        .unwrap();
    let second = wait_text(&agent, "#contact-name", 10, |t| !t.is_empty() && t != first).await;
    let admin = server.login("admin").await;
    let skips = server
        .audit_actions(&admin)
        .await
        .into_iter()
        .filter(|a| a == "preview_skipped")
        .count();
    assert_eq!(skips, 1, "a double click skips once");

    agent.refresh().await.unwrap();
    wait_text(&agent, "#before-dial", 10, |t| t == "Before you dial").await;
    wait_text(&agent, "#contact-name", 5, |t| t == second).await;
    screenshot(&agent, "agent-preview").await;
    click(&agent, "#lang").await;
    wait_text(&agent, "#before-dial", 5, |t| t == "कॉल से पहले").await;
    wait_text(&agent, "#contact-name", 5, |t| t == second).await;
    let english = english_shown(&agent).await;
    assert!(
        english.is_empty(),
        "the preview in Hindi shows English: {english:?}"
    );
    click(&agent, "#lang").await;
    wait_text(&agent, "#before-dial", 5, |t| t == "Before you dial").await;

    let token = server.login("agent1").await;
    let shown = server.ok(&token, Method::GET, "/api/agent", None).await["preview"].clone();
    assert!(shown.is_i64(), "the contact shown is held for the agent");
    type_into(&agent, "body", "d").await;
    wait_text(&agent, "#state", 10, |t| t != "ready").await;
    let status = server.ok(&token, Method::GET, "/api/agent", None).await;
    if !status["call"].is_null() {
        assert_eq!(
            status["call"]["contact"], shown,
            "the contact shown is the one dialled: {status}"
        );
    }
    let live = server
        .ok(&supervisor, Method::GET, "/api/campaigns/1/live", None)
        .await;
    assert_eq!(live["totals"]["dials"], 1, "{live}");
    assert!(
        agent.find(Locator::Id("before-dial")).await.is_err(),
        "once dialled, the preview notice goes"
    );

    agent.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

/// The words of Latin letters the page shows outside content marked as data
/// (`translate="no"`: names, numbers, file contents): in Hindi, each is a
/// label the page failed to translate. Acronyms and the language switch
/// itself are allowed.
async fn english_shown(browser: &Client) -> Vec<String> {
    let words = browser
        .execute(
            r##"const out = [];
const visible = (e) => e && !e.closest('[translate=no],script,style,option') && e.checkVisibility();
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const n = walker.currentNode;
  const p = n.parentElement;
  if (visible(p)) out.push(...(n.textContent.match(/[A-Za-z]{3,}/g) || []).map((w) => `${w} in ${p.tagName.toLowerCase()}${p.id ? "#" + p.id : ""}${p.className ? "." + p.className : ""}`));
}
for (const s of document.querySelectorAll('select')) {
  const o = s.selectedOptions[0];
  if (o && visible(s) && o.getAttribute('translate') !== 'no') out.push(...(o.textContent.match(/[A-Za-z]{3,}/g) || []));
}
for (const i of document.querySelectorAll('input[placeholder]')) {
  if (visible(i)) out.push(...(i.placeholder.match(/[A-Za-z]{3,}/g) || []));
}
return out;"##,
            vec![],
        )
        .await
        .unwrap();
    const ALLOWED: &[&str] = &[
        "English", "SIP", "PBX", "CSV", "PJSIP", "ARI", "VICIdial", "csv", "xlsx", "ods", "sip",
        "agent", "Ctrl", "Enter", "SpO",
    ];
    words
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| !ALLOWED.contains(&w.split(' ').next().unwrap_or(w)))
        .map(str::to_string)
        .collect()
}

/// Switches the page to Hindi, checks that no English label is left, takes
/// its screenshot in both languages (under `docs/screens/` when
/// `SANJEEVANI_SCREENS` names that directory) and switches back.
async fn in_both_languages(browser: &Client, page: &str) {
    screenshot(browser, &format!("{page}-en")).await;
    click(browser, "#lang").await;
    wait_text(browser, "#lang", 5, |_| true).await;
    // Sections drawn from live data are redrawn within the next second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let english = english_shown(browser).await;
    assert!(
        english.is_empty(),
        "{page} in Hindi still shows English: {english:?}"
    );
    screenshot(browser, &format!("{page}-hi")).await;
    click(browser, "#lang").await;
}

/// A contact list as a district keeps it: Hindi headers and a mobile
/// column whose header the import does not know ("Mob"), one bad number
/// and one number twice.
fn district_xlsx(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["नाम", "Mob", "श्रेणी", "वार्ड"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        ("सीता देवी", "9876500001", "होम आइसोलेशन", "4"),
        ("राम लाल", "9876500002", "कोविड सेंटर", "5"),
        ("Meena", "12", "home isolation", "6"),
        ("सीता देवी", "9876500001", "होम आइसोलेशन", "4"),
    ];
    for (r, (name, phone, category, ward)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *name).unwrap();
        sheet
            .write_number(r, 1, phone.parse::<f64>().unwrap())
            .unwrap();
        sheet.write_string(r, 2, *category).unwrap();
        sheet.write_string(r, 3, *ward).unwrap();
    }
    book.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_user_resets_a_password_and_imports_a_spreadsheet_after_its_preview() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();
    let admin = driver.browser().await;
    log_in(&admin, &base, "admin", "/admin").await;
    wait_text(&admin, "#users", 10, |t| t.contains("agent1")).await;
    let users_before = server
        .ok(
            &server.login("admin").await,
            Method::GET,
            "/api/users",
            None,
        )
        .await
        .as_array()
        .unwrap()
        .len();

    // An empty form creates nothing; a double click creates one account.
    click(&admin, "#create-user").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    type_into(&admin, "#new-username", "nurse.asha").await;
    type_into(&admin, "#new-display-name", "Asha Verma").await;
    admin
        .find(Locator::Id("new-role"))
        .await
        .unwrap()
        .select_by_value("medical")
        .await
        .unwrap();
    let create = admin.find(Locator::Id("create-user")).await.unwrap();
    create.click().await.unwrap();
    let _ = create.click().await;
    let password = wait_text(&admin, "#one-time-password", 10, |t| t.len() >= 12).await;
    wait_text(&admin, "#users", 10, |t| t.contains("nurse.asha")).await;
    let token = server.login("admin").await;
    let users = server.ok(&token, Method::GET, "/api/users", None).await;
    assert_eq!(users.as_array().unwrap().len(), users_before + 1, "{users}");
    // The new doctor logs in with it and must choose their own first.
    let nurse = driver.browser().await;
    log_in_with(&nurse, &base, "nurse.asha", &password, "/").await;
    wait_text(&nurse, "#change-section h2", 10, |t| t.contains("Choose")).await;
    nurse.close().await.unwrap();

    // Resetting agent2's password ends "demo" for them.
    click(&admin, "tr[data-username='agent2'] .reset").await;
    assert!(confirm_text(&admin).await.contains("agent"));
    admin.accept_alert().await.unwrap();
    let reset = wait_text(&admin, "#one-time", 10, |t| t.contains("agent2")).await;
    assert!(reset.contains("(agent2)"), "{reset}");
    let (status, _) = server
        .call(
            None,
            Method::POST,
            "/api/login",
            Some(json!({"username": "agent2", "password": "demo"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    click(&admin, "#one-time button").await;

    // The spreadsheet: its preview shows the rows and that no column holds
    // the phone; the admin picks "Mob", then imports and reads the report.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ward-4.xlsx");
    district_xlsx(&file);
    click(&admin, "#preview-list").await; // no name, no file: nothing sent
    type_into(&admin, "#list-name", "ward-4").await;
    type_into(&admin, "#list-file", file.to_str().unwrap()).await;
    click(&admin, "#preview-list").await;
    let problem = wait_text(&admin, "#preview-problem", 10, |t| !t.is_empty()).await;
    assert!(problem.contains("phone"), "{problem}");
    wait_text(&admin, "#preview-rows", 5, |t| {
        t.contains("सीता देवी") && t.contains("9876500002")
    })
    .await;
    assert!(!admin
        .find(Locator::Id("import-list"))
        .await
        .unwrap()
        .is_enabled()
        .await
        .unwrap());
    admin
        .find(Locator::Css("select[data-field='phone']"))
        .await
        .unwrap()
        .select_by_value("Mob")
        .await
        .unwrap();
    wait_text(&admin, "#preview-problem", 10, |t| t.is_empty()).await;
    screenshot(&admin, "admin-list-preview").await;
    let import = admin.find(Locator::Id("import-list")).await.unwrap();
    import.click().await.unwrap();
    let _ = import.click().await;
    let summary = wait_text(&admin, "#report-summary", 20, |t| t.contains("Imported")).await;
    assert!(summary.starts_with("Imported 2;"), "{summary}");
    let problems = wait_text(&admin, "#problems", 5, |t| !t.is_empty()).await;
    assert!(
        problems.contains('4') && problems.contains("error"),
        "line 4's phone: {problems}"
    );
    assert!(
        problems.contains('5') && problems.contains("duplicate"),
        "line 5 repeats line 2: {problems}"
    );
    wait_text(&admin, "#lists", 10, |t| t.contains("ward-4")).await;
    wait_text(&admin, "#audit", 10, |t| t.contains("list uploaded")).await;
    let lists = server.ok(&token, Method::GET, "/api/lists", None).await;
    let ward = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "ward-4")
        .unwrap();
    assert_eq!(ward["contacts"], 2, "imported once, whatever the clicks");

    // A campaign on the new list.
    type_into(&admin, "#campaign-name", "Ward 4 follow-up").await;
    click(&admin, "input[name='campaign-list'][value='ward-4']").await;
    click(&admin, "#create-campaign").await;
    wait_text(&admin, "#campaigns", 10, |t| t.contains("Ward 4 follow-up")).await;

    // The demo campaign takes the new list too, and new hours and retries;
    // an emptied field is not sent.
    click(&admin, "button[data-campaign='1']").await;
    wait_text(&admin, "#edit-name", 10, |t| !t.is_empty()).await;
    admin
        .execute(
            "document.getElementById('edit-always').checked = false; \
             document.getElementById('edit-always').dispatchEvent(new Event('change')); \
             document.getElementById('edit-start').value = '09:00'; \
             document.getElementById('edit-end').value = '20:00';",
            vec![],
        )
        .await
        .unwrap();
    clear_and_type(&admin, "#edit-per-day", "").await;
    click(&admin, "#save-campaign").await;
    clear_and_type(&admin, "#edit-per-day", "2").await;
    click(&admin, "#save-campaign").await;
    wait_text(&admin, "#flash", 10, |t| t == "Saved").await;
    let demo = server
        .ok(&token, Method::GET, "/api/campaigns/1", None)
        .await;
    assert_eq!(
        demo["settings"]["contacts"]["window"]["start"], "09:00:00",
        "{demo}"
    );
    assert_eq!(
        demo["settings"]["contacts"]["retry"]["max_per_day"], 2,
        "{demo}"
    );
    click(&admin, "#attach").await; // no list chosen: nothing sent
    wait_text(&admin, "#flash", 5, |t| t.contains("Choose at least one")).await;
    admin
        .find(Locator::Id("attach-list"))
        .await
        .unwrap()
        .select_by_value("ward-4")
        .await
        .unwrap();
    click(&admin, "#attach").await;
    wait_text(&admin, "#flash", 10, |t| t == "List ward-4 added").await;
    wait_text(&admin, "#campaigns", 10, |t| {
        t.lines()
            .any(|row| row.contains("ward-4") && !row.contains("Ward 4 follow-up"))
    })
    .await;
    let actions = server.audit_actions(&token).await;
    for action in ["campaign_settings", "campaign_attach_list"] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            1,
            "{action}: {actions:?}"
        );
    }

    // Filtered audit: only the resets.
    admin
        .find(Locator::Id("audit-action"))
        .await
        .unwrap()
        .select_by_value("password_reset")
        .await
        .unwrap();
    let audit = wait_text(&admin, "#audit", 5, |t| !t.contains("list uploaded")).await;
    assert!(audit.contains("password reset"), "{audit}");
    admin
        .find(Locator::Id("audit-action"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();

    in_both_languages(&admin, "admin").await;
    admin.close().await.unwrap();
    drop(driver);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_pauses_an_agent_after_their_call_and_exports_the_day() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();
    let agent = driver.browser().await;
    agent_on_a_simulated_call(&agent, &base, "agent1").await;
    let token = server.login("admin").await;
    let users = server.ok(&token, Method::GET, "/api/users", None).await;
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "agent1")
        .unwrap()
        .clone();
    let (id, name) = (
        me["id"].as_i64().unwrap(),
        me["display_name"].as_str().unwrap().to_string(),
    );

    // The agent opening the console is told it is not theirs.
    agent.goto(&format!("{base}/supervisor")).await.unwrap();
    wait_text(&agent, "#wrong-role", 10, |t| {
        t.contains("not for your role")
    })
    .await;
    agent.back().await.unwrap();
    wait_text(&agent, "#contact-name", 20, |t| !t.is_empty()).await;

    let supervisor = driver.browser().await;
    log_in(&supervisor, &base, "supervisor", "/supervisor").await;
    let row = format!("tr.agent-row[data-agent='{id}']");
    wait_text(&supervisor, &row, 10, |t| t.contains(&name)).await;
    wait_text(&supervisor, "#restraint-1", 10, |t| {
        t.starts_with("Holding back: ")
    })
    .await;
    click(&supervisor, &format!("{row} .force-pause")).await;
    wait_text(&supervisor, &row, 10, |t| {
        t.contains("pauses after this call")
    })
    .await;
    wait_text(&agent, "#after-call", 10, |t| t == "pauses after this call").await;

    // The agent records the call and asks for the next: paused instead.
    let hangup = agent.find(Locator::Id("hangup")).await.unwrap();
    if hangup.is_enabled().await.unwrap() {
        hangup.click().await.unwrap();
    }
    wait_text(&agent, "#state", 10, |t| t == "in wrap-up").await;
    agent
        .find(Locator::Id("disposition"))
        .await
        .unwrap()
        .select_by_value("wrong_number")
        .await
        .unwrap();
    click(&agent, "#save").await;
    wait_text(&agent, "#state", 10, |t| t == "paused").await;
    wait_text(&supervisor, &row, 10, |t| {
        t.contains("paused") && !t.contains("after this call")
    })
    .await;
    let audit = server.ok(&token, Method::GET, "/api/audit", None).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "agent_force_pause"),
        "{audit}"
    );

    // The day's report: shown, and the CSV the download link gives.
    click(&supervisor, "#report-show").await;
    wait_text(&supervisor, "#report-table", 10, |t| t.contains(&name)).await;
    let csv = supervisor
        .execute_async(
            "const done = arguments[0]; fetch(document.getElementById('report-csv').href).then((r) => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("day,campaign,campaign_name,agent,agent_name"),
        "{csv}"
    );
    assert!(csv.contains(&name), "{csv}");
    in_both_languages(&supervisor, "supervisor").await;
    in_both_languages(&agent, "agent").await;

    // Logged out by the supervisor, the agent's desk says so.
    click(&supervisor, &format!("{row} .force-logout")).await;
    assert!(confirm_text(&supervisor).await.contains(&name));
    supervisor.accept_alert().await.unwrap();
    wait_text(&agent, "#state", 10, |t| t == "logged out").await;

    for browser in [agent, supervisor] {
        browser.close().await.unwrap();
    }
    drop(driver);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_and_medical_pages_in_both_languages() {
    let server = Server::start().await;
    let driver = Driver::start();
    let base = server.base.clone();
    let browser = driver.browser().await;
    browser.goto(&format!("{base}/")).await.unwrap();
    wait_text(&browser, "#login", 5, |t| t == "Log in").await;
    in_both_languages(&browser, "login").await;
    log_in(&browser, &base, "doctor", "/medical").await;
    wait_text(&browser, "#tickets", 10, |t| t.contains("No open tickets")).await;
    in_both_languages(&browser, "medical").await;
    browser.close().await.unwrap();
    drop(driver);
    server.stop().await;
}
