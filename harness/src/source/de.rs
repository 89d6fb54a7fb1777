//! Typed reading of a parsed YAML document ([`Doc`]) through serde.
//!
//! It reads YAML as serde_norway did, so suites keep their meaning and their messages: plain
//! scalars resolve by the YAML 1.2 core schema (`true`, `null`, `~`, `0x1f`, `.inf`; `yes` and
//! `012` stay strings), quoted scalars are always strings, a field typed as a string takes any
//! scalar as written, and an enum is a scalar naming its variant (or a `!variant` tag).
//!
//! An error carries the path of the node it is about (`scenarios[0].expect.status`) and that
//! node's position: the innermost node being read when it was raised. An unknown field is
//! raised while reading its key, so it points at the key.
//!
//! Aliases are expanded as they are read, against a budget: every alias spends the size of
//! the subtree it repeats, and a document may spend [`EXPANSION_FACTOR`] times its own size,
//! so an alias bomb ("billion laughs") is refused after linear work. Nesting, through aliases
//! included, stops at [`MAX_DEPTH`].

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use saphyr_parser::{ScalarStyle, Tag};
use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};

use super::events::{Doc, Kind, MAX_DEPTH};

/// How many times its own size a document may grow by expanding aliases.
pub(crate) const EXPANSION_FACTOR: usize = 10;
/// The expansion every document may spend, however small.
const EXPANSION_FLOOR: usize = 10_000;

/// A reading error: the message, and the path and position of the node it is about.
#[derive(Debug)]
pub(crate) struct Error {
    pub msg: String,
    /// `(path, line, col)`, filled in by the innermost node that saw the error pass.
    pub at: Option<(String, u32, u32)>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some((path, ..)) if path != "." => write!(f, "{path}: {}", self.msg),
            _ => f.write_str(&self.msg),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error {
            msg: msg.to_string(),
            at: None,
        }
    }
}

/// Where a node sits in the document, spelled as serde_norway spelled it.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Seq { parent: &'p Path<'p>, index: usize },
    Map { parent: &'p Path<'p>, key: &'p str },
    Unknown { parent: &'p Path<'p> },
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent = |f: &mut fmt::Formatter<'_>, p: &Path<'_>| match p {
            Path::Root => Ok(()),
            p => write!(f, "{p}."),
        };
        match self {
            Path::Root => f.write_str("."),
            Path::Seq { parent, index } => write!(f, "{parent}[{index}]"),
            Path::Map { parent: p, key } => {
                parent(f, p)?;
                f.write_str(key)
            }
            Path::Unknown { parent: p } => {
                parent(f, p)?;
                f.write_str("?")
            }
        }
    }
}

/// Reads `T` from `doc`.
pub(crate) fn from_doc<'a, T: de::Deserialize<'a>>(doc: &Doc<'a>) -> Result<T, Error> {
    let budget = Cell::new(
        doc.events
            .len()
            .saturating_mul(EXPANSION_FACTOR)
            .max(EXPANSION_FLOOR),
    );
    T::deserialize(De {
        doc,
        pos: 0,
        path: Path::Root,
        budget: &budget,
        depth: 0,
    })
}

/// A deserializer for the node at `pos`.
#[derive(Clone, Copy)]
struct De<'p, 'a> {
    doc: &'p Doc<'a>,
    pos: usize,
    path: Path<'p>,
    budget: &'p Cell<usize>,
    depth: usize,
}

impl<'p, 'a> De<'p, 'a> {
    /// Follows an alias to its node, spending the budget; any other node is itself.
    fn resolve(mut self) -> Result<Self, Error> {
        if let Kind::Alias(target) = self.doc.events[self.pos].kind {
            let size = self.doc.skip(target) - target;
            match self.budget.get().checked_sub(size) {
                Some(left) => self.budget.set(left),
                None => return Err(self.locate(de::Error::custom("repetition limit exceeded"))),
            }
            self.pos = target;
        }
        Ok(self)
    }

    fn kind(&self) -> &'p Kind<'a> {
        &self.doc.events[self.pos].kind
    }

