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
use crate::outcome::{Class, Finding, FindingKind, Skip, SkipKind};
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
/// then the target's name, then its dialect. Through a gateway that speaks another dialect
/// than its upstream (`--gateway-dialect openai-responses --target openai`) the caller reads
/// replies and errors in the gateway's dialect, so that dialect's key comes next and the
/// target's dialect key no longer applies (a target's own name still does, where it is not
/// just its dialect's).
pub(crate) fn override_keys(target: &Target, gateway: Option<DialectKind>) -> Vec<&str> {
    let mut keys = Vec::with_capacity(3);
    match gateway {
        Some(front) if front != target.dialect => {
            keys.push(GATEWAY_OVERRIDE);
            keys.push(front.as_str());
            if target.name != target.dialect.as_str() {
                keys.push(target.name.as_str());
            }
        }
        _ => {
            if gateway.is_some() {
                keys.push(GATEWAY_OVERRIDE);
            }
            keys.push(target.name.as_str());
            keys.push(target.dialect.as_str());
        }
    }
    keys
}

/// Why a scenario cannot judge a gateway speaking `dialect`, if it cannot: it calls Ollama's
/// model-management endpoints through a gateway of another dialect; it is not applicable
/// (`not_applicable`) to the dialect the gateway speaks to its callers and has no fault script (its request
/// or reply is one only those APIs have, such as `logprobs` or a refusal of a malformed
/// `messages`, where a fault script's limit is about the upstream's faults, such as Anthropic's
/// 529); or its expectations (after the overrides that apply) read the circuit breaker of
/// provcheck's own client, which a gateway's caller cannot see. A suite can give such a scenario `overrides.gateway` to judge
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
    if let Some(reason) = sc.not_applicable_to(dialect)
        && sc.mock.is_empty()
    {
        let why = format!(
            "the gateway speaks {} to its callers: {reason}",
            dialect.as_str()
        );
        return Some(Skip::new(SkipKind::NotApplicable, why));
    }
    let keys = override_keys(target, Some(dialect));
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

/// Contract findings for the requests a gateway sent its upstream (the mock) during one step,
/// numbered from `first`: each must be a request the upstream's dialect accepts, whatever the
/// caller sent it. A translating gateway that writes a malformed upstream request is caught
/// here even when the mock, which matches gateway requests leniently, served it.
pub(crate) fn upstream_findings(
    upstream: DialectKind,
    requests: &[(String, Option<serde_json::Value>)],
    first: usize,
    location: &str,
) -> Vec<Finding> {
    requests
        .iter()
        .enumerate()
        .filter_map(|(i, (path, body))| {
            let body = body.clone().unwrap_or(serde_json::Value::Null);
            let why = crate::reference::request_breach(upstream, path, &body)?;
            Some(Finding {
                path: "contract".into(),
                kind: FindingKind::Contract,
                class: Some(Class::Contract),
                message: format!(
                    "the gateway's upstream request {} ({path}) is not a valid {} request: {why}",
                    first + i + 1,
                    upstream.as_str()
                ),
                location: location.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, dialect: DialectKind) -> Target {
        let mut t = crate::target::builtins(None)
            .into_iter()
            .find(|t| t.dialect == dialect)
            .unwrap();
        t.name = name.into();
        t
    }

    #[test]
    fn upstream_requests_are_held_to_the_upstream_dialect() {
        let good =
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let bad = serde_json::json!({"model": "m", "input": "hi", "max_output_tokens": 16});
        let reqs = vec![
            ("/v1/chat/completions".to_string(), Some(good)),
            ("/v1/chat/completions".to_string(), Some(bad)),
            ("/v1/chat/completions".to_string(), None),
        ];
        let f = upstream_findings(DialectKind::Openai, &reqs, 2, "s.yaml:1:1");
        let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "the gateway's upstream request 4 (/v1/chat/completions) is not a valid openai request: Missing required parameter: 'messages'.",
                "the gateway's upstream request 5 (/v1/chat/completions) is not a valid openai request: the body is null, not a JSON object",
            ]
        );
        assert!(f.iter().all(|f| f.kind == FindingKind::Contract));
    }

    #[test]
    fn override_keys_follow_the_dialect_the_caller_reads() {
        let openai = target("openai", DialectKind::Openai);
        assert_eq!(override_keys(&openai, None), ["openai", "openai"]);
        assert_eq!(
            override_keys(&openai, Some(DialectKind::Openai)),
            ["gateway", "openai", "openai"]
        );
        // Responses in front of chat completions: the caller reads Responses errors and
        // events, so the `openai-responses` key applies and the `openai` one does not.
        assert_eq!(
            override_keys(&openai, Some(DialectKind::OpenaiResponses)),
            ["gateway", "openai-responses"]
        );
        // A target of its own name keeps its key after the gateway's dialect.
        let vllm = target("vllm", DialectKind::Openai);
        assert_eq!(
            override_keys(&vllm, Some(DialectKind::Anthropic)),
            ["gateway", "anthropic", "vllm"]
        );
    }
}
