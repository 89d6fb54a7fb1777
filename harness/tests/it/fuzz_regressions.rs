//! Every input `provcheck-fuzz` ever found panicking (harness/tests/fuzz-regressions/<target>/)
//! is loaded again by the loader it broke: it must now come back as a value or a diagnostic.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

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
