//! `provcheck schema KIND` prints the schema committed under `schemas/` (the unit tests in
//! `src/schema` prove those are generated from the loaders' types and validate every shipped
//! file), wherever the subcommand stands on the line.

use crate::common::{provcheck, root, text};

#[test]
fn schema_prints_the_committed_schema_of_each_kind() {
    for (kind, file) in [
        ("suite", "suite.schema.json"),
        ("targets", "targets.schema.json"),
        ("recording", "recording.schema.json"),
    ] {
        let out = provcheck(&["schema", kind]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{kind}: {stderr}");
        let committed = std::fs::read_to_string(root().join("schemas").join(file)).unwrap();
        assert_eq!(stdout, committed, "{kind}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            v["additionalProperties"], false,
            "{kind}: unknown keys refused"
        );
    }
}

#[test]
fn schema_after_options_is_read_as_the_subcommand_and_a_bad_kind_is_refused() {
    // `schema` takes no run options: the line is read as the subcommand's, and the note says so
    // rather than taking `schema` for a trial filter.
    let out = provcheck(&["--targets", "targets.yaml", "schema", "targets"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("read as `provcheck schema --targets targets.yaml targets`"),
        "{stderr}"
    );
    let out = provcheck(&["schema", "fixtures"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("suite, targets, recording"), "{stderr}");
}
