//! One pass of saphyr-parser over a YAML document, kept as a flat list of events with their
//! positions. Both the typed reading ([`super::de`]) and the span index
//! ([`super::location`]) walk this list, so a file is parsed once whatever is asked of it.
//!
//! The limits that make hostile files harmless are enforced here, while parsing: nesting is
//! refused beyond [`MAX_DEPTH`] (so nothing later recurses deeper), and a second document,
//! an unknown alias or a syntax error stops the pass with its position.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

/// How deep mappings and sequences may nest. Hand-written suites nest about ten levels; the
/// limit only exists so that `[[[[…` cannot exhaust the stack of whatever walks the tree.
pub(crate) const MAX_DEPTH: usize = 128;

/// A YAML problem with its 1-based line and column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlError {
    pub msg: String,
    pub line: u32,
    pub col: u32,
}

/// A parsed document: its nodes in document order, collections bracketed by start and end.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    pub events: Vec<Ev<'a>>,
}

/// One event and where its node starts (1-based line and column).
#[derive(Debug)]
pub(crate) struct Ev<'a> {
    pub kind: Kind<'a>,
    pub line: u32,
    pub col: u32,
}

/// What an event is. A collection's start knows the index of its end, so a reader skips a
/// whole subtree in one step.
#[derive(Debug)]
pub(crate) enum Kind<'a> {
    Scalar {
        value: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<Cow<'a, Tag>>,
    },
    SeqStart {
        end: usize,
        tag: Option<Cow<'a, Tag>>,
    },
    MapStart {
        end: usize,
        tag: Option<Cow<'a, Tag>>,
    },
    SeqEnd,
    MapEnd,
    /// An alias, resolved to the index of the node its anchor names.
    Alias(usize),
}

impl Doc<'_> {
    /// The index just past the node at `i` (its subtree included).
    pub(crate) fn skip(&self, i: usize) -> usize {
        match self.events[i].kind {
            Kind::SeqStart { end, .. } | Kind::MapStart { end, .. } => end + 1,
            _ => i + 1,
        }
    }

    /// The position of the event at `i`.
    pub(crate) fn pos(&self, i: usize) -> (u32, u32) {
        let e = &self.events[i];
        (e.line, e.col)
    }
}

fn err(msg: impl Into<String>, (line, col): (u32, u32)) -> YamlError {
    YamlError {
        msg: msg.into(),
        line,
        col,
    }
}

/// Parses `source` into its events. An empty document reads as one empty plain scalar, which
/// every reader treats as null (or an empty mapping), as YAML does.
pub(crate) fn parse(source: &str) -> Result<Doc<'_>, YamlError> {
    // About one event per 12 bytes of YAML: sized once instead of regrown.
    let mut events: Vec<Ev<'_>> = Vec::with_capacity(source.len() / 12 + 4);
    // Anchor ids are dense, from 1: the index of the node each one names.
    let mut anchors: Vec<usize> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut documents = 0;
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| {
            err(
                e.info(),
                (e.marker().line() as u32, e.marker().col() as u32 + 1),
            )
        })?;
        let at = (span.start.line() as u32, span.start.col() as u32 + 1);
        let index = events.len();
        let (kind, anchor) = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        "deserializing from YAML containing more than one document is not supported",
                        at,
                    ));
                }
                continue;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::Scalar(value, style, anchor, tag) => {
                (Kind::Scalar { value, style, tag }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                open.push(index);
                (Kind::SeqStart { end: 0, tag }, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                open.push(index);
                (Kind::MapStart { end: 0, tag }, anchor)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let start = open.pop().expect("the parser balances collections");
                if let Kind::SeqStart { end, .. } | Kind::MapStart { end, .. } =
                    &mut events[start].kind
                {
                    *end = index;
                }
                let kind = if matches!(event, Event::SequenceEnd) {
                    Kind::SeqEnd
                } else {
                    Kind::MapEnd
                };
                (kind, 0)
            }
            Event::Alias(id) => {
                let target = anchors
                    .get(id.wrapping_sub(1))
                    .copied()
                    .ok_or_else(|| err("unknown anchor", at))?;
                (Kind::Alias(target), 0)
            }
        };
        if open.len() > MAX_DEPTH {
            return Err(err("recursion limit exceeded", at));
        }
        if anchor > 0 {
            if anchors.len() < anchor {
                anchors.resize(anchor, usize::MAX);
            }
            anchors[anchor - 1] = index;
        }
        events.push(Ev {
            kind,
            line: at.0,
            col: at.1,
        });
    }
    if events.is_empty() {
        events.push(Ev {
            kind: Kind::Scalar {
                value: Cow::Borrowed(""),
                style: ScalarStyle::Plain,
                tag: None,
            },
            line: 1,
            col: 1,
        });
    }
    Ok(Doc { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_know_their_end_and_aliases_their_anchor() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        // MapStart, a, SeqStart, 1, 2, SeqEnd, b, Alias, MapEnd
        assert_eq!(doc.events.len(), 9);
        assert!(matches!(doc.events[0].kind, Kind::MapStart { end: 8, .. }));
        assert!(matches!(doc.events[2].kind, Kind::SeqStart { end: 5, .. }));
        assert!(matches!(doc.events[7].kind, Kind::Alias(2)));
        assert_eq!(doc.skip(2), 6);
        assert_eq!(doc.pos(7), (2, 4));
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_where_it_happens() {
        let block: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let e = parse(&block).unwrap_err();
        assert_eq!(e.msg, "recursion limit exceeded");
        assert_eq!(e.line, MAX_DEPTH as u32 + 1);
        let e = parse(&"[".repeat(100_000)).unwrap_err();
        assert_eq!(e.msg, "recursion limit exceeded");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn a_second_document_and_an_unknown_alias_are_refused() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.msg.contains("more than one document"), "{e:?}");
        assert_eq!((e.line, e.col), (2, 1));
        let e = parse("a: *nowhere\n").unwrap_err();
        assert!(e.msg.contains("unknown anchor"), "{e:?}");
        assert_eq!((e.line, e.col), (1, 4));
    }

    #[test]
    fn an_empty_document_is_one_empty_scalar() {
        let doc = parse("# nothing\n").unwrap();
        assert_eq!(doc.events.len(), 1);
    }
}
