//! End-to-end tests of the `sanjeevani` binary: simulation reports, the hard
//! scenarios, and the JSON-lines engine driven through real pipes.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sanjeevani"))
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/scenarios")
        .join(name)
}

/// A scratch folder for files a test writes; removed when dropped, even on failure.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sanjeevani-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A shipped scenario with one piece of text replaced.
    fn edited_scenario(&self, name: &str, from: &str, to: &str) -> PathBuf {
        let text = std::fs::read_to_string(scenario(name)).unwrap();
        assert!(text.contains(from), "{name} has no {from:?}");
        self.write(name, &text.replace(from, to))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn simulate_json(name: &str, policy: &str, seed: u64) -> (Value, String) {
    simulate_file(&scenario(name), policy, seed)
}

fn simulate_file(path: &std::path::Path, policy: &str, seed: u64) -> (Value, String) {
    let out = bin()
        .args(["simulate", "--scenario"])
        .arg(path)
        .args(["--policy", policy, "--seed", &seed.to_string(), "--json"])
        .output()
        .expect("run sanjeevani");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&text).unwrap(), text)
}

#[test]
fn same_seed_gives_a_byte_identical_report() {
    let (_, first) = simulate_json("district-day.toml", "predictive", 7);
    let (_, again) = simulate_json("district-day.toml", "predictive", 7);
    let (_, other) = simulate_json("district-day.toml", "predictive", 8);
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[test]
fn report_has_every_figure() {
    let (r, _) = simulate_json("district-day.toml", "predictive", 1);
    for key in [
        "occupancy",
        "abandon_rate",
        "max_window_abandon_rate",
        "connects_per_agent_hour",
        "agent_wait_mean",
        "agent_wait_p95",
        "answer_to_agent_p95",
        "dials_per_connect",
    ] {
        assert!(r[key].is_number(), "{key} missing in {r}");
    }
    assert_eq!(r["dials"], 5000, "every contact of the day is dialed once");
    assert!(r["answer_to_agent_p95"].as_f64().unwrap() <= 2.0);
}

#[test]
fn policies_see_the_same_contacts() {
    // Every contact of the district day is dialed once whatever the policy, and each
    // contact's fate is drawn from its own stream: the live answers are the same.
    let (a, _) = simulate_json("district-day.toml", "progressive", 3);
    let (b, _) = simulate_json("district-day.toml", "predictive", 3);
    assert_eq!(a["live_answers"], b["live_answers"]);
    assert!(
        b["occupancy"].as_f64() > a["occupancy"].as_f64(),
        "predictive keeps agents busier"
    );
    // Progressive abandons only when an agent leaves at shift end while a call dialed
    // for them is still ringing.
    assert!(a["abandon_rate"].as_f64().unwrap() < 0.001, "{a}");
}

#[test]
fn hard_scenarios_stay_within_the_cap() {
    for name in ["answer-rate-drop.toml", "half-team-logoff.toml"] {
        for seed in 1..=3 {
            let (r, _) = simulate_json(name, "predictive", seed);
            let rate = r["abandon_rate"].as_f64().unwrap();
            assert!(rate <= 0.03, "{name} seed {seed}: abandon rate {rate}");
            assert!(r["max_window_abandon_rate"].as_f64().is_some());
            assert_eq!(r["window_minutes"], 60.0);
        }
    }
}

#[test]
fn the_district_day_desk_loses_no_escalation() {
    for seed in 1..=3 {
        let (r, _) = simulate_json("district-day.toml", "predictive", seed);
        let desk = &r["desk"];
        assert_eq!(desk["members"], 6);
        let escalations = desk["escalations"].as_u64().unwrap();
        // One connected call in twenty is escalated.
        let connects = r["connects"].as_u64().unwrap();
        let share = escalations as f64 / connects as f64;
        assert!((0.03..0.07).contains(&share), "seed {seed}: {share}");
        assert_eq!(
            desk["live"].as_u64().unwrap() + desk["tickets"].as_u64().unwrap(),
            escalations
        );
        assert_eq!(desk["lost"], 0, "seed {seed}: {desk}");
        let p95 = desk["to_doctor_p95"].as_f64().unwrap();
        assert!(p95 > 0.0 && p95 < 90.0, "seed {seed}: p95 {p95} s");
    }
}

#[test]
fn bad_scenario_names_the_problem() {
    let scratch = Scratch::new("bad-scenario");
    let path = scratch.edited_scenario(
        "district-day.toml",
        "answer_probability = 0.5",
        "answer_probability = 2",
    );
    let out = bin()
        .args(["simulate", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("callee.answer_probability"), "{err}");
}

fn engine(args: &[&str], input: &str) -> (Vec<Value>, String) {
    let mut child = bin()
        .args(["engine", "--stdio"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn engine_over_pipes_dials_connects_and_drops() {
    // Default config: predictive. One agent, calls answered faster than it can take them.
    let mut input = String::from("{\"t\":0,\"event\":\"agent_ready\",\"agent\":\"A1\"}\n");
    input.push_str("{\"t\":1,\"event\":\"ringing\",\"call\":\"C1\"}\n");
    input.push_str("{\"t\":5,\"event\":\"answered\",\"call\":\"C1\"}\n");
    input.push_str("{\"t\":9,\"event\":\"bogus\"}\n");
    input.push_str("{\"t\":65,\"event\":\"hangup\",\"call\":\"C1\"}\n");
    input.push_str("{\"t\":70,\"event\":\"end\"}\n");
    let (lines, err) = engine(&[], &input);
    assert_eq!(lines.iter().filter(|l| l["cmd"] == "sync").count(), 6);
    assert_eq!(lines[0]["cmd"], "dial");
    let connect = lines
        .iter()
        .find(|l| l["cmd"] == "connect")
        .expect("a connect");
    assert_eq!(connect["call"], "C1");
    assert_eq!(connect["agent"], "A1");
    assert!(err.starts_with("line 4: unknown event \"bogus\""), "{err}");
}

#[test]
fn engine_config_file_sets_the_mode_and_rejects_unknown_keys() {
    let scratch = Scratch::new("engine-config");
    let good = scratch.write(
        "good.toml",
        "connect_grace = 2\n[pacing]\nmode = \"power\"\npower_ratio = 2.0\n",
    );
    let (lines, _) = engine(
        &["--config", good.to_str().unwrap()],
        "{\"t\":0,\"event\":\"agent_ready\",\"agent\":\"A1\"}\n",
    );
    assert_eq!(
        lines.iter().filter(|l| l["cmd"] == "dial").count(),
        2,
        "power 2.0: two calls for one free agent"
    );
    let bad = scratch.write("bad.toml", "[pacing]\nmdoe = \"power\"\n");
    let out = bin()
        .args(["engine", "--stdio", "--config"])
        .arg(&bad)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mdoe"));
}

#[test]
fn the_example_engine_config_is_valid() {
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/engine.example.toml");
    let (lines, err) = engine(
        &["--config", example.to_str().unwrap()],
        "{\"t\":0,\"event\":\"agent_ready\",\"agent\":\"A1\"}\n",
    );
    assert_eq!(err, "");
    assert_eq!(lines.last().unwrap()["cmd"], "sync");
}

#[test]
fn a_team_of_two_is_paced_within_the_cap_and_above_progressive() {
    let scratch = Scratch::new("team-of-two");
    let path = scratch.edited_scenario("bench-cell.toml", "count = 5", "count = 2");
    for seed in [1001, 1002] {
        let (progressive, _) = simulate_file(&path, "progressive", seed);
        let (predictive, _) = simulate_file(&path, "predictive", seed);
        assert!(
            predictive["abandon_rate"].as_f64().unwrap() <= 0.03,
            "{predictive}"
        );
        assert!(predictive["occupancy"].as_f64() > progressive["occupancy"].as_f64());
    }
}

/// `users add` with the password on standard input; the output and status.
fn users_add(dir: &std::path::Path, args: &[&str], password: &str) -> (bool, String) {
    let mut child = bin()
        .args(["users", "add", "--data-dir", dir.to_str().unwrap()])
        .args(args)
        .env_remove("SANJEEVANI_NEW_PASSWORD")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn the_first_administrator_is_made_on_the_command_line_with_the_rules_of_the_api() {
    let scratch = Scratch::new("users");
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "chief", "--role", "admin"],
        "a long secret",
    );
    assert!(ok, "{text}");
    assert!(text.contains("created chief (admin), user id 1"), "{text}");
    assert!(
        !text.contains("a long secret"),
        "the password is never echoed: {text}"
    );
    // The same rules as the API, naming the field; and a username taken.
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "nurse", "--role", "agent"],
        "short",
    );
    assert!(
        !ok && text.contains("password: 12 to 128 characters"),
        "{text}"
    );
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "nurse", "--role", "agent"],
        "password1234",
    );
    assert!(!ok && text.contains("too easy to guess"), "{text}");
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "n", "--role", "agent"],
        "long enough now",
    );
    assert!(!ok && text.contains("username"), "{text}");
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "nurse", "--role", "queen"],
        "long enough now",
    );
    assert!(!ok && text.contains("role"), "{text}");
    let (ok, text) = users_add(
        &scratch.0,
        &["--username", "chief", "--role", "admin"],
        "long enough now",
    );
    assert!(!ok && text.contains("exists"), "{text}");
    // A lost password: a one-time one, printed once, to change at the next login.
    let out = bin()
        .args([
            "users",
            "reset",
            "--username",
            "chief",
            "--data-dir",
            scratch.0.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let password = text.trim().rsplit(' ').next().unwrap();
    assert_eq!(password.len(), 20, "{text}");
}

/// `bench login-flood`, small: two rounds from a few clients against a served
/// centre; every flood login answered (none logged in), the person's logins
/// measured, the served child gone afterwards.
#[test]
fn a_small_login_flood_is_answered_and_measured() {
    let out = bin()
        .args(["bench", "login-flood", "--clients", "4", "--logins", "40"])
        .args(["--rounds", "2", "--json"])
        .output()
        .expect("run sanjeevani");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["logins"], 80, "{report}");
    let statuses = report["statuses"].as_object().unwrap();
    let answered: u64 = statuses.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(answered, 80, "{report}");
    assert!(
        statuses
            .keys()
            .all(|s| ["401", "422", "429"].contains(&s.as_str())),
        "refused, each for a reason: {report}"
    );
    assert!(report["alone_p99_ms"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["peak_rss_mib"].as_f64().unwrap() >= report["idle_rss_mib"].as_f64().unwrap());
}

/// The served runtime on a paused clock paces like the simulator on the same
/// callers: an hour of the demo's floor, each figure within noise of
/// `simulate`'s, and a scenario it cannot model refused by name.
#[test]
fn the_runtime_paces_as_the_simulator_says() {
    let scratch = Scratch::new("bench-runtime");
    let hour = scratch.edited_scenario("demo-floor.toml", "hours = 4", "hours = 1");
    let out = bin()
        .args([
            "bench",
            "runtime",
            "--seeds",
            "7,8,9",
            "--json",
            "--scenario",
        ])
        .arg(&hour)
        .output()
        .expect("run sanjeevani");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    // Mean over the seeds of runtime minus simulator.
    let gap = |k: &str| {
        rows.iter()
            .map(|r| r["runtime"][k].as_f64().unwrap() - r["simulated"][k].as_f64().unwrap())
            .sum::<f64>()
            / rows.len() as f64
    };
    let mean = |k: &str| {
        rows.iter()
            .map(|r| r["simulated"][k].as_f64().unwrap())
            .sum::<f64>()
            / rows.len() as f64
    };
    assert!(mean("dials") > 500.0, "{rows:?}");
    assert!(gap("occupancy").abs() < 0.025, "{rows:?}");
    assert!(gap("abandon_rate").abs() < 0.006, "{rows:?}");
    assert!(
        (gap("connects") / mean("connects")).abs() < 0.04,
        "{rows:?}"
    );

    let out = bin()
        .args(["bench", "runtime", "--scenario"])
        .arg(scenario("district-day.toml"))
        .output()
        .expect("run sanjeevani");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("one team of agents"), "{err}");
}
