//! Gateway mode (`--gateway URL --mock-addr ADDR`): the subject is an external gateway (a
//! LiteLLM proxy, a company's own) configured with provcheck's mock as its upstream. Scenario
//! requests go to the gateway in its dialect; fault scripts and recordings are served by the
//! mock at the fixed address; the same expectations judge what the mock saw the gateway do.
//!
//! provcheck's own client steps aside: one attempt, no rate limiter, no circuit breaker, and
//! the run's request deadline rather than a scenario's `timeout_ms` (that is the subject's
//! deadline, and the subject here is the gateway). Otherwise provcheck's retries would be
//! counted as the gateway's.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Policy;
use crate::dialect::DialectKind;
use crate::expect::Expect;
use crate::expect::spec::ErrorKind;
use crate::mock::FixedMock;
use crate::outcome::{Skip, SkipKind};
use crate::suite::Scenario;
use crate::suite::model::GATEWAY_OVERRIDE;
use crate::target::Target;

/// The gateway under test.
pub(crate) struct Gateway {
    /// Its base URL as an SDK of its dialect takes it (`http://127.0.0.1:4000/v1` for OpenAI's
    /// `/chat/completions`, `http://127.0.0.1:4000` for Anthropic's `/v1/messages`).
    pub url: String,
    /// The dialect it speaks to its callers (what provcheck encodes and decodes).
    pub dialect: DialectKind,
    /// The key it expects from callers, if any (read from `--gateway-key-env`).
    pub key: Option<String>,
    /// The mock its upstream points at.
    pub mock: Arc<FixedMock>,
}

impl Gateway {
    /// provcheck's client as a plain caller: one attempt, nothing in the way, the whole
    /// request deadline.
    pub(crate) fn caller_policy(request_timeout: Duration) -> Policy {
        Policy {
            max_retries: 0,
            requests_per_minute: None,
            concurrency: None,
            breaker_threshold: None,
            attempt_timeout: request_timeout,
            ..Policy::default()
        }
    }
}

/// The override keys that apply to a trial, most specific first: `gateway` in gateway mode,
/// then the target's name, then its dialect.
pub(crate) fn override_keys(target: &Target, gateway: bool) -> Vec<&str> {
    let mut keys = Vec::with_capacity(3);
    if gateway {
        keys.push(GATEWAY_OVERRIDE);
    }
    keys.push(target.name.as_str());
    keys.push(target.dialect.as_str());
    keys
}

/// Why a scenario cannot judge a gateway speaking `dialect`, if it cannot: it calls Ollama's
/// model-management endpoints through a gateway of another dialect, or its expectations (after
/// the overrides that apply) read the circuit breaker of provcheck's own client, which a
/// gateway's caller cannot see. A suite can give such a scenario `overrides.gateway` to judge
/// a gateway by what the mock saw instead.
pub(crate) fn cannot_judge(sc: &Scenario, target: &Target, dialect: DialectKind) -> Option<Skip> {
    let ops = sc
        .request
        .iter()
        .map(|r| r.op)
        .chain(sc.steps.iter().map(|s| s.request.op));
    if dialect != DialectKind::Ollama
        && let Some(op) = ops
            .into_iter()
            .find(|op| *op != crate::suite::model::Op::Chat)
    {
        let why = format!(
            "`op: {}` is an Ollama endpoint and the gateway speaks {}",
            format!("{op:?}").to_lowercase(),
            dialect.as_str()
        );
        return Some(Skip::new(SkipKind::NotForGateway, why));
    }
    let keys = override_keys(target, true);
    let steps: Vec<(Option<&Expect>, &std::collections::BTreeMap<String, Expect>)> =
        match &sc.request {
            Some(_) => vec![(sc.expect.as_ref(), &sc.overrides)],
            None => sc
                .steps
                .iter()
                .map(|s| (Some(&s.expect), &s.overrides))
                .collect(),
        };
    for (i, (base, overrides)) in steps.into_iter().enumerate() {
        let expect = keys.iter().find_map(|k| overrides.get(*k)).or(base);
        let Some(e) = expect else { continue };
        let reads_breaker = e.circuit.is_some()
            || e.error
                .as_ref()
                .is_some_and(|err| err.kind == Some(ErrorKind::CircuitOpen));
        if reads_breaker {
            let at = if sc.request.is_some() {
                String::new()
            } else {
                format!(" (step {i})")
            };
            let why = format!(
                "its expectations{at} read provcheck's own circuit breaker; give it `overrides.gateway` to judge a gateway"
            );
            return Some(Skip::new(SkipKind::NotForGateway, why));
        }
    }
    None
}
