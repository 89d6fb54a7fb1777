//! Runs provcheck's conformant reference provider standalone, for live runs and probes:
//!
//! ```text
//! cargo run --example reference_provider -- --addr 127.0.0.1:8099 [--key K] [--broken KNOB,...]
//!     [--no-tools] [--no-streaming] [--models NAME[+vision],...]
//! ```
//!
//! It prints one base URL per dialect, then serves until killed. `--broken` takes knob names
//! (`finish-on-cut`, `stream-no-terminal`, ...; `--broken help` lists them). `--no-tools` and
//! `--no-streaming` make a server that lacks those capabilities (for probing). `--models` replaces
//! the models it knows (all installed; `+vision` marks one that takes images), e.g. the
//! built-in targets' names, to author recordings for them
//! (`tools/reference-live/author-fixtures.sh`).

use std::net::SocketAddr;

use provcheck::dialect::DialectKind;
use provcheck::reference::{Broken, Config, ReferenceProvider};

fn main() {
    let mut cfg = Config::default();
    let mut addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-tools" => {
                cfg.tools = false;
                continue;
            }
            "--no-streaming" => {
                cfg.streaming = false;
                continue;
            }
            _ => {}
        }
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--addr" => {
                addr = value
                    .parse()
                    .unwrap_or_else(|e| fail(&format!("--addr {value}: {e}")))
            }
            "--key" => cfg.api_key = Some(value),
            "--models" => {
                cfg.models = value
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(|n| {
                        let mut m =
                            provcheck::reference::ModelSpec::text(n.trim_end_matches("+vision"));
                        m.vision = n.ends_with("+vision");
                        m
                    })
                    .collect();
            }
            "--broken" => {
                for name in value.split(',').filter(|n| !n.is_empty()) {
                    let knob = Broken::parse(name).unwrap_or_else(|| {
                        let all: Vec<&str> = Broken::ALL.iter().map(|b| b.name()).collect();
                        fail(&format!("unknown knob {name:?}; knobs: {}", all.join(", ")))
                    });
                    cfg.broken.insert(knob);
                }
            }
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    rt.block_on(async {
        let server = ReferenceProvider::bind(addr, cfg)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot bind {addr}: {e}")));
        for d in DialectKind::ALL {
            println!("{} {}", d.as_str(), server.base_url(d));
        }
        std::future::pending::<()>().await;
    });
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}
