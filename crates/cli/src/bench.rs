//! `sanjeevani bench …`: benchmarks whose results go into docs/benchmarks.md.

use anyhow::Result;
use clap::Subcommand;
use sanjeevani_core::PacingMode;
use sanjeevani_sim::bench::{cell_scenario, run_pacing, BenchPlan, BenchRow};
use sanjeevani_sim::simulate;

#[derive(Subcommand)]
pub enum Which {
    /// Pacing policies on the grid of team sizes x answer rates.
    Pacing {
        /// A shorter run (fewer seeds, shorter days) that finishes in minutes.
        #[arg(long)]
        quick: bool,
        /// Print the rows as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Predictive beside the exact optimum of small Markovian cases (5 agents).
    Optimum {
        /// Hours simulated per run.
        #[arg(long, default_value_t = 32.0)]
        hours: f64,
        /// Runs per setting.
        #[arg(long, default_value_t = 4)]
        seeds: u64,
        #[arg(long)]
        json: bool,
    },
    /// One blended team beside separate inbound and outbound teams (every
    /// split), on the same callers and contacts.
    Blend {
        /// Scenarios with an `[inbound]` section.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "config/scenarios/evening-surge.toml,config/scenarios/night-shift.toml"
        )]
        scenario: Vec<std::path::PathBuf>,
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        seeds: Vec<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Contact import: rows per second and peak memory into SQLite and
    /// PostgreSQL, from CSV and/or an .xlsx spreadsheet of the same rows.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// File kinds to import, side by side (e.g. `--format csv,xlsx`).
        #[arg(long, value_enum, value_delimiter = ',', default_value = "csv")]
        format: Vec<crate::import::BenchFormat>,
        /// PostgreSQL server; the benchmark creates the database `sanjeevani_bench_import`.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
        postgres: String,
        #[arg(long)]
        json: bool,
    },
    /// The dialer runtime (SQLite store, simulated line, its loop) on a
    /// paused clock over a scenario, beside `simulate` on the same seeds.
    Runtime {
        /// One team all day, no desk.
        #[arg(long, default_value = "config/scenarios/demo-floor.toml")]
        scenario: std::path::PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        seeds: Vec<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Core throughput: a simulated 24 h day of 100 agents, per policy.
    Core {
        #[arg(long)]
        json: bool,
    },
    /// SIP adapter: attempts per second against a sipp UAS beside sipp's own
    /// UAC, and answer-to-connect latency with many agents on calls. Needs sipp.
    Sip {
        /// Calls offered per second in the rate runs.
        #[arg(long, default_value_t = 2000)]
        rate: u32,
        /// Length of each rate run (and at least 20 s of the latency run).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Agents (and so calls at once) in the latency run.
        #[arg(long, default_value_t = 200)]
        concurrent: usize,
        #[arg(long)]
        json: bool,
    },
    /// ARI adapter through a real Asterisk run from the kit: answer-to-connect
    /// by Asterisk's own events, originate failures and what is left, beside
    /// `bench sip` at the same load. Needs Asterisk and sipp.
    Ari {
        /// Asterisk's binary (default: SANJEEVANI_TEST_ASTERISK, else `asterisk` on the PATH).
        #[arg(long)]
        asterisk: Option<std::path::PathBuf>,
        /// Agents, and so calls at once.
        #[arg(long, default_value_t = 200)]
        agents: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// Logins with new, long usernames from many clients at once against a
    /// served centre, while one person logs in: memory, their login time, log size.
    LoginFlood {
        /// Clients at once, each from its own loopback address.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Logins in one round of the flood.
        #[arg(long, default_value_t = 2000)]
        logins: usize,
        /// Rounds sent back to back, each with new usernames: a longer
        /// flood, so the person's login time rests on many samples.
        #[arg(long, default_value_t = 100)]
        rounds: usize,
        #[arg(long)]
        json: bool,
    },
    /// Live screens: WebSocket push latency with many agents and supervisors connected.
    Ws {
        #[arg(long, default_value_t = 500)]
        agents: usize,
        #[arg(long, default_value_t = 20)]
        supervisors: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(which: Which) -> Result<()> {
    match which {
        Which::Sip {
            rate,
            seconds,
            concurrent,
            json,
        } => {
            let r = crate::runtime()?.block_on(crate::bench_sip::run(rate, seconds, concurrent))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} calls/s offered to one sipp UAS, {} calls a run",
                    r.offered_rate, r.runs[0].calls
                );
                println!(
                    "{:<11} {:>9} {:>8} {:>11}",
                    "placed by", "completed", "seconds", "attempts/s"
                );
                for run in &r.runs {
                    println!(
                        "{:<11} {:>9} {:>8.2} {:>11.1}",
                        run.placed_by, run.completed, run.seconds, run.attempts_per_second
                    );
                }
                println!("ratio (best of each): {:.2}", r.ratio);
                println!(
                    "answer to connect, {} agents on calls: {} connects, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    r.concurrent_agents, r.connects, r.answer_to_connect_p50_ms, r.answer_to_connect_p99_ms, r.answer_to_connect_max_ms
                );
            }
        }
        Which::Ari {
            asterisk,
            agents,
            seconds,
            json,
        } => {
            let r = crate::runtime()?.block_on(crate::bench_ari::run(asterisk, agents, seconds))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{}; {} agents for {} s, up to {} calls at once",
                    r.asterisk, r.agents, r.seconds, r.peak_contact_channels
                );
                println!(
                    "{:<32} {:>9} {:>8} {:>8} {:>8}",
                    "answer to connect", "connects", "p50 ms", "p99 ms", "max ms"
                );
                for (name, l) in [
                    ("ari (Asterisk's timestamps)", &r.ari),
                    ("ari (as the adapter saw it)", &r.ari_adapter),
                    ("sip (same load)", &r.sip),
                ] {
                    println!(
                        "{:<32} {:>9} {:>8.2} {:>8.2} {:>8.2}",
                        name, l.connects, l.p50_ms, l.p99_ms, l.max_ms
                    );
                }
                println!("ari / sip: p50 {:.2}, p99 {:.2}", r.ratio_p50, r.ratio_p99);
                println!(
                    "{} attempts: {} originate failures, {} left open; left in Asterisk: {} channels, {} bridges",
                    r.attempts, r.originate_failures, r.attempts_left_open, r.channels_left, r.bridges_left
                );
                println!("outcomes: {:?}", r.outcomes);
                if let Some(kept) = &r.kept {
                    println!(
                        "Asterisk's log and the peers' traces kept in {}",
                        kept.display()
                    );
                }
            }
        }
        Which::LoginFlood {
            clients,
            logins,
            rounds,
            json,
        } => {
            let r = crate::runtime()?.block_on(crate::bench_login::run(clients, logins, rounds))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} logins from {} clients ({} rounds) in {:.1} s; answers {:?}",
                    r.logins, r.clients, r.rounds, r.flood_secs, r.statuses
                );
                println!(
                    "server memory: idle {:.0} MiB, peak during the flood {:.0} MiB (+{:.0}), high-water since start {:.0} MiB",
                    r.idle_rss_mib,
                    r.peak_rss_mib,
                    r.peak_rss_mib - r.idle_rss_mib,
                    r.high_water_mib
                );
                println!(
                    "a person's login: p99 {:.1} ms alone; during the flood p50 {:.1} ms, p99 {:.1} ms ({} logins, p99 ratio {:.2}); log {} bytes",
                    r.alone_p99_ms,
                    r.flood_p50_ms,
                    r.flood_p99_ms,
                    r.person_logins,
                    r.flood_p99_ms / r.alone_p99_ms.max(0.001),
                    r.log_bytes
                );
            }
        }
        Which::Ws {
            agents,
            supervisors,
            seconds,
            json,
        } => {
            let r =
                crate::runtime()?.block_on(crate::bench_ws::run(agents, supervisors, seconds))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} agents + {} supervisors (+1 stalled) for {} s: {} screen pops, {} connections lost",
                    r.agents, r.supervisors, r.seconds, r.screen_pops, r.connections_lost
                );
                println!(
                    "{:<12} {:>9} {:>8} {:>8} {:>8}",
                    "push", "messages", "p50 ms", "p99 ms", "max ms"
                );
                for l in &r.latencies {
                    println!(
                        "{:<12} {:>9} {:>8} {:>8} {:>8}",
                        l.kind, l.messages, l.p50_ms, l.p99_ms, l.max_ms
                    );
                }
            }
        }
        Which::Import {
            rows,
            format,
            postgres,
            json,
        } => {
            let results =
                crate::runtime()?.block_on(crate::import::bench(rows, &postgres, &format))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            } else {
                println!(
                    "{:<10} {:<6} {:>10} {:>10} {:>9} {:>11} {:>9}",
                    "backend", "format", "rows", "imported", "seconds", "rows/s", "peak MiB"
                );
                for r in &results {
                    println!(
                        "{:<10} {:<6} {:>10} {:>10} {:>9.1} {:>11.0} {:>9.1}",
                        r.backend,
                        r.format,
                        r.rows,
                        r.imported,
                        r.seconds,
                        r.rows_per_second,
                        r.peak_mib
                    );
                }
                // Side by side: each run against the first one.
                if let Some((first, rest)) = results.split_first() {
                    for r in rest {
                        println!(
                            "{} {} / {} {} rows per second: {:.2}",
                            r.backend,
                            r.format,
                            first.backend,
                            first.format,
                            r.rows_per_second / first.rows_per_second
                        );
                    }
                }
            }
        }
        Which::Pacing { quick, json } => {
            let plan = if quick {
                BenchPlan::QUICK
            } else {
                BenchPlan::FULL
            };
            let started = std::time::Instant::now();
            let rows = run_pacing(plan)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_table(&rows);
                eprintln!(
                    "{} rows in {:.1} s",
                    rows.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Which::Optimum { hours, seeds, json } => {
            let rows = sanjeevani_sim::optimum::run_gap(hours, seeds)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:>6} {:>5} {:<26} {:>9} {:>8} {:>8} {:>7}",
                    "agents", "p", "policy", "occupancy", "abandon", "optimum", "gap"
                );
                for r in &rows {
                    println!(
                        "{:>6} {:>5} {:<26} {:>9.4} {:>8.4} {:>8.4} {:>7.4}",
                        r.agents,
                        r.answer_rate,
                        r.policy,
                        r.occupancy,
                        r.abandon_rate,
                        r.optimum,
                        r.gap
                    );
                }
            }
        }
        Which::Blend {
            scenario,
            seeds,
            json,
        } => {
            let mut results = Vec::new();
            for path in &scenario {
                let loaded = sanjeevani_sim::Scenario::load(path)?;
                if loaded.inbound.is_none() {
                    anyhow::bail!("{}: no [inbound] section to blend", path.display());
                }
                results.push(sanjeevani_sim::blend::run_blend(&loaded, &seeds)?);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            } else {
                print_blend(&results);
            }
        }
        Which::Runtime {
            scenario,
            seeds,
            json,
        } => {
            let rows = crate::bench_runtime::run(&scenario, &seeds)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                let pct = |x: f64| format!("{:.2}", x * 100.0);
                println!(
                    "{}: simulate beside the dialer runtime on paused time",
                    scenario.display()
                );
                println!(
                    "{:>5} {:>16} {:>16} {:>14} {:>16} {:>8}",
                    "seed", "dials sim/run", "connects", "occupancy %", "abandon %", "wall s"
                );
                for r in &rows {
                    let (s, d) = (&r.simulated, &r.runtime);
                    println!(
                        "{:>5} {:>16} {:>16} {:>14} {:>16} {:>8.1}",
                        r.seed,
                        format!("{} / {}", s.dials, d.dials),
                        format!("{} / {}", s.connects, d.connects),
                        format!("{} / {}", pct(s.occupancy), pct(d.occupancy)),
                        format!("{} / {}", pct(s.abandon_rate), pct(d.abandon_rate)),
                        r.runtime_wall_secs
                    );
                }
            }
        }
        Which::Core { json } => {
            let rows = core_throughput()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<15} {:>10} {:>12} {:>14}",
                    "policy", "wall s", "events", "events/s"
                );
                for r in &rows {
                    println!(
                        "{:<15} {:>10.3} {:>12} {:>14.0}",
                        r.policy, r.wall_seconds, r.events, r.events_per_second
                    );
                }
            }
        }
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct CoreRow {
    policy: &'static str,
    wall_seconds: f64,
    events: u64,
    events_per_second: f64,
}

