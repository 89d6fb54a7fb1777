//! A choice's `logprobs` (`ChatCompletionTokenLogprob`): read, with their shape checked.

use serde_json::Value;

use crate::dialect::json::Check;
use crate::neutral::TokenLogprob;

/// Reads `choice.logprobs`: null (none asked for), or `{content: [...] | null, refusal}`
/// whose every token has `token`, `logprob`, `bytes` (array or null) and `top_logprobs` (the
/// alternatives, each with `token`, `logprob` and `bytes`).
pub(crate) fn decode(
    choice: &Value,
    path: &str,
    check: &mut Check<'_>,
) -> Option<Vec<TokenLogprob>> {
    let lp = choice.get("logprobs").filter(|v| !v.is_null())?;
    let lpath = format!("{path}.logprobs");
    if !lp.is_object() {
        check.fail(format!("`{lpath}` must be an object or null"));
        return None;
    }
    let content = match lp.get("content") {
        None => {
            check.fail(format!(
                "`{lpath}.content` is missing (required array or null)"
            ));
            return None;
        }
        Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            check.fail(format!("`{lpath}.content` must be an array or null"));
            return None;
        }
    };
    let mut out = Vec::with_capacity(content.len());
    for (i, t) in content.iter().enumerate() {
        let tpath = format!("{lpath}.content[{i}]");
        let (text, logprob) = token(t, &tpath, check);
        let alternatives = match check.array(t, &tpath, "top_logprobs") {
            Some(alts) => {
                for (j, a) in alts.iter().enumerate() {
                    token(a, &format!("{tpath}.top_logprobs[{j}]"), check);
                }
                alts.len()
            }
            None => 0,
        };
        out.push(TokenLogprob {
            token: text,
            logprob,
            alternatives,
        });
    }
    Some(out)
}

/// One token's `token`, `logprob` (a number, at most 0) and `bytes` (integers or null).
fn token(t: &Value, path: &str, check: &mut Check<'_>) -> (String, f64) {
    let token = check
        .string(t, path, "token")
        .unwrap_or_default()
        .to_string();
    let logprob = match t.get("logprob").and_then(Value::as_f64) {
        Some(l) if l > 0.0 => {
            check.fail(format!(
                "`{path}.logprob` is {l}: a log probability is at most 0"
            ));
            l
        }
        Some(l) => l,
        None => {
            check.fail(format!("`{path}.logprob` is missing or not a number"));
            0.0
        }
    };
    match t.get("bytes") {
        None => check.fail(format!(
            "`{path}.bytes` is missing (required array or null)"
        )),
        Some(Value::Null) => {}
        Some(Value::Array(b)) if b.iter().all(|x| x.as_u64().is_some_and(|n| n < 256)) => {}
        Some(_) => check.fail(format!(
            "`{path}.bytes` must be an array of byte values or null"
        )),
    }
    (token, logprob)
}
