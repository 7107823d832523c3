//! `sanjeevani bench …`: benchmarks whose results go into docs/benchmarks.md.

use anyhow::Result;
use clap::Subcommand;
use sanjeevani_sim::bench::{run_pacing, BenchPlan, BenchRow};

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
}

pub fn run(which: Which) -> Result<()> {
    match which {
        Which::Pacing { quick, json } => {
            let plan = if quick { BenchPlan::QUICK } else { BenchPlan::FULL };
            let started = std::time::Instant::now();
            let rows = run_pacing(plan)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_table(&rows);
                eprintln!("{} rows in {:.1} s", rows.len(), started.elapsed().as_secs_f64());
            }
        }
    }
    Ok(())
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
