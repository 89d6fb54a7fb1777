//! What to answer: one trial's recording and fault script, matched against each request in
//! order, with the witness of what was served. The server that speaks HTTP is in
//! [`super::streaming`]; this holds no socket.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dialect::DialectKind;
use crate::record::Recording;
use crate::record::matching::{Incoming, Miss, find, find_closest};
use crate::suite::model::MockStep;

/// What the mock saw during one trial.
#[derive(Debug, Default, Clone)]
pub(crate) struct Witness {
    /// Every request that reached the mock: when (from the mock's start) and what it did.
    pub hits: Vec<(Duration, String)>,
    /// Exchange index served for each request, in arrival order, with arrival time.
    pub served: Vec<(usize, Duration)>,
    /// Requests that matched nothing.
    pub misses: Vec<Miss>,
    /// Requests forwarded to the target (live and record modes) that it answered, or that
    /// timed out after they were sent.
    pub forwarded: usize,
    /// With lenient matching (gateway and client modes), each request's path and body (`None`
    /// when it is not JSON), in arrival order: what the subject sent its upstream.
    pub requests: Vec<(String, Option<serde_json::Value>)>,
}

struct State {
    used: Vec<bool>,
    witness: Witness,
}

/// The recording and what has been served from it.
pub(crate) struct Replay {
    pub(crate) recording: Arc<Recording>,
    state: Mutex<State>,
    started: Instant,
    script: Option<Mutex<(Vec<MockStep>, usize)>>,
    pub(crate) dialect: DialectKind,
    /// Gateway mode: the gateway re-encodes each request before it reaches the mock, so a
    /// request is served the closest recorded exchange instead of an exact match.
    lenient: bool,
    /// Live and record modes: `recorded` steps are answered by the target, not a recording.
    pub(crate) upstream: Option<super::forward::Upstream>,
}

/// What the mock does with one request.
pub(crate) enum Action {
    /// Serve a recorded exchange, optionally reshaped by the script.
    Recorded(Option<MockStep>),
    /// Answer with a scripted status.
    Status(MockStep),
    /// Close the connection without answering.
    Drop(MockStep),
}

impl Replay {
    pub(crate) fn new(
        recording: Arc<Recording>,
        script: &[MockStep],
        dialect: DialectKind,
        lenient: bool,
        upstream: Option<super::forward::Upstream>,
    ) -> Replay {
        let used = vec![false; recording.exchanges.len()];
        // `times: 3` is three entries; the last entry repeats once the script runs out.
        let expanded: Vec<MockStep> = script
            .iter()
            .flat_map(|m| std::iter::repeat_n(m.clone(), m.times as usize))
            .collect();
        Replay {
            recording,
            state: Mutex::new(State {
                used,
                witness: Witness::default(),
            }),
            started: Instant::now(),
            script: (!expanded.is_empty()).then(|| Mutex::new((expanded, 0))),
            dialect,
            lenient,
            upstream,
        }
    }

    /// Notes a request the target answered (or that timed out once sent to it).
    pub(crate) fn note_forwarded(&self) {
        self.lock().witness.forwarded += 1;
    }

    /// Decides what to do with the next request and notes its arrival.
    pub(crate) fn next_action(&self) -> Action {
        let action = match &self.script {
            None => Action::Recorded(None),
            Some(script) => {
                let mut s = script.lock().unwrap_or_else(|p| p.into_inner());
                let (steps, next) = &mut *s;
                let step = steps[(*next).min(steps.len() - 1)].clone();
                *next += 1;
                if step.drop {
                    Action::Drop(step)
                } else if step.recorded {
                    Action::Recorded(Some(step))
                } else {
                    Action::Status(step)
                }
            }
        };
        let label = match &action {
            Action::Recorded(_) => "recorded".to_string(),
            Action::Status(m) => m.status.unwrap_or(0).to_string(),
            Action::Drop(_) => "drop".to_string(),
        };
        let at = self.started.elapsed();
        self.lock().witness.hits.push((at, label));
        action
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Chooses the exchange for a request and notes it, or notes the miss.
    pub(crate) fn pick(&self, incoming: &Incoming<'_>) -> Result<usize, Miss> {
        let mut state = self.lock();
        let found = if self.lenient {
            find_closest(&self.recording, incoming, &state.used)
        } else {
            find(&self.recording, incoming, &state.used)
        };
        match found {
            Ok(i) => {
                state.used[i] = true;
                state.witness.served.push((i, self.started.elapsed()));
                Ok(i)
            }
            Err(miss) => {
                state.witness.misses.push(miss.clone());
                Err(miss)
            }
        }
    }

    pub(crate) fn witness(&self) -> Witness {
        self.lock().witness.clone()
    }

    /// Notes a request's path and body, with lenient matching only: there the subject wrote
    /// the request (a gateway's upstream request), and it is judged.
    pub(crate) fn note_request(&self, path: &str, body: &[u8]) {
        if self.lenient {
            let body = serde_json::from_slice(body).ok();
            self.lock().witness.requests.push((path.to_string(), body));
        }
    }

    pub(crate) fn unused(&self) -> Vec<usize> {
        self.lock()
            .used
            .iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(i, _)| i)
            .collect()
    }
}

/// The body the mock answers a request with when no recorded exchange matches.
pub(crate) fn miss_body(miss: &Miss) -> Value {
    json!({"error": {"message": format!("provcheck replay: {}", miss.explanation), "type": "provcheck_no_recording"}})
}

/// The content type of a recorded response.
pub(crate) fn content_type(
    headers: &std::collections::BTreeMap<String, String>,
    json_body: bool,
) -> String {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            if json_body {
                "application/json".into()
            } else {
                "text/plain".into()
            }
        })
}
