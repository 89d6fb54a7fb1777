//! The local mock that stands in for a provider: replays recordings and fault scripts on one
//! local server shared by every trial (each under its own URL prefix), and witnesses every
//! request it receives.

pub mod replay;
mod shared;
pub mod streaming;

pub use replay::{ReplayMock, Witness};