    /// Gives `e` this node's path and position unless an inner node already did.
    fn locate(&self, mut e: Error) -> Error {
        if e.at.is_none() {
            let (line, col) = self.doc.pos(self.pos);
            e.at = Some((self.path.to_string(), line, col));
        }
        e
    }

    fn nested(&self) -> Result<usize, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.locate(de::Error::custom("recursion limit exceeded")));
        }
        Ok(self.depth + 1)
    }

    fn visit_seq<V: Visitor<'a>>(self, visitor: V, end: usize) -> Result<V::Value, Error> {
        let mut access = SeqAccess {
            de: self,
            depth: self.nested()?,
            cur: self.pos + 1,
            end,
            index: 0,
        };
        let value = visitor.visit_seq(&mut access)?;
        if access.cur < end {
            let mut total = access.index;
            while access.cur < end {
                access.cur = self.doc.skip(access.cur);
                total += 1;
            }
            return Err(de::Error::invalid_length(
                total,
                &Count(access.index, "sequence of"),
            ));
        }
        Ok(value)
    }

    fn visit_map<V: Visitor<'a>>(self, visitor: V, end: usize) -> Result<V::Value, Error> {
        let mut access = MapAccess {
            de: self,
            depth: self.nested()?,
            cur: self.pos + 1,
            end,
            key: None,
            len: 0,
        };
        let value = visitor.visit_map(&mut access)?;
        if access.cur < end {
            let mut total = access.len;
            while access.cur < end {
                access.cur = self.doc.skip(self.doc.skip(access.cur));
                total += 1;
            }
            return Err(de::Error::invalid_length(
                total,
                &Count(access.len, "map containing"),
            ));
        }
        Ok(value)
    }

    /// A plain scalar, resolved by the core schema, or an enum for a local `!tag`.
    fn any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            Kind::Scalar { value, style, tag } => match local_tag(tag) {
                Some(t) => visitor.visit_enum(TagAccess { de: self, tag: t }),
                None => visit_scalar(visitor, value, *style, tag.as_deref()),
            },
            Kind::SeqStart { end, tag } => match local_tag(tag) {
                Some(t) => visitor.visit_enum(TagAccess { de: self, tag: t }),
                None => self.visit_seq(visitor, *end),
            },
            Kind::MapStart { end, tag } => match local_tag(tag) {
                Some(t) => visitor.visit_enum(TagAccess { de: self, tag: t }),
                None => self.visit_map(visitor, *end),
            },
            Kind::SeqEnd | Kind::MapEnd | Kind::Alias(_) => {
                unreachable!("a node starts with a value")
            }
        }
    }

    /// A number, bool or null: only from a plain scalar (or one tagged as that type).
    fn typed<V: Visitor<'a>>(
        self,
        visitor: V,
        core: &str,
        parse: impl FnOnce(&str, V) -> Result<Result<V::Value, Error>, V>,
    ) -> Result<V::Value, Error> {
        if let Kind::Scalar { value, style, tag } = self.kind() {
            let tagged = tag.as_deref().is_some_and(|t| is_core(t, core));
            if *style == ScalarStyle::Plain || tagged {
                match parse(value, visitor) {
                    Ok(result) => return result,
                    Err(visitor) => return Err(invalid_type(self.kind(), &visitor)),
                }
            }
        }
        Err(invalid_type(self.kind(), &visitor))
    }

    fn is_null(&self) -> bool {
        matches!(self.kind(), Kind::Scalar { value, style: ScalarStyle::Plain, tag }
            if tag.as_deref().is_none_or(|t| is_core(t, "null")) && (value.is_empty() || is_null(value)))
    }

    fn is_empty_plain(&self) -> bool {
        matches!(self.kind(), Kind::Scalar { value, style: ScalarStyle::Plain, tag: None } if value.is_empty())
    }
}

struct Count(usize, &'static str);

impl Expected for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = match (self.1, self.0) {
            ("sequence of", 1) => "element",
            ("sequence of", _) => "elements",
            (_, 1) => "entry",
            _ => "entries",
        };
        write!(f, "{} {} {noun}", self.1, self.0)
    }
}

