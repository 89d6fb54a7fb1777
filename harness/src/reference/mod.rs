//! A conformant reference provider: an in-process server on 127.0.0.1 that speaks all four
//! dialects to the letter (OpenAI chat completions and Responses, Anthropic messages, Ollama's
//! native API)
//! on one port, so live mode can be tried against a server known to keep the contract, and a
//! check can be proved to fire against a server known to break one rule ([`Broken`]).
//!
//! Replies are deterministic and derived from the prompt: short unless the prompt asks for
//! something long, cut at `max_tokens` with the dialect's finish reason, with usage counted by
//! a simple tokenizer (a word or a punctuation mark is a token). JSON mode answers a JSON
//! object, a JSON schema an instance of it; tool calls carry arguments valid against the
//! offered schema and follow the tool choice; invalid requests get each API's documented
//! error (see `validate` for the table of rules). It knows nothing of suites or the runner.
//!
//! ```no_run
//! use provcheck::dialect::DialectKind;
//! use provcheck::reference::{Config, ReferenceProvider};
//! let server = ReferenceProvider::start(Config::default()).expect("bind 127.0.0.1");
//! println!("{}", server.base_url(DialectKind::Anthropic));
//! ```
//! Run standalone with `cargo run --example reference_provider -- --addr 127.0.0.1:8099`.

mod answer;
mod anthropic;
mod config;
mod errors;
mod ollama;
mod openai;
mod responses;
mod schema;
mod server;
mod text;
mod validate;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Broken, Config, ModelSpec};
pub(crate) use validate::request_breach;

use crate::dialect::DialectKind;

/// A running reference provider. Dropping it stops the server.
#[derive(Debug)]
pub struct ReferenceProvider {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ReferenceProvider {
    /// Starts a server on a free port of 127.0.0.1, on provcheck's own runtime.
    pub fn start(cfg: Config) -> std::io::Result<ReferenceProvider> {
        let rt = crate::runtime::runtime();
        rt.block_on(ReferenceProvider::bind(
            "127.0.0.1:0".parse().expect("address"),
            cfg,
        ))
    }

    /// Binds `addr` and serves on the current tokio runtime.
    pub async fn bind(addr: SocketAddr, cfg: Config) -> std::io::Result<ReferenceProvider> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = server::local(&listener)?;
        let state = Arc::new(server::State::new(cfg));
        let task = tokio::spawn(server::serve(listener, state));
        Ok(ReferenceProvider { addr, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a target of `dialect` uses: OpenAI's ends in `/v1`, the others take none.
    pub fn base_url(&self, dialect: DialectKind) -> String {
        match dialect {
            DialectKind::Openai | DialectKind::OpenaiResponses => {
                format!("http://{}/v1", self.addr)
            }
            DialectKind::Anthropic | DialectKind::Ollama => format!("http://{}", self.addr),
        }
    }
}

impl Drop for ReferenceProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}
