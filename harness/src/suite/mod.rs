//! Suites: the YAML model, its loader and located diagnostics. No HTTP here.

pub mod diagnostic;
pub mod load;
pub mod location;
pub mod model;
pub mod tools;

pub use diagnostic::Diagnostic;
pub use load::{Known, Suite, load_suites};
pub use location::Location;
pub use model::{Capability, Priority, Scenario};
