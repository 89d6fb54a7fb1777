//! provcheck: a conformance harness for LLM provider APIs.
//!
//! Data flows one way: [`suite`] → [`run::plan`] → [`run`] trials → ([`mock`], [`client`],
//! [`dialect`]) → [`observation`] → [`expect`] → [`outcome`] → [`report`].

pub mod cli;
pub mod client;
pub mod dialect;
pub mod expect;
pub mod fsio;
pub mod mock;
pub mod neutral;
pub mod observation;
pub mod outcome;
pub mod record;
pub mod reference;
pub mod report;
pub mod run;
pub mod runtime;
pub mod source;
pub mod suite;
pub mod target;
pub mod vocab;
