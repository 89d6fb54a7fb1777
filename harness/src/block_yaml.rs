//! A fast path for reading recordings and suites: the block-style YAML subset that provcheck's
//! recorder writes (and most hand-written files use), read straight into a `serde_json::Value`,
//! with the position of every node when a suite needs them.
//!
//! Replaying a recording parses it once per trial, and with libyaml (through serde_norway)
//! that parse was over a quarter of a large replay run; a suite was parsed twice, once by
//! serde_norway and once by saphyr-parser for positions. This reader handles block mappings and
//! sequences of one-line scalars and one-line flow collections, and nothing else: anything
//! outside that subset (multi-line flow collections, block or multi-line scalars, anchors,
//! aliases, tags, document markers, tabs, duplicate keys, scalars whose type is not plainly a
//! string, a number, a bool or null) makes it return `None`, and the caller parses with
//! serde_norway and saphyr-parser as before, which also give every error its line and column. So the subset is only ever a shortcut: where it
//! answers, it answers what serde_norway would (a test compares the two on every shipped file
//! and on generated values).

use serde_json::{Map, Number, Value};

/// A line and column, both from 1.
pub type Pos = (u32, u32);

/// Where each node of a document is written, by path (`scenarios[0].expect.status`, the root
/// is ``): its key's position (a sequence item's own start) and its value's. The positions are
/// the ones saphyr-parser gives, so either can index a file.
pub type Spans = Vec<(String, Option<Pos>, Option<Pos>)>;

/// The value of a YAML document in the subset, or `None` to leave it to serde_norway.
pub fn parse(source: &str) -> Option<Value> {
    read(source, false).map(|(v, _)| v)
}

/// [`parse`], and where every node is written.
pub fn parse_with_spans(source: &str) -> Option<(Value, Spans)> {
    read(source, true)
}

fn read(source: &str, spans: bool) -> Option<(Value, Spans)> {
    if !plain_characters(source) {
        return None;
    }
    let mut lines = Vec::new();
    for (no, raw) in source.lines().enumerate() {
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let body = text.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if body.starts_with('\t') || body.starts_with("---") || body.starts_with("...") {
            return None;
        }
        lines.push(Line {
            no: no as u32 + 1,
            indent: text.len() - body.len(),
            text: body.trim_end_matches(' '),
        });
    }
    let mut p = Reader {
        lines,
        at: 0,
        spans: spans.then(Vec::new),
        depth: 0,
    };
    if p.lines.is_empty() {
        return (!spans).then(|| (Value::Null, Vec::new()));
    }
    let indent = p.lines[0].indent;
    let root = p.start(0, 0);
    p.value_at(String::new, root);
    let value = p.node(indent, "")?;
    (p.at == p.lines.len()).then(|| (value, p.spans.unwrap_or_default()))
}