/// A 24 h day of 100 agents at p = 0.3, simulated once per policy.
fn core_throughput() -> Result<Vec<CoreRow>> {
    let mut rows = Vec::new();
    for (policy, mode) in [
        ("progressive", PacingMode::Progressive),
        ("predictive", PacingMode::Predictive),
    ] {
        let mut s = cell_scenario(100, 0.3, 24.0);
        s.campaign.pacing.mode = mode;
        let started = std::time::Instant::now();
        let report = simulate(&s, 1)?;
        let wall = started.elapsed().as_secs_f64();
        rows.push(CoreRow {
            policy,
            wall_seconds: wall,
            events: report.events,
            events_per_second: report.events as f64 / wall,
        });
    }
    Ok(rows)
}

fn print_table(rows: &[BenchRow]) {
    println!(
        "{:>6} {:>5} {:<15} {:>9} {:>8} {:>8} {:>8} {:>9} {:>6}  parameter",
        "agents", "p", "policy", "occupancy", "abandon", "max ab.", "max 1h", "conn/a-h", "bound"
    );
    for r in rows {
        println!(
            "{:>6} {:>5} {:<15} {:>9.4} {:>8.4} {:>8.4} {:>8.4} {:>9.2} {:>6.3}  {}",
            r.agents,
            r.answer_rate,
            r.policy,
            r.occupancy,
            r.abandon_rate,
            r.max_abandon_rate,
            r.max_window_abandon_rate,
            r.connects_per_agent_hour,
            r.bound,
            r.parameter
        );
    }
}

