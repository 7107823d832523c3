//! Peers and a campaign for the SIP tests: sipp, baresip and Kamailio started
//! on free loopback ports in a temporary directory and stopped on drop; a
//! SQLite store with a running campaign; the dialer run to the end of its list
//! with a scripted agents' desk.

// Shared by several test binaries, each using a part.
#![allow(dead_code)]

use sanjeevani_contacts::{Category, NewContact, Phone, Region};
use sanjeevani_core::{AgentId, TrunkLimits};
use sanjeevani_dialer::{
    ClockMode, Control, ControlRequest, Dialer, DialerLinks, DialerOptions, LiveView, Notice,
    Telephony,
};
use sanjeevani_sip::{LineConfig, SipConfig, SipLine, Transport};
use sanjeevani_store::{Attempt, CampaignId, CampaignSettings, CampaignState, Store};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sip")
        .join(name)
}

/// A port free for both UDP and TCP on 127.0.0.1 (at the time of asking).
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// Mobile numbers for `n` contacts.
pub fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+91 99999 {:05}", 10 + i)).collect()
}

/// A peer process, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Peer {
    child: Mutex<Child>,
    pub port: u16,
    log: PathBuf,
}

impl Peer {
    pub fn spawn(mut command: Command, port: u16, log: PathBuf) -> Peer {
        let out = std::fs::File::create(&log).expect("log file");
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} starts (installed by .ci/run): {e}"));
        Peer {
            child: Mutex::new(child),
            port,
            log,
        }
    }

    /// Waits for the peer to exit by itself; `true` if it succeeded.
    pub fn exits_cleanly(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Stops (`STOP`) or resumes (`CONT`) the peer and its child processes,
    /// as a host that stops answering would.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.lock().unwrap().id().to_string();
        let _ = Command::new("pkill")
            .args([&format!("-{signal}"), "-P", &pid])
            .status();
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The directory the peer runs in (its log and traces).
    pub fn dir(&self) -> &Path {
        self.log.parent().expect("in a directory")
    }

    /// Every file the peer wrote (its log, sipp's error and message traces),
    /// for failure messages.
    pub fn traces(&self) -> String {
        let dir = self.dir();
        let mut out = String::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            out.push_str(&format!("==> {}\n{text}\n", entry.path().display()));
        }
        out
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        for _ in 0..30 {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// How the scripted agents behave once a call reaches them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Desk {
    /// Hang up this long after the call is connected (`None`: wait for the callee).
    pub hang_up_after: Option<Duration>,
}

/// What a run left in the store.
pub struct Run {
    /// Each contact's attempts, contacts in the order given.
    pub attempts: Vec<Vec<Attempt>>,
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn assert_all_completed_by_agents(&self, agents: &[i64]) {
        for attempts in &self.attempts {
            let attempt = attempts.last().expect("dialed");
            assert_eq!(
                attempt.outcome,
                Some(sanjeevani_contacts::AttemptOutcome::Completed),
                "{attempts:?}"
            );
            assert!(agents.contains(&attempt.agent.expect("an agent")));
            let wait = attempt.connect_at.unwrap() - attempt.answer_at.unwrap();
            assert!(wait < 1000, "{wait} ms from answer to agent");
        }
        for latency in &self.latencies {
            assert!(
                *latency < Duration::from_millis(500),
                "answer to connect {latency:?}"
            );
        }
    }
}

/// A store with one running campaign over the given numbers.
pub struct Test {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub campaign: CampaignId,
}

impl Test {
    pub async fn new(numbers: &[String], settings: &str) -> Test {
        let dir = tempfile::tempdir().unwrap();
        let store = sanjeevani_store::open(None, dir.path()).await.unwrap();
        let settings: CampaignSettings = toml::from_str(settings).expect("settings");
        let now = chrono::Utc::now().timestamp_millis();
        let list = store.create_list("sip", now).await.unwrap();
        let contacts: Vec<NewContact> = numbers
            .iter()
            .map(|n| NewContact {
                phone: Phone::parse(n, Region::default()).expect("a valid number"),
                name: "परीक्षण".into(),
                language: Some("hi".into()),
                category: Category::HomeIsolation,
                risk: Vec::new(),
                follow_up: None,
                district: None,
                block: None,
                timezone: None,
                attributes: Default::default(),
            })
            .collect();
        store.insert_contacts(list, &contacts, now).await.unwrap();
        let campaign = store
            .create_campaign("sip", &settings, &[list], now)
            .await
            .unwrap();
        store
            .set_campaign_state(campaign, CampaignState::Running)
            .await
            .unwrap();
        Test {
            dir,
            store,
            campaign,
        }
    }

    fn peer_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(format!("{name}-{}", free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A sipp UAS running `scenario` on a free port.
    pub fn sipp(&self, scenario: &str, extra: &[&str]) -> Peer {
        let port = free_port();
        let dir = self.peer_dir("sipp");
        let mut command = Command::new("sipp");
        command
            .current_dir(&dir)
            .arg("-sf")
            .arg(fixture(scenario))
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-mp", &free_port().to_string()])
            .args(["-nostdin", "-timeout", "120s", "-trace_err"])
            .args(extra);
        let peer = Peer::spawn(command, port, dir.join("sipp.log"));
        if extra.contains(&"-t") {
            // Over TCP, wait until it accepts connections.
            for _ in 0..50 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        } else {
            std::thread::sleep(Duration::from_millis(200));
        }
        peer
    }

    /// Registers `user` at the registrar on `registrar_port` as `127.0.0.1:contact_port`.
    pub fn register(&self, registrar_port: u16, user: &str, contact_port: u16) {
        let dir = self.peer_dir("register");
        let status = Command::new("sipp")
            .current_dir(&dir)
            .arg(format!("127.0.0.1:{registrar_port}"))
            .arg("-sf")
            .arg(fixture("uac_register.xml"))
            .args([
                "-s",
                user,
                "-key",
                "contact_port",
                &contact_port.to_string(),
            ])
            .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
            .args(["-m", "1", "-nostdin", "-timeout", "10s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sipp runs");
        assert!(status.success(), "REGISTER accepted");
    }

    /// baresip answering automatically as `agent1` on a free port.
    pub fn baresip(&self) -> Peer {
        let port = free_port();
        let dir = self.peer_dir("baresip");
        let config = format!(
            "poll_method\t\tepoll\nsip_listen\t\t127.0.0.1:{port}\nnet_interface\t\t127.0.0.1\n\
             call_local_timeout\t120\ncall_max_calls\t\t1\naudio_player\t\taubridge,agent\n\
             audio_source\t\taubridge,agent\naudio_alert\t\taubridge,agent\naudio_level\t\tno\n\
             rtp_stats\t\tno\nmodule_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\n\
             module\t\t\taubridge.so\nmodule_tmp\t\taccount.so\nmodule_app\t\tmenu.so\n"
        );
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:agent1@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=pcmu,pcma\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("contacts"), "").unwrap();
        let mut command = Command::new("baresip");
        command.arg("-f").arg(&dir).args(["-t", "120"]);
        let peer = Peer::spawn(command, port, dir.join("baresip.log"));
        std::thread::sleep(Duration::from_millis(300));
        peer
    }

    /// Kamailio as registrar and proxy (tests/fixtures/sip/kamailio-test.cfg)
    /// on a free port.
    pub fn kamailio(&self) -> Peer {
        let port = free_port();
        let dir = self.peer_dir("kamailio");
        let config = std::fs::read_to_string(fixture("kamailio-test.cfg"))
            .unwrap()
            .replace("5090", &port.to_string())
            .replace("/tmp/kam-run", dir.to_str().unwrap());
        let path = dir.join("kamailio.cfg");
        std::fs::write(&path, config).unwrap();
        let mut command = Command::new("kamailio");
        command
            .arg("-f")
            .arg(&path)
            .args(["-DD", "-E", "-n", "1", "-m", "64", "-M", "16"])
            .arg("-Y")
            .arg(&dir)
            .arg("-P")
            .arg(dir.join("kamailio.pid"));
        let peer = Peer::spawn(command, port, dir.join("kamailio.log"));
        std::thread::sleep(Duration::from_millis(800));
        peer
    }

    /// The adapter's settings: contacts at `sip:<number>@127.0.0.1:<trunk>`,
    /// agent N at `sip:agentN@127.0.0.1:<phones>`.
    pub fn sip_config(&self, trunk: u16, phones: u16) -> SipConfig {
        SipConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            transport: Transport::Udp,
            line: LineConfig {
                contact_uri: format!("sip:{{number}}@127.0.0.1:{trunk}"),
                trunk: SocketAddr::from(([127, 0, 0, 1], trunk)),
                agent_uri: format!("sip:agent{{agent}}@127.0.0.1:{phones}"),
                agent_proxy: None,
                announcement_uri: None,
            },
            credentials: None,
            keepalive: None,
            t1: Duration::from_millis(500),
            seed: None,
        }
    }

    /// Runs the campaign over SIP to the end of its list (or panics after `deadline`).
    pub async fn run(
        &self,
        config: SipConfig,
        agents: &[u64],
        desk: Desk,
        deadline: Duration,
    ) -> Run {
        let (events_tx, events) = mpsc::unbounded_channel();
        let line = SipLine::start(config, events_tx)
            .await
            .expect("the adapter binds");
        let stats = line.stats();
        let attempts = self.run_with(line, events, agents, desk, deadline).await;
        Run {
            attempts,
            latencies: stats.take_latencies(),
        }
    }

    /// Runs the campaign with any telephony to the end of its list; each
    /// contact's attempts.
    pub async fn run_with<T: Telephony>(
        &self,
        line: T,
        events: mpsc::UnboundedReceiver<sanjeevani_dialer::LineEvent>,
        agents: &[u64],
        desk: Desk,
        deadline: Duration,
    ) -> Vec<Vec<Attempt>> {
        let (controls_tx, controls) = mpsc::channel(64);
        let campaign = self.store.campaign(self.campaign).await.unwrap();
        let (view, _watching) = watch::channel(LiveView::empty(
            self.campaign,
            campaign.settings.dialer.pacing,
            0,
        ));
        let (notices, mut notices_rx) = broadcast::channel(256);
        let options = DialerOptions {
            node: "sip-test".into(),
            lease_ttl: Duration::from_secs(30),
            hopper_size: 4,
            agents: agents.iter().map(|a| AgentId(*a)).collect(),
            exit_when_done: true,
            drain_deadline: Duration::from_secs(5),
            trunk: TrunkLimits {
                calls_per_second: 50.0,
                max_calls: 50,
            },
            clock: ClockMode::Real,
        };
        let dialer = Dialer::new(self.store.clone(), self.campaign, line, events, options)
            .await
            .unwrap()
            .with_links(DialerLinks {
                controls,
                view,
                notices,
            });
        let scripted = tokio::spawn(async move {
            while let Ok(notice) = notices_rx.recv().await {
                match notice {
                    Notice::Connected { agent, .. } => {
                        if let Some(after) = desk.hang_up_after {
                            let controls = controls_tx.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(after).await;
                                let hangup = told(Control::AgentHangup(AgentId(agent)));
                                let _ = controls.send(hangup).await;
                            });
                        }
                    }
                    Notice::Ended {
                        agent: Some(agent), ..
                    } => {
                        let _ = controls_tx
                            .send(told(Control::AgentReady(AgentId(agent))))
                            .await;
                    }
                    Notice::Ended { .. } => {}
                }
            }
        });
        let finished = tokio::time::timeout(deadline, dialer.run(std::future::pending())).await;
        scripted.abort();
        let attempts = self.attempts().await;
        match finished {
            Ok(result) => result.expect("the dialer runs"),
            Err(_) => panic!("the campaign did not finish in {deadline:?}: {attempts:#?}"),
        }
        attempts
    }

    /// Each contact's attempts in dialing order, contacts in id order.
    async fn attempts(&self) -> Vec<Vec<Attempt>> {
        let mut by_contact: BTreeMap<i64, Vec<Attempt>> = BTreeMap::new();
        for attempt in self.store.attempts_between(0, i64::MAX).await.unwrap() {
            by_contact
                .entry(attempt.contact.0)
                .or_default()
                .push(attempt);
        }
        for attempts in by_contact.values_mut() {
            attempts.sort_by_key(|a| a.dial_at);
        }
        by_contact.into_values().collect()
    }
}

/// A scripted agent's control, sent without waiting for its answer.
fn told(control: Control) -> ControlRequest {
    ControlRequest {
        control,
        answer: None,
    }
}
