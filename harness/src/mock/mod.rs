//! The local mock that stands in for a provider: replays recordings on a pooled wiremock
//! server, or on our streaming responder when a reply is streamed, and witnesses every
//! request it receives.

pub mod replay;
pub mod streaming;

pub use replay::{ReplayMock, Witness};
