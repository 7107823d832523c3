//! A private, real Asterisk for a test, on loopback, started from the
//! operator's kit itself (`deploy/asterisk/*.conf`) with only addresses,
//! ports, paths and secrets changed (see [`kit::EDITABLE`]); the telephone
//! network behind its trunk (sipp, `tests/fixtures/sip/uas_network.xml`:
//! each number behaves as its last digits say) and the centre's phones
//! (sipp, `uas_phones.xml`).
//!
//! Asterisk is found through `SANJEEVANI_TEST_ASTERISK=/path/to/sbin/asterisk`,
//! else `asterisk` on `PATH`. Without one, [`Pbx::start`] says so on standard
//! error, records the test as skipped and returns `None`; `.ci/run` counts
//! the tests that ran and were skipped. Everything is stopped (by PID) on
//! drop; a test that fails keeps Asterisk's log under `target/tmp/asterisk/`
//! and prints its tail.

// Shared by several test binaries, each using a part.
#![allow(dead_code)]

pub mod kit;

use crate::sip_support::{free_port, Peer};
use kit::Conf;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The ARI user of the kit, and the password tests give it.
pub const ARI_USER: &str = "sanjeevani";
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

/// Where a build or a package put modules and read-only data.
struct Install {
    binary: PathBuf,
    modules: PathBuf,
    data: PathBuf,
}

impl Install {
    fn find(binary: PathBuf) -> Install {
        let prefix = binary
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/usr"))
            .to_path_buf();
        let first = |candidates: &[PathBuf], what: &str| -> PathBuf {
            candidates
                .iter()
                .find(|c| c.is_dir())
                .cloned()
                .unwrap_or_else(|| panic!("no Asterisk {what} in {candidates:?}"))
        };
        let modules = first(
            &[
                prefix.join("lib/asterisk/modules"),
                prefix.join("lib64/asterisk/modules"),
                "/usr/lib/x86_64-linux-gnu/asterisk/modules".into(),
                "/usr/lib/asterisk/modules".into(),
            ],
            "modules",
        );
        let data = first(
            &[
                prefix.join("var/lib/asterisk/documentation"),
                "/usr/share/asterisk/documentation".into(),
                "/var/lib/asterisk/documentation".into(),
            ],
            "documentation",
        )
        .parent()
        .unwrap()
        .to_path_buf();
        Install {
            binary,
            modules,
            data,
        }
    }
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

/// The phones the kit has, by the accounts of the demo.
pub const KIT_PHONES: &[&str] = &["agent1", "agent2", "agent3", "doctor", "supervisor"];
const KIT_AGENTS: usize = 3;

/// One running Asterisk with every directory of its own.
pub struct Asterisk {
    install: Install,
    /// Where everything of this instance is (kept by its [`Pbx`]).
    pub dir: PathBuf,
    pub http_port: u16,
    pub sip_port: u16,
    child: Mutex<Option<Child>>,
    /// The kit's files as this instance runs them, and the phones added.
    pub rendered: Vec<Conf>,
    pub added_phones: Vec<String>,
}

impl Asterisk {
    fn conf_path(&self) -> PathBuf {
        self.dir.join("asterisk.conf")
    }

