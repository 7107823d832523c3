//! The service's configuration: defaults, then a TOML file, then environment
//! variables, then command-line flags. Unknown keys are an error that names
//! the key.
//!
//! Every key has an environment variable: `SANJEEVANI_` followed by the
//! section and the key in capitals, joined by `_` (top-level keys have no
//! section): `listen` is `SANJEEVANI_LISTEN`, `[auth] session_hours` is
//! `SANJEEVANI_AUTH_SESSION_HOURS`. Values are read as TOML values, or as a
//! string when they are not one.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where the embedded database and other files live.
    pub data_dir: PathBuf,
    /// `postgres://…` for several dialer nodes, `sqlite:…` for a file; empty:
    /// `data_dir/sanjeevani.db`.
    pub database: String,
    /// This dialer node's name: its leases and open attempts are its own.
    pub node: String,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub telephony: TelephonyConfig,
    pub demo: DemoConfig,
    pub shutdown: ShutdownConfig,
    /// The medical desk: ring and wait limits, service levels of tickets,
    /// callback tries (seconds; see docs/desk.md).
    pub desk: sanjeevani_core::desk::DeskConfig,
}

/// How the HTTP server is reached (see docs/security.md).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// PEM certificate chain: with `tls_key`, the server speaks HTTPS itself
    /// (cookies `Secure`, HSTS). Empty: plain HTTP, for loopback or behind
    /// a proxy.
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    pub tls_key: String,
    /// Addresses of reverse proxies whose `X-Forwarded-For` (the client) and
    /// `X-Forwarded-Proto` (`https`: cookies `Secure`, HSTS) are believed.
    /// From any other peer those headers are ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl ServerConfig {
    pub fn tls(&self) -> bool {
        !self.tls_cert.is_empty() || !self.tls_key.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a login lasts at most.
    pub session_hours: u32,
    /// A session not used for this long ends (a page left open keeps its
    /// session while its live connection is up).
    pub idle_minutes: u32,
    /// Login attempts allowed per minute for one username from one client
    /// address (a success starts the count again).
    pub logins_per_minute: u32,
    /// Failed logins allowed per minute from one client address, whatever
    /// the usernames (one password sprayed over every account).
    pub client_failures_per_minute: u32,
    /// A token Prometheus may present (`Authorization: Bearer …`) for
    /// `/metrics`; empty: only admin and supervisor sessions may read it.
    pub metrics_token: String,
}

/// Which PBX the dialer talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelephonyKind {
    /// Built-in simulation of called parties (labelled as such in every page).
    Simulated,
    /// A SIP trunk or proxy (the `sip_*`, `trunk`, `contact_uri` and
    /// `agent_uri` keys).
    Sip,
    /// Asterisk through ARI (the `ari_*` keys; see docs/asterisk.md).
    Ari,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelephonyConfig {
    pub kind: TelephonyKind,
    /// Simulation: a scenario file for the called parties' behaviour; empty:
    /// the built-in district day.
    pub scenario: String,
    /// Simulation: random seed.
    pub seed: u64,
    /// SIP: our address for signalling (port 0: any free port, one per campaign).
    pub sip_bind: SocketAddr,
    /// SIP: `udp` or `tcp`.
    pub sip_transport: SipTransport,
    /// SIP: where calls to contacts go (the trunk, or a proxy in front of it).
    pub trunk: SocketAddr,
    /// SIP: a contact's Request-URI; `{number}` is the E.164 number without `+`.
    pub contact_uri: String,
    /// SIP: an agent's phone, unless their account names one; `{agent}` is
    /// the agent's user id, `{username}` their login.
    pub agent_uri: String,
    /// SIP: a medical desk member's phone, called for a warm transfer,
    /// unless their account names one; `{member}` is their user id,
    /// `{username}` their login.
    pub desk_uri: String,
    /// SIP: the information message for abandoned calls, a URI that plays it
    /// and hangs up (empty: the call is ended without one).
    pub announcement_uri: String,
    /// SIP: digest credentials for the trunk (empty username: none).
    pub sip_username: String,
    pub sip_password: String,
    /// The trunk's most new calls per second and most calls at once, per
    /// campaign: pacing keeps to them (0: no limit).
    pub calls_per_second: u32,
    pub max_calls: u32,
    /// SIP: seconds between OPTIONS keepalives to the trunk (0: none).
    pub keepalive_secs: u64,
    /// ARI: Asterisk's HTTP server (ARI is under `/ari`).
    pub ari_url: String,
    /// ARI: the user in Asterisk's `ari.conf`.
    pub ari_username: String,
    pub ari_password: String,
    /// ARI: our Stasis applications' name; each campaign on each node
    /// connects as `{ari_app}-{node}-{campaign}`.
    pub ari_app: String,
    /// ARI: a contact's endpoint; `{number}` is the E.164 number without `+`.
    pub ari_contact_endpoint: String,
    /// ARI: an agent's phone, unless their account names one; `{username}`
    /// is the agent's login (the kit's endpoints are named after logins),
    /// `{agent}` their user id.
    pub ari_agent_endpoint: String,
    /// ARI: a medical desk member's phone, unless their account names one;
    /// `{username}` or `{member}` (user id).
    pub ari_desk_endpoint: String,
    /// ARI: the phone a supervisor listens, whispers or barges on, unless
    /// their account names one; `{username}` or `{user}` (user id).
    pub ari_supervisor_endpoint: String,
    /// ARI: the caller id contacts see.
    pub ari_caller_id: String,
    /// ARI: the information message for abandoned calls (`sound:…`).
    pub ari_message: String,
    /// ARI: the dialplan context for answering-machine detection (empty: none).
    pub ari_amd_context: String,
    /// ARI: music-on-hold class for held contacts.
    pub ari_moh_class: String,
    /// ARI: record every connected call.
    pub ari_record_calls: bool,
}

