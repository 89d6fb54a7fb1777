//! The `provcheck` binary. Not `#[tokio::main]`: libtest-mimic owns the threads, and every
//! trial blocks on the one runtime in `runtime::runtime()`.
#![warn(clippy::too_many_lines)]

fn main() -> std::process::ExitCode {
    provcheck::cli::main()
}