/// Whether `source` holds only characters this reader treats as libyaml does: printable ones,
/// `\n` and `\r\n`. Tabs (whitespace in some places, text in others), other line breaks
/// (`\r`, U+0085, U+2028, U+2029), a byte-order mark, and the characters libyaml refuses
/// anywhere (C0 and C1 controls, U+FFFE, U+FFFF) send the document to serde_norway.
fn plain_characters(source: &str) -> bool {
    let bytes = source.as_bytes();
    if bytes.iter().enumerate().all(|(i, &b)| {
        (b' '..=b'~').contains(&b) || b == b'\n' || (b == b'\r' && bytes.get(i + 1) == Some(&b'\n'))
    }) {
        return true;
    }
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        let ok = match c {
            ' '..='~' | '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'.. => {
                !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

struct Line<'a> {
    no: u32,
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    /// Collected only when asked for: recordings need no positions.
    spans: Option<Spans>,
    /// Nesting of the node being read: past [`MAX_DEPTH`] the document is left to
    /// serde_norway (whose own limit reports it), rather than recursing without bound.
    depth: usize,
}

/// Deeper than anything provcheck writes or reads, shallow enough for any thread's stack.
const MAX_DEPTH: usize = 64;

impl<'a> Reader<'a> {
    /// Where `part` (a slice of line `i`'s text) starts.
    fn pos(&self, i: usize, part: &str) -> Pos {
        let line = &self.lines[i];
        let offset = part.as_ptr() as usize - line.text.as_ptr() as usize;
        // Columns count characters, as saphyr-parser's do.
        let before = &line.text[..offset];
        let chars = if before.is_ascii() {
            offset
        } else {
            before.chars().count()
        };
        (line.no, (line.indent + chars + 1) as u32)
    }

    /// Where line `i`'s text, after `skip` bytes, starts.
    fn start(&self, i: usize, skip: usize) -> Pos {
        let line = &self.lines[i];
        (line.no, (line.indent + skip + 1) as u32)
    }

    fn collecting(&self) -> bool {
        self.spans.is_some()
    }

    fn child(&self, parent: &str, key: &str) -> String {
        if !self.collecting() {
            return String::new();
        }
        if parent.is_empty() {
            key.to_string()
        } else {
            format!("{parent}.{key}")
        }
    }

    fn item_path(&self, parent: &str, n: usize) -> String {
        if self.collecting() {
            format!("{parent}[{n}]")
        } else {
            String::new()
        }
    }

    fn key_at(&mut self, path: &str, pos: Pos) {
        if let Some(s) = &mut self.spans {
            s.push((path.to_string(), Some(pos), None));
        }
    }

    fn value_at(&mut self, path: impl FnOnce() -> String, pos: Pos) {
        if let Some(s) = &mut self.spans {
            let path = path();
            match s.iter_mut().rev().find(|(p, ..)| *p == path) {
                Some(entry) => entry.2 = Some(pos),
                None => s.push((path, None, Some(pos))),
            }
        }
    }

    fn item_at(&mut self, path: &str, pos: Pos) {
        if let Some(s) = &mut self.spans {
            s.push((path.to_string(), Some(pos), Some(pos)));
        }
    }

    /// The block node whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize, path: &str) -> Option<Value> {
        let line = self.lines.get(self.at)?;
        if line.indent != indent {
            return None;
        }
        if is_item(line.text) {
            self.sequence(indent, path)
        } else {
            self.mapping(indent, None, path)
        }
    }

    /// Where the block node starting on the current line starts: a mapping at its first key,
    /// a sequence at its first dash.
    fn node_start(&self) -> Option<Pos> {
        self.lines.get(self.at).map(|_| self.start(self.at, 0))
    }

    /// A block sequence at `indent`.
    fn sequence(&mut self, indent: usize, path: &str) -> Option<Value> {
        self.nested(|r| r.sequence_items(indent, path))
    }

    fn sequence_items(&mut self, indent: usize, path: &str) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            let text = line.text;
            let item = self.item_path(path, items.len());
            let rest = text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                // `-` alone: the item is the block below it.
                self.at += 1;
                let next = self.lines.get(self.at)?.indent;
                if next <= indent {
                    return None;
                }
                let at = self.node_start()?;
                self.item_at(&item, at);
                items.push(self.node(next, &item)?);
                continue;
            }
            // `- x`: the item starts on this line, its content at the column after `- `.
            let content = indent + (text.len() - rest.len());
            if is_item(rest) {
                return None;
            }
            let at = self.pos(self.at, rest);
            self.item_at(&item, at);
            if !rest.starts_with(['[', '{']) && split_key(rest).is_some() {
                items.push(self.mapping(content, Some(rest), &item)?);
            } else {
                let i = self.at;
                self.at += 1;
                items.push(self.inline(i, rest, &item)?);
            }
        }
        Some(Value::Array(items))
    }

    /// A block mapping at `indent`; `first` is its first entry's text when it began after a
    /// sequence's `- `.
    fn mapping(&mut self, indent: usize, first: Option<&'a str>, path: &str) -> Option<Value> {
        self.nested(|r| r.mapping_entries(indent, first, path))
    }

    fn mapping_entries(
        &mut self,
        indent: usize,
        first: Option<&'a str>,
        path: &str,
    ) -> Option<Value> {
        let mut map = Map::new();
        let mut first = first;
        loop {
            let text = match first.take() {
                Some(t) => t,
                None => match self.lines.get(self.at) {
                    Some(l) if l.indent == indent && !is_item(l.text) => l.text,
                    _ => break,
                },
            };
            let (key, rest) = split_key(text)?;
            let key_pos = self.pos(self.at, key);
            let key = key_text(key)?;
            let entry = self.child(path, &key);
            self.key_at(&entry, key_pos);
            let i = self.at;
            self.at += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.at) {
                    // A nested block, or a sequence written at the key's own indent.
                    Some(l) if l.indent > indent => {
                        let next = l.indent;
                        let at = self.node_start()?;
                        self.value_at(|| entry.clone(), at);
                        self.node(next, &entry)?
                    }
                    Some(l) if l.indent == indent && is_item(l.text) => {
                        // saphyr places an indentless sequence at its first item's content.
                        let first_item = l.text[1..].trim_start_matches(' ');
                        if first_item.is_empty() && self.collecting() {
                            return None;
                        }
                        let at = self.pos(self.at, first_item);
                        self.value_at(|| entry.clone(), at);
                        self.sequence(indent, &entry)?
                    }
                    _ => {
                        // An empty value is null, placed where its colon is.
                        let colon = self.pos(i, &text[text.len() - rest.len() - 1..]);
                        self.value_at(|| entry.clone(), colon);
                        Value::Null
                    }
                }
            } else {
                let at = self.pos(i, rest);
                self.value_at(|| entry.clone(), at);
                self.inline(i, rest, &entry)?
            };
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// A node written on one line (line `i`): a scalar or a flow collection, then at most a
    /// comment.
    fn inline(&mut self, i: usize, text: &'a str, path: &str) -> Option<Value> {
        if !text.starts_with(['[', '{']) {
            return scalar(text);
        }
        let (value, rest) = self.flow(i, text, path)?;
        let rest_trimmed = rest.trim_start_matches(' ');
        if rest_trimmed.is_empty() || (rest_trimmed.starts_with('#') && rest.starts_with(' ')) {
            Some(value)
        } else {
            None
        }
    }

    /// A flow node at the start of `text` (line `i`), and the text after it.
    fn flow(&mut self, i: usize, text: &'a str, path: &str) -> Option<(Value, &'a str)> {
        self.nested(|r| r.flow_node(i, text, path))
    }

    /// Reads one level deeper; past [`MAX_DEPTH`] the whole document is given up (a failed
    /// read abandons it, so the count need not be restored then).
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let value = read(self)?;
        self.depth -= 1;
        Some(value)
    }

    fn flow_node(&mut self, i: usize, text: &'a str, path: &str) -> Option<(Value, &'a str)> {
        if let Some(inner) = text.strip_prefix('[') {
            let mut items = Vec::new();
            let mut rest = inner.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(']') {
                return Some((Value::Array(items), after));
            }
            loop {
                let item = self.item_path(path, items.len());
                let at = self.pos(i, rest);
                self.item_at(&item, at);
                let (v, after) = self.flow(i, rest, &item)?;
                items.push(v);
                let after = after.trim_start_matches(' ');
                if let Some(after) = after.strip_prefix(']') {
                    return Some((Value::Array(items), after));
                }
                rest = after.strip_prefix(',')?.trim_start_matches(' ');
                if rest.starts_with([']', ',']) {
                    return None;
                }
            }
        }
        if let Some(inner) = text.strip_prefix('{') {
            let mut map = Map::new();
            let mut rest = inner.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix('}') {
                return Some((Value::Object(map), after));
            }
            loop {
                let key_len = if rest.starts_with(['"', '\'']) {
                    quoted_end(rest)?
                } else {
                    flow_plain_len(rest)
                };
                let key_src = &rest[..key_len];
                // A colon inside a flow scalar has rules of its own; left to serde_norway.
                if key_src.contains(':') && !key_src.starts_with(['"', '\'']) {
                    return None;
                }
                let key_pos = self.pos(i, key_src);
                let key = key_text(key_src.trim_end_matches(' '))?;
                let after_key = rest[key_len..].trim_start_matches(' ');
                let after_colon = after_key.strip_prefix(": ")?.trim_start_matches(' ');
                if after_colon.starts_with([',', '}']) {
                    return None;
                }
                let entry = self.child(path, &key);
                self.key_at(&entry, key_pos);
                let at = self.pos(i, after_colon);
                self.value_at(|| entry.clone(), at);
                let (v, after) = self.flow(i, after_colon, &entry)?;
                if map.insert(key, v).is_some() {
                    return None;
                }
                let after = after.trim_start_matches(' ');
                if let Some(after) = after.strip_prefix('}') {
                    return Some((Value::Object(map), after));
                }
                rest = after.strip_prefix(',')?.trim_start_matches(' ');
                if rest.starts_with(['}', ',']) {
                    return None;
                }
            }
        }
        if text.starts_with(['"', '\'']) {
            let end = quoted_end(text)?;
            return Some((scalar(&text[..end])?, &text[end..]));
        }
        let len = flow_plain_len(text);
        let plain_text = text[..len].trim_end_matches(' ');
        if plain_text.is_empty() || plain_text.contains(':') {
            return None;
        }
        Some((plain(plain_text)?, &text[len..]))
    }
}

