//! The HTTP client under test by default: one shared reqwest client, per-request deadlines.

pub mod transport;

pub use transport::{RawResponse, Transport, TransportError};
