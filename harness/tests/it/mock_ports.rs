//! No mock port is left behind: the ports the real binary's mock listens on while it replays
//! are refused once the run has returned, whether it ended by itself or by SIGINT. The ports
//! are read from /proc (the process's socket inodes matched to the listening sockets of
//! /proc/net/tcp), so the test sees what the process really bound, not what it says.

#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common;

/// The TCP ports process `pid` is listening on.
fn listening_ports(pid: u32) -> BTreeSet<u16> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut ports = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for row in text.lines().skip(1) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // local_address is cols[1] (ADDR:PORT in hex), st cols[3] (0A = LISTEN), inode cols[9].
            if cols.len() > 9 && cols[3] == "0A" && inodes.contains(cols[9]) {
                let port = cols[1].rsplit(':').next().unwrap();
                ports.insert(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

/// A replay of the stream-timing trials slowed down by `speed`, reports in a temporary
/// directory.
fn spawn(reports: &std::path::Path, speed: &str) -> Child {
    common::command(&common::root())
        .args(["streaming::stream_timing::", "--speed", speed])
        .arg("--reports")
        .arg(reports)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start provcheck")
}

/// The ports the running child listens on, once its mock is up.
fn mock_ports(child: &mut Child) -> BTreeSet<u16> {
    let start = Instant::now();
    loop {
        let ports = listening_ports(child.id());
        if !ports.is_empty() {
            return ports;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "provcheck ended before its mock was seen listening"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no mock port");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait(child: Child) -> std::process::Output {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code().is_some(), "provcheck was killed: {out:?}");
    out
}

fn assert_refused(ports: &BTreeSet<u16>) {
    for &port in ports {
        let connected = std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_secs(5),
        );
        let err = connected.expect_err(&format!("port {port} still accepts connections"));
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "port {port}: {err}"
        );
    }
}

#[test]
fn a_finished_run_leaves_no_mock_port_listening() {
    let reports = tempfile::tempdir().unwrap();
    // Streams of about 250 ms, replayed at a tenth of their speed: seconds, enough to look.
    let mut child = spawn(reports.path(), "0.1");
    let ports = mock_ports(&mut child);
    let out = wait(child);
    let record = common::run_record(&reports.path().join("run.json"));
    assert!(!record.interrupted, "{}", common::text(&out).1);
    assert_refused(&ports);
}

#[test]
fn an_interrupted_run_leaves_no_mock_port_listening() {
    let reports = tempfile::tempdir().unwrap();
    // A thousandth of the speed: the streams would take minutes; SIGINT ends them.
    let mut child = spawn(reports.path(), "0.001");
    let ports = mock_ports(&mut child);
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT");
    let out = wait(child);
    assert_eq!(out.status.code(), Some(130), "{}", common::text(&out).1);
    let record = common::run_record(&reports.path().join("run.json"));
    assert!(record.interrupted);
    assert_refused(&ports);
}
