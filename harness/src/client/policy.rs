//! The client's resilience policy: retries, backoff, Retry-After, rate limits, the circuit
//! breaker and deadlines. Defaults are the official SDK's for each dialect
//! ([`Policy::sdk_defaults`]): the OpenAI and Anthropic SDKs' (provider-wire.md section D), or
//! the Ollama client's; a target can change them in targets.yaml and a scenario for itself.

use std::time::Duration;

use serde::Deserialize;

use crate::dialect::DialectKind;

/// What the client does when a request fails.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    /// Retries after the first attempt (the SDKs: 2, so 3 attempts).
    pub max_retries: u32,
    /// Backoff before retry n is `min(initial * 2^n, max) * (1 - jitter * rand)`.
    pub backoff_initial: Duration,
    /// The backoff's ceiling.
    pub backoff_max: Duration,
    /// The fraction of the backoff that jitter may take off (the SDKs: 0.25).
    pub jitter: f64,
    /// Honour `retry-after-ms`, `retry-after` seconds and `retry-after` HTTP dates.
    pub retry_after: bool,
    /// A Retry-After longer than this falls back to backoff (the SDKs: 60 s).
    pub retry_after_cap: Duration,
    /// Let `x-should-retry: true|false` decide before the status does.
    pub x_should_retry: bool,
    /// Client-side rate limit.
    pub requests_per_minute: Option<u32>,
    /// Requests in flight at once.
    pub concurrency: Option<u32>,
    /// Consecutive failures that open the circuit (None: no breaker).
    pub breaker_threshold: Option<u32>,
    /// How long the circuit stays open before one probe is let through.
    pub breaker_cooldown: Duration,
    /// Connect deadline.
    pub connect_timeout: Duration,
    /// Deadline for one attempt, headers and body.
    pub attempt_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_retries: 2,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            jitter: 0.25,
            retry_after: true,
            retry_after_cap: Duration::from_secs(60),
            x_should_retry: true,
            requests_per_minute: None,
            concurrency: None,
            breaker_threshold: Some(5),
            breaker_cooldown: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(600),
        }
    }
}

/// A policy as written in targets.yaml (`resilience:`) or a scenario (`client:`): every field
/// optional, applied over the defaults or the target's policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Retries after the first attempt.
    pub max_retries: Option<u32>,
    /// Backoff between retries.
    pub backoff: Option<BackoffSpec>,
    /// Honour Retry-After headers.
    pub retry_after: Option<bool>,
    /// Longest Retry-After honoured, in ms.
    pub retry_after_cap_ms: Option<u64>,
    /// Let `x-should-retry` decide.
    pub x_should_retry: Option<bool>,
    /// Client-side rate limits.
    pub rate_limit: Option<RateLimitSpec>,
    /// The circuit breaker.
    pub circuit_breaker: Option<BreakerSpec>,
    /// Deadlines.
    pub timeouts: Option<TimeoutSpec>,
}

/// Backoff settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackoffSpec {
    /// First backoff, in ms.
    pub initial_ms: Option<u64>,
    /// Ceiling, in ms.
    pub max_ms: Option<u64>,
    /// Fraction jitter may take off, 0 to 1.
    pub jitter: Option<f64>,
}

/// Rate limits.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Requests per minute.
    pub requests_per_minute: Option<u32>,
    /// Requests in flight at once.
    pub concurrency: Option<u32>,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Turn the breaker off.
    pub enabled: Option<bool>,
    /// Consecutive failures that open it.
    pub failure_threshold: Option<u32>,
    /// Time open before a probe, in ms.
    pub cooldown_ms: Option<u64>,
}

/// Deadlines.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSpec {
    /// Connect deadline, in ms.
    pub connect_ms: Option<u64>,
    /// Deadline for one attempt, in ms.
    pub attempt_ms: Option<u64>,
}

