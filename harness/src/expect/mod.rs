//! Expectations: what suites may ask of a reply ([`spec`]) and how an observation is judged
//! against them (`eval`).

pub(crate) mod eval;
pub(crate) mod faults;
pub(crate) mod finding;
pub(crate) mod params;
pub mod spec;
pub(crate) mod tools;

pub(crate) use eval::evaluate;
pub(crate) use finding::judges_behaviour;
pub use spec::Expect;
