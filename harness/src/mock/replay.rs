//! Replay of one recording: the matching, the fault script's order and the witness of what
//! was served. Every trial is served by the responder in [`super::streaming`] (chunk timing,
//! mid-stream cuts, dropped connections) on the one server of [`super::shared`], each under
//! its own URL prefix. (Earlier versions took a pooled wiremock server per trial; at thousands
//! of trials a second, its server threads and per-trial mounting dominated the run.)
//!
//! A single catch-all responder matches each request against the recording itself, rather
//! than one matcher per exchange, so a request that matches nothing can be explained (closest
//! exchange, differing fields) instead of ending in a bare 404.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fixed::{FixedMock, Occupancy};
use super::shared::Registration;
use crate::dialect::DialectKind;
use crate::record::Recording;
use crate::record::matching::{Incoming, Miss, find, find_closest};
use crate::suite::model::MockStep;

/// What the mock saw during one trial.
#[derive(Debug, Default, Clone)]
pub struct Witness {
    /// Every request that reached the mock: when (from the mock's start) and what it did.
    pub hits: Vec<(Duration, String)>,
    /// Exchange index served for each request, in arrival order, with arrival time.
    pub served: Vec<(usize, Duration)>,
    /// Requests that matched nothing.
    pub misses: Vec<Miss>,
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
        }
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

/// Where a trial's replay is served.
enum Place {
    /// Under its own prefix on the shared server.
    Shared(Registration),
    /// At the gateway's upstream address.
    Fixed {
        _hold: Occupancy,
        addr: std::net::SocketAddr,
    },
}

/// A running replay of one recording.
pub struct ReplayMock {
    place: Place,
    replay: Arc<Replay>,
}

impl ReplayMock {
    /// Serves `recording` (and `script`, if any) until dropped: on the shared local server,
    /// or, in gateway mode, on `fixed` (the gateway's upstream) with lenient matching.
    /// `speed` scales recorded stream timing.
    pub async fn start(
        recording: Arc<Recording>,
        script: &[MockStep],
        dialect: DialectKind,
        speed: f64,
        fixed: Option<&FixedMock>,
    ) -> std::io::Result<ReplayMock> {
        let replay = Arc::new(Replay::new(recording, script, dialect, fixed.is_some()));
        let place = match fixed {
            Some(f) => Place::Fixed {
                _hold: f.occupy(replay.clone(), speed)?,
                addr: f.addr(),
            },
            None => Place::Shared(Registration::new(replay.clone(), speed)?),
        };
        Ok(ReplayMock { place, replay })
    }

    /// The base URL of this trial's mock: `http://127.0.0.1:PORT/__replay/KEY` on the
    /// shared server, `http://ADDR` at a fixed address.
    pub fn uri(&self) -> String {
        match &self.place {
            Place::Shared(r) => r.uri(),
            Place::Fixed { addr, .. } => format!("http://{addr}"),
        }
    }

    /// What the mock has seen so far.
    pub fn witness(&self) -> Witness {
        self.replay.witness()
    }

    /// Indices of exchanges never served.
    pub fn unused(&self) -> Vec<usize> {
        self.replay.unused()
    }
}
