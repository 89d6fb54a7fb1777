//! The local mock that stands in for a provider: replays recordings and fault scripts on one
//! local server shared by every trial (each under its own URL prefix), and witnesses every
//! request it receives. In gateway mode it listens at a fixed address instead, as the
//! gateway's upstream.

mod fault;
pub(crate) mod fixed;
pub(crate) mod forward;
pub(crate) mod limits;
pub(crate) mod replay;
mod script;
mod shared;
pub(crate) mod streaming;

pub(crate) use fixed::FixedMock;
pub(crate) use forward::Upstream;
pub(crate) use replay::ReplayMock;
