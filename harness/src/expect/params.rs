//! Judging what a reply says about the sampling parameters a request set: how many choices
//! came back (`n`), which stop sequence matched, and the log probabilities' shape. Each
//! message names the request field the provider ignored.

use super::finding::{Finding, finding};
use super::spec::Expect;
use crate::neutral::Reply;

/// `choices`, `stop_sequence` and `logprobs` on one reply (error replies are `error`'s).
pub(crate) fn check(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if !(200..300).contains(&reply.status) {
        return;
    }
    if let Some(b) = expect.choices {
        let got = reply.choices.unwrap_or(1);
        if !b.contains(got as u64) {
            out.push(finding(
                "choices",
                copy,
                format!("expected {b} choices (request field `n`), got {got}"),
            ));
        }
    }
    if let Some(want) = &expect.stop_sequence {
        check_stop(want, reply, copy, out);
    }
    if let Some(lp) = &expect.logprobs {
        let tokens = reply.logprobs.as_deref().filter(|t| !t.is_empty());
        match (lp.present, tokens) {
            (Some(true), None) => out.push(finding(
                "logprobs",
                copy,
                "no log probabilities in the reply (request field `logprobs`)".into(),
            )),
            (Some(false), Some(t)) => out.push(finding(
                "logprobs",
                copy,
                format!("log probabilities for {} tokens came unasked", t.len()),
            )),
            _ => {}
        }
        if let (Some(b), Some(tokens)) = (lp.top_logprobs, tokens)
            && let Some((i, t)) = tokens
                .iter()
                .enumerate()
                .find(|(_, t)| !b.contains(t.alternatives as u64))
        {
            out.push(finding(
                "logprobs",
                copy,
                format!(
                    "token {i} ({:?}) has {} alternatives, expected {b} (request field `top_logprobs`)",
                    t.token, t.alternatives
                ),
            ));
        }
    }
}

/// The model reached the stop sequence: behaviour, since where a reply ends is the model's.
const REACHED: &str = "stop_sequence.reached";

/// `stop_sequence`: the text ends before the sequence (every dialect), and where the reply names
/// the sequence that matched (Anthropic's `stop_sequence`), it names this one.
fn check_stop(want: &str, reply: &Reply, copy: Option<(usize, usize)>, out: &mut Vec<Finding>) {
    if let Some(at) = reply.text.find(want) {
        let shown: String = reply.text[at..].chars().take(40).collect();
        out.push(finding(
            "stop_sequence",
            copy,
            format!(
                "the text goes on past stop sequence {want:?} ({shown:?}): the request field `stop` was ignored"
            ),
        ));
    }
    let names_one = reply.stop_sequence.is_some()
        || reply.raw_finish_reason.as_deref() == Some("stop_sequence");
    // Anthropic says which sequence ended a reply; `end_turn` means the model finished before
    // reaching it. That is the model's choice (a random-weight model rarely counts to five),
    // so it is behaviour; a server that stops at the sequence yet reports `end_turn` is only
    // seen here, as a miss a real model would not make.
    if reply.raw_finish_reason.as_deref() == Some("end_turn") {
        out.push(finding(
            REACHED,
            copy,
            format!("the reply ended (end_turn) before stop sequence {want:?} was reached"),
        ));
    }
    if names_one && reply.stop_sequence.as_deref() != Some(want) {
        out.push(finding(
            "stop_sequence",
            copy,
            format!(
                "the reply names stop sequence {:?}, expected {want:?}",
                reply.stop_sequence
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Class;

    fn judge(text: &str, raw_finish: &str, named: Option<&str>) -> Vec<Finding> {
        let reply = Reply {
            status: 200,
            text: text.into(),
            raw_finish_reason: Some(raw_finish.into()),
            stop_sequence: named.map(str::to_string),
            ..Reply::default()
        };
        let mut out = Vec::new();
        check_stop("five", &reply, None, &mut out);
        out
    }

    #[test]
    fn stopping_at_the_sequence_is_clean() {
        assert!(judge("one two three four ", "stop_sequence", Some("five")).is_empty());
        assert!(judge("one two three four ", "stop", None).is_empty());
    }

    #[test]
    fn going_past_the_sequence_breaks_the_contract() {
        let f = judge("one two three four five six", "stop", None);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(Class::Contract));
        assert!(f[0].message.contains("`stop` was ignored"), "{f:?}");
    }

    #[test]
    fn ending_before_the_sequence_is_behaviour() {
        let f = judge("one two", "end_turn", None);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(Class::Behaviour), "{f:?}");
        assert!(f[0].message.contains("before stop sequence"), "{f:?}");
    }

    #[test]
    fn naming_another_sequence_breaks_the_contract() {
        let f = judge("one two three four ", "stop_sequence", Some("four"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(Class::Contract));
    }
}
