//! The mock at a fixed address, for gateway mode: an external gateway is configured with this
//! address as its upstream, so it cannot carry a per-trial URL prefix the way the shared
//! server's URLs do. It serves one trial at a time (the run is forced to one trial thread), and
//! whatever arrives while no trial is being served is answered as not addressed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::script::Replay;

type Current = Arc<Mutex<Option<(Arc<Replay>, f64)>>>;

/// A listener at the address given with `--mock-addr`, serving the current trial's replay.
pub(crate) struct FixedMock {
    addr: SocketAddr,
    current: Current,
}

fn lock(c: &Current) -> std::sync::MutexGuard<'_, Option<(Arc<Replay>, f64)>> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

impl FixedMock {
    /// Binds `addr` now, so a busy or unusable address is reported before any trial runs,
    /// and serves until the process ends.
    pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<Arc<FixedMock>> {
        let listener = std::net::TcpListener::bind(addr)?;
        let current: Current = Arc::new(Mutex::new(None));
        let route = current.clone();
        super::shared::serve(listener, move |_req| lock(&route).clone())?;
        Ok(Arc::new(FixedMock { addr, current }))
    }

    /// The address the gateway's upstream must point at.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes `replay` the one being served until the returned guard is dropped.
    pub(crate) fn occupy(&self, replay: Arc<Replay>, speed: f64) -> std::io::Result<Occupancy> {
        let mut current = lock(&self.current);
        if current.is_some() {
            return Err(std::io::Error::other(format!(
                "the mock at {} is serving another trial; gateway mode runs one trial at a time",
                self.addr
            )));
        }
        *current = Some((replay, speed));
        Ok(Occupancy {
            current: self.current.clone(),
        })
    }
}

/// The current trial's hold on the fixed mock; dropping it frees the mock for the next trial.
pub(crate) struct Occupancy {
    current: Current,
}

impl Drop for Occupancy {
    fn drop(&mut self) {
        *lock(&self.current) = None;
    }
}
