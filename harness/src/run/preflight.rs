//! Reachability and credentials, checked once per target before its trials in live and record
//! modes. A target that is down, whose name does not resolve, whose TLS fails, that rejects
//! the key or whose base URL is wrong would otherwise fail every one of its trials with the
//! same transport error or a confusing contract breach; here it gives one line naming the
//! target and the likely cause, and its trials become errors that send nothing.
//!
//! The check is the cheapest authenticated request each dialect has: the models list
//! (`GET {base}/models` for OpenAI, `GET {base}/v1/models` for Anthropic) and Ollama's local
//! models (`GET {base}/api/tags`). Only the causes above stop a target; any other answer (a
//! 5xx, a 429, a gateway that has no models list and says 405) lets its trials run and speak
//! for themselves.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::client::{Cause, Transport};
use crate::dialect::DialectKind;
use crate::record::redact::redact_url;
use crate::target::Target;

/// The longest a preflight waits for an answer: a models list is cheap, and a server that
/// cannot list its models in this time would hold every trial too.
pub(crate) const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a target's trials cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target `{target}`: {kind}")]
pub(crate) struct Unusable {
    /// The target's name.
    pub target: String,
    /// The likely cause, in words a person can act on.
    pub kind: UnusableKind,
}

/// The likely causes a preflight tells apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnusableKind {
    /// No connection: refused, unresolvable, TLS, a timeout; the transport's one line and
    /// what to check.
    #[error("{line}; {hint}")]
    Unreachable {
        /// The transport's one line (`connection refused (127.0.0.1:9)`).
        line: String,
        /// What to check.
        hint: String,
    },
    /// 401 or 403: the key was refused (or none was sent and one is needed).
    #[error("key rejected (HTTP {status} on GET {url}); {hint}")]
    KeyRejected {
        /// 401 or 403.
        status: u16,
        /// The URL checked, without user info or query.
        url: String,
        /// Which variable to check.
        hint: String,
    },
    /// 404 on the models list: the base URL's path is wrong.
    #[error("HTTP 404 on GET {url} (wrong base URL? {hint})")]
    WrongBaseUrl {
        /// The URL checked, without user info or query.
        url: String,
        /// The dialect's rule for its base URL.
        hint: String,
    },
}

/// The preflight request of a target: its URL and headers (the key's included).
pub(crate) fn request(target: &Target, key: Option<&str>) -> (String, Vec<(&'static str, String)>) {
    let base = target.base_url.trim_end_matches('/');
    let mut headers = Vec::new();
    let url = match target.dialect {
        DialectKind::Openai | DialectKind::OpenaiResponses => format!("{base}/models"),
        DialectKind::Anthropic => {
            headers.push(("anthropic-version", target.wire.anthropic_version.clone()));
            format!("{base}/v1/models")
        }
        DialectKind::Ollama => format!("{base}/api/tags"),
    };
    if let Some(k) = key {
        headers.push(target.dialect.auth_header(k));
    }
    (url, headers)
}

/// What a dialect's base URL must look like, said against the one given: the hint a 404 on
/// the base path needs.
pub(crate) fn base_url_hint(dialect: DialectKind, base_url: &str) -> String {
    let shown = redact_url(base_url.trim_end_matches('/'));
    let path = super::trial::base_path(base_url);
    let stripped = |suffix: &str| shown.strip_suffix(suffix).unwrap_or(&shown).to_string();
    match dialect {
        DialectKind::Anthropic if path.ends_with("/v1") => format!(
            "an Anthropic base_url takes no /v1: try {}",
            stripped("/v1")
        ),
        DialectKind::Anthropic => {
            "an Anthropic base_url is the server's root, e.g. https://api.anthropic.com".into()
        }
        DialectKind::Openai | DialectKind::OpenaiResponses if !path.ends_with("/v1") => {
            format!("an OpenAI base_url ends in /v1: try {shown}/v1")
        }
        DialectKind::Openai | DialectKind::OpenaiResponses => {
            "an OpenAI base_url ends in /v1 once, e.g. https://api.openai.com/v1".into()
        }
        DialectKind::Ollama if path.ends_with("/v1") || path.ends_with("/api") => {
            let root = stripped(if path.ends_with("/v1") { "/v1" } else { "/api" });
            format!("an Ollama base_url takes no /v1 or /api (its API is under /api/*): try {root}")
        }
        DialectKind::Ollama => {
            "an Ollama base_url is the server's root, e.g. http://127.0.0.1:11434".into()
        }
    }
}

/// Checks one target. `key` is the key its trials would send.
pub(crate) async fn check(
    transport: &Transport,
    target: &Target,
    key: Option<&str>,
    timeout: Duration,
) -> Result<(), Unusable> {
    let (url, headers) = request(target, key);
    let shown = redact_url(&url);
    let unusable = |kind| Unusable {
        target: target.name.clone(),
        kind,
    };
    match transport.probe(&url, &headers, timeout).await {
        Ok(status @ (401 | 403)) => {
            let hint = match (&target.key_env, key) {
                (Some(var), Some(_)) => format!("check the key in {var}"),
                (Some(var), None) => format!("{var} is not set"),
                (None, _) => "the server wants a key: set key_env for this target".into(),
            };
            Err(unusable(UnusableKind::KeyRejected {
                status,
                url: shown,
                hint,
            }))
        }
        Ok(404) => Err(unusable(UnusableKind::WrongBaseUrl {
            url: shown,
            hint: base_url_hint(target.dialect, &target.base_url),
        })),
        Ok(_) => Ok(()),
        Err(u) => {
            let hint = match u.cause {
                Cause::Refused => {
                    format!("is the server running at {}?", redact_url(&target.base_url))
                }
                Cause::Dns => "check the host in base_url".to_string(),
                Cause::Tls => {
                    "if the server speaks plain HTTP, its base_url starts with http://".to_string()
                }
                Cause::Timeout => "the server accepted no request in time".to_string(),
                Cause::Reset | Cause::Other => {
                    format!("check base_url ({})", redact_url(&target.base_url))
                }
            };
            Err(unusable(UnusableKind::Unreachable {
                line: u.message,
                hint,
            }))
        }
    }
}

/// Checks every target at once; the unusable ones, by name.
pub(crate) async fn check_all(
    transport: &Transport,
    targets: &[Arc<Target>],
    key: &(dyn Fn(&Target) -> Option<String> + Sync),
    timeout: Duration,
) -> HashMap<String, Arc<Unusable>> {
    let checks = targets.iter().map(|t| async move {
        let k = key(t);
        check(transport, t, k.as_deref(), timeout).await
    });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .filter_map(Result::err)
        .map(|u| (u.target.clone(), Arc::new(u)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_dialects_base_url_rule_and_a_fix() {
        use DialectKind::*;
        assert_eq!(
            base_url_hint(Anthropic, "http://127.0.0.1:8080/v1/"),
            "an Anthropic base_url takes no /v1: try http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url_hint(Openai, "http://u:p@127.0.0.1:8080?key=s"),
            "an OpenAI base_url ends in /v1: try http://127.0.0.1:8080/v1"
        );
        assert_eq!(
            base_url_hint(Ollama, "http://127.0.0.1:11434/v1"),
            "an Ollama base_url takes no /v1 or /api (its API is under /api/*): try http://127.0.0.1:11434"
        );
        assert!(base_url_hint(Openai, "https://api.openai.com/v1").contains("once"));
        assert!(base_url_hint(Anthropic, "https://x.test").contains("root"));
    }
}
