//! A private Asterisk on loopback, run from the kit: its own directory for
//! everything it reads and writes, the kit's files with this instance's
//! addresses, ports, paths and secrets ([`Setup`]), started and stopped by
//! its own PID.

use crate::conf::{self, Conf};
use crate::{KitError, ARI_USER, KIT_AGENTS, KIT_PHONES};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a build or a package put Asterisk's binary, modules and data.
#[derive(Debug, Clone)]
pub struct Install {
    pub binary: PathBuf,
    pub modules: PathBuf,
    pub data: PathBuf,
}

impl Install {
    /// The install `binary` (`…/sbin/asterisk`) belongs to.
    pub fn find(binary: PathBuf) -> Result<Install, KitError> {
        let prefix = binary
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/usr"))
            .to_path_buf();
        let first = |candidates: Vec<PathBuf>, what: &'static str| {
            candidates
                .iter()
                .find(|c| c.is_dir())
                .cloned()
                .ok_or(KitError::NotInstalled { what, candidates })
        };
        let modules = first(
            vec![
                prefix.join("lib/asterisk/modules"),
                prefix.join("lib64/asterisk/modules"),
                "/usr/lib/x86_64-linux-gnu/asterisk/modules".into(),
                "/usr/lib/asterisk/modules".into(),
            ],
            "modules",
        )?;
        // The XML documentation is required: Asterisk refuses to load
        // modules whose documentation it cannot find.
        let documentation = first(
            vec![
                prefix.join("var/lib/asterisk/documentation"),
                "/usr/share/asterisk/documentation".into(),
                "/var/lib/asterisk/documentation".into(),
            ],
            "documentation",
        )?;
        let data = documentation
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or(documentation);
        if !binary.is_file() {
            return Err(KitError::NotInstalled {
                what: "binary",
                candidates: vec![binary],
            });
        }
        Ok(Install {
            binary,
            modules,
            data,
        })
    }
}

/// How an instance differs from the kit: where it listens, where the
/// network and the phones are, its secrets, and what it runs without.
#[derive(Debug, Clone)]
pub struct Setup {
    pub http_port: u16,
    pub sip_port: u16,
    /// Media ports: `rtp_ports` from `rtp_start` (two per call leg).
    pub rtp_start: u16,
    pub rtp_ports: u16,
    pub ari_password: String,
    /// The telephone network behind the trunk.
    pub network: SocketAddr,
    pub trunk_password: String,
    /// Where the phones are: phone `name` is `sip:{user}@{phones}`, its
    /// user being its name unless [`Setup::phone_users`] says otherwise.
    pub phones: SocketAddr,
    pub phone_users: Vec<(String, String)>,
    /// More agents' phones than the kit's, added as an operator adds them
    /// (copied from `agent1`): `agent4`, `agent5`, …
    pub more_agents: usize,
    /// Modules the kit requires that this instance runs without, on purpose.
    pub without_modules: Vec<String>,
}

/// The directories of an instance, all under its own folder.
const DIRECTORIES: &[&str] = &[
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
];

/// One Asterisk with every directory of its own; stopped when dropped.
pub struct Instance {
    install: Install,
    /// Where everything of this instance is.
    pub dir: PathBuf,
    pub http_port: u16,
    pub sip_port: u16,
    pub ari_password: String,
    /// The kit's files as this instance runs them, and the phones added.
    pub rendered: Vec<Conf>,
    pub added_phones: Vec<String>,
    child: Mutex<Option<Child>>,
}

