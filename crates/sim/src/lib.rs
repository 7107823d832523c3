//! A discrete-event simulator of a call centre (outbound, with callers
//! coming in where a scenario says so), driving the Sanjeevani
//! dialer core through its public API exactly as a PBX adapter would.
//!
//! Runs are seeded and reproducible: the same scenario and seed give a byte-identical
//! [`Report`]. Contacts use *common random numbers*: the k-th contact dialed has the
//! same fate (answers or not, ring time, talk time …) whatever the pacing policy, so
//! policies are compared on the same calls in the same order.

pub mod arrivals;
pub mod bench;
pub mod blend;
pub mod dist;
pub mod fate;
pub mod optimum;
pub mod report;
pub mod scenario;
pub mod sim;

pub use fate::{Fate, Reply};
pub use report::Report;
pub use scenario::{Callee, Handling, Scenario, ScenarioError};
pub use sim::{simulate, SimError};
