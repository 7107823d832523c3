//! `sanjeevani bench ari`: the ARI adapter and the dialer through a real
//! Asterisk run from the operator's kit (`deploy/asterisk`, with only
//! addresses, ports, paths and secrets changed), beside `bench sip` at the
//! same load in the same run.
//!
//! N agents (default 200) whose phones are a sipp UAS
//! (`tests/fixtures/sip/agent_phone.xml`, one kit endpoint per agent, added
//! as an operator adds them), a progressive campaign that keeps N calls up,
//! and callees behind the kit's trunk that answer after 0.2–1 s and hang up
//! after 1–5 s (`uas_hangup_after_talk.xml`). Answer-to-connect is read off
//! Asterisk's own events, on a second WebSocket subscribed to everything:
//! from the contact's channel going `Up` to its `ChannelEnteredBridge`, both
//! by Asterisk's timestamps. Then: originates Asterisk or the network
//! refused, attempts left open, and channels and bridges left in Asterisk
//! once the dialer has stopped.
//!
//! Needs an installed Asterisk (`--asterisk`, else
//! `SANJEEVANI_TEST_ASTERISK`, else `asterisk` on the PATH) and sipp.

use crate::bench_sip::{answer_to_connect, fixture, free_port, quantile_ms, sipp, BenchCampaign};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use sanjeevani_ari::calls::AriConfig;
use sanjeevani_ari::driver::{AriLine, AriSettings};
use sanjeevani_asterisk_kit::{Install, Instance, Setup, ARI_USER, KIT_AGENTS};
use sanjeevani_contacts::AttemptOutcome;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// Answer-to-connect figures of one adapter.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub connects: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut latencies: Vec<Duration>) -> Latency {
        latencies.sort();
        Latency {
            connects: latencies.len(),
            p50_ms: quantile_ms(&latencies, 0.5),
            p99_ms: quantile_ms(&latencies, 0.99),
            max_ms: quantile_ms(&latencies, 1.0),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AriBench {
    pub asterisk: String,
    pub agents: usize,
    pub seconds: u64,
    /// The most calls Asterisk held at once (contacts' channels).
    pub peak_contact_channels: usize,
    /// By Asterisk's event timestamps.
    pub ari: Latency,
    /// As the adapter saw it: the answer's event to addChannel's reply.
    pub ari_adapter: Latency,
    /// `bench sip`'s answer-to-connect at the same load (200 OK to our ACK).
    pub sip: Latency,
    pub attempts: usize,
    /// Attempts by outcome.
    pub outcomes: std::collections::BTreeMap<String, usize>,
    pub originate_failures: usize,
    pub attempts_left_open: usize,
    pub channels_left: usize,
    pub bridges_left: usize,
    /// Where Asterisk's log and the peers' traces were kept, when
    /// something failed or was left.
    pub kept: Option<PathBuf>,
    /// ARI over SIP, p50 and p99.
    pub ratio_p50: f64,
    pub ratio_p99: f64,
}

/// The Asterisk binary: `given`, else `SANJEEVANI_TEST_ASTERISK`, else on the PATH.
fn asterisk_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    given
        .or_else(|| std::env::var_os("SANJEEVANI_TEST_ASTERISK").map(PathBuf::from))
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
                .map(|dir| dir.join("asterisk"))
                .find(|candidate| candidate.is_file())
        })
        .ok_or_else(|| {
            anyhow!(
                "no Asterisk found: pass --asterisk /path/to/sbin/asterisk (docs/asterisk.md, section 1)"
            )
        })
}

