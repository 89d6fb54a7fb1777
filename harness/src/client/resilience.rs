//! The resilience layer around the transport: retries with the SDKs' decision order and
//! backoff, Retry-After, a client-side rate limiter (governor) and concurrency limit, and a
//! circuit breaker. Every decision is logged as a [`ClientEvent`] so the run can show what the
//! client did, while the mock independently witnesses what reached it.
//!
//! tower's retry layer was considered and not used: its `Policy` sees a request and a result,
//! but the decisions here need the response headers (Retry-After, x-should-retry), the attempt
//! number for backoff, and a log of every wait; a 40-line loop says that more plainly.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::policy::Policy;
use super::transport::{RawResponse, TransportError};
use crate::dialect::header;

/// A circuit breaker state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Requests flow.
    Closed,
    /// Requests fail fast without touching the network.
    Open,
    /// One probe is let through.
    HalfOpen,
}

impl CircuitState {
    /// The name used in suites and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

/// One thing the client did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum ClientEvent {
    /// An attempt went out and ended (`outcome`: a status or an error).
    Attempt {
        /// Offset from the subject's creation, ms.
        at_ms: u64,
        /// 0 for the first attempt.
        retry: u32,
        /// `200`, `503`, `timeout`, `connection`.
        outcome: String,
    },
    /// The client waited before a retry.
    Wait {
        /// How long, ms.
        ms: u64,
        /// `retry-after-ms`, `retry-after`, `retry-after-date` or `backoff`.
        reason: String,
    },
    /// The circuit changed state.
    Circuit {
        /// Offset from the subject's creation, ms.
        at_ms: u64,
        /// The new state.
        to: CircuitState,
    },
    /// A request failed fast because the circuit was open.
    FailFast {
        /// Offset from the subject's creation, ms.
        at_ms: u64,
    },
}

#[derive(Debug)]
enum Breaker {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// The client under test: a policy and the state it keeps across requests (breaker, limiter).
pub(crate) struct Subject {
    policy: Policy,
    started: Instant,
    breaker: Mutex<Breaker>,
    limiter: Option<DefaultDirectRateLimiter>,
    in_flight: Option<Semaphore>,
    log: Mutex<Vec<ClientEvent>>,
    seed: Mutex<u64>,
}

/// Where a response stands for the retry decision.
fn retryable(policy: &Policy, result: &Result<RawResponse, TransportError>) -> bool {
    match result {
        // Another try would read the same flood.
        Err(TransportError::CircuitOpen | TransportError::Limit(_)) => false,
        Err(_) => true,
        Ok(r) => {
            if policy.x_should_retry {
                match header(&r.headers, "x-should-retry") {
                    Some("true") => return true,
                    Some("false") => return false,
                    _ => {}
                }
            }
            matches!(r.status, 408 | 409 | 429) || r.status >= 500
        }
    }
}

/// Failures that count towards opening the circuit: the server or the network, not the caller.
fn is_failure(result: &Result<RawResponse, TransportError>) -> bool {
    match result {
        Err(TransportError::CircuitOpen) => false,
        Err(_) => true,
        Ok(r) => r.status >= 500,
    }
}

/// The wait a response asks for, in the SDKs' order: `retry-after-ms`, then `retry-after` as
/// seconds, then as an HTTP date.
pub(crate) fn retry_after(
    headers: &[(String, String)],
    now: SystemTime,
) -> Option<(Duration, &'static str)> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some((Duration::from_secs_f64(ms / 1000.0), "retry-after-ms"));
    }
    let v = header(headers, "retry-after")?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| (Duration::from_secs_f64(secs), "retry-after"));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some((
        at.duration_since(now).unwrap_or(Duration::ZERO),
        "retry-after-date",
    ))
}

impl Subject {
    /// A fresh client with `policy`: circuit closed, limiter full.
    pub(crate) fn new(policy: Policy) -> Subject {
        let limiter = policy
            .requests_per_minute
            .and_then(NonZeroU32::new)
            // A burst of one: the limit is a steady pace, as a provider's per-minute limit is.
            .map(|n| RateLimiter::direct(Quota::per_minute(n).allow_burst(NonZeroU32::MIN)));
        let in_flight = policy
            .concurrency
            .map(|n| Semaphore::new(n.max(1) as usize));
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Subject {
            policy,
            started: Instant::now(),
            breaker: Mutex::new(Breaker::Closed { failures: 0 }),
            limiter,
            in_flight,
            log: Mutex::new(Vec::new()),
            seed: Mutex::new(seed | 1),
        }
    }

