//! The Asterisk REST Interface (ARI) adapter.
//!
//! - [`rest`]: every REST operation the adapter can make, as data
//!   (method, path, parameter names), and requests built only from them;
//! - [`events`]: the WebSocket events the adapter reads, typed; unknown
//!   event types and fields are tolerated;
//! - [`calls`]: call control, sans-io: the core's commands become REST
//!   requests, events become the dialer's line events;
//! - [`driver`]: the WebSocket and HTTP on tokio, reconnection, and
//!   [`driver::AriLine`], the dialer's telephony over Asterisk.
//!
//! Both are checked against Asterisk's own API declarations (ARI 11,
//! Asterisk 23) by `tests/ari_spec.rs`: a call or a field that Asterisk does not
//! declare fails the build's tests.

pub mod calls;
pub mod driver;
pub mod events;
pub mod rest;