fn is_core(tag: &Tag, name: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == name
}

/// The variant a local tag (`!name`) names.
fn local_tag<'t>(tag: &'t Option<Cow<'_, Tag>>) -> Option<&'t str> {
    match tag.as_deref() {
        Some(t) if t.handle == "!" && !t.suffix.is_empty() => Some(&t.suffix),
        _ => None,
    }
}

fn is_null(v: &str) -> bool {
    matches!(v, "null" | "Null" | "NULL" | "~")
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Leading zeros followed by digits are a string in YAML 1.2.
fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer in decimal, `0x`, `0o` or `0b`, with an optional sign; `T` decides the range.
fn parse_int<T: num::Int>(v: &str) -> Option<T> {
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    if digits.starts_with(['+', '-']) || digits.is_empty() {
        return None;
    }
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ if digits_but_not_number(v) => return None,
        _ => (10, digits),
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    T::parse(neg, body, radix)
}

/// A float, `.inf`, `-.inf` or `.nan`; never a non-finite float spelled otherwise (`inf`).
fn parse_f64(v: &str) -> Option<f64> {
    let unsigned = match v.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => v,
    };
    match (unsigned, v) {
        (".inf" | ".Inf" | ".INF", _) => return Some(f64::INFINITY),
        (_, "-.inf" | "-.Inf" | "-.INF") => return Some(f64::NEG_INFINITY),
        (_, ".nan" | ".NaN" | ".NAN") => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Integer parsing for the widths serde asks for.
mod num {
    pub(crate) trait Int: Sized {
        fn parse(neg: bool, digits: &str, radix: u32) -> Option<Self>;
    }

    macro_rules! unsigned {
        ($($t:ty)*) => {$(
            impl Int for $t {
                fn parse(neg: bool, digits: &str, radix: u32) -> Option<Self> {
                    match (neg, <$t>::from_str_radix(digits, radix).ok()?) {
                        (false, n) => Some(n),
                        (true, 0) => Some(0),
                        (true, _) => None,
                    }
                }
            }
        )*};
    }

    macro_rules! signed {
        ($($t:ty)*) => {$(
            impl Int for $t {
                fn parse(neg: bool, digits: &str, radix: u32) -> Option<Self> {
                    if neg {
                        <$t>::from_str_radix(&format!("-{digits}"), radix).ok()
                    } else {
                        <$t>::from_str_radix(digits, radix).ok()
                    }
                }
            }
        )*};
    }

    unsigned!(u64 u128);
    signed!(i64 i128);
}

/// True when a plain scalar `v` reads as a string (not a null, bool or number).
pub(crate) fn reads_as_plain_string(v: &str) -> bool {
    !v.is_empty()
        && !is_null(v)
        && parse_bool(v).is_none()
        && parse_int::<i128>(v).is_none()
        && parse_int::<u128>(v).is_none()
        && (digits_but_not_number(v) || parse_f64(v).is_none())
}

/// Visits an integer with the narrowest type that holds it, as serde_norway does.
fn visit_int<'a, V: Visitor<'a>>(v: &str, visitor: V) -> Result<Result<V::Value, Error>, V> {
    if let Some(n) = parse_int::<u64>(v) {
        return Ok(visitor.visit_u64(n));
    }
    if let Some(n) = parse_int::<i64>(v) {
        return Ok(visitor.visit_i64(n));
    }
    if let Some(n) = parse_int::<u128>(v) {
        return Ok(visitor.visit_u128(n));
    }
    if let Some(n) = parse_int::<i128>(v) {
        return Ok(visitor.visit_i128(n));
    }
    Err(visitor)
}

fn visit_str<'a, V: Visitor<'a>>(visitor: V, value: &Cow<'a, str>) -> Result<V::Value, Error> {
    match value {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_str(s),
    }
}

/// A scalar as `deserialize_any` sees it: plain scalars by the core schema, the rest strings.
fn visit_scalar<'a, V: Visitor<'a>>(
    visitor: V,
    value: &Cow<'a, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<V::Value, Error> {
    let as_typed = |core: &str, ok: bool| -> Result<(), Error> {
        if ok {
            Ok(())
        } else {
            Err(de::Error::invalid_value(Unexpected::Str(value), &core))
        }
    };
    match tag
        .filter(|t| t.is_yaml_core_schema())
        .map(|t| t.suffix.as_str())
    {
        Some("bool") => {
            let b = parse_bool(value);
            as_typed("a boolean", b.is_some())?;
            return visitor.visit_bool(b.unwrap_or_default());
        }
        Some("int") => {
            return match visit_int(value, visitor) {
                Ok(result) => result,
                Err(_) => Err(de::Error::invalid_value(
                    Unexpected::Str(value),
                    &"an integer",
                )),
            };
        }
        Some("float") => {
            let f = parse_f64(value);
            as_typed("a float", f.is_some())?;
            return visitor.visit_f64(f.unwrap_or_default());
        }
        Some("null") => {
            as_typed("null", is_null(value) || value.is_empty())?;
            return visitor.visit_unit();
        }
        Some(_) => return visit_str(visitor, value),
        None => {}
    }
    if style != ScalarStyle::Plain {
        return visit_str(visitor, value);
    }
    if value.is_empty() || is_null(value) {
        return visitor.visit_unit();
    }
    if let Some(b) = parse_bool(value) {
        return visitor.visit_bool(b);
    }
    let visitor = match visit_int(value, visitor) {
        Ok(result) => return result,
        Err(visitor) => visitor,
    };
    if !digits_but_not_number(value)
        && let Some(f) = parse_f64(value)
    {
        return visitor.visit_f64(f);
    }
    visit_str(visitor, value)
}

/// "invalid type: string \"x\", expected u16", naming what the node resolves to.
fn invalid_type(kind: &Kind<'_>, exp: &dyn Expected) -> Error {
    match kind {
        Kind::Scalar { value, style, tag } => {
            struct Probe<'e>(&'e dyn Expected);
            impl<'de> Visitor<'de> for Probe<'_> {
                type Value = std::convert::Infallible;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt(f)
                }
            }
            match visit_scalar(Probe(exp), value, *style, tag.as_deref()) {
                Ok(never) => match never {},
                Err(e) => e,
            }
        }
        Kind::SeqStart { .. } => de::Error::invalid_type(Unexpected::Seq, exp),
        _ => de::Error::invalid_type(Unexpected::Map, exp),
    }
}

