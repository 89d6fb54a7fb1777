//! provcheck: a conformance harness for LLM provider APIs.
//!
//! Data flows one way: [`suite`] → `run::plan` → `run` trials → (`mock`, `client`,
//! [`dialect`]) → `observation` → [`expect`] → [`outcome`] → [`report`].
//!
//! ## Module map
//! Layers, bottom first. A module imports only from layers below its own, never from its own
//! layer or above (`arch_test` checks the imports against this list):
//! 1. `runtime`, `fsio`, `neutral`, `vocab`: leaves. The one async runtime, atomic file
//!    writes, the provider-neutral request and reply, and the words suites, targets and
//!    outcomes share (capabilities, priority, names).
//! 2. `source`, `dialect`: reading YAML sources with positions and diagnostics; the wire
//!    protocols, one folder per provider behind `DialectKind::decode_response`.
//! 3. `client`, `record`, `outcome`: HTTP transport and resilience; recording files; a
//!    trial's outcome and findings, the typed record every reporter reads.
//! 4. `observation`, `target`, `fuzz`: what a trial saw; the targets a run can use; the
//!    inputs the fuzz driver and the stream property tests feed the stream decoders.
//! 5. `expect`: expectations and their evaluation against an observation.
//! 6. `suite`: the suite model and loader.
//! 7. `mock`, `reference`, `schema`: the replay and fault server; the reference provider; the
//!    JSON Schemas of suites, targets and recordings, generated from their types.
//! 8. `run`: plan, trials and the runner.
//! 9. `report`, `probe`: reporters, reading outcomes only; `provcheck probe`, which finds a
//!    server's dialect, models and capabilities and writes its targets.yaml entry.
//! 10. `cli`: the command line.
//!
//! ## Public API
//! Everything is `pub(crate)` unless a caller outside the crate needs it (`unreachable_pub`
//! and `missing_docs` keep that honest). What stays public, and for whom:
//! - running suites: [`cli::main`] (the binary is only this call);
//! - the reference provider, a local stand-in for real APIs: [`reference::ReferenceProvider`]
//!   with its [`reference::Config`] and [`reference::Broken`] knobs;
//! - the file formats a tool around provcheck reads or writes: suites ([`suite::model`],
//!   [`suite::tools`], [`expect::spec`], loaded by [`suite::load::load_suite`]), targets
//!   ([`target::load`]), recordings ([`record::format`], [`record::write::to_text`]) and the
//!   run record ([`report::run_record::RunRecord`] of [`outcome::Outcome`]s);
//! - the provider-neutral request and reply ([`neutral`]) and the stream decoders
//!   ([`dialect::decode_stream`], [`dialect::stream::read_frames`]), which the benches and
//!   the contract tests drive directly;
//! - [`runtime::runtime`], the one async runtime everything blocks on;
//! - [`fuzz`], the stream inputs `provcheck-fuzz` and the stream property tests share.

#![warn(unreachable_pub, missing_docs)]
#![warn(clippy::too_many_lines)]

pub mod cli;
pub(crate) mod client;
pub mod dialect;
pub mod expect;
pub(crate) mod fsio;
pub mod fuzz;
pub(crate) mod mock;
pub mod neutral;
pub(crate) mod observation;
pub mod outcome;
pub mod probe;
pub mod record;
pub mod reference;
pub mod report;
pub(crate) mod run;
pub mod runtime;
pub(crate) mod schema;
pub mod source;
pub mod suite;
pub mod target;
pub(crate) mod vocab;

#[cfg(test)]
mod arch_test;
