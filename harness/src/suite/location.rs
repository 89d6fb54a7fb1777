//! Source locations for suite and recording nodes.
//!
//! serde_norway gives a location only for the first error it meets; the typed model has no
//! spans. So each file is also read once as a stream of YAML events and every mapping key and
//! sequence item is indexed by its path (`scenarios[2].expect.status`, the same spelling
//! serde_norway uses in its errors). Semantic checks and failing expectations look up their
//! node there.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use saphyr_parser::{Event, Parser};

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
pub struct SpanIndex {
    file: Arc<str>,
    positions: HashMap<String, (u32, u32)>,
    values: HashMap<String, (u32, u32)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl SpanIndex {
    /// Indexes `source`. A syntax error returns the scanner's message and position; the
    /// caller normally reports serde_norway's error instead, which says the same.
    pub fn build(file: Arc<str>, source: &str) -> Result<SpanIndex, (String, u32, u32)> {
        let mut positions = HashMap::new();
        let mut values = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(source) {
            let (event, span) = item.map_err(|e| {
                (
                    e.info().to_string(),
                    e.marker().line() as u32,
                    e.marker().col() as u32 + 1,
                )
            })?;
            let pos = (span.start.line() as u32, span.start.col() as u32 + 1);
            let is_node = matches!(
                event,
                Event::Scalar(..)
                    | Event::MappingStart(..)
                    | Event::SequenceStart(..)
                    | Event::Alias(_)
            );
            if is_node {
                // A scalar in key position names the next entry; it is not a node of its own.
                if let Some(Frame::Map { path, key }) = stack.last_mut()
                    && key.is_none()
                {
                    let name = match &event {
                        Event::Scalar(v, ..) => v.to_string(),
                        _ => "?".to_string(),
                    };
                    positions.insert(join_key(path, &name), pos);
                    *key = Some(name);
                    continue;
                }
                let node_path = match stack.last_mut() {
                    Some(Frame::Map { path, key }) => {
                        join_key(path, key.take().as_deref().unwrap_or("?"))
                    }
                    Some(Frame::Seq { path, next }) => {
                        let p = format!("{path}[{next}]");
                        *next += 1;
                        positions.insert(p.clone(), pos);
                        p
                    }
                    None => String::new(),
                };
                values.insert(node_path.clone(), pos);
                match event {
                    Event::MappingStart(..) => stack.push(Frame::Map {
                        path: node_path,
                        key: None,
                    }),
                    Event::SequenceStart(..) => stack.push(Frame::Seq {
                        path: node_path,
                        next: 0,
                    }),
                    _ => {}
                }
            } else if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                stack.pop();
            }
        }
        Ok(SpanIndex {
            file,
            positions,
            values,
        })
    }

    /// The location of the node at `path`, or of its nearest indexed ancestor.
    pub fn locate(&self, path: &str) -> Location {
        let mut p = path;
        loop {
            if let Some(&(line, col)) = self.positions.get(p) {
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
    pub fn locate_value(&self, path: &str) -> Location {
        match self.values.get(path) {
            Some(&(line, col)) => Location {
                file: self.file.clone(),
                line,
                col,
            },
            None => self.locate(path),
        }
    }

    /// True when the document has a node at exactly `path`.
    pub fn has(&self, path: &str) -> bool {
        self.positions.contains_key(path)
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
