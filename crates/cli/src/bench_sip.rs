//! `sanjeevani bench sip`: the SIP adapter against a sipp UAS on loopback.
//!
//! 1. Attempts per second: N calls offered at a rate R to one sipp UAS
//!    (sipp's built-in `uas`: 180, 200, waits for BYE), placed once by our
//!    adapter (INVITE, answer, ACK, BYE) and once by sipp's own UAC (same
//!    flow), alternating, each side twice. The figure per run is N divided
//!    by the time from the first INVITE to the last call's end.
//! 2. Answer-to-connect at C concurrent calls: the full dialer (core, store
//!    in a temporary folder, adapter) with C agents whose phones are a sipp
//!    UAS running `tests/fixtures/sip/agent_phone.xml`, dialing contacts that
//!    answer after 0.2-1 s and hang up after 1-5 s of talk
//!    (`uas_hangup_after_talk.xml`). Latency runs from the contact's 200 OK
//!    arriving to our ACK leaving with the agent's answer.
//!
//! Needs `sipp` on the PATH (Debian: `sip-tester`).

use anyhow::{bail, Context, Result};
use sanjeevani_contacts::{Category, NewContact, Phone, Region};
use sanjeevani_core::{AgentId, CallId, TrunkLimits};
use sanjeevani_dialer::{
    ClockMode, Control, ControlRequest, Dialer, DialerLinks, DialerOptions, LineEvent, LiveView,
    Notice, Telephony,
};
use sanjeevani_sip::{LineConfig, SipConfig, SipLine, Transport};
use sanjeevani_store::{CampaignSettings, CampaignState};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

#[derive(Debug, Serialize)]
pub struct RateRun {
    pub placed_by: &'static str,
    pub calls: u64,
    pub completed: u64,
    pub seconds: f64,
    pub attempts_per_second: f64,
}

#[derive(Debug, Serialize)]
pub struct SipBench {
    pub offered_rate: u32,
    pub runs: Vec<RateRun>,
    /// Ours over sipp's, best run of each.
    pub ratio: f64,
    pub concurrent_agents: usize,
    pub connects: usize,
    pub answer_to_connect_p50_ms: f64,
    pub answer_to_connect_p99_ms: f64,
    pub answer_to_connect_max_ms: f64,
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/sip")
        .join(name)
}

