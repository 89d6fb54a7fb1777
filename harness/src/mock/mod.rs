//! The local mock that stands in for a provider: replays recordings and fault scripts on one
//! local server shared by every trial (each under its own URL prefix), and witnesses every
//! request it receives. In gateway mode it listens at a fixed address instead, as the
//! gateway's upstream.

mod fault;
pub mod fixed;
pub mod replay;
mod script;
mod shared;
pub mod streaming;

pub use fixed::FixedMock;
pub use replay::ReplayMock;
pub use script::Witness;
