//! Reading source files: YAML into typed values, the position of every node, and
//! diagnostics that point at a file:line:col with a caret. The bottom of the module graph:
//! suites, recordings and targets read through it, and it imports none of them.

pub(crate) mod diagnostic;
pub(crate) mod location;
pub(crate) mod yaml;

pub use diagnostic::Diagnostic;
pub(crate) use location::{Location, SpanIndex};
pub(crate) use yaml::{parse_json_or_yaml, parse_yaml, yaml_error};