    /// Starts Asterisk on this instance's files and waits until ARI answers.
    pub async fn start(&self) {
        let stdout = std::fs::File::create(self.dir.join("log/stdout.log")).unwrap();
        let child = Command::new(&self.install.binary)
            .arg("-C")
            .arg(self.conf_path())
            .args(["-f", "-n", "-q"])
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stdout)
            .spawn()
            .expect("asterisk starts");
        *self.child.lock().unwrap() = Some(child);
        let socket = self.dir.join("run/asterisk.ctl");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(
                self.running(),
                "Asterisk exited at start:\n{}",
                self.tail(40)
            );
            assert!(
                Instant::now() < deadline,
                "no control socket:\n{}",
                self.tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let booted = self.cli("core waitfullybooted");
        assert!(
            booted.contains("fully booted"),
            "{booted}\n{}",
            self.tail(40)
        );
        let client = reqwest::Client::new();
        loop {
            let answer = client
                .get(format!("{}/ari/asterisk/info", self.base()))
                .basic_auth(ARI_USER, Some(ARI_PASSWORD))
                .send()
                .await;
            if matches!(&answer, Ok(r) if r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ARI never answered:\n{}",
                self.tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn running(&self) -> bool {
        match self.child.lock().unwrap().as_mut() {
            Some(child) => child.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }

    /// Kills Asterisk at once (SIGKILL), as a crash would.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.dir.join("run/asterisk.ctl"));
    }

    /// Stops Asterisk (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&self) {
        let Some(mut child) = self.child.lock().unwrap().take() else {
            return;
        };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        for _ in 0..50 {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// A CLI command through this instance's control socket.
    pub fn cli(&self, command: &str) -> String {
        let output = Command::new(&self.install.binary)
            .arg("-C")
            .arg(self.conf_path())
            .args(["-rx", command])
            .output()
            .expect("asterisk -rx runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `http://127.0.0.1:{port}`: ARI is under `/ari`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Asterisk's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/messages.log")).unwrap_or_default()
    }

    fn tail(&self, lines: usize) -> String {
        let mut text = self.log();
        text.push_str(
            &std::fs::read_to_string(self.dir.join("log/stdout.log")).unwrap_or_default(),
        );
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Where Asterisk stores recordings.
    pub fn recording_dir(&self) -> PathBuf {
        self.dir.join("spool/recording")
    }
}

impl Drop for Asterisk {
    fn drop(&mut self) {
        self.stop();
    }
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
        if !std::thread::panicking() {
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
        let install = Install::find(binary);
        let dir = tempfile::Builder::new()
            .prefix("sj-ast")
            .tempdir_in("/tmp")
            .unwrap();
        for sub in [
            "cache",
            "lib/keys",
            "data/moh",
            "data/hold",
            "data/sounds/en",
            "data/sounds/hi",
            "data/agi-bin",
            "spool/recording",
            "run",
            "log",
            "network",
            "phones",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let path = |sub: &str| dir.path().join(sub).to_str().unwrap().to_string();
        let sounds = sounds();
        let copy = |from: &str, to: &str| {
            std::fs::copy(sounds.join(from), dir.path().join(to))
                .unwrap_or_else(|e| panic!("{from}: {e}"));
        };
        copy(
            "abandoned-en.wav",
            "data/sounds/en/sanjeevani-abandoned.wav",
        );
        copy(
            "abandoned-hi.wav",
            "data/sounds/hi/sanjeevani-abandoned.wav",
        );
        copy("callback-en.wav", "data/sounds/en/sanjeevani-callback.wav");
        copy("moh.wav", "data/moh/hold.wav");
        copy("moh.wav", "data/hold/hold.wav");
        copy("voice.wav", "network/voice.wav");
        copy("machine.wav", "network/machine.wav");
        copy("hello.wav", "network/hello.wav");
        copy("phone.wav", "phones/phone.wav");
        for data in ["documentation", "rest-api"] {
            let from = install.data.join(data);
            if from.exists() {
                std::os::unix::fs::symlink(from, dir.path().join("data").join(data)).unwrap();
            }
        }

        let network = sipp(&dir.path().join("network"), "uas_network.xml");
        let phones = sipp(&dir.path().join("phones"), "uas_phones.xml");
        let http_port = free_port();
        let sip_port = free_port();
        let rtp_start = 10_000 + (http_port as u32 * 7919 % 100) * 200;

        // The kit, with addresses, ports, paths and secrets of this instance.
        let mut rendered: Vec<Conf> = kit::files().iter().map(|f| Conf::load(f)).collect();
        let mut added_phones = Vec::new();
        for conf in &mut rendered {
            match conf.file.as_str() {
                "http.conf" => {
                    conf.set("general", None, "bindaddr", "127.0.0.1").set(
                        "general",
                        None,
                        "bindport",
                        &http_port.to_string(),
                    );
                }
                "ari.conf" => {
                    conf.set(ARI_USER, Some("user"), "password", ARI_PASSWORD);
                }
                "rtp.conf" => {
                    conf.set("general", None, "rtpstart", &rtp_start.to_string())
                        .set("general", None, "rtpend", &(rtp_start + 199).to_string());
                }
                "musiconhold.conf" => {
                    conf.set("sanjeevani-hold", None, "directory", &path("data/hold"));
                }
                "modules.conf" => {
                    for module in &options.without_modules {
                        conf.remove("modules", "require", module)
                            .add("modules", &format!("noload = {module}"));
                    }
                }
                "pjsip.conf" => {
                    let trunk = format!("127.0.0.1:{}", network.port);
                    conf.set(
                        "transport-udp",
                        None,
                        "bind",
                        &format!("127.0.0.1:{sip_port}"),
                    )
                    .set("this-host", None, "media_address", "127.0.0.1")
                    .set("trunk", Some("aor"), "contact", &format!("sip:{trunk}"))
                    .set("trunk-identify", None, "match", &trunk)
                    .set("trunk", Some("endpoint"), "from_domain", "127.0.0.1")
                    .set("trunk-auth", None, "password", "test-trunk-secret");
                    for n in 0..options.more_agents {
                        let name = format!("agent{}", KIT_AGENTS + n + 1);
                        conf.clone_sections("agent1", &name);
                        added_phones.push(name);
                    }
                    let all: Vec<String> = KIT_PHONES
                        .iter()
                        .map(|p| p.to_string())
                        .chain(added_phones.iter().cloned())
                        .collect();
                    for phone in &all {
                        let user = options
                            .phone_users
                            .iter()
                            .find(|(p, _)| p == phone)
                            .map(|(_, u)| u.clone())
                            .unwrap_or_else(|| phone.clone());
                        let contact = format!("sip:{user}@127.0.0.1:{}", phones.port);
                        conf.set(phone, Some("aor"), "contact", &contact).set(
                            phone,
                            Some("auth"),
                            "password",
                            &format!("test-{phone}"),
                        );
                    }
                }
                _ => {}
            }
        }
        for conf in &rendered {
            std::fs::write(dir.path().join(&conf.file), conf.text()).unwrap();
        }
        std::fs::write(
            dir.path().join("asterisk.conf"),
            format!(
                "[directories]\nastetcdir => {etc}\nastmoddir => {modules}\n\
                 astcachedir => {etc}/cache\nastvarlibdir => {etc}/lib\nastdbdir => {etc}/lib\n\
                 astkeydir => {etc}/lib\nastdatadir => {etc}/data\nastagidir => {etc}/data/agi-bin\n\
                 astspooldir => {etc}/spool\nastrundir => {etc}/run\nastlogdir => {etc}/log\n\
                 astsbindir => {sbin}\n\n[options]\nverbose = 3\nnocolor = yes\n\
                 defaultlanguage = en\n",
                etc = dir.path().display(),
                modules = install.modules.display(),
                sbin = install.binary.parent().unwrap().display(),
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("logger.conf"),
            "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\n\
             messages.log => notice,warning,error,verbose\n",
        )
        .unwrap();

        let asterisk = Asterisk {
            install,
            dir: dir.path().to_path_buf(),
            http_port,
            sip_port,
            child: Mutex::new(None),
            rendered,
            added_phones,
        };
        asterisk.start().await;
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

/// What a sipp peer saw, from its message trace: for each call (Call-ID),
/// the request URI's user of its INVITE and every message in order, as
/// `<` (received) or `>` (sent) and the first line's method or status.
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
    calls
        .into_iter()
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
