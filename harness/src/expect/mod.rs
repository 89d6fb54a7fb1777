//! Expectations: what suites may ask of a reply ([`spec`]) and how an observation is judged
//! against them ([`eval`]).

pub mod eval;
pub mod faults;
pub mod finding;
pub mod spec;
pub mod tools;

pub use eval::evaluate;
pub use finding::Finding;
pub use spec::Expect;