pub async fn run(asterisk: Option<PathBuf>, agents: usize, seconds: u64) -> Result<AriBench> {
    if agents <= KIT_AGENTS || agents > 1_000 {
        bail!(
            "--agents: from {} (the kit has {KIT_AGENTS} phones) to 1000",
            KIT_AGENTS + 1
        );
    }
    let install = Install::find(asterisk_binary(asterisk)?)?;
    let dir = tempfile::Builder::new()
        .prefix("sj-bench-ast")
        .tempdir_in("/tmp")?;
    let scenario = |name: &str| fixture(name).display().to_string();
    let network_port = free_port()?;
    let phones_port = free_port()?;
    let peer = |scenario: String, port: u16| -> Result<_> {
        sipp(
            dir.path(),
            &[
                "-sf".into(),
                scenario,
                "-p".into(),
                port.to_string(),
                "-mp".into(),
                free_port()?.to_string(),
                "-timeout".into(),
                "600s".into(),
                "-max_socket".into(),
                "4096".into(),
                // Answers the trunk's qualify OPTIONS: unanswered, Asterisk
                // marks the trunk unreachable and every call fails.
                "-aa".into(),
            ],
        )
    };
    let _network = peer(scenario("uas_hangup_after_talk.xml"), network_port)?;
    let _phones = peer(scenario("agent_phone.xml"), phones_port)?;
    let password = "bench-ari-secret";
    let setup = Setup {
        http_port: free_port()?,
        sip_port: free_port()?,
        // Four ports per call (RTP and RTCP, contact's leg and agent's leg).
        rtp_start: 20_000,
        rtp_ports: (agents as u16 * 6).max(1_000),
        ari_password: password.into(),
        network: ([127, 0, 0, 1], network_port).into(),
        trunk_password: "bench-trunk-secret".into(),
        phones: ([127, 0, 0, 1], phones_port).into(),
        phone_users: Vec::new(),
        more_agents: agents - KIT_AGENTS,
        without_modules: Vec::new(),
    };
    let pbx = Instance::create(install, dir.path(), &setup)?;
    pbx.start().await?;
    let version = pbx.cli("core show version").trim().to_string();

    // Asterisk's own account of every channel and bridge.
    let (watch_url, http) = (
        format!(
            "ws://127.0.0.1:{}/ari/events?app=bench-observer&subscribeAll=true&api_key={ARI_USER}:{password}",
            setup.http_port
        ),
        reqwest::Client::new(),
    );
    let (socket, _) = tokio_tungstenite::connect_async(watch_url.as_str())
        .await
        .context("subscribing to all of Asterisk's events")?;
    let (stop_observing, stop) = tokio::sync::oneshot::channel();
    let observer = tokio::spawn(observe(socket, stop));

    let campaign = BenchCampaign::create(agents * seconds as usize).await?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = AriLine::start(
        AriSettings {
            base: pbx.base(),
            username: ARI_USER.into(),
            password: password.into(),
            calls: AriConfig {
                caller_id: "District Health <1075>".into(),
                originate_timeout: 30,
                ..AriConfig::new("sanjeevani-bench", "bench")
            },
            ping: Duration::from_secs(5),
        },
        events_tx,
    );
    let latencies = line.latencies();
    campaign.run(line, events, agents, seconds).await?;
    let adapter = latencies.take();

    // Give Asterisk a moment to finish hanging up, then look.
    let left = |what: &'static str| {
        let http = http.clone();
        let url = format!("{}/ari/{what}", pbx.base());
        async move {
            let list: Vec<serde_json::Value> = http
                .get(url)
                .basic_auth(ARI_USER, Some(password))
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok(list.len())
        }
    };
    let mut channels_left = left("channels").await?;
    for _ in 0..50 {
        if channels_left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        channels_left = left("channels").await?;
    }
    let bridges_left = left("bridges").await?;
    let _ = stop_observing.send(());
    let seen = observer.await?;

    let attempts = campaign.store.attempts_between(0, i64::MAX).await?;
    let originate_failures = attempts
        .iter()
        .filter(|a| {
            matches!(
                a.outcome,
                Some(
                    AttemptOutcome::Rejected | AttemptOutcome::Congestion | AttemptOutcome::Invalid
                )
            )
        })
        .count();
    let attempts_left_open = attempts.iter().filter(|a| a.outcome.is_none()).count();
    let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
    for attempt in &attempts {
        let outcome = attempt
            .outcome
            .map_or("open".to_string(), |o| format!("{o:?}").to_lowercase());
        *outcomes.entry(outcome).or_default() += 1;
    }
    drop(pbx);
    // Something failed or was left: Asterisk's log and the peers' traces stay
    // for whoever looks into it.
    let kept = (originate_failures + attempts_left_open + channels_left + bridges_left > 0)
        .then(|| dir.keep());

    let sip_dir = tempfile::tempdir()?;
    let sip = Latency::of(answer_to_connect(sip_dir.path(), agents, seconds).await?);
    let ari = Latency::of(seen.latencies);
    Ok(AriBench {
        asterisk: version,
        agents,
        seconds,
        peak_contact_channels: seen.peak,
        ratio_p50: ari.p50_ms / sip.p50_ms,
        ratio_p99: ari.p99_ms / sip.p99_ms,
        ari,
        ari_adapter: Latency::of(adapter),
        sip,
        attempts: attempts.len(),
        outcomes,
        originate_failures,
        attempts_left_open,
        channels_left,
        bridges_left,
        kept,
    })
}

/// What the observer saw: answer-to-connect per contact and the most
/// contacts' channels at once.
#[derive(Debug, Default)]
struct Seen {
    latencies: Vec<Duration>,
    peak: usize,
}

/// Reads every event until told to stop.
async fn observe(
    mut socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Seen {
    let mut answered: HashMap<String, chrono::DateTime<chrono::FixedOffset>> = HashMap::new();
    let mut live = std::collections::HashSet::new();
    let mut seen = Seen::default();
    loop {
        let message = tokio::select! {
            _ = &mut stop => {
                let _ = socket.close(None).await;
                break;
            }
            message = socket.next() => match message {
                Some(Ok(message)) => message,
                _ => break,
            },
        };
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let channel = event["channel"]["id"].as_str().unwrap_or_default();
        if !is_contact(channel) {
            continue;
        }
        let at = event["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").ok());
        match (event["type"].as_str(), at) {
            (Some("ChannelCreated"), _) => {
                live.insert(channel.to_string());
                seen.peak = seen.peak.max(live.len());
            }
            (Some("ChannelDestroyed"), _) => {
                live.remove(channel);
                answered.remove(channel);
            }
            (Some("ChannelStateChange"), Some(at)) if event["channel"]["state"] == "Up" => {
                answered.entry(channel.to_string()).or_insert(at);
            }
            (Some("ChannelEnteredBridge"), Some(at)) => {
                if let Some(up) = answered.remove(channel) {
                    if let Ok(took) = (at - up).to_std() {
                        seen.latencies.push(took);
                    }
                }
            }
            _ => {}
        }
    }
    seen
}

/// `bench-c{call}.`: a contact's channel, as the adapter names them.
fn is_contact(channel: &str) -> bool {
    channel
        .strip_prefix("bench-c")
        .and_then(|n| n.strip_suffix('.'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
