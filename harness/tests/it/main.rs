//! The integration tests, one module per area, linked into one binary: each former
//! `tests/*.rs` file was its own binary that linked the library and `common` again, which made
//! `cargo test` spend most of its time linking.
//!
//! The helpers every module shares (run the real binary, read its JUnit and run record) are in
//! `common`. The vendored OpenAPI specs stay in `tests/spec/`.

mod common;

mod broken_recordings;
mod broken_responses;
mod broken_streams;
mod broken_suites;
mod broken_tools;
mod child_env;
mod clients;
mod cross_gateway;
mod docs_examples;
mod exclusive;
mod fuzz_regressions;
mod gateway;
mod gzip_bomb;
mod hostile;
mod hostile_files;
mod interrupt;
mod live_faults;
mod live_record;
mod load_streams;
mod misconfigured_clients;
mod mock_ports;
mod openapi_contract;
mod preflight;
mod probe;
mod raw_server;
mod reference_live;
mod repeat_behaviour;
mod reports_audit;
mod reports_diff;
mod reports_record;
mod reports_shards;
mod request_side;
mod runner_cli;
mod schemas;
mod shipped;
mod snapshots;
mod step_summary;
mod stream_fuzz;
mod stream_replay_timing;
mod terse_model;
mod translator;
