//! Running: the plan (scenario × target → trials, skips decided up front), one trial's
//! execution, and the libtest-mimic runner that collects outcomes.

pub(crate) mod client_cmd;
pub(crate) mod gateway;
mod judge;
pub(crate) mod live;
pub(crate) mod plan;
pub(crate) mod preflight;
pub(crate) mod printer;
pub(crate) mod progress;
pub(crate) mod runner;
pub(crate) mod scaffold;
pub(crate) mod stop;
pub(crate) mod trial;

pub(crate) use crate::runtime::runtime;
pub(crate) use plan::{PlanInput, PlannedTrial, plan};
pub(crate) use runner::run;
pub(crate) use trial::RunContext;
