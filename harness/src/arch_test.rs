//! Keeps the module map in `lib.rs` true: every top-level module imports only from the layers
//! below its own. It reads the crate's sources, collects each file's `crate::<module>` (and
//! `super::` paths that climb to the crate root) outside comments and test-only code, and
//! checks them against the layers listed in `lib.rs`'s doc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges known to point upward, each with who removes it. The test fails when one of them
/// disappears, so the list only shrinks.
/// Add one only with the plan that removes it.
const KNOWN_BACK_EDGES: &[(&str, &str)] = &[];

/// One import that breaks the order: the file, the importing and the imported module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    file: String,
    from: String,
    to: String,
}

/// The layers of the module map, bottom first: the lines of `lib.rs`'s doc between
/// `Module map` and the first line that lists no module, each giving the backticked module
/// names of one layer.
fn layers_from_doc(lib_rs: &str) -> Vec<Vec<String>> {
    let doc = lib_rs
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""));
    let mut layers = Vec::new();
    let mut inside = false;
    for line in doc {
        if line.contains("Module map") {
            inside = true;
            continue;
        }
        let item = line
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        match item {
            _ if !inside => {}
            Some((_, rest)) => {
                // The names are the backticked words before the description's colon.
                let names = rest.split(':').next().unwrap_or("");
                layers.push(
                    names
                        .split('`')
                        .skip(1)
                        .step_by(2)
                        .map(str::to_string)
                        .collect(),
                );
            }
            // A continuation line of an item.
            None if line.starts_with("   ") => {}
            None if layers.is_empty() => {}
            None => break,
        }
    }
    layers
}

/// The modules `lib.rs` declares.
fn declared_modules(lib_rs: &str) -> BTreeSet<String> {
    let mut cfg_test = false;
    let mut out = BTreeSet::new();
    for line in lib_rs.lines().map(str::trim) {
        if line.starts_with("#[cfg(test)]") {
            cfg_test = true;
            continue;
        }
        let decl = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("pub(crate) mod "))
            .or_else(|| line.strip_prefix("mod "));
        if let Some(name) = decl.and_then(|d| d.strip_suffix(';'))
            && !cfg_test
        {
            out.insert(name.to_string());
        }
        cfg_test = false;
    }
    out
}

