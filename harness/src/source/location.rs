//! Source locations for suite and recording nodes.
//!
//! The typed model has no spans. So every mapping key and sequence item of the parsed events
//! (the same events the typed value is read from) is indexed by its path
//! (`scenarios[2].expect.status`, the spelling reading errors use). Semantic checks and
//! failing expectations look up their node there.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use super::events::{self, Doc, Kind, YamlError};

/// A position in a source file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Location {
    /// The file as given on the command line (relative paths stay relative).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Paths of a YAML document's nodes mapped to their positions.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex {
    file: Arc<str>,
    /// The text of a [`SpanIndex::deferred`] index, until a location is first asked for.
    source: Option<Box<str>>,
    nodes: OnceLock<Nodes>,
}

type Nodes = HashMap<Box<str>, Node, BuildHasherDefault<PathHasher>>;

/// Where a node is written: its key (or sequence item), and where its value starts.
#[derive(Debug, Clone, Copy, Default)]
struct Node {
    key: Option<(u32, u32)>,
    value: Option<(u32, u32)>,
}

/// Paths are our own files' keys, not adversarial input: a multiply-rotate hash over 8-byte
/// words is several times cheaper than SipHash, and indexing every node of every suite and
/// recording is hot when loading thousands of scenarios.
#[derive(Default)]
struct PathHasher(u64);

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.add(w);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl PathHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

enum Frame {
    /// A mapping at `path`; `key` is the full path of the key whose value comes next.
    Map {
        path: String,
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
    /// Inside a collection used as a mapping key.
    Skip,
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        let mut s = String::with_capacity(parent.len() + 1 + key.len());
        s.push_str(parent);
        s.push('.');
        s.push_str(key);
        s
    }
}

impl SpanIndex {
    /// Parses and indexes `source`; a syntax error comes back with its position.
    pub(crate) fn build(file: Arc<str>, source: &str) -> Result<SpanIndex, YamlError> {
        Ok(SpanIndex::from_doc(file, &events::parse(source)?))
    }

    /// Indexes a document already parsed.
    pub(crate) fn from_doc(file: Arc<str>, doc: &Doc<'_>) -> SpanIndex {
        SpanIndex {
            file,
            source: None,
            nodes: OnceLock::from(index(doc)),
        }
    }

    /// An index of `source` built the first time a location is asked for, so a file whose
    /// locations are never needed (listing trials) is parsed once, not twice. A syntax error
    /// then gives no error, only `file:1:1` locations: the file has been read already.
    pub(crate) fn deferred(file: Arc<str>, source: &str) -> SpanIndex {
        SpanIndex {
            file,
            source: Some(source.into()),
            nodes: OnceLock::new(),
        }
    }

    fn nodes(&self) -> &Nodes {
        self.nodes.get_or_init(|| {
            self.source
                .as_deref()
                .and_then(|s| events::parse(s).ok())
                .map(|doc| index(&doc))
                .unwrap_or_default()
        })
    }
}

/// Indexes every mapping key and sequence item of `doc` by its path.
fn index(doc: &Doc<'_>) -> Nodes {
    // Sized once instead of rehashed as it grows: about one node per two events.
    let mut nodes: Nodes =
        HashMap::with_capacity_and_hasher(doc.events.len() / 2, Default::default());
    let mut stack: Vec<Frame> = Vec::new();
    for ev in &doc.events {
        let pos = (ev.line, ev.col);
        if matches!(ev.kind, Kind::MapEnd | Kind::SeqEnd) {
            stack.pop();
            continue;
        }
        // A scalar in key position names the next entry; it is not a node of its own.
        if let Some(Frame::Map { path, key }) = stack.last_mut()
            && key.is_none()
        {
            let name = match &ev.kind {
                Kind::Scalar { value, .. } => value.as_ref(),
                _ => "?",
            };
            let full = join_key(path, name);
            // A repeated key replaces the earlier one, value position included.
            nodes.insert(
                full.as_str().into(),
                Node {
                    key: Some(pos),
                    value: None,
                },
            );
            *key = Some(full);
            if let Kind::MapStart { .. } | Kind::SeqStart { .. } = ev.kind {
                // A collection as a key: its contents are not indexed, only skipped.
                stack.push(Frame::Skip);
            }
            continue;
        }
        let node_path = match stack.last_mut() {
            Some(Frame::Map { path, key }) => {
                let p = key.take().unwrap_or_else(|| join_key(path, "?"));
                nodes.entry(p.as_str().into()).or_default().value = Some(pos);
                p
            }
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                nodes.insert(
                    p.as_str().into(),
                    Node {
                        key: Some(pos),
                        value: Some(pos),
                    },
                );
                p
            }
            Some(Frame::Skip) => {
                if let Kind::MapStart { .. } | Kind::SeqStart { .. } = ev.kind {
                    stack.push(Frame::Skip);
                }
                continue;
            }
            None => {
                nodes.entry("".into()).or_default().value = Some(pos);
                String::new()
            }
        };
        match ev.kind {
            Kind::MapStart { .. } => stack.push(Frame::Map {
                path: node_path,
                key: None,
            }),
            Kind::SeqStart { .. } => stack.push(Frame::Seq {
                path: node_path,
                next: 0,
            }),
            _ => {}
        }
    }
    nodes
}

impl SpanIndex {
    /// The location of the node at `path`, or of its nearest indexed ancestor.
    pub(crate) fn locate(&self, path: &str) -> Location {
        let mut p = path;
        loop {
            if let Some((line, col)) = self.nodes().get(p).and_then(|n| n.key) {
                return Location {
                    file: self.file.clone(),
                    line,
                    col,
                };
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => {
                    return Location {
                        file: self.file.clone(),
                        line: 1,
                        col: 1,
                    };
                }
            }
        }
    }

    /// The location of the value at `path` (where a key's value starts, rather than the key),
    /// falling back to [`SpanIndex::locate`].
    pub(crate) fn locate_value(&self, path: &str) -> Location {
        match self.nodes().get(path).and_then(|n| n.value) {
            Some((line, col)) => Location {
                file: self.file.clone(),
                line,
                col,
            },
            None => self.locate(path),
        }
    }

    /// True when the document has a node at exactly `path`.
    #[cfg(test)]
    pub(crate) fn has(&self, path: &str) -> bool {
        self.nodes().get(path).is_some_and(|n| n.key.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_and_items() {
        let src =
            "suite: a\nscenarios:\n  - id: one\n    expect:\n      status: 200\n  - id: two\n";
        let idx = SpanIndex::build("f.yaml".into(), src).unwrap();
        assert_eq!(idx.locate("suite").to_string(), "f.yaml:1:1");
        assert_eq!(idx.locate("scenarios[0]").to_string(), "f.yaml:3:5");
        assert_eq!(
            idx.locate("scenarios[0].expect.status").to_string(),
            "f.yaml:5:7"
        );
        assert_eq!(idx.locate("scenarios[1].id").to_string(), "f.yaml:6:5");
        assert_eq!(
            idx.locate_value("scenarios[1].id").to_string(),
            "f.yaml:6:9"
        );
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(
            idx.locate("scenarios[1].request.model").to_string(),
            "f.yaml:6:5"
        );
    }

    #[test]
    fn flow_mappings_are_indexed() {
        let src = "a: { b: 1, c: [x, {d: 2}] }\n";
        let idx = SpanIndex::build("f".into(), src).unwrap();
        assert!(idx.has("a.b"));
        assert!(idx.has("a.c[1].d"));
    }
}
