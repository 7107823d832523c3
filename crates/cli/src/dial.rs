//! `sanjeevani dial`: run one campaign on this node with simulated telephony.

use anyhow::{bail, Context, Result};
use sanjeevani_core::{AgentId, TrunkLimits};
use sanjeevani_dialer::{ClockMode, Dialer, DialerOptions, SimulatedLine};
use sanjeevani_sim::Scenario;
use sanjeevani_store::{CampaignSettings, CampaignState, Store};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args)]
pub struct DialArgs {
    /// The campaign to run; created if new (then --list is needed).
    #[arg(long)]
    campaign: String,
    /// Contact lists of a new campaign.
    #[arg(long)]
    list: Vec<String>,
    /// Settings of a new campaign (TOML; see config/campaign.example.toml).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Simulated telephony acting out this scenario's called parties and agents.
    #[arg(long)]
    simulate: PathBuf,
    /// Agents to log in (default: the scenario's).
    #[arg(long)]
    agents: Option<u32>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// This dialer node's name: its leases and open attempts are its own.
    #[arg(long, env = "SANJEEVANI_NODE", default_value = "node-1")]
    node: String,
    /// Stop when no contact of the campaign is pending and no call is live.
    #[arg(long)]
    exit_when_done: bool,
    #[command(flatten)]
    store: crate::StoreArgs,
}

pub async fn run(args: DialArgs) -> Result<()> {
    let scenario = Scenario::load(&args.simulate)?;
    let store = args.store.open().await?;
    let campaign = match store.campaign_by_name(&args.campaign).await? {
        Some(campaign) => campaign.id,
        None => create_campaign(&*store, &args).await?,
    };
    store
        .set_campaign_state(campaign, CampaignState::Running)
        .await?;
    let agents = args
        .agents
        .unwrap_or_else(|| scenario.agents.iter().map(|g| g.count).sum());
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    let line = SimulatedLine::new(&scenario, args.seed, events_tx);
    let options = DialerOptions {
        node: args.node.clone(),
        lease_ttl: Duration::from_secs(30),
        hopper_size: (agents as usize * 3).max(4),
        agents: (1..=u64::from(agents)).map(AgentId).collect(),
        exit_when_done: args.exit_when_done,
        drain_deadline: Duration::from_secs(30),
        trunk: TrunkLimits::default(),
        clock: ClockMode::Real,
    };
    tracing::info!(campaign = %args.campaign, node = %args.node, agents, "dialing with simulated telephony");
    let dialer = Dialer::new(store, campaign, line, events, options).await?;
    dialer.run(shutdown_signal()).await?;
    Ok(())
}

async fn create_campaign(
    store: &dyn Store,
    args: &DialArgs,
) -> Result<sanjeevani_store::CampaignId> {
    if args.list.is_empty() {
        bail!(
            "campaign {:?} does not exist: give --list to create it",
            args.campaign
        );
    }
    let mut lists = Vec::new();
    for name in &args.list {
        lists.push(
            store
                .list_by_name(name)
                .await?
                .with_context(|| format!("no contact list {name:?}"))?,
        );
    }
    let settings = match &args.settings {
        Some(path) => load_settings(path)?,
        None => CampaignSettings::default(),
    };
    let now = chrono::Utc::now().timestamp_millis();
    Ok(store
        .create_campaign(&args.campaign, &settings, &lists, now)
        .await?)
}

fn load_settings(path: &Path) -> Result<CampaignSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let settings: CampaignSettings = toml::from_str(&text)
        .with_context(|| format!("invalid campaign settings {}", path.display()))?;
    settings
        .validate()
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("invalid campaign settings {}", path.display()))?;
    Ok(settings)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
