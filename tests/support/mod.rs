//! A service on loopback for the end-to-end tests: the embedded store in a
//! temporary folder, simulated telephony, the demo accounts.

#![allow(dead_code)] // each test file uses its own part

use futures_util::StreamExt;
use reqwest::{Client, Method, StatusCode};
use sanjeevani_server::Config;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub struct Server {
    pub base: String,
    pub client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        ..Config::default()
    };
    config.demo.contacts = 300;
    config.demo.simulated_agents = 0;
    config.shutdown.drain_secs = 2;
    config.auth.logins_per_minute = 10_000;
    config.auth.client_failures_per_minute = 10_000;
    // A test bench: the demo's accounts and contacts whatever the telephony.
    config.demo.with_real_telephony = true;
    config
}

impl Server {
    pub async fn start_with(config: Config, dir: tempfile::TempDir) -> Server {
        let state = sanjeevani_server::prepare_announcing(config.clone(), |_, _| {})
            .await
            .unwrap();
        Server::serve(state, config, dir).await
    }

    /// Serves `state` (prepared from `config`) on loopback; over HTTPS when
    /// `config` has a certificate.
    pub async fn serve(
        state: sanjeevani_server::AppState,
        config: Config,
        dir: tempfile::TempDir,
    ) -> Server {
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let scheme = if config.server.tls() { "https" } else { "http" };
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            sanjeevani_server::run(state, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            base,
            // A test certificate of our own on loopback.
            client: Client::builder()
                .danger_accept_invalid_certs(true)
                .build()
                .unwrap(),
            stop: Some(stop),
            task,
            dir,
        }
    }

    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(dir.path());
        Server::start_with(config, dir).await
    }

    pub async fn login(&self, username: &str) -> String {
        let r = self
            .client
            .post(format!("{}/api/login", self.base))
            .json(&json!({"username": username, "password": "demo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        session_of(&r)
    }

    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(Some(token), method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    pub async fn ws(
        &self,
        token: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        let mut request = format!("{}/ws", self.base.replace("http", "ws"))
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    /// Agent `username` on a real PBX: logs in, joins campaign 1 (paused until
    /// the phone answers), asks to be ready and waits for the first screen
    /// pop. Returns the token, the agent's socket and the pop.
    pub async fn agent_takes_a_call(
        &self,
        username: &str,
    ) -> (
        String,
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        Value,
    ) {
        let agent = self.login(username).await;
        let mut ws = self.ws(&agent).await;
        let hello = next_message(&mut ws, "hello", 5).await;
        assert_eq!(hello["simulated_telephony"], false, "no SIMULATION banner");
        let status = self
            .ok(
                &agent,
                Method::POST,
                "/api/agent/login",
                Some(serde_json::json!({"campaign": 1})),
            )
            .await;
        assert_eq!(status["state"], "paused");
        self.ok(&agent, Method::POST, "/api/agent/ready", None)
            .await;
        // Ready once the phone has answered; then the dialer calls for the agent.
        let pop = next_message(&mut ws, "screen_pop", 30).await;
        assert!(pop["contact"]["name"].is_string(), "{pop}");
        (agent, ws, pop)
    }

    /// Opens an urgent ticket for `contact` of campaign 1 in the server's
    /// store, as an escalation would; returns its id.
    pub async fn open_ticket(&self, contact: i64) -> i64 {
        let store = sanjeevani_store::open(None, &self.dir.path().join("data"))
            .await
            .unwrap();
        store
            .create_ticket(
                &sanjeevani_store::NewTicket {
                    contact: sanjeevani_store::ContactId(contact),
                    campaign: sanjeevani_store::CampaignId(1),
                    attempt: None,
                    urgency: sanjeevani_store::Urgency::Urgent,
                    reason: "breathless".into(),
                    answers: json!({"breathless": true}),
                    rule: None,
                    raised_by: None,
                    transfer_node: None,
                    follow_node: None,
                },
                sanjeevani_server::now_ms(),
            )
            .await
            .unwrap()
    }

    /// The audit log's actions, newest first, as the admin reads them.
    pub async fn audit_actions(&self, admin: &str) -> Vec<String> {
        let audit = self.ok(admin, Method::GET, "/api/audit", None).await;
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str().map(str::to_string))
            .collect()
    }

    /// Stops the server; returns its data directory, kept until dropped.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("the server stops within the drain deadline")
            .unwrap();
        self.dir
    }
}

/// The session token a login answer sets as its cookie (the body never
/// carries it).
pub fn session_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("sanjeevani_session="))
        .and_then(|c| c.split(';').next())
        .filter(|token| !token.is_empty())
        .expect("a login sets the session cookie")
        .to_string()
}

/// Next JSON message of `kind` within `secs`.
pub async fn next_message<S>(ws: &mut S, kind: &str, secs: u64) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    next_message_of(ws, &[kind], secs).await
}

/// Next JSON message of one of `kinds` within `secs`; the others are skipped.
pub async fn next_message_of<S>(ws: &mut S, kinds: &[&str], secs: u64) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kinds:?} message within {secs} s"))
            .expect("socket open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if kinds.iter().any(|k| value["type"] == *k) {
                return value;
            }
        }
    }
}
