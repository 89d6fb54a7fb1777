//! Suites: the YAML model and its loader, which checks what serde cannot. No HTTP here.

pub mod applicability;
pub mod live_truth;
pub mod load;
pub mod model;
mod tool_spec;
pub mod tools;

pub use crate::source::Diagnostic;
pub(crate) use load::{Known, Suite, load_suites};
pub use model::{Capability, Priority, Scenario};
