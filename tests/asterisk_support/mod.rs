//! A private, real Asterisk for a test, on loopback, started from the
//! operator's kit itself (`deploy/asterisk/*.conf`) with only addresses,
//! ports, paths and secrets changed (`sanjeevani_asterisk_kit`); the telephone
//! network behind its trunk (sipp, `tests/fixtures/sip/uas_network.xml`:
//! each number behaves as its last digits say) and the centre's phones
//! (sipp, `uas_phones.xml`).
//!
//! Asterisk is found through `SANJEEVANI_TEST_ASTERISK=/path/to/sbin/asterisk`,
//! else `asterisk` on `PATH`. Without one, [`Pbx::start`] says so on standard
//! error, records the test as skipped and returns `None`; `.ci/run` counts
//! the tests that ran and were skipped. Everything is stopped (by PID) on
//! drop; a test that fails keeps Asterisk's log under `target/tmp/asterisk/`
//! and prints its tail (`SANJEEVANI_TEST_KEEP=1`: every test keeps it).

// Shared by several test binaries, each using a part.
#![allow(dead_code)]

use crate::sip_support::{free_port, Peer};
#[allow(unused_imports)]
pub use sanjeevani_asterisk_kit::{conf as kit, Instance as Asterisk, ARI_USER, KIT_PHONES};
use sanjeevani_asterisk_kit::{Install, Setup};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The password tests give the kit's ARI user.
pub const ARI_PASSWORD: &str = "test-ari-secret";

/// The Asterisk binary to run, if there is one.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SANJEEVANI_TEST_ASTERISK") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("asterisk"))
        .find(|candidate| candidate.is_file())
}

/// Writes a line to standard error past the test harness's capture, so that
/// a skipped test is seen even when it passes.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Notes that `test` ran against a real Asterisk, or was skipped, for
/// `.ci/run` to count.
fn record(test: &str, what: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("asterisk-tests");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{test}.{what}")), "");
}

/// Sounds made once per test binary with espeak-ng and sox: what Asterisk
/// plays and what the far ends say.
fn sounds() -> &'static Path {
    static SOUNDS: OnceLock<PathBuf> = OnceLock::new();
    SOUNDS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("asterisk-sounds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str| {
            dir.join(format!("{name}.wav"))
                .to_str()
                .unwrap()
                .to_string()
        };
        // sox INPUT 8 kHz mono OUTPUT-FORMAT OUTPUT EFFECTS
        let sox = |input: &[&str], format: &[&str], name: &str, effects: &[&str]| {
            let output = file(name);
            let mut args: Vec<&str> = input.to_vec();
            args.extend(["-r", "8000", "-c", "1"]);
            args.extend(format);
            args.push(&output);
            args.extend(effects);
            run("sox", &args);
        };
        let speak = |name: &str, voice: &str, text: &str, format: &[&str], effects: &[&str]| {
            let spoken = file(&format!("{name}-spoken"));
            run("espeak-ng", &["-v", voice, "-w", &spoken, text]);
            sox(&[&spoken], format, name, effects);
        };
        let pcm = ["-b", "16", "-e", "signed-integer"];
        let ulaw = ["-e", "u-law"];
        speak(
            "abandoned-en",
            "en",
            "All our health workers are busy. We will call you again soon. \
             If you have any trouble, call us at once.",
            &pcm,
            &[],
        );
        speak(
            "abandoned-hi",
            "hi",
            "हमारे सभी स्वास्थ्य कर्मी व्यस्त हैं। हम आपको जल्द फिर फ़ोन करेंगे।",
            &pcm,
            &[],
        );
        speak(
            "callback-en",
            "en",
            "The health team will call you.",
            &pcm,
            &[],
        );
        // A voicemail greeting, and a person who picks up and says hello
        // after a moment, then waits.
        speak(
            "machine",
            "en",
            "Hello, you have reached the voice mail of Ramesh Kumar. I am not able \
             to take your call right now. Please leave your name and number after \
             the tone and I will call you back.",
            &ulaw,
            &[],
        );
        speak("hello", "en", "Hello?", &ulaw, &["pad", "0.4", "6"]);
        // What the called people say once they talk, what the phones send,
        // and the music on hold: tones, so that each is told apart.
        sox(&["-n"], &ulaw, "voice", &["synth", "3", "sine", "300"]);
        sox(&["-n"], &ulaw, "phone", &["synth", "3", "sine", "500"]);
        sox(&["-n"], &pcm, "moh", &["synth", "10", "sine", "440"]);
        dir
    })
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (installed by .ci/run): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How a test's Asterisk differs from the kit's defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Names the test in logs and in the run/skip record.
    pub test: &'static str,
    /// Phones the kit has, reached at a user of the phones' sipp other than
    /// their own name (`busy-doctor` makes the doctor's phone busy).
    pub phone_users: Vec<(&'static str, String)>,
    /// More agents' phones than the kit's, added as the kit adds its own
    /// (copied from `agent1`): `agent4`, `agent5`, …
    pub more_agents: usize,
    /// Modules the kit requires that this Asterisk runs without, on purpose.
    pub without_modules: Vec<&'static str>,
}

