//! The capability and model probes: each sends one small request of the kind the suites
//! send, judges the reply by the dialect's contract and by what the capability promises,
//! and records either the evidence or why the capability is not declared.

use std::collections::BTreeMap;

use super::detect::{Found, wire_options};
use super::exchange::{Prober, clean, summary};
use crate::dialect::{DialectKind, WireRequest};
use crate::neutral::{ChatRequest, Reply};
use crate::vocab::Capability;

/// A model chosen for an alias, and why.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pick {
    /// The concrete model name.
    pub model: String,
    /// What the probe saw it do.
    pub why: String,
}

/// Everything the probe established.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Findings {
    /// Dialect, base URL and models.
    pub found: Found,
    /// Capabilities seen working, with the evidence.
    pub caps: BTreeMap<Capability, String>,
    /// Capabilities not declared, with why.
    pub lacks: BTreeMap<Capability, String>,
    /// Model aliases, with why each model was picked.
    pub aliases: BTreeMap<String, Pick>,
}

/// One probe in flight: the prober, the target so far, and its findings.
pub(super) struct Session<'a> {
    /// Sends and prints.
    pub p: &'a mut Prober,
    /// What the probe has found.
    pub f: Findings,
}

/// A probe's verdict on one reply.
pub(super) enum Judged {
    /// Seen working, with the evidence.
    Yes(String),
    /// Not seen working, with why.
    No(String),
    /// Not sent (budget) or no response.
    Unsent(String),
}

/// The judge of an ordinary probe: a clean 2xx reply, then `then` on it.
pub(super) fn clean_and(
    reply: &Reply,
    then: impl FnOnce(&Reply) -> Result<String, String>,
) -> Result<String, String> {
    if !reply.violations.is_empty() {
        Err("the reply broke the dialect's contract".into())
    } else if clean(reply) {
        then(reply)
    } else {
        Err("refused".into())
    }
}

impl Session<'_> {
    /// The dialect probed.
    pub(super) fn dialect(&self) -> DialectKind {
        self.f.found.dialect
    }

    /// The model whose plain chat worked.
    pub(super) fn small(&self) -> String {
        self.f.found.chat_model.clone()
    }

    /// Sends `req` as a chat and prints one line with `judge`'s verdict on the reply.
    pub(super) async fn chat(
        &mut self,
        check: &str,
        req: &ChatRequest,
        judge: impl FnOnce(&Reply) -> Result<String, String>,
    ) -> Judged {
        let d = self.dialect();
        let wire = d.encode(req, &wire_options(d));
        let what = format!(
            "model {}{}",
            req.model,
            if req.stream { " stream" } else { "" }
        );
        self.send(check, &wire, req.stream, &what, judge).await
    }

    /// Sends `wire` and prints one line with `judge`'s verdict on the reply.
    pub(super) async fn send(
        &mut self,
        check: &str,
        wire: &WireRequest,
        stream: bool,
        what: &str,
        judge: impl FnOnce(&Reply) -> Result<String, String>,
    ) -> Judged {
        let base = self.f.found.base_url.clone();
        let request = format!("{} {base}{} {what}", wire.method, wire.path);
        match self.p.exchange(self.dialect(), &base, wire, stream).await {
            Err(m) => {
                self.p.say(check, &request, &m.to_string(), "not seen");
                Judged::Unsent(m.to_string())
            }
            Ok(reply) => {
                let result = summary(&reply);
                match judge(&reply) {
                    Ok(evidence) => {
                        self.p
                            .say(check, &request, &result, &format!("yes, {evidence}"));
                        Judged::Yes(evidence)
                    }
                    Err(why) => {
                        self.p.say(check, &request, &result, &format!("no, {why}"));
                        Judged::No(why)
                    }
                }
            }
        }
    }

    /// Records `cap` from a verdict.
    pub(super) fn settle(&mut self, cap: Capability, j: &Judged) -> bool {
        match j {
            Judged::Yes(e) => {
                self.f.lacks.remove(&cap);
                self.f.caps.insert(cap, e.clone());
                true
            }
            Judged::No(why) | Judged::Unsent(why) => {
                if !self.f.caps.contains_key(&cap) {
                    self.f.lacks.insert(cap, why.clone());
                }
                false
            }
        }
    }

    /// Records that `cap` was not probed, and why.
    pub(super) fn not_probed(&mut self, cap: Capability, why: &str) {
        let line = format!("{cap:<16} no request: not declared, {why}");
        self.p.say_raw(&line);
        self.f.lacks.insert(cap, why.to_string());
    }

    /// Proposes `model` for `alias`.
    pub(super) fn pick(&mut self, alias: &str, model: &str, why: impl Into<String>) {
        self.f.aliases.insert(
            alias.to_string(),
            Pick {
                model: model.to_string(),
                why: why.into(),
            },
        );
    }
}
