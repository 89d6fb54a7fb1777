//! Exclusive trials and resources in live mode, against a local server that watches how many
//! requests it holds at once: while an `exclusive: true` trial runs, no other trial of its
//! target does, and at most `resources`' limit of trials naming a resource run together.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common;
use crate::raw_server::{MODELS, RawServer, openai_reply, respond};

fn scenario(id: &str, marker: &str, extra: &str) -> String {
    format!(
        "  - id: {id}\n    title: {id}\n{extra}    request:\n      messages:\n        - user: '{marker} {id}'\n      max_tokens: 5\n    expect:\n      status: 200\n"
    )
}

#[test]
fn exclusive_trials_run_alone_and_resources_keep_their_limit() {
    let overlaps: Arc<Mutex<Vec<String>>> = Arc::default();
    let (most, exclusive_on, store_on) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let live = Arc::new(AtomicUsize::new(0));
    let server = {
        let (overlaps, most, exclusive_on, store_on, live) = (
            overlaps.clone(),
            most.clone(),
            exclusive_on.clone(),
            store_on.clone(),
            live.clone(),
        );
        RawServer::start(move |req, conn| {
            if req.method == "GET" {
                return respond(conn, 200, "application/json", MODELS);
            }
            let now = live.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            let excl = req.body.contains("EXCL");
            let store = req.body.contains("STORE");
            if excl {
                exclusive_on.fetch_add(1, Ordering::SeqCst);
            }
            if store && store_on.fetch_add(1, Ordering::SeqCst) >= 1 {
                overlaps
                    .lock()
                    .unwrap()
                    .push(format!("two STORE at once: {}", req.body));
            }
            if now > 1 && (excl || exclusive_on.load(Ordering::SeqCst) > 0) {
                overlaps.lock().unwrap().push(format!(
                    "{now} in flight with an exclusive one: {}",
                    req.body
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
            if live.load(Ordering::SeqCst) > 1 && excl {
                overlaps
                    .lock()
                    .unwrap()
                    .push(format!("another joined an exclusive one: {}", req.body));
            }
            if excl {
                exclusive_on.fetch_sub(1, Ordering::SeqCst);
            }
            if store {
                store_on.fetch_sub(1, Ordering::SeqCst);
            }
            live.fetch_sub(1, Ordering::SeqCst);
            respond(conn, 200, "application/json", &openai_reply("ok"));
        })
    };
    let mut suite =
        String::from("suite: ex\ncategory: messages\nresources: { store: 1 }\nscenarios:\n");
    for i in 0..6 {
        suite.push_str(&scenario(&format!("plain_{i}"), "PLAIN", ""));
    }
    for i in 0..2 {
        suite.push_str(&scenario(
            &format!("excl_{i}"),
            "EXCL",
            "    exclusive: true\n",
        ));
    }
    for i in 0..3 {
        suite.push_str(&scenario(
            &format!("store_{i}"),
            "STORE",
            "    resource: store\n",
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/ex.yaml"), suite).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  t:\n    dialect: openai\n    base_url: {}/v1\n    models: {{ small: raw-model }}\n",
            server.url()
        ),
    )
    .unwrap();
    let out = common::command(dir.path())
        .args(["--mode", "live", "--target", "t", "--live-concurrency", "4"])
        .args(["--test-threads", "8", "--no-reports"])
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("11 passed"), "{stdout}");
    let overlaps = overlaps.lock().unwrap();
    assert!(overlaps.is_empty(), "{overlaps:#?}");
    // The others did run side by side: the server could have seen an overlap.
    assert!(
        most.load(Ordering::SeqCst) >= 2,
        "no two trials ever ran at once"
    );
}

#[test]
fn an_undeclared_resource_is_refused_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        format!(
            "suite: s\ncategory: c\nresources: {{ store: 1 }}\nscenarios:\n{}",
            scenario("a", "X", "    resource: stor\n")
        ),
    )
    .unwrap();
    let out = common::command(dir.path())
        .args(["lint", suite.to_str().unwrap()])
        .output()
        .unwrap();
    let (_, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("resource `stor` is not declared"),
        "{stderr}"
    );
    assert!(stderr.contains("s.yaml:7:"), "{stderr}");
    assert!(stderr.contains("declared: store"), "{stderr}");
}