macro_rules! forward_typed {
    ($($method:ident => $via:ident,)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            self.$via(visitor)
        }
    )*};
}

impl<'p, 'a> de::Deserializer<'a> for De<'p, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.any(visitor).map_err(|e| de.locate(e))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "bool", |v, visitor| match parse_bool(v) {
            Some(b) => Ok(visitor.visit_bool(b)),
            None => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    fn deserialize_i64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "int", |v, visitor| match parse_int::<i64>(v) {
            Some(n) => Ok(visitor.visit_i64(n)),
            None => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    fn deserialize_i128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "int", |v, visitor| match parse_int::<i128>(v) {
            Some(n) => Ok(visitor.visit_i128(n)),
            None => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    fn deserialize_u64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "int", |v, visitor| match parse_int::<u64>(v) {
            Some(n) if !v.starts_with('-') => Ok(visitor.visit_u64(n)),
            _ => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    fn deserialize_u128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "int", |v, visitor| match parse_int::<u128>(v) {
            Some(n) if !v.starts_with('-') => Ok(visitor.visit_u128(n)),
            _ => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        de.typed(visitor, "float", |v, visitor| match parse_f64(v) {
            Some(f) => Ok(visitor.visit_f64(f)),
            None => Err(visitor),
        })
        .map_err(|e| de.locate(e))
    }

    forward_typed! {
        deserialize_i8 => deserialize_i64,
        deserialize_i16 => deserialize_i64,
        deserialize_i32 => deserialize_i64,
        deserialize_u8 => deserialize_u64,
        deserialize_u16 => deserialize_u64,
        deserialize_u32 => deserialize_u64,
        deserialize_f32 => deserialize_f64,
        deserialize_char => deserialize_str,
        deserialize_string => deserialize_str,
        deserialize_identifier => deserialize_str,
        deserialize_bytes => deserialize_any,
        deserialize_byte_buf => deserialize_any,
    }

    /// Any scalar as written: `model: 4o` and `content: 42` are both strings here.
    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        match de.kind() {
            Kind::Scalar { value, .. } => visit_str(visitor, value),
            other => Err(invalid_type(other, &visitor)),
        }
        .map_err(|e| de.locate(e))
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        if de.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(de)
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        match de.kind() {
            _ if de.is_null() => visitor.visit_unit(),
            Kind::Scalar { value, .. } => {
                Err(de::Error::invalid_value(Unexpected::Str(value), &"null"))
            }
            other => Err(invalid_type(other, &visitor)),
        }
        .map_err(|e| de.locate(e))
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let depth = self.nested()?;
        visitor.visit_newtype_struct(De { depth, ..self })
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        match de.kind() {
            Kind::SeqStart { end, .. } => de.visit_seq(visitor, *end),
            // An empty value (`tags:`) reads as an empty list.
            _ if de.is_empty_plain() => visitor.visit_seq(de::value::SeqDeserializer::<
                std::iter::Empty<()>,
                Error,
            >::new(std::iter::empty())),
            other => Err(invalid_type(other, &visitor)),
        }
        .map_err(|e| de.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        match de.kind() {
            Kind::MapStart { end, .. } => de.visit_map(visitor, *end),
            // An empty value (`expect:`) reads as an empty mapping.
            _ if de.is_empty_plain() => visitor.visit_map(de::value::MapDeserializer::<
                std::iter::Empty<((), ())>,
                Error,
            >::new(std::iter::empty())),
            other => Err(invalid_type(other, &visitor)),
        }
        .map_err(|e| de.locate(e))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// A scalar names a unit variant; a `!variant` tag introduces any other.
    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let de = self.resolve()?;
        let (tag, unexpected) = match de.kind() {
            Kind::Scalar { tag, .. } => (tag, None),
            Kind::SeqStart { tag, .. } => (tag, Some(Unexpected::Seq)),
            Kind::MapStart { tag, .. } => (tag, Some(Unexpected::Map)),
            _ => unreachable!("a node starts with a value"),
        };
        match (local_tag(tag), unexpected) {
            (Some(t), _) => visitor.visit_enum(TagAccess { de, tag: t }),
            (None, None) => visitor.visit_enum(UnitAccess { de }),
            (None, Some(u)) => Err(de::Error::invalid_type(u, &"a YAML tag starting with '!'")),
        }
        .map_err(|e| de.locate(e))
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct SeqAccess<'p, 'a> {
    de: De<'p, 'a>,
    depth: usize,
    cur: usize,
    end: usize,
    index: usize,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'_, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.cur >= self.end {
            return Ok(None);
        }
        let item = De {
            pos: self.cur,
            path: Path::Seq {
                parent: &self.de.path,
                index: self.index,
            },
            depth: self.depth,
            ..self.de
        };
        self.cur = self.de.doc.skip(self.cur);
        self.index += 1;
        seed.deserialize(item).map(Some)
    }
}

struct MapAccess<'p, 'a> {
    de: De<'p, 'a>,
    depth: usize,
    cur: usize,
    end: usize,
    /// The key whose value comes next, when it is a scalar.
    key: Option<&'p str>,
    len: usize,
}

impl<'p, 'a> de::MapAccess<'a> for MapAccess<'p, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.cur >= self.end {
            return Ok(None);
        }
        let doc: &'p Doc<'a> = self.de.doc;
        self.key = match &doc.events[self.cur].kind {
            Kind::Scalar { value, .. } => Some(&**value),
            _ => None,
        };
        // A key is read with its mapping's path, so an unknown field is reported as a
        // problem of the mapping, at the key.
        let key = De {
            pos: self.cur,
            depth: self.depth,
            ..self.de
        };
        self.cur = doc.skip(self.cur);
        self.len += 1;
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let path = match self.key {
            Some(key) => Path::Map {
                parent: &self.de.path,
                key,
            },
            None => Path::Unknown {
                parent: &self.de.path,
            },
        };
        let value = De {
            pos: self.cur,
            path,
            depth: self.depth,
            ..self.de
        };
        self.cur = self.de.doc.skip(self.cur);
        seed.deserialize(value)
    }
}

/// An enum written as a plain scalar: the scalar names a unit variant.
struct UnitAccess<'p, 'a> {
    de: De<'p, 'a>,
}

impl<'p, 'a> de::EnumAccess<'a> for UnitAccess<'p, 'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        Ok((seed.deserialize(self.de)?, self))
    }
}