impl Instance {
    /// Lays out `dir` and writes the kit there as `setup` says; sounds go
    /// into [`Instance::sounds`] and `data/hold` (music on hold) before
    /// [`Instance::start`].
    pub fn create(install: Install, dir: &Path, setup: &Setup) -> Result<Instance, KitError> {
        for sub in DIRECTORIES {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| KitError::io(&path, e))?;
        }
        for data in ["documentation", "rest-api"] {
            let from = install.data.join(data);
            let to = dir.join("data").join(data);
            if from.exists() && !to.exists() {
                std::os::unix::fs::symlink(&from, &to).map_err(|e| KitError::io(&to, e))?;
            }
        }
        let (rendered, added_phones) = render(dir, setup)?;
        for conf in &rendered {
            write(&dir.join(&conf.file), &conf.text())?;
        }
        write(
            &dir.join("asterisk.conf"),
            &format!(
                "[directories]\nastetcdir => {etc}\nastmoddir => {modules}\n\
                 astcachedir => {etc}/cache\nastvarlibdir => {etc}/lib\nastdbdir => {etc}/lib\n\
                 astkeydir => {etc}/lib\nastdatadir => {etc}/data\nastagidir => {etc}/data/agi-bin\n\
                 astspooldir => {etc}/spool\nastrundir => {etc}/run\nastlogdir => {etc}/log\n\
                 astsbindir => {sbin}\n\n[options]\nverbose = 3\nnocolor = yes\n\
                 defaultlanguage = en\n",
                etc = dir.display(),
                modules = install.modules.display(),
                sbin = install
                    .binary
                    .parent()
                    .unwrap_or(Path::new("/"))
                    .display(),
            ),
        )?;
        write(
            &dir.join("logger.conf"),
            "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\n\
             messages.log => notice,warning,error,verbose\n",
        )?;
        Ok(Instance {
            install,
            dir: dir.to_path_buf(),
            http_port: setup.http_port,
            sip_port: setup.sip_port,
            ari_password: setup.ari_password.clone(),
            rendered,
            added_phones,
            child: Mutex::new(None),
        })
    }

    /// Where prompts in `language` go.
    pub fn sounds(&self, language: &str) -> PathBuf {
        self.dir.join("data/sounds").join(language)
    }

    /// Where Asterisk stores recordings.
    pub fn recording_dir(&self) -> PathBuf {
        self.dir.join("spool/recording")
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.join("asterisk.conf")
    }

    /// Starts Asterisk and waits (up to 30 s) until ARI answers.
    pub async fn start(&self) -> Result<(), KitError> {
        let failed = |why: String| KitError::Start {
            why,
            tail: self.tail(40),
        };
        let stdout_path = self.dir.join("log/stdout.log");
        let stdout =
            std::fs::File::create(&stdout_path).map_err(|e| KitError::io(&stdout_path, e))?;
        let stderr = stdout
            .try_clone()
            .map_err(|e| KitError::io(&stdout_path, e))?;
        let child = Command::new(&self.install.binary)
            .arg("-C")
            .arg(self.conf_path())
            .args(["-f", "-n", "-q"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| KitError::io(&self.install.binary, e))?;
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        let socket = self.dir.join("run/asterisk.ctl");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            if !self.running() {
                return Err(failed("it exited".into()));
            }
            if Instant::now() > deadline {
                return Err(failed("no control socket after 30 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let booted = self.cli("core waitfullybooted");
        if !booted.contains("fully booted") {
            return Err(failed(booted));
        }
        let client = reqwest::Client::new();
        loop {
            let answer = client
                .get(format!("{}/ari/asterisk/info", self.base()))
                .basic_auth(ARI_USER, Some(&self.ari_password))
                .send()
                .await;
            if matches!(&answer, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(failed(format!("ARI never answered: {answer:?}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn running(&self) -> bool {
        match self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            Some(child) => child.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }

    /// Kills Asterisk at once (SIGKILL), as a crash would.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.dir.join("run/asterisk.ctl"));
    }

    /// Stops Asterisk (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&self) {
        let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() else {
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

    /// A CLI command through this instance's control socket; its output.
    pub fn cli(&self, command: &str) -> String {
        match Command::new(&self.install.binary)
            .arg("-C")
            .arg(self.conf_path())
            .args(["-rx", command])
            .output()
        {
            Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
            Err(e) => format!("asterisk -rx did not run: {e}"),
        }
    }

    /// `http://127.0.0.1:{port}`: ARI is under `/ari`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Asterisk's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/messages.log")).unwrap_or_default()
    }

    /// The last `lines` of the log and of what Asterisk printed.
    pub fn tail(&self, lines: usize) -> String {
        let mut text = self.log();
        text.push_str(
            &std::fs::read_to_string(self.dir.join("log/stdout.log")).unwrap_or_default(),
        );
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write(path: &Path, text: &str) -> Result<(), KitError> {
    std::fs::write(path, text).map_err(|e| KitError::io(path, e))
}

/// The kit's files with the instance's addresses, ports, paths and
/// secrets; and the phones added to the kit's.
fn render(dir: &Path, setup: &Setup) -> Result<(Vec<Conf>, Vec<String>), KitError> {
    let mut rendered = conf::load_all()?;
    let mut added_phones = Vec::new();
    let rtp_end = u32::from(setup.rtp_start) + u32::from(setup.rtp_ports) - 1;
    for conf in &mut rendered {
        match conf.file.as_str() {
            "http.conf" => {
                conf.set("general", None, "bindaddr", "127.0.0.1").set(
                    "general",
                    None,
                    "bindport",
                    &setup.http_port.to_string(),
                );
            }
            "ari.conf" => {
                conf.set(ARI_USER, Some("user"), "password", &setup.ari_password);
            }
            "rtp.conf" => {
                conf.set("general", None, "rtpstart", &setup.rtp_start.to_string())
                    .set("general", None, "rtpend", &rtp_end.to_string());
            }
            "musiconhold.conf" => {
                let hold = dir.join("data/hold");
                conf.set(
                    "sanjeevani-hold",
                    None,
                    "directory",
                    &hold.to_string_lossy(),
                );
            }
            "modules.conf" => {
                for module in &setup.without_modules {
                    conf.remove("modules", "require", module)
                        .add("modules", &format!("noload = {module}"));
                }
            }
            "pjsip.conf" => {
                let trunk = setup.network.to_string();
                conf.set(
                    "transport-udp",
                    None,
                    "bind",
                    &format!("127.0.0.1:{}", setup.sip_port),
                )
                .set("this-host", None, "media_address", "127.0.0.1")
                .set("trunk", Some("aor"), "contact", &format!("sip:{trunk}"))
                .set("trunk-identify", None, "match", &trunk)
                .set("trunk", Some("endpoint"), "from_domain", "127.0.0.1")
                .set("trunk-auth", None, "password", &setup.trunk_password);
                for n in 0..setup.more_agents {
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
                    let user = setup
                        .phone_users
                        .iter()
                        .find(|(p, _)| p == phone)
                        .map(|(_, u)| u.clone())
                        .unwrap_or_else(|| phone.clone());
                    let contact = format!("sip:{user}@{}", setup.phones);
                    conf.set(phone, Some("aor"), "contact", &contact).set(
                        phone,
                        Some("auth"),
                        "password",
                        &format!("secret-{phone}"),
                    );
                }
            }
            _ => {}
        }
    }
    Ok((rendered, added_phones))
}