impl TelephonyConfig {
    /// The trunk's limits as the core's pacing keeps to them.
    pub fn trunk_limits(&self) -> sanjeevani_core::TrunkLimits {
        sanjeevani_core::TrunkLimits {
            calls_per_second: f64::from(self.calls_per_second),
            max_calls: self.max_calls,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SipTransport {
    Udp,
    Tcp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// On an empty database, create demo accounts, a contact list and a
    /// running campaign.
    pub seed: bool,
    /// Contacts in the demo list.
    pub contacts: u32,
    /// Simulated agents working the demo campaign beside the people logged in.
    pub simulated_agents: u32,
    /// Password of the demo accounts.
    pub password: String,
    /// Seed the demo with SIP or Asterisk telephony too: its made-up numbers
    /// are then dialled through the real trunk. For test benches only; by
    /// default the demo exists only with simulated telephony.
    pub with_real_telephony: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// On SIGINT/SIGTERM, how long live calls may go on before they are cut.
    pub drain_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: String::new(),
            node: "node-1".into(),
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            telephony: TelephonyConfig::default(),
            demo: DemoConfig::default(),
            shutdown: ShutdownConfig::default(),
            desk: sanjeevani_core::desk::DeskConfig::default(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_hours: 12,
            idle_minutes: 30,
            logins_per_minute: 5,
            client_failures_per_minute: 30,
            metrics_token: String::new(),
        }
    }
}

impl Default for TelephonyConfig {
    fn default() -> Self {
        TelephonyConfig {
            kind: TelephonyKind::Simulated,
            scenario: String::new(),
            seed: 1,
            sip_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            sip_transport: SipTransport::Udp,
            trunk: SocketAddr::from(([127, 0, 0, 1], 5060)),
            contact_uri: "sip:{number}@127.0.0.1:5060".into(),
            agent_uri: "sip:agent{agent}@127.0.0.1:5080".into(),
            desk_uri: "sip:desk{member}@127.0.0.1:5080".into(),
            announcement_uri: String::new(),
            sip_username: String::new(),
            sip_password: String::new(),
            calls_per_second: 20,
            max_calls: 200,
            keepalive_secs: 30,
            ari_url: "http://127.0.0.1:8088".into(),
            ari_username: "sanjeevani".into(),
            ari_password: String::new(),
            ari_app: "sanjeevani".into(),
            ari_contact_endpoint: "PJSIP/{number}@trunk".into(),
            ari_agent_endpoint: "PJSIP/{username}".into(),
            ari_desk_endpoint: "PJSIP/{username}".into(),
            ari_supervisor_endpoint: "PJSIP/{username}".into(),
            ari_caller_id: String::new(),
            ari_message: "sound:sanjeevani-abandoned".into(),
            ari_amd_context: String::new(),
            ari_moh_class: "default".into(),
            ari_record_calls: false,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: true,
            contacts: 3000,
            simulated_agents: 6,
            password: "demo".into(),
            with_real_telephony: false,
        }
    }
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig { drain_secs: 30 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The variable that overrides `key` of `section` (`None`: top level).
pub fn env_name(section: Option<&str>, key: &str) -> String {
    let name = match section {
        Some(section) => format!("SANJEEVANI_{section}_{key}"),
        None => format!("SANJEEVANI_{key}"),
    };
    name.to_uppercase()
}

impl Config {
    /// Defaults, then `file` if given, then the environment (`vars`).
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let origin = path.display().to_string();
                let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(&origin, e))?;
                // Checks unknown keys and types with the file named in the error.
                Config::deserialize(toml::Value::Table(table.clone()))
                    .map_err(|e| invalid(&origin, e))?;
                table
            }
            None => toml::Table::new(),
        };
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let defaults = toml::Table::try_from(Config::default()).expect("defaults serialize");
        for (key, value) in &defaults {
            match value {
                toml::Value::Table(section) => {
                    for sub in section.keys() {
                        let name = env_name(Some(key), sub);
                        if let Some(raw) = vars.get(&name) {
                            let entry = table
                                .entry(key.clone())
                                .or_insert_with(|| toml::Value::Table(Default::default()));
                            if let toml::Value::Table(t) = entry {
                                t.insert(sub.clone(), env_value(raw));
                            }
                        }
                    }
                }
                _ => {
                    if let Some(raw) = vars.get(&env_name(None, key)) {
                        table.insert(key.clone(), env_value(raw));
                    }
                }
            }
        }
        let origin = "configuration (file and SANJEEVANI_* variables)";
        let config =
            Config::deserialize(toml::Value::Table(table)).map_err(|e| invalid(origin, e))?;
        config
            .telephony
            .trunk_limits()
            .validate()
            .map_err(|e| invalid(origin, e))?;
        Ok(config)
    }

