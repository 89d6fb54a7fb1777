//! The probe's one way to the server: every request goes through [`Prober::send`], which
//! counts it against the budget, and every verdict through [`Prober::say`], one line each.
//! The key is only ever handed to the transport; no line names it.

use std::time::Duration;

use crate::client::{RawResponse, Transport};
use crate::dialect::{Body, DialectKind, WireRequest};
use crate::neutral::Reply;
use crate::run::live::Budget;

/// Why a probe request brought no response.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Miss {
    /// The budget (`--max-requests`, `--max-output-tokens`) was spent: not sent.
    Budget(String),
    /// Sent, but no response was read (refused, timed out, cut).
    Transport(String),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Budget(why) => write!(f, "not sent: {why}"),
            Miss::Transport(why) => write!(f, "no response: {why}"),
        }
    }
}

/// Sends the probe's requests and prints its verdicts.
pub(super) struct Prober {
    transport: Transport,
    key: Option<String>,
    budget: Budget,
    timeout: Duration,
    /// Requests sent so far.
    sent: std::sync::atomic::AtomicU64,
}

impl Prober {
    /// A prober with `key` (sent in each dialect's auth header), the run's budget flags and
    /// a per-request deadline.
    pub(super) fn new(key: Option<String>, budget: Budget, timeout: Duration) -> Prober {
        Prober {
            transport: Transport::new(),
            key,
            budget,
            timeout,
            sent: Default::default(),
        }
    }

    /// Sends `wire` to `base` (`stream`: read the 2xx body as `dialect`'s stream).
    pub(super) async fn send(
        &self,
        dialect: DialectKind,
        base: &str,
        wire: &WireRequest,
        stream: bool,
    ) -> Result<RawResponse, Miss> {
        self.budget
            .reserve(1)
            .map_err(|skip| Miss::Budget(skip.detail))?;
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let auth = self.key.as_deref().map(|k| dialect.auth_header(k));
        let auth = auth.as_ref().map(|(h, v)| (*h, v.as_str()));
        self.transport
            .send(base, wire, auth, self.timeout, stream.then_some(dialect))
            .await
            .map_err(|e| Miss::Transport(e.to_string()))
    }

    /// Sends a chat (or pull) and decodes the reply by `dialect`'s rules, contract checks
    /// included; the output tokens it reports are spent from the budget.
    pub(super) async fn exchange(
        &self,
        dialect: DialectKind,
        base: &str,
        wire: &WireRequest,
        stream: bool,
    ) -> Result<Reply, Miss> {
        let raw = self.send(dialect, base, wire, stream).await?;
        let body = match &raw.stream {
            Some((frames, end)) => Body::Stream(frames, end),
            None => Body::Whole(&raw.body),
        };
        let reply = dialect.decode_response(wire, raw.status, &raw.headers, body);
        if let Some(n) = reply.usage.as_ref().and_then(|u| u.output_tokens) {
            self.budget.spend_tokens(n);
        }
        Ok(reply)
    }

    /// How many requests were sent.
    pub(super) fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Prints one probe line: what was checked, the request, what came back, the verdict.
    pub(super) fn say(&mut self, check: &str, request: &str, result: &str, verdict: &str) {
        self.say_raw(&format!("{check:<16} {request} -> {result}: {verdict}"));
    }

    /// Prints a line as it is.
    pub(super) fn say_raw(&mut self, line: &str) {
        println!("{line}");
    }
}

/// How a reply reads in a probe line: its status and the first contract breach or error.
pub(super) fn summary(reply: &Reply) -> String {
    let mut s = reply.status.to_string();
    if let Some(e) = &reply.error {
        let msg: String = e.message.chars().take(80).collect();
        s.push_str(&format!(" error `{msg}`"));
    }
    if let Some(v) = reply.violations.first() {
        let v: String = v.chars().take(100).collect();
        s.push_str(&format!(", contract breach: {v}"));
    }
    s
}

/// A reply that kept its dialect's contract with a 2xx status.
pub(super) fn clean(reply: &Reply) -> bool {
    (200..300).contains(&reply.status) && reply.error.is_none() && reply.violations.is_empty()
}