impl<'a> de::VariantAccess<'a> for UnitAccess<'_, 'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, _v: V) -> Result<V::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, Error> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}

/// An enum written with a local tag (`!variant value`): the tag names the variant, the node
/// (read without its tag) is its content.
struct TagAccess<'p, 'a> {
    de: De<'p, 'a>,
    tag: &'p str,
}

impl<'p, 'a> de::EnumAccess<'a> for TagAccess<'p, 'a> {
    type Error = Error;
    type Variant = Untagged<'p, 'a>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Untagged<'p, 'a>), Error> {
        let variant = seed.deserialize(self.tag.into_deserializer())?;
        Ok((variant, Untagged { de: self.de }))
    }
}

/// The content of a tagged variant.
struct Untagged<'p, 'a> {
    de: De<'p, 'a>,
}

impl<'a> de::VariantAccess<'a> for Untagged<'_, 'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, Error> {
        match self.de.kind() {
            Kind::Scalar { value, style, .. } => seed.deserialize(UntaggedScalar {
                value,
                style: *style,
            }),
            _ => seed.deserialize(Stripped(self.de)),
        }
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(Stripped(self.de), v)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(Stripped(self.de), v)
    }
}

/// A tagged collection read as its plain content (a tag is read once, as the variant).
struct Stripped<'p, 'a>(De<'p, 'a>);

