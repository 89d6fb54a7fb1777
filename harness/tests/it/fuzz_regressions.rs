//! Every input `provcheck-fuzz` ever found failing (harness/tests/fuzz-regressions/<target>/)
//! is read again by the reader it broke: a loader must now return a value or a diagnostic, and
//! a stream decoder must now pass `provcheck::fuzz::stream::check`.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use provcheck::fuzz::stream::{self, Input};
use provcheck::record::Recording;
use provcheck::suite::load::{Known, load_suite};

#[test]
fn kept_fuzz_inputs_no_longer_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let tmp = tempfile::tempdir().unwrap();
    // Recordings are refused outside fixtures/<target>/<suite>/: replay them in that shape.
    let input = tmp.path().join("fixtures/t/s/input.yaml");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    let known = Known {
        aliases: ["small", "tools", "second"].map(String::from).into(),
        targets: BTreeSet::from(["openai".to_string()]),
    };
    let mut replayed = 0;
    for target in ["suite", "recording", "targets"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(target))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for f in files {
            std::fs::copy(&f, &input).unwrap();
            let loaded = catch_unwind(AssertUnwindSafe(|| match target {
                "suite" => drop(load_suite(&input, &known)),
                "recording" => drop(Recording::load(&input)),
                _ => drop(provcheck::target::load(&input, None)),
            }));
            assert!(loaded.is_ok(), "{} panics again", f.display());
            replayed += 1;
        }
    }
    eprintln!("{replayed} kept fuzz inputs replayed");
}

#[test]
fn kept_stream_inputs_pass_the_stream_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut replayed = 0;
    for dialect in stream::DIALECTS {
        let dir = root.join(stream::target_name(dialect));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "stream"))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let input = Input::from_file(dialect, &bytes)
                .unwrap_or_else(|| panic!("{} is not a kept stream input", f.display()));
            let checked = catch_unwind(AssertUnwindSafe(|| stream::check(&rt, &input)));
            assert!(checked.is_ok(), "{} fails again", f.display());
            replayed += 1;
        }
    }
    eprintln!("{replayed} kept stream inputs replayed");
}