/// Where the two-byte sequence `a b` first occurs in `text`. (`str::find` with a pattern sets
/// up a two-way searcher each call, which on these short scalars cost more than the scan.)
fn find_pair(text: &str, a: u8, b: u8) -> Option<usize> {
    text.as_bytes()
        .windows(2)
        .position(|w| w[0] == a && w[1] == b)
}

/// The length of a plain scalar in a flow collection: up to a flow indicator, `: ` or ` #`.
fn flow_plain_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b',' | b'[' | b']' | b'{' | b'}' => break,
            b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b']' | b'}')) => break,
            b'#' if i > 0 && bytes[i - 1] == b' ' => break,
            _ => i += 1,
        }
    }
    i
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` → (key, rest), for a key that is plain or quoted on one line.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let end = if text.starts_with(['"', '\'']) {
        quoted_end(text)?
    } else {
        find_pair(text, b':', b' ').or_else(|| text.ends_with(':').then(|| text.len() - 1))?
    };
    let (key, after) = text.split_at(end);
    let rest = after.strip_prefix(':')?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

/// A mapping key as text; keys serde_norway would read as anything but a string are left to
/// it.
fn key_text(key: &str) -> Option<String> {
    // libyaml trims a plain key and caps an implicit key at 1024 bytes; neither is worth
    // copying here.
    if key.ends_with(' ') || key.len() > 1000 {
        return None;
    }
    match scalar(key)? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// Where a quoted scalar starting `text` ends (just past its closing quote).
fn quoted_end(text: &str) -> Option<usize> {
    let quote = text.as_bytes()[0];
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A one-line scalar (or `[]`, `{}`), with any trailing comment after a quoted scalar.
fn scalar(text: &str) -> Option<Value> {
    match text {
        "[]" => return Some(Value::Array(Vec::new())),
        "{}" => return Some(Value::Object(Map::new())),
        _ => {}
    }
    if text.starts_with(['"', '\'']) {
        let end = quoted_end(text)?;
        // Only a comment may follow the closing quote, and only after a space.
        let after = &text[end..];
        if !after.is_empty() && !after.trim_start_matches(' ').starts_with('#')
            || !after.is_empty() && !after.starts_with(' ')
        {
            return None;
        }
        let inner = &text[1..end - 1];
        return Some(Value::String(if text.starts_with('"') {
            double_quoted(inner)?
        } else {
            inner.replace("''", "'")
        }));
    }
    plain(text)
}

/// A plain scalar, resolved the way serde_norway resolves one into a `Value`, or `None` when
/// it is not plainly a string, a number, a bool or null.
fn plain(text: &str) -> Option<Value> {
    let first = text.chars().next()?;
    if "[]{}#&*!|>%@`,?:'\"".contains(first)
        || text == "-"
        || text.starts_with("- ")
        || find_pair(text, b':', b' ').is_some()
        || find_pair(text, b' ', b'#').is_some()
        || text.ends_with(':')
    {
        return None;
    }
    match text {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if first.is_alphabetic() {
        // The common case, a word. Of words, Rust's float parser (which serde_norway uses)
        // takes only these; they are left to serde_norway.
        if ["inf", "infinity", "nan"]
            .iter()
            .any(|w| text.eq_ignore_ascii_case(w))
        {
            return None;
        }
        return Some(Value::String(text.to_string()));
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let prefixed = |p: &str| {
        unsigned
            .get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    };
    if first == '+'
        || unsigned.eq_ignore_ascii_case(".inf")
        || unsigned.eq_ignore_ascii_case(".nan")
        || prefixed("0x")
        || prefixed("0o")
        || prefixed("0b")
    {
        return None;
    }
    if text.parse::<f64>().is_err() {
        // No number parser takes it (a date, a path, `1.2.3`, `10ms`): a string.
        return Some(Value::String(text.to_string()));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let no_leading_zero = |s: &str| s == "0" || !s.starts_with('0');
    if digits(unsigned) && no_leading_zero(unsigned) {
        return if first == '-' {
            text.parse::<i64>().ok().map(|n| Value::Number(n.into()))
        } else {
            text.parse::<u64>().ok().map(|n| Value::Number(n.into()))
        };
    }
    if let Some((whole, frac)) = unsigned.split_once('.')
        && digits(whole)
        && no_leading_zero(whole)
        && digits(frac)
    {
        let f: f64 = text.parse().ok()?;
        return Number::from_f64(f)
            .filter(|_| f.is_finite())
            .map(Value::Number);
    }
    // Other numeric forms (exponents, leading zeros, `inf`, `.5`) are left to serde_norway.
    None
}

/// The text of a double-quoted scalar's inside, escapes resolved.
fn double_quoted(inner: &str) -> Option<String> {
    if !inner.contains('\\') {
        return Some(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
            let s: String = chars.by_ref().take(n).collect();
            if s.len() != n || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            char::from_u32(u32::from_str_radix(&s, 16).ok()?)
        };
        out.push(match chars.next()? {
            '\\' => '\\',
            '"' => '"',
            '/' => '/',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'e' => '\u{1b}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            ' ' => ' ',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(&mut chars, 2)?,
            'u' => hex(&mut chars, 4)?,
            'U' => hex(&mut chars, 8)?,
            _ => return None,
        });
    }
    Some(out)
}

/// Deserializes a value read by this module into `T` under serde_norway's rules rather than
/// serde_json's, which accept more: a struct written as a sequence (fields by position) and a
/// unit enum variant written as a one-key map. `None` where serde_norway would refuse either,
/// or where `T` refuses the value, so the caller goes to serde_norway for the located error.
pub fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Option<T> {
    T::deserialize(Strict(v)).ok()
}

/// A `serde_json::Value` as a deserializer with YAML's shapes for structs and enums.
struct Strict(Value);

impl<'de> serde::Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => v.visit_u64(u),
                (_, Some(i), _) => v.visit_i64(i),
                (_, _, Some(f)) => v.visit_f64(f),
                _ => Err(serde::de::Error::custom("unrepresentable number")),
            },
            Value::String(s) => v.visit_string(s),
            Value::Array(items) => v.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => v.visit_map(Entries {
                entries: map.into_iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => v.visit_none(),
            other => v.visit_some(Strict(other)),
        }
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(v),
            _ => Err(serde::de::Error::custom("expected a mapping")),
        }
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        // In YAML a variant with data is a tagged node, which this module never reads; a
        // unit variant is a plain string.
        match self.0 {
            Value::String(s) => {
                v.visit_enum(serde::de::IntoDeserializer::<serde_json::Error>::into_deserializer(s))
            }
            _ => Err(serde::de::Error::custom("expected a variant name")),
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> serde::de::SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> serde::de::MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(Strict(Value::String(k))).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let v = self
            .value
            .take()
            .ok_or_else(|| serde::de::Error::custom("a value without its key"))?;
        seed.deserialize(Strict(v))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_with_spans};
    use crate::source::SpanIndex;
    use crate::suite::model::SuiteFile;
    use serde_json::{Value, json};

    /// The subset's answer, checked against serde_norway's whenever it gives one.
    fn agree(src: &str) -> Option<Value> {
        let fast = parse(src);
        if let Some(v) = &fast {
            let slow: Value = serde_norway::from_str(src).unwrap_or_else(|e| {
                panic!("fast path read what serde_norway rejects ({e}):\n{src}")
            });
            assert_eq!(v, &slow, "fast path and serde_norway differ on:\n{src}");
        }
        fast
    }

    #[test]
    fn reads_the_recorder_layout() {
        let src = "# comment\nprovenance:\n  source: authored\n  date: 2026-11-25\nexchanges:\n- request:\n    method: POST\n    body:\n      max_tokens: 62\n      temperature: 0.5\n      stop: null\n      messages:\n      - content: 'It''s {\"id\": 1}'\n        role: user\n      - content: \"tab\\there \\u00e9\"\n        role: assistant\n      tools: []\n  response:\n    status: 200\n    body: {}\n";
        let v = agree(src).expect("in the subset");
        assert_eq!(v["provenance"]["date"], json!("2026-11-25"));
        assert_eq!(
            v["exchanges"][0]["request"]["body"]["max_tokens"],
            json!(62)
        );
        assert_eq!(
            v["exchanges"][0]["request"]["body"]["messages"][1]["content"],
            json!("tab\there é")
        );
    }

    #[test]
    fn scalars_resolve_as_serde_norway_resolves_them_or_are_left_to_it() {
        for s in [
            "a: 2026-11-25",
            "a: -12",
            "a: 0",
            "a: -0",
            "a: 18446744073709551615",
            "a: 18446744073709551616",
            "a: 3.25",
            "a: -0.5",
            "a: 1e3",
            "a: 1.",
            "a: .5",
            "a: .inf",
            "a: -.inf",
            "a: .nan",
            "a: +1",
            "a: 007",
            "a: 0x1F",
            "a: 0o17",
            "a: 1_000",
            "a: inf",
            "a: NaN",
            "a: Infinity",
            "a: -inf",
            "a: -Infinity",
            "a: e5",
            "a: é",
            "a: 0X1f",
            "a: yes",
            "a: No",
            "a: on",
            "a: ~",
            "a:",
            "a: True",
            "a: FALSE",
            "a: 10ms",
            "a: 1.2.3",
            "a: '123'",
            "a: \"true\"",
            "a: x # comment",
            "a: 'x' # comment",
            "a: http://example.com/a#b",
            "a: b:c",
            "a: [1, 2]",
            "a: {b: 1}",
            "a: &x 1",
            "a: *x",
            "a: !!str 1",
            "a: |\n  text",
            "a: >\n  text",
            "a: two\n  lines",
            "a: 'two\n  lines'",
            "1: a",
            "true: a",
            "a: 1\na: 2",
            "\"a b\": 1",
            "'a''b': 1",
            "a:\n- 1\n- - 2\n  - 3",
            "a:\n  - x: 1\n    y: [] \n  -\n    z: 2",
            "- a\n- b: 1\n  c: 2",
            "---\na: 1",
            "a:\n\tb: 1",
            "a: \"\\x41\\U0001F600\\/\\q\"",
            "a: \"\\ud800\"",
            "a: -",
            "a: - b",
            "a: [a, b, ]",
            "a: {b: 1, }",
            "a: [x]y",
            "a: {b}",
            "a: {b: }",
            "a: [\"q\", 'r', 1.5, ~, true, 2026-11-25]",
            "a: { b: [1, {c: d}], e: 'f' }",
            "a: [a: 1]",
            "a: [1] # c",
            "a: [1]#c",
            "a: [a #b]",
            "a: [http://x.y/z, a:b]",
            "a: [1,2]",
            "a: {\"b\":1}",
            "a: [[], {}]",
            "- [1, 2]\n- {a: b}",
            "a: x\t",
            "a: \tx",
            "a: x\t# c",
            "k\t: v",
            "a: [x,\ty]",
            "-\tx: 1",
            "a:\tb: c",
            "a  : 1",
            "- a  : 1",
            "a: x\ry",
            "a: x\u{2028}",
            "a: 'x\u{85}'",
            "a:\n\u{2028}b: 1",
            "\u{feff}a: 1",
            "a: 1\n\u{feff}b: 2",
            "a: x\u{7f}",
            "a: '\u{1}'",
            "# \u{1}\na: 1",
            "a: \"\\x+1\"",
            "a: \"\\u+0e9\"",
            "a: [x:?y]",
            "a: {k: x:?y}",
            "a: {k:b: 1}",
            "a: 1\r\nb: 2\r\n",
            "",
        ] {
            agree(s);
        }
    }

    #[test]
    fn generated_values_round_trip_through_serde_norway() {
        // A small deterministic generator: nested maps and lists of the strings, numbers and
        // words where YAML's scalar rules bite, written by serde_norway as the recorder does.
        let atoms = [
            json!("plain text"),
            json!("2026-11-25"),
            json!("123"),
            json!("-7"),
            json!("1e5"),
            json!("true"),
            json!("null"),
            json!("~"),
            json!(""),
            json!(" leading space"),
            json!("trailing space "),
            json!("colon: inside"),
            json!("hash # inside"),
            json!("quote ' and \" both"),
            json!("line\nbreak"),
            json!("tab\tand unicode é ✓"),
            json!("{\"json\": [1, 2]}"),
            json!("- dash"),
            json!("*star"),
            json!(0),
            json!(42),
            json!(-42),
            json!(1.5),
            json!(-0.25),
            json!(1e300),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(true),
            json!(false),
            json!(null),
            json!([]),
            json!({}),
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        fn build(next: &mut dyn FnMut(usize) -> usize, atoms: &[Value], depth: u32) -> Value {
            match if depth == 0 { 0 } else { next(4) } {
                0 | 1 => atoms[next(atoms.len())].clone(),
                2 => Value::Array(
                    (0..next(4))
                        .map(|_| build(next, atoms, depth - 1))
                        .collect(),
                ),
                _ => {
                    let mut m = serde_json::Map::new();
                    for _ in 0..next(5) {
                        let key = match atoms[next(atoms.len())].clone() {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        m.insert(key, build(next, atoms, depth - 1));
                    }
                    Value::Object(m)
                }
            }
        }
        let mut answered = 0;
        for _ in 0..2000 {
            let mut doc = serde_json::Map::new();
            doc.insert("root".into(), build(&mut next, &atoms, 4));
            let text = serde_norway::to_string(&Value::Object(doc.clone())).unwrap();
            if let Some(v) = agree(&text) {
                assert_eq!(v, Value::Object(doc), "{text}");
                answered += 1;
            }
        }
        // The shortcut must actually be taken for most of what the recorder writes.
        assert!(answered > 1000, "only {answered} of 2000 in the subset");
    }

    #[test]
    fn every_shipped_yaml_file_agrees_and_recordings_take_the_shortcut() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut stack = vec![
            root.join("fixtures"),
            root.join("suites"),
            root.join("harness/tests"),
        ];
        let (mut recordings, mut answered) = (0, 0);
        let (mut suites, mut suites_answered, mut with_spans) = (0, 0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    let src = std::fs::read_to_string(&path).unwrap();
                    // Broken files are in there too: where serde_norway fails, the fast
                    // path must not answer.
                    let slow = serde_norway::from_str::<Value>(&src);
                    let fast = parse(&src);
                    match (&fast, &slow) {
                        (Some(f), Ok(s)) => assert_eq!(f, s, "{}", path.display()),
                        (Some(_), Err(e)) => {
                            panic!(
                                "{}: fast path read what serde_norway rejects: {e}",
                                path.display()
                            )
                        }
                        (None, _) => {}
                    }
                    // And typed, as a recording: the shortcut's `from_value` must accept
                    // exactly what serde_norway's typed read accepts, with the same result.
                    if let Some(f) = fast.clone()
                        && let Some(typed) = crate::record::format::from_block(f)
                    {
                        let slow =
                            serde_norway::from_str::<crate::record::format::RecordingFile>(&src)
                                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                        assert_eq!(
                            format!("{typed:?}"),
                            format!("{slow:?}"),
                            "{}",
                            path.display()
                        );
                    }
                    // With positions: the same index saphyr-parser gives.
                    if let Some((v, spans)) = crate::block_yaml::parse_with_spans(&src) {
                        assert_eq!(Some(&v), fast.as_ref());
                        let file: std::sync::Arc<str> = path.display().to_string().into();
                        let ours = SpanIndex::from_spans(file.clone(), spans).entries();
                        let saphyr = SpanIndex::build(file, &src).unwrap().entries();
                        assert_eq!(ours, saphyr, "{}", path.display());
                        with_spans += 1;
                    }
                    if let Some(f) = fast.clone()
                        && let Some(typed) = crate::block_yaml::typed::<SuiteFile>(f)
                    {
                        let slow = serde_norway::from_str::<SuiteFile>(&src)
                            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                        assert_eq!(
                            format!("{typed:?}"),
                            format!("{slow:?}"),
                            "{}",
                            path.display()
                        );
                    }
                    if path.starts_with(root.join("suites")) {
                        suites += 1;
                        suites_answered += fast.is_some() as usize;
                    }
                    if path.starts_with(root.join("fixtures")) {
                        recordings += 1;
                        answered += fast.is_some() as usize;
                    }
                }
            }
        }
        assert!(recordings > 100, "{recordings}");
        assert!(
            answered * 10 >= recordings * 9,
            "{answered} of {recordings}"
        );
        // Several shipped suites use folded descriptions or anchors, outside the subset.
        assert!(suites_answered >= 3, "{suites_answered} of {suites} suites");
        assert!(with_spans > 100, "{with_spans}");
    }

    #[test]
    fn typed_reads_refuse_what_serde_norway_refuses() {
        use crate::record::format::{RecordingFile, from_block as recording};
        use crate::suite::model::SuiteFile;
        let rec = |src: &str| {
            let fast = parse(src).and_then(recording);
            let slow = serde_norway::from_str::<RecordingFile>(src);
            assert_eq!(fast.is_some(), slow.is_ok(), "{src}: {slow:?}");
            fast.is_some()
        };
        // A struct written as a sequence, a unit variant written as a map.
        assert!(!rec("provenance: [authored, 2026-01-01]\nexchanges: []"));
        let ex = "exchanges:\n- request: {method: POST, path: /x}\n  response: {status: 200}";
        assert!(!rec(&format!(
            "provenance: {{source: {{live: ~}}, date: 2026-01-01}}\n{ex}"
        )));
        assert!(!rec(
            "provenance: {source: live, date: 2026-01-01}\nexchanges:\n- request: [POST, /v1/x]\n  response: {status: 200}"
        ));
        assert!(rec(&format!(
            "provenance: {{source: live, date: 2026-01-01}}\n{ex}"
        )));
        let suite = |src: &str| {
            let fast = parse(src).and_then(crate::block_yaml::typed::<SuiteFile>);
            let slow = serde_norway::from_str::<SuiteFile>(src);
            assert_eq!(fast.is_some(), slow.is_ok(), "{src}: {slow:?}");
            fast.is_some()
        };
        let head = "suite: s\ncategory: c\nscenarios:\n";
        let sc = "- id: x\n  title: t\n  request: {messages: [{user: hi}]}\n";
        assert!(!suite("- s\n- c\n- ~\n- []"));
        assert!(!suite(&format!("{head}- [x, t]")));
        assert!(!suite(&format!("{head}{sc}  priority: {{high: ~}}")));
        assert!(suite(&format!("{head}{sc}  priority: high")));
    }

    #[test]
    fn columns_count_characters_as_saphyr_does() {
        for src in ["é: [1, 2]", "a: {é: 1, b: 2}", "k: 'ü'\nl: [x, ✓, y]\n- z"] {
            if let Some((_, spans)) = parse_with_spans(src) {
                let file: std::sync::Arc<str> = "t.yaml".into();
                assert_eq!(
                    SpanIndex::from_spans(file.clone(), spans).entries(),
                    SpanIndex::build(file, src).unwrap().entries(),
                    "{src}"
                );
            }
        }
        assert!(parse_with_spans("é: [1, 2]").is_some());
    }

    #[test]
    fn the_common_scalars_take_the_shortcut() {
        for (src, want) in [
            ("a: 2026-11-25", json!({"a": "2026-11-25"})),
            ("a: -12", json!({"a": -12})),
            ("a: 3.25", json!({"a": 3.25})),
            ("a: ~", json!({"a": null})),
            ("a:", json!({"a": null})),
            ("a: FALSE", json!({"a": false})),
            ("a: yes", json!({"a": "yes"})),
            ("a: 'x' # c", json!({"a": "x"})),
            ("'a''b': \"\\x41\"", json!({"a'b": "A"})),
            ("a:\n- 1\nb: []", json!({"a": [1], "b": []})),
        ] {
            assert_eq!(agree(src), Some(want), "{src}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde_norway_instead_of_exhausting_the_stack() {
        let flow = format!("a: {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&flow), None);
        let block: String = (0..2_000)
            .map(|d| format!("{}k:\n", " ".repeat(d)))
            .collect::<String>()
            + &" ".repeat(2_000)
            + "k: 1\n";
        assert_eq!(parse(&block), None);
        // Mappings in sequence items and indentless sequences count too.
        let items: String = (0..800)
            .map(|d| format!("{}- a:\n", "  ".repeat(d)))
            .collect::<String>()
            + &"  ".repeat(800)
            + "- 1\n";
        assert_eq!(parse(&items), None);
        let long_key = format!("{}: 1", "k".repeat(1025));
        assert_eq!(agree(&long_key), None);
        // Within the limit, nesting is read.
        assert_eq!(parse("a: [[[1]]]"), Some(json!({"a": [[[1]]]})));
    }
}
