//! The local mock that stands in for a provider: replays recordings on a pooled wiremock
//! server and witnesses every request it receives.

pub mod replay;

pub use replay::{ReplayMock, Witness};
