//! `sanjeevani bench login-flood`: logins with new, long usernames from many
//! clients at once against a `sanjeevani serve` child process (this binary,
//! so a release build measures a release server), in rounds back to back,
//! while one person logs in as usual. Measures the server's resident memory (idle, peak), the
//! person's login time before and during the flood, and how much the server
//! logged.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct FloodReport {
    pub clients: usize,
    pub rounds: usize,
    /// Logins in all rounds.
    pub logins: usize,
    pub idle_rss_mib: f64,
    /// The most resident memory seen during the flood (sampled every 50 ms).
    pub peak_rss_mib: f64,
    /// The kernel's high-water mark since the server started (start-up included).
    pub high_water_mib: f64,
    /// The person's login alone, then during the flood.
    pub alone_p99_ms: f64,
    pub flood_p50_ms: f64,
    pub flood_p99_ms: f64,
    pub person_logins: usize,
    pub log_bytes: u64,
    /// Flood answers by status: 401, 422, 429 …
    pub statuses: std::collections::BTreeMap<u16, usize>,
    pub flood_secs: f64,
}

/// Resident and peak resident memory of `pid`, MiB.
fn memory_of(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .context("a number of kB")?
            .parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One login by the person; the time it took, ms.
async fn person_login(client: &reqwest::Client, base: &str) -> Result<f64> {
    let started = Instant::now();
    let r = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "admin", "password": "demo"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("the person's login failed: {}", r.status());
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

pub async fn run(clients: usize, logins: usize, rounds: usize) -> Result<FloodReport> {
    if !(1..=250).contains(&clients) {
        bail!("--clients: 1 to 250 (each comes from its own address 127.0.1.x)");
    }
    if !(1..=1000).contains(&rounds) {
        bail!("--rounds: 1 to 1000");
    }
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path)?;
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("SANJEEVANI_DEMO_CONTACTS", "300")
        .env("SANJEEVANI_DEMO_SIMULATED_AGENTS", "0")
        .env("SANJEEVANI_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("the server's process id")?;
    let person = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while person
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        if Instant::now() > deadline {
            bail!("the server did not become ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The person logs in alone first.
    let mut alone = Vec::new();
    for _ in 0..100 {
        alone.push(person_login(&person, &base).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (idle_rss, _) = memory_of(pid)?;

    // The flood: each client from its own address, distinct long usernames,
    // some under the length limit (checked, as a wrong username) and some
    // over; `rounds` times, each with new usernames.
    let per_client = logins.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let address = IpAddr::V4(Ipv4Addr::new(127, 0, 1, (c + 1) as u8));
        let client = reqwest::Client::builder().local_address(address).build()?;
        let url = format!("{base}/api/login");
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for round in 0..rounds {
                for i in 0..per_client {
                    let length = if i % 2 == 0 { 60 } else { 2000 };
                    let username: String = format!("c{c}-r{round}-n{i}-")
                        .chars()
                        .chain(std::iter::repeat('x'))
                        .take(length)
                        .collect();
                    let status = client
                        .post(&url)
                        .json(&serde_json::json!({"username": username, "password": "guess"}))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    statuses.push(status);
                }
            }
            statuses
        }));
    }
    // The server's memory, every 50 ms until the flood ends.
    let (flood_over, mut over) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut peak: f64 = idle_rss;
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                _ = &mut over => return peak,
                _ = tick.tick() => {
                    if let Ok((rss, _)) = memory_of(pid) {
                        peak = peak.max(rss);
                    }
                }
            }
        }
    });
    let mut during = Vec::new();
    while tasks.iter().any(|t| !t.is_finished()) {
        during.push(person_login(&person, &base).await?);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = flood_over.send(());
    let peak_rss = sampler.await?;
    let flood_secs = started.elapsed().as_secs_f64();
    let mut statuses = std::collections::BTreeMap::new();
    for task in tasks {
        for status in task.await? {
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    let (_, since_start) = memory_of(pid)?;
    child.start_kill()?;
    let _ = child.wait().await;
    alone.sort_by(f64::total_cmp);
    during.sort_by(f64::total_cmp);
    Ok(FloodReport {
        clients,
        rounds,
        logins: per_client * clients * rounds,
        idle_rss_mib: idle_rss,
        peak_rss_mib: peak_rss,
        high_water_mib: since_start,
        alone_p99_ms: percentile(&alone, 0.99),
        flood_p50_ms: percentile(&during, 0.5),
        flood_p99_ms: percentile(&during, 0.99),
        person_logins: during.len(),
        log_bytes: std::fs::metadata(&log_path)?.len(),
        statuses,
        flood_secs,
    })
}
