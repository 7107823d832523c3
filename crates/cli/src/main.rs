//! The `sanjeevani` command: one binary, one subcommand per job.

mod bench;
mod bench_ari;
mod bench_login;
mod bench_runtime;
mod bench_sip;
mod bench_ws;
mod dial;
mod import;
mod serve;
mod users;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use sanjeevani_core::{CampaignConfig, PacingMode};
use sanjeevani_sim::{simulate, Report, Scenario};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "sanjeevani",
    version,
    about = "Predictive dialer for public-health outreach call centres"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a day of the call centre from a scenario file and print its figures.
    Simulate {
        /// Scenario file (TOML), e.g. config/scenarios/district-day.toml.
        #[arg(long)]
        scenario: PathBuf,
        /// Pacing policy: preview, progressive, power, predictive, vicidial-adapt, reference
        /// (default: the scenario's, else predictive).
        #[arg(long)]
        policy: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the dialer core as a JSON-lines process (docs/engine-protocol.md).
    Engine {
        /// Read events from standard input, write commands to standard output.
        #[arg(long, required = true)]
        stdio: bool,
        /// Campaign settings (TOML): pacing mode, lines per agent, abandon target and
        /// cap, connect grace, no-answer timeout. Default: predictive with the defaults.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the call centre: API, live screens and web pages, with the dialers.
    Serve(serve::ServeArgs),
    /// Run a campaign on this node (simulated telephony for now).
    Dial(dial::DialArgs),
    /// Import data into the store.
    Import {
        #[command(subcommand)]
        what: import::What,
    },
    /// Accounts.
    Users {
        #[command(subcommand)]
        what: users::Users,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

/// Where the store lives: shared by every command that uses it.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// Database: postgres://… for several dialer nodes, sqlite:… for a file.
    /// Default: DATA_DIR/sanjeevani.db.
    #[arg(long, env = "SANJEEVANI_DATABASE")]
    database: Option<String>,
    /// Where the embedded database and other files live.
    #[arg(long, env = "SANJEEVANI_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

impl StoreArgs {
    pub async fn open(&self) -> Result<std::sync::Arc<dyn sanjeevani_store::Store>> {
        sanjeevani_store::open(self.database.as_deref(), &self.data_dir)
            .await
            .context("cannot open the database")
    }
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Simulate {
            scenario,
            policy,
            seed,
            json,
        } => {
            let mut s = Scenario::load(&scenario)?;
            if let Some(name) = policy {
                let Some(mode) = PacingMode::parse(&name) else {
                    bail!("unknown policy {name:?}: use preview, progressive, power, predictive, vicidial-adapt or reference");
                };
                s.campaign.pacing.mode = mode;
            }
            let report = simulate(&s, seed).context("simulation failed")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
        Command::Engine { stdio: _, config } => {
            let config = match config {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let config: CampaignConfig = toml::from_str(&text)
                        .with_context(|| format!("invalid engine config {}", path.display()))?;
                    config
                        .validate()
                        .with_context(|| format!("invalid engine config {}", path.display()))?;
                    config
                }
                None => CampaignConfig::default(),
            };
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            sanjeevani_engine::run(config, stdin, stdout, std::io::stderr().lock())?;
        }
        Command::Import { what } => runtime()?.block_on(import::run(what))?,
        Command::Serve(args) => {
            init_logging();
            runtime()?.block_on(serve::run(args))?
        }
        Command::Dial(args) => {
            init_logging();
            runtime()?.block_on(dial::run(args))?
        }
        Command::Bench { which } => bench::run(which)?,
        Command::Users { what } => runtime()?.block_on(users::run(what))?,
    }
    Ok(())
}

/// Logs to standard error; `RUST_LOG` filters (default: info). Text on a
/// terminal, JSON lines otherwise; `SANJEEVANI_LOG_FORMAT=json|text` decides.
/// Phone numbers are masked where they are logged (`Phone`'s `Display`).
fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let json = match std::env::var("SANJEEVANI_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.with_ansi(terminal).init();
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn print_report(r: &Report) {
    let pct = |x: f64| format!("{:.2} %", x * 100.0);
    println!("scenario                 {}", r.scenario);
    println!("policy                   {}   seed {}", r.policy, r.seed);
    println!(
        "hours / agent-hours      {:.2} / {:.2}",
        r.hours, r.agent_hours
    );
    println!(
        "dials / live / connects  {} / {} / {}",
        r.dials, r.live_answers, r.connects
    );
    println!("occupancy                {}", pct(r.occupancy));
    println!(
        "abandon rate             {} ({} calls)",
        pct(r.abandon_rate),
        r.abandoned
    );
    println!(
        "worst rolling {:>3.0} min    {}",
        r.window_minutes,
        pct(r.max_window_abandon_rate)
    );
    println!("connects per agent-hour  {:.2}", r.connects_per_agent_hour);
    println!(
        "agent wait mean / p95    {:.1} s / {:.1} s",
        r.agent_wait_mean, r.agent_wait_p95
    );
    println!("answer-to-agent p95      {:.3} s", r.answer_to_agent_p95);
    println!("dials per connect        {:.2}", r.dials_per_connect);
    if let Some(d) = &r.desk {
        println!("medical desk             {} members", d.members);
        println!(
            "escalations live/ticket  {} / {} of {} ({} live)",
            d.live,
            d.tickets,
            d.escalations,
            pct(d.live_share)
        );
        println!(
            "escalation to doctor     p50 {:.0} s, p95 {:.0} s",
            d.to_doctor_p50, d.to_doctor_p95
        );
        println!(
            "ticket age at resolution p50 {:.0} min, p95 {:.0} min ({} unreachable)",
            d.ticket_age_p50, d.ticket_age_p95, d.tickets_unreachable
        );
        println!("escalations lost         {}", d.lost);
    }
}
