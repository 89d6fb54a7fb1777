//! The HTTP client under test by default: one shared reqwest client, per-request deadlines.

pub mod policy;
pub mod resilience;
pub mod transport;

pub use policy::{Policy, PolicySpec};
pub use resilience::{CircuitState, ClientEvent, Subject};
pub use transport::{Cause, Peer, RawResponse, Sent, Tap, Transport, TransportError, Unreached};
