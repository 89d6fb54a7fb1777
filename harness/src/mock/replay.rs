//! Replay of one recording: the matching, the fault script's order and the witness of what
//! was served. Every trial is served by the responder in [`super::streaming`] (chunk timing,
//! mid-stream cuts, dropped connections) on the one server of [`super::shared`], each under
//! its own URL prefix. (Earlier versions took a pooled wiremock server per trial; at thousands
//! of trials a second, its server threads and per-trial mounting dominated the run.)
//!
//! A single catch-all responder matches each request against the recording itself, rather
//! than one matcher per exchange, so a request that matches nothing can be explained (closest
//! exchange, differing fields) instead of ending in a bare 404.

use std::sync::Arc;

use super::fixed::{FixedMock, Occupancy};
use super::script::{Replay, Witness};
use super::shared::Registration;
use crate::dialect::DialectKind;
use crate::record::Recording;
use crate::suite::model::MockStep;

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
pub(crate) struct ReplayMock {
    place: Place,
    replay: Arc<Replay>,
}

impl ReplayMock {
    /// Serves `recording` (and `script`, if any) until dropped: on the shared local server,
    /// or, in gateway mode, on `fixed` (the gateway's upstream) with lenient matching.
    /// `speed` scales recorded stream timing. With `upstream` (live and record modes), the
    /// script's `recorded` steps are forwarded to the target instead of served from
    /// `recording`, and its other steps are still the mock's own.
    pub(crate) async fn start(
        recording: Arc<Recording>,
        script: &[MockStep],
        dialect: DialectKind,
        speed: f64,
        fixed: Option<&FixedMock>,
        upstream: Option<super::forward::Upstream>,
    ) -> std::io::Result<ReplayMock> {
        let replay = Arc::new(Replay::new(
            recording,
            script,
            dialect,
            fixed.is_some(),
            upstream,
        ));
        let place = match fixed {
            Some(f) => Place::Fixed {
                _hold: f.occupy(replay.clone(), speed)?,
                addr: f.addr(),
            },
            None => Place::Shared(Registration::new(replay.clone(), speed)?),
        };
        Ok(ReplayMock { place, replay })
    }

    /// Client mode: serves `recording` (and `script`) on the shared local server, matching
    /// leniently as gateway mode does. The client under test writes its own headers and
    /// defaults (its SDK's API version, its auth scheme); those are its choices, not what the
    /// trial judges, so a request is served the closest recorded exchange. `upstream` as for
    /// [`ReplayMock::start`].
    pub(crate) async fn start_lenient(
        recording: Arc<Recording>,
        script: &[MockStep],
        dialect: DialectKind,
        speed: f64,
        upstream: Option<super::forward::Upstream>,
    ) -> std::io::Result<ReplayMock> {
        let replay = Arc::new(Replay::new(recording, script, dialect, true, upstream));
        let place = Place::Shared(Registration::new(replay.clone(), speed)?);
        Ok(ReplayMock { place, replay })
    }

    /// The base URL of this trial's mock: `http://127.0.0.1:PORT/__replay/KEY` on the
    /// shared server, `http://ADDR` at a fixed address.
    pub(crate) fn uri(&self) -> String {
        match &self.place {
            Place::Shared(r) => r.uri(),
            Place::Fixed { addr, .. } => format!("http://{addr}"),
        }
    }

    /// What the mock has seen so far.
    pub(crate) fn witness(&self) -> Witness {
        self.replay.witness()
    }

    /// Indices of exchanges never served.
    pub(crate) fn unused(&self) -> Vec<usize> {
        self.replay.unused()
    }
}