/// Asterisk with the network behind its trunk and the centre's phones.
pub struct Pbx {
    pub asterisk: Asterisk,
    pub network: Peer,
    pub phones: Peer,
    http: reqwest::Client,
    test: String,
    /// Dropped last: the peers and Asterisk write here until they stop.
    dir: tempfile::TempDir,
}

impl Drop for Pbx {
    fn drop(&mut self) {
        self.asterisk.stop();
        // SANJEEVANI_TEST_KEEP=1 keeps them after a test that passed too.
        if !std::thread::panicking() && std::env::var_os("SANJEEVANI_TEST_KEEP").is_none() {
            return;
        }
        // A failed test keeps what every peer wrote, and shows Asterisk's last words.
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("asterisk")
            .join(format!("{}-{}", self.test, std::process::id()));
        for sub in ["log", "network", "phones"] {
            let to = kept.join(sub);
            let _ = std::fs::create_dir_all(&to);
            for entry in std::fs::read_dir(self.dir.path().join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                if !entry.file_name().to_string_lossy().ends_with(".wav") {
                    let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
                }
            }
        }
        for conf in &self.asterisk.rendered {
            let _ = std::fs::write(kept.join(&conf.file), conf.text());
        }
        say(&format!(
            "{}: Asterisk, network and phones' logs kept in {}; Asterisk's log ends:\n{}",
            self.test,
            kept.display(),
            self.asterisk.tail(60)
        ));
    }
}