impl<'de> de::Deserializer<'de> for Stripped<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let de = self.0;
        match de.kind() {
            Kind::SeqStart { end, .. } => de.visit_seq(visitor, *end),
            Kind::MapStart { end, .. } => de.visit_map(visitor, *end),
            _ => de.deserialize_any(visitor),
        }
        .map_err(|e| de.locate(e))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A tagged scalar's text, read as an untagged one would be.
struct UntaggedScalar<'s, 'a> {
    value: &'s Cow<'a, str>,
    style: ScalarStyle,
}

impl<'de> de::Deserializer<'de> for UntaggedScalar<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_scalar(visitor, self.value, self.style, None)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_str(visitor, self.value)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_str(visitor, self.value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::{Value, json};

    use super::super::events::parse;
    use super::*;

    fn read<T: de::DeserializeOwned>(src: &str) -> Result<T, Error> {
        from_doc(&parse(src).unwrap())
    }

    #[test]
    fn plain_scalars_resolve_by_the_yaml_1_2_core_schema() {
        let v: Value = read(
            "a: yes\nb: true\nc: ~\nd:\ne: 012\nf: 0x1f\ng: -3\nh: 1.5\ni: '7'\nj: \"true\"\nk: 1e3\nl: +5\nm: .inf\n",
        )
        .unwrap();
        assert_eq!(v["a"], json!("yes"));
        assert_eq!(v["b"], json!(true));
        assert_eq!(v["c"], Value::Null);
        assert_eq!(v["d"], Value::Null);
        assert_eq!(v["e"], json!("012"));
        assert_eq!(v["f"], json!(31));
        assert_eq!(v["g"], json!(-3));
        assert_eq!(v["h"], json!(1.5));
        assert_eq!(v["i"], json!("7"));
        assert_eq!(v["j"], json!("true"));
        assert_eq!(v["k"], json!(1000.0));
        assert_eq!(v["l"], json!(5));
        // serde_json has no infinity: it reads as null, as it did before.
        assert_eq!(v["m"], Value::Null);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Typed {
        name: String,
        #[serde(default)]
        count: Option<u16>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        kind: Option<Colour>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Colour {
        Red,
        Blue,
    }

    #[test]
    fn a_string_field_takes_any_scalar_as_written() {
        let t: Typed = read("name: 0123\ncount: 7\ntags: [1.50, true, x]\nkind: red\n").unwrap();
        assert_eq!(t.name, "0123");
        assert_eq!(t.count, Some(7));
        assert_eq!(t.tags, ["1.50", "true", "x"]);
        assert_eq!(t.kind, Some(Colour::Red));
        let t: Typed = read("name: a\ncount: ~\ntags:\n").unwrap();
        assert_eq!((t.count, t.tags.len()), (None, 0));
    }

    fn message(src: &str) -> (String, u32, u32) {
        let e = read::<Vec<Typed>>(src).unwrap_err();
        let (_, line, col) = e.at.clone().unwrap();
        (e.to_string(), line, col)
    }

    #[test]
    fn errors_name_the_path_and_point_at_the_node() {
        assert_eq!(
            message("- name: a\n  count: '7'\n"),
            (
                ".[0].count: invalid type: string \"7\", expected u16".into(),
                2,
                10
            )
        );
        let (msg, line, col) = message("- name: a\n- name: b\n  colour: 1\n");
        assert!(msg.starts_with(".[1]: unknown field `colour`"), "{msg}");
        assert_eq!((line, col), (3, 3));
        let (msg, line, col) = message("- name: a\n  kind: green\n");
        assert!(
            msg.starts_with(".[0].kind: unknown variant `green`"),
            "{msg}"
        );
        assert_eq!((line, col), (2, 9));
        let (msg, line, col) = message("- count: 1\n");
        assert_eq!(msg, ".[0]: missing field `name`");
        assert_eq!((line, col), (1, 3));
        let (msg, ..) = message("- name: a\n  count: 70000\n");
        assert!(msg.contains("invalid value: integer `70000`"), "{msg}");
        let (msg, ..) = message("- name: [a]\n");
        assert!(
            msg.contains("invalid type: sequence, expected a string"),
            "{msg}"
        );
    }

    #[test]
    fn aliases_are_expanded_within_the_budget() {
        let v: BTreeMap<String, Value> = read("a: &x {k: [1, 2]}\nb: *x\n").unwrap();
        assert_eq!(v["a"], v["b"]);
        // Ten levels of ten: 10^10 nodes if expanded.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = read::<BTreeMap<String, Value>>(&bomb).unwrap_err();
        assert!(e.msg.contains("repetition limit exceeded"), "{e}");
        // Skipping an alias costs nothing: a field that is ignored is never expanded.
        #[derive(Deserialize)]
        struct OnlyA {
            #[allow(dead_code)]
            a0: Vec<String>,
        }
        let only: Result<OnlyA, _> = read(&bomb);
        assert!(only.is_ok());
    }

    #[test]
    fn nesting_through_aliases_is_bounded() {
        // Each anchor nests 100 levels inside the previous one: 1,000 levels when read.
        let mut src = String::new();
        for i in 0..10 {
            let inner = if i == 0 {
                "x".to_string()
            } else {
                format!("*a{}", i - 1)
            };
            src.push_str(&format!(
                "a{i}: &a{i} {}{inner}{}\n",
                "[".repeat(100),
                "]".repeat(100)
            ));
        }
        let e = read::<Value>(&src).unwrap_err();
        assert!(e.msg.contains("recursion limit exceeded"), "{e}");
    }

    #[test]
    fn a_local_tag_names_an_enum_variant() {
        #[derive(Debug, Deserialize, PartialEq)]
        enum Shape {
            Circle(f64),
            Square { side: u32 },
        }
        let v: Vec<Shape> = read("- !Circle 1.5\n- !Square {side: 2}\n").unwrap();
        assert_eq!(v, [Shape::Circle(1.5), Shape::Square { side: 2 }]);
    }
}
