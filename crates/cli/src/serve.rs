//! `sanjeevani serve`: the service with its API, WebSocket and web pages.

use anyhow::{Context, Result};
use sanjeevani_server::config::TelephonyKind;
use sanjeevani_server::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML; see config/sanjeevani.example.toml). Every key
    /// can also be set by a SANJEEVANI_* environment variable.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Where the embedded database lives (default ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// postgres://… to share the database between nodes.
    #[arg(long)]
    database: Option<String>,
    /// A test bench: the demo's accounts (password `demo`) and made-up
    /// contacts even with real telephony, whose trunk then dials them.
    #[arg(long)]
    demo: bool,
}

pub async fn run(args: ServeArgs) -> Result<()> {
    let mut config = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(database) = args.database {
        config.database = database;
    }
    if args.demo {
        config.demo.with_real_telephony = true;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    let scheme = if config.server.tls() { "https" } else { "http" };
    let demo = config.demo.seed
        && (config.telephony.kind == TelephonyKind::Simulated || config.demo.with_real_telephony);
    let telephony = match config.telephony.kind {
        TelephonyKind::Simulated if demo => {
            "simulated telephony; demo accounts in the README".to_string()
        }
        TelephonyKind::Simulated => "simulated telephony".to_string(),
        TelephonyKind::Sip => format!("SIP trunk at {}", config.telephony.trunk),
        TelephonyKind::Ari => format!("Asterisk ARI at {}", config.telephony.ari_url),
    };
    let state = sanjeevani_server::prepare(config).await?;
    eprintln!("Sanjeevani is running: open {scheme}://{address}/ ({telephony})");
    sanjeevani_server::run(state, listener, crate::dial::shutdown_signal()).await?;
    Ok(())
}
