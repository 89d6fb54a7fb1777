//! JSON Schemas of the files people write: suites, `targets.yaml` and recordings, generated
//! from the very types the loaders deserialize (schemars reads the same serde attributes), so
//! a schema cannot say something the loader does not. Types read by a hand-written
//! `Deserialize` get a hand-written schema in [`forms`]. `provcheck schema KIND` prints them;
//! the copies committed under `schemas/` are checked against these by the tests.

mod forms;

use schemars::generate::SchemaSettings;

/// Which file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SchemaKind {
    /// A suite file (`suites/*.yaml`).
    Suite,
    /// A targets file (`targets.yaml`).
    Targets,
    /// A recording (`fixtures/<target>/<suite>/<scenario>.yaml`).
    Recording,
}

impl SchemaKind {
    /// Every kind, in the order `schemas/` lists them.
    #[cfg(test)]
    pub(crate) const ALL: [SchemaKind; 3] = [
        SchemaKind::Suite,
        SchemaKind::Targets,
        SchemaKind::Recording,
    ];

    /// The file name under `schemas/`.
    #[cfg(test)]
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Suite => "suite.schema.json",
            SchemaKind::Targets => "targets.schema.json",
            SchemaKind::Recording => "recording.schema.json",
        }
    }

    fn title(self) -> &'static str {
        match self {
            SchemaKind::Suite => "provcheck suite",
            SchemaKind::Targets => "provcheck targets file",
            SchemaKind::Recording => "provcheck recording",
        }
    }
}

/// The schema of `kind`, as JSON. Draft 7, the newest draft every editor's YAML support
/// reads (yaml-language-server, JetBrains).
pub(crate) fn generate(kind: SchemaKind) -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = match kind {
        SchemaKind::Suite => generator.into_root_schema_for::<crate::suite::model::SuiteFile>(),
        SchemaKind::Targets => generator.into_root_schema_for::<crate::target::TargetsFile>(),
        SchemaKind::Recording => {
            generator.into_root_schema_for::<crate::record::format::RecordingFile>()
        }
    };
    schema.insert("title".into(), kind.title().into());
    schema.to_value()
}

/// The schema of `kind` as the text committed under `schemas/`: pretty JSON ending in a
/// newline.
pub(crate) fn to_text(kind: SchemaKind) -> String {
    let mut text = serde_json::to_string_pretty(&generate(kind)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