impl Pbx {
    /// Starts everything, or says why the test is skipped and returns `None`.
    pub async fn start(options: Options) -> Option<Pbx> {
        let Some(binary) = binary() else {
            say(&format!(
                "SKIPPED real-Asterisk test {}: no Asterisk found; set \
                 SANJEEVANI_TEST_ASTERISK=/path/to/sbin/asterisk or put asterisk on PATH \
                 (docs/asterisk.md, section 1)",
                options.test
            ));
            record(options.test, "skipped");
            return None;
        };
        record(options.test, "ran");
        let install = Install::find(binary).expect("the Asterisk install");
        let dir = tempfile::Builder::new()
            .prefix("sj-ast")
            .tempdir_in("/tmp")
            .unwrap();
        for sub in ["network", "phones"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let sounds = sounds();
        let copy = |from: &str, to: &Path| {
            std::fs::copy(sounds.join(from), to).unwrap_or_else(|e| panic!("{from}: {e}"));
        };
        // What the far ends play, before they start.
        for (from, to) in [
            ("voice.wav", "network/voice.wav"),
            ("machine.wav", "network/machine.wav"),
            ("hello.wav", "network/hello.wav"),
            ("phone.wav", "phones/phone.wav"),
        ] {
            copy(from, &dir.path().join(to));
        }
        let network = sipp(&dir.path().join("network"), "uas_network.xml");
        let phones = sipp(&dir.path().join("phones"), "uas_phones.xml");
        let http_port = free_port();
        let setup = Setup {
            http_port,
            sip_port: free_port(),
            // 2,000 ports (two per call leg: 200 calls and their agents'
            // phones need 800) below the ephemeral range that sipp's media
            // ports come from; instances whose ranges meet try the next port.
            rtp_start: 10_000 + (http_port % 10) * 2_000,
            rtp_ports: 2_000,
            ari_password: ARI_PASSWORD.into(),
            network: ([127, 0, 0, 1], network.port).into(),
            trunk_password: "test-trunk-secret".into(),
            phones: ([127, 0, 0, 1], phones.port).into(),
            phone_users: options
                .phone_users
                .iter()
                .map(|(phone, user)| (phone.to_string(), user.clone()))
                .collect(),
            more_agents: options.more_agents,
            without_modules: options
                .without_modules
                .iter()
                .map(|m| m.to_string())
                .collect(),
        };
        let asterisk = Asterisk::create(install, dir.path(), &setup).expect("the kit renders");
        copy(
            "abandoned-en.wav",
            &asterisk.sounds("en").join("sanjeevani-abandoned.wav"),
        );
        copy(
            "abandoned-hi.wav",
            &asterisk.sounds("hi").join("sanjeevani-abandoned.wav"),
        );
        copy(
            "callback-en.wav",
            &asterisk.sounds("en").join("sanjeevani-callback.wav"),
        );
        copy("moh.wav", &dir.path().join("data/moh/hold.wav"));
        copy("moh.wav", &dir.path().join("data/hold/hold.wav"));
        if let Err(e) = asterisk.start().await {
            panic!("{e}");
        }
        Some(Pbx {
            asterisk,
            network,
            phones,
            http: reqwest::Client::new(),
            test: options.test.to_string(),
            dir,
        })
    }

    pub fn base(&self) -> String {
        self.asterisk.base()
    }

    /// `GET /ari{path}` as the kit's ARI user.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/ari{path}", self.base()))
            .basic_auth(ARI_USER, Some(ARI_PASSWORD))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// The ids of what `GET /ari/{what}` lists (`channels`, `bridges`).
    pub async fn ids(&self, what: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .get(&format!("/{what}"))
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap_or_default().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// Waits (up to `within`) until Asterisk holds no channel and no bridge.
    pub async fn assert_nothing_left(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let (channels, bridges) = (self.ids("channels").await, self.ids("bridges").await);
            if channels.is_empty() && bridges.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left in Asterisk: channels {channels:?}, bridges {bridges:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to 10 s) for `condition` on what Asterisk reports.
    pub async fn eventually<F, Fut>(&self, what: &str, condition: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition().await {
            assert!(Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The members of bridge `id`, sorted (`None`: no such bridge).
    pub async fn members(&self, id: &str) -> Option<Vec<String>> {
        let bridges = self.get("/bridges").await;
        let bridge = bridges.as_array()?.iter().find(|b| b["id"] == id)?;
        let mut members: Vec<String> = bridge["channels"]
            .as_array()?
            .iter()
            .map(|c| c.as_str().unwrap_or_default().to_string())
            .collect();
        members.sort();
        Some(members)
    }
}

/// A sipp UAS running `scenario` from `tests/fixtures/sip/` in `dir`, with
/// its message trace, answering OPTIONS.
fn sipp(dir: &Path, scenario: &str) -> Peer {
    let port = free_port();
    let mut command = Command::new("sipp");
    command
        .current_dir(dir)
        .arg("-sf")
        .arg(crate::sip_support::fixture(scenario))
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &free_port().to_string()])
        .args([
            "-aa",
            "-nostdin",
            "-timeout",
            "600s",
            "-trace_err",
            "-trace_msg",
        ])
        .args(["-max_socket", "4096"]);
    let peer = Peer::spawn(command, port, dir.join("sipp.log"));
    std::thread::sleep(Duration::from_millis(200));
    peer
}

/// What a sipp peer saw, from its message trace: for each call (Call-ID)
/// it was offered, the request URI's user of its INVITE and every message
/// in order, as `<` (received) or `>` (sent) and the first line's method or
/// status.
pub fn sipp_calls(peer: &Peer) -> Vec<(String, Vec<String>)> {
    let dir = peer.dir();
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .ends_with("_messages.log")
        {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    let mut calls: Vec<(String, String, Vec<String>)> = Vec::new();
    for block in text.split("\n----------------------------------------------- ") {
        let mut lines = block.lines().skip(1);
        let Some(direction) = lines.next() else {
            continue;
        };
        let received = direction.contains("received");
        if !received && !direction.contains("sent") {
            continue;
        }
        let mut lines = lines.skip_while(|l| l.trim().is_empty());
        let Some(first) = lines.next() else { continue };
        let rest: Vec<&str> = lines.collect();
        let call_id = rest
            .iter()
            .find_map(|l| {
                l.strip_prefix("Call-ID:")
                    .or_else(|| l.strip_prefix("i:"))
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        let what = if first.starts_with("SIP/2.0") {
            first
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string()
        } else {
            first
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let entry = format!("{}{what}", if received { '<' } else { '>' });
        let user = if what == "INVITE" && received {
            first
                .split("sip:")
                .nth(1)
                .and_then(|u| u.split('@').next())
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        };
        match calls.iter_mut().find(|(id, _, _)| *id == call_id) {
            Some((_, u, seen)) => {
                if u.is_empty() {
                    *u = user;
                }
                seen.push(entry);
            }
            None => calls.push((call_id, user, vec![entry])),
        }
    }
    // Calls, not the trunk's qualify OPTIONS.
    calls
        .into_iter()
        .filter(|(_, _, seen)| seen.iter().any(|m| m == "<INVITE"))
        .map(|(_, user, seen)| (user, seen))
        .collect()
}

/// How long a generated sound lasts (8 kHz 16-bit mono WAV): the
/// information message is `abandoned-en` or `abandoned-hi`.
pub fn sound_length(name: &str) -> Duration {
    wav_length(&sounds().join(format!("{name}.wav")))
}

/// The length of a 16-bit mono 8 kHz WAV file, from its size.
pub fn wav_length(path: &Path) -> Duration {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Duration::from_secs_f64(bytes.saturating_sub(44) as f64 / 16_000.0)
}

/// The loudness (RMS, dB) of `path` between `low` and `high` Hz, as sox
/// measures it: which of the tones (callee 300 Hz, phone 500 Hz, music
/// 440 Hz) a recording holds.
pub fn band_level(path: &Path, low: u32, high: u32) -> f64 {
    let output = Command::new("sox")
        .arg(path)
        .args(["-n", "sinc", &format!("{low}-{high}"), "stats"])
        .output()
        .expect("sox runs");
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find(|l| l.starts_with("RMS lev dB"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NEG_INFINITY)
}

/// A TCP proxy in front of Asterisk's HTTP server: the adapter reaches ARI
/// through it, and [`Proxy::cut`] drops every connection at once while
/// Asterisk stays up, as a broken network would.
pub struct Proxy {
    pub port: u16,
    connections: std::sync::Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(to: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: std::sync::Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> =
            Default::default();
        let tracked = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", to)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut tasks = tracked.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(task);
            }
        });
        Proxy {
            port,
            connections,
            accept,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drops every connection through the proxy (new ones still pass).
    pub fn cut(&self) {
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
