//! Running: the plan (scenario × target → trials, skips decided up front), one trial's
//! execution, and the libtest-mimic runner that collects outcomes.

pub mod gateway;
pub mod live;
pub mod plan;
pub mod preflight;
pub mod runner;
pub mod scaffold;
pub mod trial;

pub use crate::runtime::runtime;
pub use plan::{PlanInput, PlannedTrial, plan};
pub use runner::{RunResult, run};
pub use trial::RunContext;