    /// Everything the client did so far.
    pub(crate) fn events(&self) -> Vec<ClientEvent> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn note(&self, e: ClientEvent) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn rand(&self) -> f64 {
        // xorshift64*: jitter needs spread, not cryptographic quality.
        let mut s = self.seed.lock().unwrap_or_else(|p| p.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// May a request go out now? Moves Open to HalfOpen after the cooldown.
    fn admit(&self) -> bool {
        let mut b = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match *b {
            Breaker::Closed { .. } => true,
            Breaker::Open { until } if Instant::now() >= until => {
                *b = Breaker::HalfOpen { probing: true };
                drop(b);
                self.note(ClientEvent::Circuit {
                    at_ms: self.now_ms(),
                    to: CircuitState::HalfOpen,
                });
                true
            }
            Breaker::Open { .. } => false,
            Breaker::HalfOpen { probing: true } => false,
            Breaker::HalfOpen { probing: false } => {
                *b = Breaker::HalfOpen { probing: true };
                true
            }
        }
    }

    fn record(&self, failed: bool) {
        let Some(threshold) = self.policy.breaker_threshold else {
            return;
        };
        let mut b = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        let next = match (&*b, failed) {
            (Breaker::Closed { failures }, true) if failures + 1 >= threshold => Some((
                Breaker::Open {
                    until: Instant::now() + self.policy.breaker_cooldown,
                },
                CircuitState::Open,
            )),
            (Breaker::Closed { failures }, true) => {
                *b = Breaker::Closed {
                    failures: failures + 1,
                };
                None
            }
            (Breaker::Closed { .. }, false) => {
                *b = Breaker::Closed { failures: 0 };
                None
            }
            (Breaker::HalfOpen { .. }, true) => Some((
                Breaker::Open {
                    until: Instant::now() + self.policy.breaker_cooldown,
                },
                CircuitState::Open,
            )),
            (Breaker::HalfOpen { .. }, false) => {
                Some((Breaker::Closed { failures: 0 }, CircuitState::Closed))
            }
            (Breaker::Open { .. }, _) => None,
        };
        if let Some((state, to)) = next {
            *b = state;
            drop(b);
            self.note(ClientEvent::Circuit {
                at_ms: self.now_ms(),
                to,
            });
        }
    }

    /// Runs `send` (one attempt, given its retry number) under the policy: admission by the
    /// breaker, the rate limit and the concurrency limit, then retries with Retry-After or
    /// backoff until success, a non-retryable answer, or the retries run out.
    pub(crate) async fn call<F, Fut>(&self, send: F) -> Result<RawResponse, TransportError>
    where
        F: Fn(u32) -> Fut,
        Fut: std::future::Future<Output = Result<RawResponse, TransportError>>,
    {
        let _permit = match &self.in_flight {
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        let mut retry = 0;
        loop {
            if self.policy.breaker_threshold.is_some() && !self.admit() {
                self.note(ClientEvent::FailFast {
                    at_ms: self.now_ms(),
                });
                return Err(TransportError::CircuitOpen);
            }
            if let Some(l) = &self.limiter {
                l.until_ready().await;
            }
            let result = send(retry).await;
            let outcome = match &result {
                Ok(r) => r.status.to_string(),
                Err(TransportError::Timeout(_)) => "timeout".into(),
                Err(TransportError::Connection(_)) => "connection".into(),
                Err(TransportError::CircuitOpen) => "circuit_open".into(),
                Err(TransportError::Limit(_)) => "limit".into(),
            };
            self.note(ClientEvent::Attempt {
                at_ms: self.now_ms(),
                retry,
                outcome,
            });
            self.record(is_failure(&result));
            if retry >= self.policy.max_retries || !retryable(&self.policy, &result) {
                return result;
            }
            let asked = match (&result, self.policy.retry_after) {
                (Ok(r), true) => retry_after(&r.headers, SystemTime::now())
                    .filter(|(d, _)| !d.is_zero() && *d <= self.policy.retry_after_cap),
                _ => None,
            };
            let (wait, reason) =
                asked.unwrap_or_else(|| (self.policy.backoff(retry, self.rand()), "backoff"));
            self.note(ClientEvent::Wait {
                ms: wait.as_millis() as u64,
                reason: reason.to_string(),
            });
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn retry_after_forms_in_sdk_order() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&h(&[("retry-after-ms", "250"), ("retry-after", "9")]), now),
            Some((Duration::from_millis(250), "retry-after-ms"))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "1.5")]), now),
            Some((Duration::from_millis(1500), "retry-after"))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(2));
        assert_eq!(
            retry_after(&h(&[("retry-after", &date)]), now),
            Some((Duration::from_secs(2), "retry-after-date"))
        );
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), now), None);
    }

    fn resp(status: u16, headers: &[(&str, &str)]) -> Result<RawResponse, TransportError> {
        Ok(RawResponse {
            status,
            headers: h(headers),
            body: Vec::new(),
            stream: None,
        })
    }

    #[test]
    fn retry_decision_follows_the_sdks() {
        let p = Policy::default();
        for s in [408, 409, 429, 500, 503, 529] {
            assert!(retryable(&p, &resp(s, &[])), "{s}");
        }
        for s in [200, 400, 401, 404, 422] {
            assert!(!retryable(&p, &resp(s, &[])), "{s}");
        }
        assert!(!retryable(&p, &resp(503, &[("x-should-retry", "false")])));
        assert!(retryable(&p, &resp(400, &[("x-should-retry", "true")])));
        assert!(retryable(
            &p,
            &Err(TransportError::Connection("reset".into()))
        ));
    }

    #[test]
    fn breaker_opens_fails_fast_and_closes_after_a_good_probe() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let policy = Policy {
                max_retries: 0,
                breaker_threshold: Some(2),
                breaker_cooldown: Duration::from_millis(30),
                ..Policy::default()
            };
            let s = Subject::new(policy);
            for _ in 0..2 {
                let _ = s.call(|_| async { resp(503, &[]) }).await;
            }
            assert_eq!(
                s.call(|_| async { resp(200, &[]) }).await.unwrap_err(),
                TransportError::CircuitOpen
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(
                s.call(|_| async { resp(200, &[]) }).await.unwrap().status,
                200
            );
            let states: Vec<CircuitState> = s
                .events()
                .iter()
                .filter_map(|e| match e {
                    ClientEvent::Circuit { to, .. } => Some(*to),
                    _ => None,
                })
                .collect();
            assert_eq!(
                states,
                vec![
                    CircuitState::Open,
                    CircuitState::HalfOpen,
                    CircuitState::Closed
                ]
            );
        });
    }
}