    /// The configuration as a TOML document (for `config/sanjeevani.example.toml`).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serializes")
    }
}

fn invalid(origin: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.to_string(),
        message: e.to_string().trim().to_string(),
    }
}

/// `8080` is a number, `true` a boolean, `"x"` a string, and anything that is
/// not a TOML value (`127.0.0.1:9090`) is taken as a string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[auth]\nsession_hours = 4\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&file),
            vars(&[
                ("SANJEEVANI_AUTH_SESSION_HOURS", "2"),
                ("SANJEEVANI_DEMO_SEED", "false"),
                ("SANJEEVANI_NODE", "east-1"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.auth.session_hours, 2);
        assert!(!config.demo.seed);
        assert_eq!(config.node, "east-1");
        assert_eq!(config.demo.contacts, DemoConfig::default().contacts);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "[auth]\nsesion_hours = 4\n").unwrap();
        let err = Config::load(Some(&file), vars(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("sesion_hours"), "{err}");
        assert!(err.contains("s.toml"), "{err}");
    }

    #[test]
    fn the_example_file_is_the_defaults() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/sanjeevani.example.toml"
        );
        let config = Config::load(Some(Path::new(path)), vars(&[])).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn sip_telephony_is_configured_from_the_environment() {
        let config = Config::load(
            None,
            vars(&[
                ("SANJEEVANI_TELEPHONY_KIND", "sip"),
                ("SANJEEVANI_TELEPHONY_TRUNK", "10.0.0.5:5060"),
                ("SANJEEVANI_TELEPHONY_SIP_TRANSPORT", "tcp"),
                ("SANJEEVANI_TELEPHONY_CALLS_PER_SECOND", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(config.telephony.kind, TelephonyKind::Sip);
        assert_eq!(config.telephony.trunk.to_string(), "10.0.0.5:5060");
        assert_eq!(config.telephony.sip_transport, SipTransport::Tcp);
        assert_eq!(config.telephony.calls_per_second, 5);
        let err = Config::load(None, vars(&[("SANJEEVANI_TELEPHONY_KIND", "asterisk")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("kind"), "{err}");
    }

    #[test]
    fn ari_telephony_is_configured_from_the_environment() {
        let config = Config::load(
            None,
            vars(&[
                ("SANJEEVANI_TELEPHONY_KIND", "ari"),
                ("SANJEEVANI_TELEPHONY_ARI_URL", "http://10.0.0.7:8088"),
                ("SANJEEVANI_TELEPHONY_ARI_PASSWORD", "from-a-secret-store"),
                ("SANJEEVANI_TELEPHONY_ARI_AMD_CONTEXT", "dialer-amd"),
                ("SANJEEVANI_TELEPHONY_ARI_RECORD_CALLS", "true"),
            ]),
        )
        .unwrap();
        let telephony = &config.telephony;
        assert_eq!(telephony.kind, TelephonyKind::Ari);
        assert_eq!(telephony.ari_url, "http://10.0.0.7:8088");
        assert_eq!(telephony.ari_password, "from-a-secret-store");
        assert_eq!(telephony.ari_amd_context, "dialer-amd");
        assert!(telephony.ari_record_calls);
    }

    #[test]
    fn bad_environment_values_are_named() {
        let err = Config::load(None, vars(&[("SANJEEVANI_LISTEN", "not an address")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
    }
}
