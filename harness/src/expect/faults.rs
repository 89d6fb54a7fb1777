//! Judging fault scenarios from the witnesses: the attempts the mock saw and when, and what
//! the client's circuit breaker did. The mock is the independent witness: a client that claims
//! to back off but doesn't is caught by the arrival times, not by its own log.

use std::time::Duration;

use super::finding::Finding;
use super::spec::{CircuitExpect, Expect, WaitsExpect};
use crate::client::ClientEvent;
use crate::observation::StepObservation;

/// `growing` waits: each at least this factor times the previous one ...
const GROWTH: f64 = 1.2;
/// ... and at least this much longer, in ms.
const GROWTH_MIN_MS: u64 = 50;

fn finding(key: &'static str, message: String) -> Finding {
    super::finding::finding(key, None, message)
}

fn list(hits: &[(Duration, String)]) -> String {
    let parts: Vec<String> = hits
        .iter()
        .map(|(at, what)| format!("{what} at {} ms", at.as_millis()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Checks `attempts`, `waits_ms` and `circuit` for one step.
pub(crate) fn check(expect: &Expect, step: &StepObservation, out: &mut Vec<Finding>) {
    // Live, no mock witnessed the step: the client's attempt log is the only evidence.
    let from_client: Vec<(Duration, String)>;
    let hits = if step.mock_ran {
        &step.mock_hits
    } else {
        from_client = step
            .client_events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Attempt { at_ms, outcome, .. } => {
                    Some((Duration::from_millis(*at_ms), outcome.clone()))
                }
                _ => None,
            })
            .collect();
        &from_client
    };
    if let Some(b) = expect.attempts
        && !b.contains(hits.len() as u64)
    {
        out.push(finding(
            "attempts",
            format!(
                "the mock saw {} attempt(s), expected {b}: {}",
                hits.len(),
                list(hits)
            ),
        ));
    }
    if let Some(w) = &expect.waits_ms {
        check_waits(w, hits, out);
    }
    if let Some(c) = &expect.circuit {
        check_circuit(c, step, hits, out);
    }
}

/// `waits_ms`: the gaps between the attempts the witness saw, each and all within bounds,
/// and growing when backoff is asked for.
fn check_waits(w: &WaitsExpect, hits: &[(Duration, String)], out: &mut Vec<Finding>) {
    let gaps: Vec<u64> = hits
        .windows(2)
        .map(|p| p[1].0.saturating_sub(p[0].0).as_millis() as u64)
        .collect();
    if gaps.len() < w.each.len() {
        out.push(finding(
            "waits_ms",
            format!(
                "expected {} wait(s) between attempts, the mock saw {}: {}",
                w.each.len(),
                gaps.len(),
                list(hits)
            ),
        ));
    }
    for (i, (gap, b)) in gaps.iter().zip(&w.each).enumerate() {
        if !b.contains(*gap) {
            out.push(finding(
                "waits_ms",
                format!(
                    "attempt {} came {gap} ms after attempt {}, expected {b}",
                    i + 2,
                    i + 1
                ),
            ));
        }
    }
    if let Some(b) = w.all {
        for (i, gap) in gaps.iter().enumerate() {
            if !b.contains(*gap) {
                out.push(finding(
                    "waits_ms",
                    format!(
                        "attempt {} came {gap} ms after attempt {}, expected {b}",
                        i + 2,
                        i + 1
                    ),
                ));
            }
        }
    }
    if w.growing {
        // Growth must stand out from scheduling noise: a few milliseconds more between
        // back-to-back retries is not backoff.
        for (i, p) in gaps.windows(2).enumerate() {
            if (p[1] as f64) < p[0] as f64 * GROWTH || p[1] < p[0] + GROWTH_MIN_MS {
                out.push(finding(
                    "waits_ms",
                    format!(
                        "the wait before attempt {} ({} ms) is not clearly longer than the wait before attempt {} ({} ms): no backoff",
                        i + 3,
                        p[1],
                        i + 2,
                        p[0]
                    ),
                ));
            }
        }
    }
}

/// `circuit`: the breaker's transitions, the requests it failed fast, and that failing fast
/// sent nothing the mock saw.
fn check_circuit(
    c: &CircuitExpect,
    step: &StepObservation,
    hits: &[(Duration, String)],
    out: &mut Vec<Finding>,
) {
    let states: Vec<&str> = step
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Circuit { to, .. } => Some(to.as_str()),
            _ => None,
        })
        .collect();
    if let Some(want) = &c.states {
        let want: Vec<&str> = want.iter().map(|s| s.as_str()).collect();
        if states != want {
            out.push(finding(
                "circuit",
                format!(
                    "the circuit went through [{}], expected [{}]",
                    states.join(", "),
                    want.join(", ")
                ),
            ));
        }
    }
    let fast = step
        .client_events
        .iter()
        .filter(|e| matches!(e, ClientEvent::FailFast { .. }))
        .count();
    if let Some(b) = c.failed_fast
        && !b.contains(fast as u64)
    {
        out.push(finding(
            "circuit",
            format!("{fast} request(s) failed fast, expected {b}"),
        ));
    }
    // Failing fast means not touching the network: every attempt the client made must be
    // one the mock saw, and no more.
    let sent = step
        .client_events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Attempt { .. }))
        .count();
    if step.mock_ran && !hits.is_empty() && sent != hits.len() {
        out.push(finding(
            "circuit",
            format!(
                "the client reports {sent} attempt(s) but the mock saw {}: {}",
                hits.len(),
                list(hits)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CircuitState;

    fn step(at_ms: &[u64], events: Vec<ClientEvent>) -> StepObservation {
        StepObservation {
            mock_ran: true,
            mock_hits: at_ms
                .iter()
                .map(|ms| (Duration::from_millis(*ms), "503".to_string()))
                .collect(),
            client_events: events,
            ..StepObservation::default()
        }
    }

    fn expect(yaml: &str) -> Expect {
        crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap()
    }

    fn run(e: &Expect, s: &StepObservation) -> Vec<String> {
        let mut out = Vec::new();
        check(e, s, &mut out);
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn attempts_and_growing_waits() {
        let e = expect(
            "{attempts: 3, waits_ms: {each: [{min: 375, max: 700}, {min: 750, max: 1300}], growing: true}}",
        );
        assert!(run(&e, &step(&[0, 450, 1350], vec![])).is_empty());
        // No backoff: attempts back to back.
        let f = run(&e, &step(&[0, 2, 4], vec![]));
        assert_eq!(
            f[0],
            "attempt 2 came 2 ms after attempt 1, expected 375..=700"
        );
        assert_eq!(
            f[1],
            "attempt 3 came 2 ms after attempt 2, expected 750..=1300"
        );
        assert!(f[2].contains("no backoff"), "{f:?}");
        let f = run(&e, &step(&[0], vec![]));
        assert!(
            f[0].starts_with("the mock saw 1 attempt(s), expected 3..=3"),
            "{f:?}"
        );
    }

    #[test]
    fn without_a_mock_the_client_log_counts() {
        let e = expect("{attempts: 2}");
        let mut s = step(
            &[],
            vec![
                ClientEvent::Attempt {
                    at_ms: 0,
                    retry: 0,
                    outcome: "timeout".into(),
                },
                ClientEvent::Attempt {
                    at_ms: 500,
                    retry: 1,
                    outcome: "200".into(),
                },
            ],
        );
        s.mock_ran = false;
        assert!(run(&e, &s).is_empty());
    }

    #[test]
    fn circuit_states_and_fail_fast() {
        let e = expect("{circuit: {states: [open], failed_fast: 1}}");
        let events = vec![
            ClientEvent::Attempt {
                at_ms: 0,
                retry: 0,
                outcome: "503".into(),
            },
            ClientEvent::Circuit {
                at_ms: 0,
                to: CircuitState::Open,
            },
            ClientEvent::FailFast { at_ms: 1 },
        ];
        assert!(run(&e, &step(&[0], events.clone())).is_empty());
        let f = run(&e, &step(&[0, 1], events));
        assert_eq!(
            f,
            vec!["the client reports 1 attempt(s) but the mock saw 2: [503 at 0 ms, 503 at 1 ms]"]
        );
        let f = run(
            &e,
            &step(
                &[0],
                vec![ClientEvent::Attempt {
                    at_ms: 0,
                    retry: 0,
                    outcome: "503".into(),
                }],
            ),
        );
        assert_eq!(f[0], "the circuit went through [], expected [open]");
    }
}
