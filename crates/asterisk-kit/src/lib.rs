//! The operator's Asterisk kit (`deploy/asterisk/*.conf`) as data
//! ([`conf`]), and a private Asterisk run from it on loopback
//! ([`instance`]): every directory its own, only addresses, ports, paths and
//! secrets changed. The real-Asterisk tests and `sanjeevani bench ari` start
//! Asterisk this way, so both run exactly what operators are told to run.
//!
//! Nothing of Asterisk is here: it runs an Asterisk already installed on the
//! machine (a package, or one built following Asterisk's own guide).

pub mod conf;
pub mod instance;

pub use conf::Conf;
pub use instance::{Install, Instance, Setup};

use std::path::{Path, PathBuf};

/// The kit's phones, named after the demo's logins.
pub const KIT_PHONES: &[&str] = &["agent1", "agent2", "agent3", "doctor", "supervisor"];

/// How many of [`KIT_PHONES`] are agents' (`agent1` …).
pub const KIT_AGENTS: usize = 3;

/// The ARI user the kit declares.
pub const ARI_USER: &str = "sanjeevani";

/// What went wrong with the kit or the instance run from it.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {why}")]
    Syntax {
        file: String,
        line: usize,
        why: &'static str,
    },
    #[error("no Asterisk {what} in any of {candidates:?}")]
    NotInstalled {
        what: &'static str,
        candidates: Vec<PathBuf>,
    },
    #[error("Asterisk did not start: {why}\n{tail}")]
    Start { why: String, tail: String },
}

impl KitError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> KitError {
        KitError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
