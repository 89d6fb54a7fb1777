//! The `provcheck` binary. Not `#[tokio::main]`: libtest-mimic owns the threads, and every
//! trial blocks on the one runtime in `runtime::runtime()`.
#![warn(clippy::too_many_lines)]

use std::process::ExitCode;

use provcheck::cli::{self, CliError};

/// Every error is bad input of some kind (exit 2); failed trials (101) and drift (1) are exit
/// codes of a command that did its work.
fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        // Printed with their locations as they were found.
        Err(CliError::Reported) => ExitCode::from(cli::EXIT_INPUT),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(cli::EXIT_INPUT)
        }
    }
}
