//! What the suites ask of a target of one dialect: the model aliases their requests name and
//! the capabilities they require, each with the scenarios that need it, so the proposed entry
//! can say what every line is for and which aliases are still missing.

use std::collections::BTreeMap;

use crate::dialect::DialectKind;
use crate::suite::Suite;
use crate::vocab::Capability;

/// The aliases and capabilities the suites use, each with the `suite::scenario`s using it.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Usage {
    /// Model alias to the scenarios whose requests name it.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Capability to the scenarios that require it.
    pub caps: BTreeMap<Capability, Vec<String>>,
}

/// What the scenarios that apply to `dialect` use.
pub(super) fn usage(suites: &[Suite], dialect: DialectKind) -> Usage {
    let mut u = Usage::default();
    for suite in suites {
        for sc in &suite.scenarios {
            if sc.not_applicable_to(dialect).is_some() || sc.ignore.is_some() {
                continue;
            }
            let id = format!("{}::{}", suite.name, sc.id);
            let requests = sc.request.iter().chain(sc.steps.iter().map(|s| &s.request));
            for r in requests {
                push(&mut u.aliases, r.model.clone(), &id);
                if let Some(c) = r.op.capability() {
                    push(&mut u.caps, c, &id);
                }
            }
            for c in &sc.requires {
                push(&mut u.caps, *c, &id);
            }
        }
    }
    u
}

fn push<K: Ord>(map: &mut BTreeMap<K, Vec<String>>, key: K, id: &str) {
    let list = map.entry(key).or_default();
    if !list.iter().any(|s| s == id) {
        list.push(id.to_string());
    }
}

/// The scenarios in a comment: the first few, and how many more.
pub(super) fn named(ids: &[String]) -> String {
    const SHOWN: usize = 2;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_suites_use_the_known_aliases_and_lifecycle_needs_absent() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
        let files = crate::suite::load::expand_paths(&[root]).unwrap();
        let targets = crate::target::builtins(None);
        let known = crate::suite::Known {
            aliases: targets
                .iter()
                .flat_map(|t| t.models.keys().cloned())
                .collect(),
            targets: targets.iter().map(|t| t.name.clone()).collect(),
        };
        let suites = crate::suite::load_suites(&files, &known).unwrap();
        let ollama = usage(&suites, DialectKind::Ollama);
        assert!(ollama.aliases["absent"].contains(&"ollama-lifecycle::pull_missing_model".into()));
        for alias in ["small", "second", "tools", "vision", "text_only", "absent"] {
            assert!(ollama.aliases.contains_key(alias), "{alias}");
        }
        assert!(ollama.caps.contains_key(&Capability::ModelPull));
        let openai = usage(&suites, DialectKind::Openai);
        assert!(!openai.caps.contains_key(&Capability::ModelPull));
        assert_eq!(
            named(&["a".into(), "b".into(), "c".into()]),
            "a, b and 1 more"
        );
    }
}
