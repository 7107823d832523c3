//! The SIP trunk adapter: the dialer's calls through any SIP trunk or proxy.
//!
//! Layers, each usable on its own:
//! - [`message`]: SIP messages behind our own types (rsip parses and writes them);
//! - [`endpoint`]: client transactions and dialogs, sans-io (time passed in);
//! - [`line`]: contacts, agents' phones and third-party call control, sans-io;
//! - [`transport`] and [`driver`]: UDP/TCP sockets and timers on tokio, and
//!   [`SipLine`], the dialer's [`Telephony`](sanjeevani_telephony::Telephony).

pub mod digest;
pub mod driver;
pub mod endpoint;
pub mod line;
pub mod message;
pub mod sdp;
pub mod transport;

pub use digest::Credentials;
pub use driver::{SipConfig, SipLine, SipStats, SipTransfers};
pub use endpoint::Transport;
pub use line::LineConfig;
pub use sanjeevani_telephony::TransferEvent;