/// `src` with comments, string literals and `#[cfg(test)]` items (a `mod tests { .. }` or
/// any braced item after the attribute) blanked out, so only code that ships is read.
fn shipped_code(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if src[i..].starts_with("#[cfg(test)]") {
            // Skip the attribute and the item: to its `;` or its matching closing brace.
            let mut j = i + "#[cfg(test)]".len();
            let mut depth = 0usize;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    b';' if depth == 0 => {
                        j += 1;
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j;
            continue;
        }
        if src[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if src[i..].starts_with("/*") {
            i = src[i..].find("*/").map_or(b.len(), |k| i + k + 2);
            continue;
        }
        if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            // A string literal (raw strings in this crate hold no `"crate::`).
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The top-level modules a file's code names: `crate::x`, the items of `crate::{x, y::z}`,
/// and `super::` paths that climb to the crate root from `depth` (0 for `src/x.rs` and
/// `src/x/mod.rs`, 1 for `src/x/y.rs`, ...).
fn referenced(code: &str, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(k) = rest.find("crate::") {
        let boundary = rest[..k]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        rest = &rest[k + "crate::".len()..];
        if !boundary {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0.
            let mut depth = 0usize;
            let mut start = true;
            for (n, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        start = false;
                        let name = ident(&group[n..]);
                        if !name.is_empty() && name != "self" {
                            out.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    // `super::` chains: the crate root is `depth + 1` levels up.
    let supers = "super::".repeat(depth + 1);
    let mut rest = code;
    while let Some(k) = rest.find(&supers) {
        let before = rest[..k].chars().next_back();
        rest = &rest[k + supers.len()..];
        if before.is_some_and(|c| c == ':') || rest.starts_with("super::") {
            continue;
        }
        let name = ident(rest);
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Every `.rs` file under `dir`, except the files `#[cfg(test)] mod x;` declares.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Files declared only for tests (`#[cfg(test)] mod x;`), as paths relative to `src`.
fn test_only_files(src: &Path, files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let dir = match f.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => f.parent().unwrap_or(src).to_path_buf(),
            _ => f.with_extension(""),
        };
        let mut lines = text.lines().map(str::trim).peekable();
        while let Some(line) = lines.next() {
            if line != "#[cfg(test)]" {
                continue;
            }
            let Some(next) = lines.peek() else { break };
            let name = next
                .trim_start_matches("pub(crate) ")
                .strip_prefix("mod ")
                .and_then(|n| n.strip_suffix(';'));
            if let Some(name) = name {
                out.insert(dir.join(format!("{name}.rs")));
                out.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

/// The imports between top-level modules, per file: `(file relative to src, from, to)`.
fn crate_edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let test_only = test_only_files(src, &files);
    let mut edges = Vec::new();
    for f in &files {
        if test_only.contains(f) {
            continue;
        }
        let rel = f.strip_prefix(src).unwrap_or(f);
        let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        let Some(first) = parts.first() else { continue };
        if matches!(*first, "lib.rs" | "main.rs" | "arch_test.rs") {
            continue;
        }
        let from = first.trim_end_matches(".rs").to_string();
        let depth = match parts.last() {
            Some(&"mod.rs") => parts.len() - 2,
            _ => parts.len() - 1,
        };
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for to in referenced(&shipped_code(&text), depth) {
            if to != from {
                edges.push(Edge {
                    file: rel.display().to_string(),
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    edges
}

/// The edges that break `layers`: an import of a module in the same or a higher layer. A
/// module missing from the map is reported as an edge to or from `?`.
fn violations(layers: &[Vec<String>], edges: &[Edge]) -> Vec<Edge> {
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (m.as_str(), i)))
        .collect();
    let mut bad = Vec::new();
    for e in edges {
        let (Some(from), Some(to)) = (rank.get(e.from.as_str()), rank.get(e.to.as_str())) else {
            let unknown = if rank.contains_key(e.from.as_str()) {
                &e.to
            } else {
                &e.from
            };
            bad.push(Edge {
                file: e.file.clone(),
                from: e.from.clone(),
                to: format!("{} (`{unknown}` is not in the module map)", e.to),
            });
            continue;
        };
        if to >= from {
            bad.push(e.clone());
        }
    }
    bad.sort();
    bad
}

#[test]
fn the_module_map_in_lib_rs_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let layers = layers_from_doc(&lib);
    assert!(
        layers.len() > 3,
        "no module map found in lib.rs: {layers:?}"
    );
    let mapped: BTreeSet<String> = layers.iter().flatten().cloned().collect();
    let declared = declared_modules(&lib);
    assert_eq!(
        mapped, declared,
        "lib.rs's module map and its `mod` declarations list different modules"
    );
    let edges = crate_edges(&root.join("src"));
    assert!(
        edges.iter().any(|e| e.from == "run" && e.to == "suite"),
        "the edge reader found none of the known imports: {edges:?}"
    );
    let mut bad = violations(&layers, &edges);
    for &(from, to) in KNOWN_BACK_EDGES {
        assert!(
            bad.iter().any(|e| e.from == from && e.to == to),
            "{from} -> {to} no longer points upward: remove it from KNOWN_BACK_EDGES in \
             src/arch_test.rs"
        );
    }
    bad.retain(|e| !KNOWN_BACK_EDGES.contains(&(e.from.as_str(), e.to.as_str())));
    let report: Vec<String> = bad
        .iter()
        .map(|e| format!("{}: {} -> {}", e.file, e.from, e.to))
        .collect();
    assert!(
        report.is_empty(),
        "imports against the module map in lib.rs (a module imports only from lower layers):\n{}",
        report.join("\n")
    );
}

#[test]
fn a_back_edge_is_caught_with_its_file() {
    let layers = vec![
        vec!["neutral".to_string()],
        vec!["dialect".to_string()],
        vec!["run".to_string()],
    ];
    let edge = |file: &str, from: &str, to: &str| Edge {
        file: file.into(),
        from: from.into(),
        to: to.into(),
    };
    let edges = vec![
        edge("run/trial.rs", "run", "dialect"),
        edge("dialect/mod.rs", "dialect", "neutral"),
        edge("dialect/decode.rs", "dialect", "run"),
        edge("x.rs", "x", "neutral"),
    ];
    let bad = violations(&layers, &edges);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0], edge("dialect/decode.rs", "dialect", "run"));
    assert!(
        bad[1].to.contains("`x` is not in the module map"),
        "{bad:?}"
    );
    // Two modules of one layer may not import each other either.
    let flat = vec![vec!["dialect".to_string(), "neutral".to_string()]];
    assert_eq!(violations(&flat, &edges[1..2]).len(), 1);
}

#[test]
fn imports_are_read_from_code_only() {
    let src = r#"
//! See [`crate::report`].
use crate::{dialect::{DialectKind, WireOp}, neutral::Reply};
use super::super::outcome::Outcome;
fn f() { let s = "crate::cli"; crate::runtime::runtime(); }
/* crate::mock */
#[cfg(test)]
mod tests {
    use crate::run;
}
"#;
    let got = referenced(&shipped_code(src), 1);
    let want: BTreeSet<String> = ["dialect", "neutral", "outcome", "runtime"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
    // From `src/x/y.rs`, a single `super::` stays inside `x`.
    assert!(referenced("use super::sibling::T;", 1).is_empty());
    assert_eq!(
        referenced("use super::vocab::T;", 0),
        ["vocab".to_string()].into()
    );
}

#[test]
fn the_map_is_read_from_the_doc() {
    let lib = "//! Intro.\n//!\n//! ## Module map\n//! Bottom first:\n//! 1. `runtime`, `fsio`: leaves.\n//! 2. `dialect`: wire; uses `neutral` words.\n//!\n//! After.\n\npub mod dialect;\n#[cfg(test)]\nmod arch_test;\n";
    assert_eq!(
        layers_from_doc(lib),
        vec![
            vec!["runtime".to_string(), "fsio".to_string()],
            vec!["dialect".to_string()]
        ]
    );
    assert_eq!(declared_modules(lib), ["dialect".to_string()].into());
}
