//! The one local server every replay trial shares. Each trial registers its replay under a
//! key and is given a base URL `http://127.0.0.1:PORT/__replay/KEY`; requests are routed by
//! that first path segment, which is stripped before matching, so the replay sees exactly the
//! path the client would send to the real API (`/v1/chat/completions`).
//!
//! One listener for the whole run means no server, thread or port per trial, and the client's
//! keep-alive connections are reused from one trial to the next instead of a TCP connect each.
//! It runs on the run's runtime (`runtime::runtime()`), so client and server share its workers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::script::Replay;
use super::streaming::{handle, not_addressed};

/// The first path segment of every replay URL.
const PREFIX: &str = "/__replay/";

struct Shared {
    addr: SocketAddr,
    trials: Mutex<HashMap<u64, (Arc<Replay>, f64)>>,
    next: AtomicU64,
}

impl Shared {
    fn trials(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Arc<Replay>, f64)>> {
        self.trials.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The replay a request is addressed to, with the request's URI rewritten to the path
    /// (and query) after the key.
    fn route<B>(&self, req: &mut hyper::Request<B>) -> Option<(Arc<Replay>, f64)> {
        let (key, path) = split(req.uri().path())?;
        let entry = self.trials().get(&key).cloned()?;
        let uri = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        *req.uri_mut() = uri.parse().ok()?;
        Some(entry)
    }
}

/// `/__replay/KEY/v1/chat/completions` -> (KEY, `/v1/chat/completions`).
fn split(path: &str) -> Option<(u64, &str)> {
    let rest = path.strip_prefix(PREFIX)?;
    let (key, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Some((key.parse().ok()?, path))
}

static SHARED: OnceLock<Result<Arc<Shared>, String>> = OnceLock::new();

fn shared() -> std::io::Result<Arc<Shared>> {
    SHARED
        .get_or_init(|| start().map_err(|e| e.to_string()))
        .clone()
        .map_err(std::io::Error::other)
}

/// Binds 127.0.0.1 on a free port and serves every registered replay until the process ends.
fn start() -> std::io::Result<Arc<Shared>> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let shared = Arc::new(Shared {
        addr: listener.local_addr()?,
        trials: Mutex::new(HashMap::new()),
        next: AtomicU64::new(0),
    });
    let server = shared.clone();
    serve(listener, move |req| server.route(req))?;
    Ok(shared)
}

/// Serves `listener` on the run's runtime until the process ends, answering each request
/// from the replay `route` picks for it (and rewrites its URI for), or as not addressed.
///
/// The run's runtime lives as long as the process, so the server does too, whichever
/// runtime (if any) the first trial happens to run on.
pub(super) fn serve<R>(listener: std::net::TcpListener, route: R) -> std::io::Result<()>
where
    R: Fn(&mut hyper::Request<hyper::body::Incoming>) -> Option<(Arc<Replay>, f64)>
        + Send
        + Sync
        + 'static,
{
    listener.set_nonblocking(true)?;
    deepen_backlog(&listener)?;
    let rt = crate::runtime::runtime();
    let listener = {
        let _guard = rt.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    let route = Arc::new(route);
    rt.spawn(async move {
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                // Out of file descriptors, say: back off and keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let route = route.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |mut req| {
                    let routed = route(&mut req);
                    async move {
                        match routed {
                            Some((replay, speed)) => handle(replay, speed, req).await,
                            None => Ok(not_addressed(req.uri().path())),
                        }
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    Ok(())
}

/// Connections the kernel queues for the mock before it accepts them. std binds with 128:
/// a scenario of 1,000 concurrent streams overflowed that on a loaded machine, the kernel
/// dropped the surplus SYNs, and clients' connects timed out (then their circuit breaker
/// opened). The kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 4096;

/// Listens again with [`BACKLOG`]: on a listening socket, `listen` only changes the backlog.
#[cfg(unix)]
fn deepen_backlog(listener: &std::net::TcpListener) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `listen` on a valid, owned socket descriptor; no memory is passed.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(unix))]
fn deepen_backlog(_listener: &std::net::TcpListener) -> std::io::Result<()> {
    Ok(())
}

/// One trial's place on the shared server; dropping it unregisters the trial.
pub(crate) struct Registration {
    shared: Arc<Shared>,
    key: u64,
}

impl Registration {
    /// Serves `replay` (stream timing scaled by `speed`) until the registration is dropped.
    pub(crate) fn new(replay: Arc<Replay>, speed: f64) -> std::io::Result<Registration> {
        let shared = shared()?;
        let key = shared.next.fetch_add(1, Ordering::Relaxed);
        shared.trials().insert(key, (replay, speed));
        Ok(Registration { shared, key })
    }

    /// `http://127.0.0.1:PORT/__replay/KEY`: the base the trial's requests go to.
    pub(crate) fn uri(&self) -> String {
        format!("http://{}{PREFIX}{}", self.shared.addr, self.key)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.trials().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn the_key_is_stripped_and_the_path_kept() {
        assert_eq!(
            split("/__replay/12/v1/chat/completions"),
            Some((12, "/v1/chat/completions"))
        );
        assert_eq!(split("/__replay/0/api/chat"), Some((0, "/api/chat")));
        assert_eq!(split("/__replay/7"), Some((7, "/")));
        assert_eq!(split("/v1/chat/completions"), None);
        assert_eq!(split("/__replay/x/v1"), None);
    }
}
