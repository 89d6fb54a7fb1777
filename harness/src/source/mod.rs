//! Reading source files: YAML into typed values, the position of every node, and
//! diagnostics that point at a file:line:col with a caret. The bottom of the module graph:
//! suites, recordings and targets read through it, and it imports none of them.

mod de;
pub(crate) mod diagnostic;
mod emit;
pub(crate) mod events;
pub(crate) mod location;
pub(crate) mod yaml;

pub use diagnostic::Diagnostic;
pub use emit::to_yaml_string;
pub(crate) use location::{Location, SpanIndex};
pub use yaml::parse_yaml;
pub(crate) use yaml::{parse_json_or_yaml, parse_yaml_indexed, read_source};
