//! The HTTP client under test by default: one shared reqwest client, per-request deadlines.

pub(crate) mod limits;
pub(crate) mod policy;
pub(crate) mod resilience;
pub(crate) mod transport;

pub(crate) use limits::{Limits, LimitsSpec};
pub(crate) use policy::{Policy, PolicySpec};
pub(crate) use resilience::{CircuitState, ClientEvent, Subject};
pub(crate) use transport::{Cause, RawResponse, Sent, Tap, Transport, TransportError};