fn print_blend(results: &[sanjeevani_sim::blend::BlendResult]) {
    println!(
        "{:<14} {:<12} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}",
        "scenario",
        "team",
        "total occ",
        "out occ",
        "connects",
        "out abn",
        "in SL",
        "worst SL",
        "in abn"
    );
    for result in results {
        let rows = result
            .best_split
            .iter()
            .map(|r| (r, " (best split)"))
            .chain(std::iter::once((&result.blended, "")));
        for (r, note) in rows {
            println!(
                "{:<14} {:<12} {:>9.4} {:>9.4} {:>9.1} {:>8.4} {:>8.4} {:>8.4} {:>7.1}{note}",
                r.scenario,
                r.team,
                r.total_occupancy,
                r.outbound_occupancy,
                r.outbound_connects,
                r.outbound_abandon_rate,
                r.inbound_service_level,
                r.worst_service_level,
                r.inbound_abandoned,
            );
        }
        match result.occupancy_gain_points {
            Some(gain) => println!(
                "{}: {} agents, seeds {:?}: blended total occupancy {gain:+.1} points over the best split",
                result.scenario, result.agents, result.seeds
            ),
            None => println!(
                "{}: no split of {} agents meets the service level in every seed",
                result.scenario, result.agents
            ),
        }
    }
}
