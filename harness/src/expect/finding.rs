//! What a check reports: the expectation key it concerns, the kind of check, whether the key
//! judges the wire (contract) or what the model chose to say (behaviour), and the message.
//! The run adds the key's full path and its location.

use crate::outcome::{Class, FindingKind};

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    /// The expectation key (`finish_reason`, `text`, ...).
    pub key: &'static str,
    /// What kind of check found it.
    pub kind: FindingKind,
    /// Contract or behaviour.
    pub class: Option<Class>,
    /// What was expected and what was seen.
    pub message: String,
}

/// The class of an expectation key. `text` judges what the model said; every other key
/// judges the wire (status, shapes, error bodies, finish reason, usage, stream grammar, JSON
/// mode, the client's attempts and waits). `tool_calls` is split per check by its evaluator.
pub(crate) fn class_of(key: &str) -> Class {
    match key {
        "text" => Class::Behaviour,
        _ => Class::Contract,
    }
}

/// A finding for `key`, classed by [`class_of`], its message prefixed with the copy it
/// concerns when the step sent several.
pub(crate) fn finding(key: &'static str, copy: Option<(usize, usize)>, message: String) -> Finding {
    finding_as(key, class_of(key), copy, message)
}

/// A finding with an explicit class, for keys whose checks differ in kind.
pub(crate) fn finding_as(
    key: &'static str,
    class: Class,
    copy: Option<(usize, usize)>,
    message: String,
) -> Finding {
    let message = match copy {
        Some((i, n)) if n > 1 => format!("copy {}/{n}: {message}", i + 1),
        _ => message,
    };
    Finding {
        key,
        kind: FindingKind::Expectation,
        class: Some(class),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_behaviour_and_the_wire_is_contract() {
        assert_eq!(class_of("text"), Class::Behaviour);
        for k in [
            "status",
            "finish_reason",
            "usage",
            "stream",
            "error",
            "json",
            "raw",
        ] {
            assert_eq!(class_of(k), Class::Contract, "{k}");
        }
        let f = finding("text", Some((1, 3)), "no".into());
        assert_eq!(f.message, "copy 2/3: no");
        assert_eq!(finding("text", Some((0, 1)), "no".into()).message, "no");
    }
}
