//! The one async runtime of a run. A leaf: the mock's shared server, the client and the
//! runner all use it, and none of them has to reach into another to find it.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// The one runtime every trial runs on. libtest-mimic calls trials from its own worker
/// threads; each blocks on this runtime, so the client's connection pool and the replay
/// mock's shared server live on one set of reactor threads.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("provcheck-io")
            .build()
            .unwrap_or_else(|e| {
                eprintln!("error: cannot start the async runtime: {e}");
                std::process::exit(2)
            })
    })
}
