//! What a trial observed: for each step, each concurrent copy's reply (or transport error) and
//! how long it took. Expectations judge this and nothing else.

use std::time::Duration;

use crate::client::TransportError;
use crate::neutral::Reply;

/// Everything one trial observed.
#[derive(Debug, Default)]
pub(crate) struct Observation {
    /// One entry per step, in order.
    pub steps: Vec<StepObservation>,
}

/// One step's requests (several when the scenario sends concurrent copies).
#[derive(Debug, Default)]
pub(crate) struct StepObservation {
    /// The model the step asked for.
    pub model: String,
    /// The target's model aliases, for expectations written in aliases.
    pub aliases: std::collections::BTreeMap<String, String>,
    /// One entry per copy.
    pub copies: Vec<Observed>,
    /// Requests the mock received during this step: arrival (from the mock's start) and what
    /// it did. Empty when no mock ran (live mode).
    pub mock_hits: Vec<(Duration, String)>,
    /// Whether a local mock served this step (replay, fault scripts). Without one (live), the
    /// client's own attempt log stands in for the mock's witness.
    pub mock_ran: bool,
    /// What the client did during this step: attempts, waits, circuit changes, fail-fasts.
    pub client_events: Vec<crate::client::ClientEvent>,
}

/// One request's result.
#[derive(Debug)]
pub(crate) struct Observed {
    /// The decoded reply, or why there was none.
    pub result: Result<Reply, TransportError>,
    /// From send to the end of the body (or to the failure).
    pub elapsed: Duration,
    /// The reply body's shape, taken as the reply arrived when no expectation reads the body
    /// itself; the body (`Reply::raw`) is then dropped, so a step of many copies holds each
    /// one's decoded reply and not every event it was made of. `None`: read it from `raw`.
    pub shape: Option<crate::outcome::Shape>,
}