impl Policy {
    /// What the official SDK of `dialect` does out of the box, which the built-in client models.
    ///
    /// The official Ollama client (ollama-python 0.6.3, `ollama/_client.py`) has no policy at
    /// all: `Client._request_raw` makes one `httpx` request and turns an error status into
    /// `ResponseError`, with no retry loop, no backoff and no look at Retry-After or
    /// x-should-retry; `BaseClient.__init__` documents and passes `timeout: None` to httpx, so
    /// an attempt has no deadline of its own. So: no retries, and no attempt deadline beyond
    /// the run's (`--request-timeout-ms` and the trial deadline still bound it, so nothing
    /// hangs). The breaker stays, as for the other dialects: it is provcheck's, only the
    /// scenarios that set one rely on it.
    pub(crate) fn sdk_defaults(dialect: DialectKind) -> Policy {
        match dialect {
            DialectKind::Ollama => Policy {
                max_retries: 0,
                retry_after: false,
                x_should_retry: false,
                attempt_timeout: Duration::MAX,
                ..Policy::default()
            },
            _ => Policy::default(),
        }
    }

    /// Applies the fields `spec` sets.
    pub(crate) fn apply(&mut self, spec: &PolicySpec) {
        let ms = Duration::from_millis;
        if let Some(n) = spec.max_retries {
            self.max_retries = n;
        }
        if let Some(b) = &spec.backoff {
            if let Some(v) = b.initial_ms {
                self.backoff_initial = ms(v);
            }
            if let Some(v) = b.max_ms {
                self.backoff_max = ms(v);
            }
            if let Some(v) = b.jitter {
                self.jitter = v.clamp(0.0, 1.0);
            }
        }
        if let Some(v) = spec.retry_after {
            self.retry_after = v;
        }
        if let Some(v) = spec.retry_after_cap_ms {
            self.retry_after_cap = ms(v);
        }
        if let Some(v) = spec.x_should_retry {
            self.x_should_retry = v;
        }
        if let Some(r) = &spec.rate_limit {
            if r.requests_per_minute.is_some() {
                self.requests_per_minute = r.requests_per_minute;
            }
            if r.concurrency.is_some() {
                self.concurrency = r.concurrency;
            }
        }
        if let Some(b) = &spec.circuit_breaker {
            if let Some(n) = b.failure_threshold {
                self.breaker_threshold = Some(n);
            }
            if b.enabled == Some(false) {
                self.breaker_threshold = None;
            }
            if let Some(v) = b.cooldown_ms {
                self.breaker_cooldown = ms(v);
            }
        }
        if let Some(t) = &spec.timeouts {
            if let Some(v) = t.connect_ms {
                self.connect_timeout = ms(v);
            }
            if let Some(v) = t.attempt_ms {
                self.attempt_timeout = ms(v);
            }
        }
    }

    /// The backoff before retry `n` (0-based), given a uniform random number in [0, 1).
    pub(crate) fn backoff(&self, n: u32, rand: f64) -> Duration {
        let base = self.backoff_initial.as_secs_f64() * 2f64.powi(n.min(30) as i32);
        let capped = base.min(self.backoff_max.as_secs_f64());
        Duration::from_secs_f64(capped * (1.0 - self.jitter * rand))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_backoff_bounds() {
        let p = Policy::default();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(375));
        assert_eq!(p.backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(p.backoff(10, 0.0), Duration::from_secs(8));
    }

    #[test]
    fn ollama_defaults_are_the_ollama_clients() {
        let p = Policy::sdk_defaults(DialectKind::Ollama);
        assert_eq!((p.max_retries, p.retry_after), (0, false));
        // No deadline of its own: the run's request deadline is the smaller one.
        assert_eq!(
            p.attempt_timeout.min(Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        for d in [DialectKind::Openai, DialectKind::Anthropic] {
            assert_eq!(Policy::sdk_defaults(d), Policy::default());
        }
    }

    #[test]
    fn spec_applies_over_defaults() {
        let spec: PolicySpec = crate::source::parse_yaml(&"test.yaml".into(),
            "{max_retries: 5, backoff: {initial_ms: 100}, circuit_breaker: {enabled: false}, rate_limit: {requests_per_minute: 60}}",
        )
        .unwrap();
        let mut p = Policy::default();
        p.apply(&spec);
        assert_eq!(
            (p.max_retries, p.backoff_initial, p.breaker_threshold),
            (5, Duration::from_millis(100), None)
        );
        assert_eq!(p.requests_per_minute, Some(60));
        assert_eq!(p.backoff_max, Duration::from_secs(8));
    }
}
