//! Hostile input files (issue 15): each is refused with file:line:col and a message naming
//! the limit, promptly and without a panic. Memory stays bounded because every limit is
//! enforced while reading: the size before the file is read, nesting and alias expansion
//! while it is parsed.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{provcheck, text};

const GOOD: &str = "suite: s
category: c
scenarios:
  - id: a
    title: A
    request:
      model: small
      messages:
        - user: hi
    expect:
      status: 200
";

/// Ten levels of ten aliases: 10^10 nodes if expanded ("billion laughs").
/// Written as `key:` at `indent` spaces.
fn alias_bomb(key: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut s = format!("{pad}{key}:\n{pad}  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("{pad}  a{i}: &a{i} [{refs}]\n"));
    }
    s
}

/// Runs `provcheck lint ARGS`, expects the input-error exit, no panic, `--> FILE:LINE:` and
/// `message`, all within a generous bound (a bomb expanded would take minutes and gigabytes).
fn refused(args: &[&str], file: &Path, line: Option<u32>, message: &str) -> String {
    let started = Instant::now();
    let out = provcheck(args);
    let elapsed = started.elapsed();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let at = match line {
        Some(line) => format!("--> {}:{line}:", file.display()),
        None => format!("--> {}:", file.display()),
    };
    assert!(stderr.contains(&at), "expected {at:?} in:\n{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in:\n{stderr}"
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn alias_bombs_are_refused_in_suites_recordings_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    // The bomb sits in `request.patch`, an open JSON value, so it would be expanded in full.
    let suite = write(
        dir.path(),
        "bomb.yaml",
        &GOOD.replace(
            "      model: small\n",
            &format!("      model: small\n{}", alias_bomb("patch", 6)),
        ),
    );
    let s = suite.to_str().unwrap();
    refused(&["lint", s], &suite, None, "repetition limit exceeded");

    let good = write(dir.path(), "good.yaml", GOOD);
    let fixtures = dir.path().join("fixtures");
    let rec = write(
        &fixtures,
        "openai/s/a.yaml",
        &format!(
            "provenance: {{source: authored, date: 2026-01-01}}\nexchanges:\n  - request:\n      method: POST\n      path: /v1/chat/completions\n      body:\n{}",
            alias_bomb("bomb", 8)
        ),
    );
    let f = fixtures.to_str().unwrap();
    refused(
        &["lint", "--fixtures", f, good.to_str().unwrap()],
        &rec,
        None,
        "repetition limit exceeded",
    );

    // targets.yaml holds no open value: the bomb is refused as soon as its first node is read
    // against the type it stands for, before anything is expanded.
    let targets = write(
        dir.path(),
        "targets.yaml",
        &format!(
            "targets:\n  vllm:\n    dialect: openai\n    base_url: http://127.0.0.1:1/v1\n    models:\n{}",
            alias_bomb("small", 6)
        ),
    );
    refused(
        &[
            "lint",
            "--targets",
            targets.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
        &targets,
        None,
        "",
    );
}

#[test]
fn a_suite_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // 100 MB, sparse: the limit is checked on the file's size, so nothing is read.
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(100 * 1000 * 1000).unwrap();
    drop(f);
    refused(
        &["lint", path.to_str().unwrap()],
        &path,
        Some(1),
        "over the 64 MiB limit",
    );
}

#[test]
fn deep_nesting_is_refused_where_it_passes_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let flow = write(
        dir.path(),
        "flow.yaml",
        &format!(
            "{}\n",
            GOOD.replace("status: 200", &format!("status: {}", "[".repeat(100_000)))
        ),
    );
    refused(
        &["lint", flow.to_str().unwrap()],
        &flow,
        Some(11),
        "recursion limit exceeded",
    );
    let block: String = (0..1_000)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let deep = write(dir.path(), "block.yaml", &format!("suite: s\nx:\n{block}"));
    refused(
        &["lint", deep.to_str().unwrap()],
        &deep,
        Some(131),
        "recursion limit exceeded",
    );
}

#[test]
fn ids_that_would_escape_fixtures_or_reports_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (id, written) in [
        ("../../etc/x", "../../etc/x"),
        ("/tmp/x", "/tmp/x"),
        ("a\\u0000b", "a\u{0}b"),
        ("..", ".."),
    ] {
        let suite = write(
            dir.path(),
            "ids.yaml",
            &GOOD.replace("id: a", &format!("id: \"{id}\"")),
        );
        let stderr = refused(
            &["lint", suite.to_str().unwrap()],
            &suite,
            Some(4),
            "must match",
        );
        assert!(stderr.contains(&format!("`{written}`")), "{stderr}");
    }
    let suite = write(
        dir.path(),
        "name.yaml",
        &GOOD.replace("suite: s", "suite: ../s"),
    );
    refused(
        &["lint", suite.to_str().unwrap()],
        &suite,
        Some(1),
        "must match",
    );
    let good = write(dir.path(), "good.yaml", GOOD);
    let targets = write(
        dir.path(),
        "targets.yaml",
        "targets:\n  \"../evil\":\n    dialect: openai\n    base_url: http://127.0.0.1:1/v1\n",
    );
    refused(
        &[
            "lint",
            "--targets",
            targets.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
        &targets,
        Some(2),
        "must match",
    );
}

#[cfg(unix)]
#[test]
fn a_recording_symlinked_outside_the_fixtures_tree_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = write(
        dir.path(),
        "outside/secret.yaml",
        "provenance: {source: authored, date: 2026-01-01}\nexchanges: []\n",
    );
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir_all(fixtures.join("openai/s")).unwrap();
    let link = fixtures.join("openai/s/a.yaml");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let good = write(dir.path(), "good.yaml", GOOD);
    let args = [
        "lint",
        "--fixtures",
        fixtures.to_str().unwrap(),
        good.to_str().unwrap(),
    ];
    refused(&args, &link, Some(1), "outside the fixtures tree");
    // A symlinked directory counts the same; one inside the tree is fine.
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_dir(fixtures.join("openai/s")).unwrap();
    std::os::unix::fs::symlink(outside.parent().unwrap(), fixtures.join("openai/s")).unwrap();
    let through = fixtures.join("openai/s/secret.yaml");
    refused(&args, &through, Some(1), "outside the fixtures tree");
}