/// A sipp process, killed when dropped.
pub(crate) struct Sipp(Child);

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) fn sipp(dir: &Path, args: &[String]) -> Result<Sipp> {
    let child = Command::new("sipp")
        .current_dir(dir)
        .args(args)
        .args(["-i", "127.0.0.1", "-nostdin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("running sipp (install Debian's sip-tester)")?;
    Ok(Sipp(child))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

pub async fn run(rate: u32, seconds: u64, concurrent: usize) -> Result<SipBench> {
    let dir = tempfile::tempdir()?;
    let uas_port = free_port()?;
    let _uas = sipp(
        dir.path(),
        &strings(&[
            "-sn",
            "uas",
            "-p",
            &uas_port.to_string(),
            "-mp",
            &free_port()?.to_string(),
        ]),
    )?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = u64::from(rate) * seconds;
    let mut runs = Vec::new();
    for _ in 0..2 {
        runs.push(sipp_uac(dir.path(), uas_port, rate, calls)?);
        runs.push(ours(uas_port, rate, calls).await?);
    }
    let best = |who: &str| {
        runs.iter()
            .filter(|r| r.placed_by == who)
            .map(|r| r.attempts_per_second)
            .fold(0.0, f64::max)
    };
    let ratio = best("sanjeevani") / best("sipp");
    let latencies = answer_to_connect(dir.path(), concurrent, seconds.max(20)).await?;
    let pick = |q: f64| quantile_ms(&latencies, q);
    Ok(SipBench {
        offered_rate: rate,
        runs,
        ratio,
        concurrent_agents: concurrent,
        connects: latencies.len(),
        answer_to_connect_p50_ms: pick(0.5),
        answer_to_connect_p99_ms: pick(0.99),
        answer_to_connect_max_ms: pick(1.0),
    })
}

/// sipp's own UAC against the UAS: N calls at the rate, 0 s of talk.
fn sipp_uac(dir: &Path, uas_port: u16, rate: u32, calls: u64) -> Result<RateRun> {
    let dir = tempfile::tempdir_in(dir)?;
    let started = Instant::now();
    let mut uac = sipp(
        dir.path(),
        &strings(&[
            "-sn",
            "uac",
            &format!("127.0.0.1:{uas_port}"),
            "-p",
            &free_port()?.to_string(),
            "-mp",
            &free_port()?.to_string(),
            "-r",
            &rate.to_string(),
            "-m",
            &calls.to_string(),
            "-timeout",
            "300s",
            "-trace_screen",
        ]),
    )?;
    uac.0.wait()?;
    let seconds = started.elapsed().as_secs_f64();
    let completed = successful_calls(dir.path())?;
    Ok(RateRun {
        placed_by: "sipp",
        calls,
        completed,
        seconds,
        attempts_per_second: completed as f64 / seconds,
    })
}

/// The "Successful call" count of the screen log sipp leaves at exit.
fn successful_calls(dir: &Path) -> Result<u64> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with("_screen.log") {
            let text = std::fs::read_to_string(&path)?;
            let line = text
                .lines()
                .find(|l| l.contains("Successful call"))
                .context("no call counts in sipp's screen log")?;
            // "  Successful call   |   <periodic>   |   <cumulative>"
            let total = line.split('|').nth(2).unwrap_or_default().trim();
            return total
                .parse()
                .with_context(|| format!("sipp's count {total:?}"));
        }
    }
    bail!("sipp left no screen log")
}

/// Our adapter: N dials at the rate, each hung up as soon as it is answered.
async fn ours(uas_port: u16, rate: u32, calls: u64) -> Result<RateRun> {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let config = sip_config(uas_port, uas_port);
    let mut line = SipLine::start(config, events_tx).await?;
    let phones: Vec<Phone> = (0..calls)
        .map(|i| Phone::parse(&format!("+91 9{:09}", i), Region::default()))
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    // The adapter places a dial at once, so the rate is kept here, as the
    // core keeps it in service: a hundredth of a second's calls at a time.
    let mut to_dial = phones.iter().enumerate();
    let per_tick = (rate / 100).max(1) as usize;
    let mut ticks =
        tokio::time::interval(Duration::from_secs_f64(per_tick as f64 / f64::from(rate)));
    let (mut completed, mut failed) = (0u64, 0u64);
    let deadline = started + Duration::from_secs(calls / u64::from(rate) * 4 + 30);
    while completed + failed < calls {
        tokio::select! {
            _ = ticks.tick(), if to_dial.len() > 0 => {
                for (i, phone) in to_dial.by_ref().take(per_tick) {
                    line.dial(CallId(i as u64), phone, None);
                }
            }
            event = tokio::time::timeout_at(deadline.into(), events.recv()) => match event {
                Ok(Some(LineEvent::Answered(call))) => {
                    line.hangup(call);
                    completed += 1;
                }
                Ok(Some(LineEvent::Failed(..))) => failed += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            },
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    line.close().await;
    Ok(RateRun {
        placed_by: "sanjeevani",
        calls,
        completed,
        seconds,
        attempts_per_second: completed as f64 / seconds,
    })
}

fn sip_config(trunk: u16, phones: u16) -> SipConfig {
    SipConfig {
        bind: "127.0.0.1:0".parse().expect("an address"),
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

/// The whole dialer with `agents` sipp phones for `seconds`; answer-to-connect
/// times, sorted.
pub(crate) async fn answer_to_connect(
    dir: &Path,
    agents: usize,
    seconds: u64,
) -> Result<Vec<Duration>> {
    let contacts_port = free_port()?;
    let phones_port = free_port()?;
    let scenario = |name: &str| fixture(name).display().to_string();
    let _contacts = sipp(
        dir,
        &[
            "-sf".into(),
            scenario("uas_hangup_after_talk.xml"),
            "-p".into(),
            contacts_port.to_string(),
            "-mp".into(),
            free_port()?.to_string(),
            "-timeout".into(),
            "600s".into(),
        ],
    )?;
    let _phones = sipp(
        dir,
        &[
            "-sf".into(),
            scenario("agent_phone.xml"),
            "-p".into(),
            phones_port.to_string(),
            "-mp".into(),
            free_port()?.to_string(),
            "-timeout".into(),
            "600s".into(),
        ],
    )?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let campaign = BenchCampaign::create(agents * seconds as usize).await?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = SipLine::start(sip_config(contacts_port, phones_port), events_tx).await?;
    let stats = line.stats();
    campaign.run(line, events, agents, seconds).await?;
    let mut latencies = stats.take_latencies();
    if latencies.is_empty() {
        bail!("no call reached an agent: is sipp working?");
    }
    latencies.sort();
    Ok(latencies)
}

/// The `q` quantile of sorted `latencies`, in milliseconds.
pub(crate) fn quantile_ms(latencies: &[Duration], q: f64) -> f64 {
    if latencies.is_empty() {
        return f64::NAN;
    }
    let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
    latencies[i].as_secs_f64() * 1000.0
}

/// A progressive, round-the-clock campaign of made-up numbers in a
/// temporary store, for the latency runs.
pub(crate) struct BenchCampaign {
    pub store: std::sync::Arc<dyn sanjeevani_store::Store>,
    pub campaign: sanjeevani_store::CampaignId,
    settings: CampaignSettings,
    _data: tempfile::TempDir,
}

impl BenchCampaign {
    /// With `wanted` contacts.
    pub async fn create(wanted: usize) -> Result<BenchCampaign> {
        let data = tempfile::tempdir()?;
        let store = sanjeevani_store::open(None, data.path()).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let list = store.create_list("bench", now).await?;
        let contacts: Vec<NewContact> = (0..wanted)
            .map(|i| {
                Ok(NewContact {
                    phone: Phone::parse(&format!("+91 8{:09}", i), Region::default())?,
                    name: "bench".into(),
                    language: None,
                    category: Category::GeneralPublic,
                    risk: Vec::new(),
                    follow_up: None,
                    district: None,
                    block: None,
                    timezone: None,
                    attributes: Default::default(),
                })
            })
            .collect::<Result<_>>()?;
        store.insert_contacts(list, &contacts, now).await?;
        let settings: CampaignSettings = toml::from_str(
            "[dialer.pacing]\nmode = \"progressive\"\n[contacts]\nwindow = \"24x7\"\n",
        )?;
        let campaign = store
            .create_campaign("bench", &settings, &[list], now)
            .await?;
        store
            .set_campaign_state(campaign, CampaignState::Running)
            .await?;

        Ok(BenchCampaign {
            store,
            campaign,
            settings,
            _data: data,
        })
    }

    /// The dialer over `line` with `agents` agents (ids 1…) for `seconds`;
    /// each agent is ready again as soon as a call ends (no wrap-up).
    pub async fn run<T: Telephony>(
        &self,
        line: T,
        events: mpsc::UnboundedReceiver<LineEvent>,
        agents: usize,
        seconds: u64,
    ) -> Result<()> {
        let campaign = self.campaign;
        let settings = &self.settings;
        let now = chrono::Utc::now().timestamp_millis();
        let options = DialerOptions {
            node: "bench".into(),
            lease_ttl: Duration::from_secs(30),
            hopper_size: agents * 2,
            agents: (1..=agents as u64).map(AgentId).collect(),
            exit_when_done: false,
            drain_deadline: Duration::from_secs(2),
            trunk: TrunkLimits {
                calls_per_second: 1000.0,
                max_calls: agents as u32 * 2,
            },
            clock: ClockMode::Real,
        };
        // The agents' desk: ready again as soon as a call ends (no wrap-up).
        let (controls_tx, controls) = mpsc::channel(1024);
        let (view, _watching) =
            watch::channel(LiveView::empty(campaign, settings.dialer.pacing, now));
        let (notices, mut ended) = broadcast::channel(4096);
        let desk = tokio::spawn(async move {
            while let Ok(notice) = ended.recv().await {
                if let Notice::Ended {
                    agent: Some(agent), ..
                } = notice
                {
                    let ready = ControlRequest {
                        control: Control::AgentReady(AgentId(agent)),
                        answer: None,
                    };
                    let _ = controls_tx.send(ready).await;
                }
            }
        });
        let dialer = Dialer::new(self.store.clone(), campaign, line, events, options)
            .await?
            .with_links(DialerLinks {
                controls,
                view,
                notices,
            });
        dialer
            .run(tokio::time::sleep(Duration::from_secs(seconds)))
            .await?;
        desk.abort();
        Ok(())
    }
}
