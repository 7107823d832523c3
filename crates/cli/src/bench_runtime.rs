//! `sanjeevani bench runtime`: the dialer runtime as it is served — a SQLite
//! store, the simulated line, the runtime's loop and timers — on a paused
//! tokio clock over a scenario, beside `simulate` on the same scenario and
//! seed. Both meet the same people in the same order ([`sanjeevani_sim::Fate`]),
//! so what differs is what the runtime adds: the store between decisions,
//! the hopper, leases and its own clock.

use anyhow::{bail, Context, Result};
use sanjeevani_contacts::{AlwaysOpen, CallingWindow, ColumnMapping};
use sanjeevani_core::{AgentId, TrunkLimits};
use sanjeevani_dialer::{
    hold_clock, ClockMode, Dialer, DialerLinks, DialerOptions, LiveView, SimulatedLine,
};
use sanjeevani_sim::{simulate, Scenario};
use sanjeevani_store::{import_csv, CampaignSettings, CampaignState};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// One seed: the simulator's figures and the runtime's.
#[derive(Debug, Serialize)]
pub struct RuntimeRow {
    pub seed: u64,
    pub simulated: Figures,
    pub runtime: Figures,
    /// Real seconds the runtime took for the scenario's hours.
    pub runtime_wall_secs: f64,
}

#[derive(Debug, Serialize)]
pub struct Figures {
    pub dials: u64,
    pub connects: u64,
    pub occupancy: f64,
    pub abandon_rate: f64,
}

pub fn run(path: &Path, seeds: &[u64]) -> Result<Vec<RuntimeRow>> {
    let scenario = Scenario::load(path)?;
    let agents = all_day_agents(&scenario)?;
    let mut rows = Vec::new();
    for &seed in seeds {
        let report = simulate(&scenario, seed).context("simulation failed")?;
        let simulated = Figures {
            dials: report.dials,
            connects: report.connects,
            occupancy: report.occupancy,
            abandon_rate: report.abandon_rate,
        };
        let started = std::time::Instant::now();
        let clock = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()?;
        let view = clock.block_on(run_runtime(&scenario, agents, seed))?;
        rows.push(RuntimeRow {
            seed,
            simulated,
            runtime: Figures {
                dials: view.totals.dials,
                connects: view.totals.connected,
                occupancy: view.occupancy,
                abandon_rate: view.abandon.rate,
            },
            runtime_wall_secs: started.elapsed().as_secs_f64(),
        });
    }
    Ok(rows)
}

/// The runtime logs its agents in when it starts and keeps them: the
/// scenario must have one team there all day.
fn all_day_agents(scenario: &Scenario) -> Result<u32> {
    let [team] = scenario.agents.as_slice() else {
        bail!(
            "bench runtime needs one team of agents in the scenario (it has {} groups)",
            scenario.agents.len()
        );
    };
    if team.login_minute != 0.0 || team.logout_minute.is_some() || !scenario.logoffs.is_empty() {
        bail!("bench runtime logs every agent in at the start for the whole run: the scenario's agents must have no shifts or log-offs");
    }
    if scenario.desk.is_some() {
        bail!("bench runtime has no medical desk: use a scenario without [desk]");
    }
    Ok(team.count)
}

/// Enough contacts that the list never runs out: more than a dial every
/// five seconds per agent, each dialled once (the simulator's endless list
/// meets a new person at every dial).
fn contacts_for(scenario: &Scenario, agents: u32) -> u64 {
    scenario
        .contacts
        .unwrap_or((scenario.hours * 3600.0 / 5.0) as u64 * u64::from(agents).max(1))
        .min(MAX_CONTACTS)
}

/// The bench's numbers are 9876000000 onwards: a million at most.
const MAX_CONTACTS: u64 = 1_000_000;

async fn run_runtime(scenario: &Scenario, agents: u32, seed: u64) -> Result<LiveView> {
    let dir = tempfile::tempdir()?;
    let clock = ClockMode::Paused;
    let (store, campaign) = hold_clock(clock, async {
        let store = sanjeevani_store::open(None, dir.path()).await?;
        let list = store.create_list("bench-runtime", 0).await?;
        let mut csv = String::from("name,phone\n");
        for k in 0..contacts_for(scenario, agents) {
            csv.push_str(&format!("P{k},9876{k:06}\n"));
        }
        let wanted = contacts_for(scenario, agents);
        let imported = import_csv(
            &*store,
            std::io::Cursor::new(csv),
            list,
            &ColumnMapping::default(),
            0,
            |_| {},
            |_| {},
        )
        .await?
        .imported;
        if imported != wanted {
            bail!("the bench's own list kept {imported} of {wanted} contacts");
        }
        let mut settings = CampaignSettings {
            dialer: scenario.campaign,
            ..CampaignSettings::default()
        };
        settings.contacts.window = CallingWindow::Always(AlwaysOpen::TwentyFourSeven);
        settings.contacts.retry.max_total = 1;
        let campaign = store
            .create_campaign("bench-runtime", &settings, &[list], 0)
            .await?;
        store
            .set_campaign_state(campaign, CampaignState::Running)
            .await?;
        anyhow::Ok((store, campaign))
    })
    .await?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = SimulatedLine::new(scenario, seed, events_tx);
    let options = DialerOptions {
        node: "bench-runtime".into(),
        lease_ttl: Duration::from_secs(30),
        // As the served centre sizes it.
        hopper_size: 20 + 3 * agents as usize,
        agents: (1..=u64::from(agents)).map(AgentId).collect(),
        exit_when_done: false,
        drain_deadline: Duration::from_secs(60),
        trunk: TrunkLimits::default(),
        clock,
    };
    let (_controls_tx, controls) = mpsc::channel(16);
    let (view_tx, view) = watch::channel(LiveView::empty(campaign, scenario.campaign.pacing, 0));
    let (notices, _) = broadcast::channel(1024);
    let dialer = Dialer::new(store, campaign, line, events, options)
        .await?
        .with_links(DialerLinks {
            controls,
            view: view_tx,
            notices,
        });
    let hours = Duration::from_secs_f64(scenario.hours * 3600.0);
    let (last_tx, last) = tokio::sync::oneshot::channel();
    let stop = async move {
        tokio::time::sleep(hours).await;
        // The figures when dialing stops, as the simulator's are.
        let _ = last_tx.send(view.borrow().clone());
    };
    dialer.run(stop).await?;
    last.await
        .context("the runtime stopped before the scenario's end")
}
