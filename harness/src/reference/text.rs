//! Tokens and reply text: a simple, honest tokenizer (a word or one punctuation mark is a
//! token), and deterministic replies derived from the prompt, sized like a model's.

use std::sync::OnceLock;

use regex::Regex;

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\w+|[^\w\s]").expect("token regex"))
}

/// How many tokens `text` holds.
pub(super) fn count(text: &str) -> u32 {
    token_re().find_iter(text).count() as u32
}

/// `text` cut after its first `limit` tokens, and whether it was cut.
pub(super) fn cut(text: &str, limit: u32) -> (String, bool) {
    match token_re().find_iter(text).nth(limit as usize) {
        Some(m) => (text[..m.start()].trim_end().to_string(), true),
        None => (text.to_string(), false),
    }
}

/// Where the earliest of `stops` starts in `text`, and which one it is.
pub(super) fn find_stop<'s>(text: &str, stops: &'s [String]) -> Option<(usize, &'s str)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|i| (i, s.as_str())))
        .min_by_key(|(i, _)| *i)
}

/// Whether the prompt asks for something long.
fn wants_long(prompt: &str) -> bool {
    let p = prompt.to_lowercase();
    ["essay", "story", "in detail", "long", "explain", "describe"]
        .iter()
        .any(|w| p.contains(w))
}

/// The words the prompt says to reply with exactly ("Reply with exactly the word X").
fn exact_words(prompt: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)exactly the words? ([^.\n]+?)(?: and nothing else)?(?:\.|$)")
            .expect("exact regex")
    });
    re.captures(prompt).map(|c| c[1].trim().to_string())
}

/// A deterministic reply to `prompt` (the conversation's instructions and last user turn).
pub(super) fn reply(prompt: &str) -> String {
    if let Some(words) = exact_words(prompt) {
        return words;
    }
    let words: Vec<&str> = token_re()
        .find_iter(prompt)
        .map(|m| m.as_str())
        .filter(|w| w.chars().all(char::is_alphanumeric))
        .collect();
    if words.is_empty() {
        return "Hello! How can I help you today?".to_string();
    }
    if !wants_long(prompt) {
        // Short, as a model answers a short question: well under the 10-token limits the
        // suites give small talk.
        let topic: Vec<&str> = words.iter().rev().take(3).rev().copied().collect();
        return format!("Sure: {}.", topic.join(" "));
    }
    long_reply(&words)
}

/// About 300 words built from the prompt's own words, in sentences.
fn long_reply(words: &[&str]) -> String {
    const FILLERS: [&str; 8] = [
        "history", "shows", "that", "the", "story", "of", "many", "changes",
    ];
    let mut out = String::new();
    for i in 0..300 {
        let w = if i % 3 == 0 {
            words[i / 3 % words.len()]
        } else {
            FILLERS[i % FILLERS.len()]
        };
        if i % 12 == 0 {
            if i > 0 {
                out.push_str(". ");
            }
            let mut c = w.chars();
            if let Some(first) = c.next() {
                out.extend(first.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
    out.push('.');
    out
}

/// The pieces a stream sends `text` in: one token with the space before it per piece, so the
/// pieces join back to `text` exactly.
pub(super) fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for m in token_re().find_iter(text) {
        if m.start() > start || out.is_empty() {
            out.push(text[start..m.end()].to_string());
        } else {
            out.push(m.as_str().to_string());
        }
        start = m.end();
    }
    if start < text.len() {
        match out.last_mut() {
            Some(last) => last.push_str(&text[start..]),
            None => out.push(text[start..].to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_words_and_punctuation() {
        assert_eq!(count("Hello, world!"), 4);
        assert_eq!(count(""), 0);
        assert_eq!(cut("one two three", 2), ("one two".to_string(), true));
        assert_eq!(cut("one two", 2), ("one two".to_string(), false));
    }

    #[test]
    fn replies_are_short_unless_asked_for_long_and_deterministic() {
        assert!(count(&reply("Say hi.")) < 20);
        assert!(count(&reply("Write a long essay about the ocean.")) > 200);
        assert_eq!(reply("Say hi."), reply("Say hi."));
        assert_eq!(
            reply("Reply with exactly the word PINEAPPLE and nothing else."),
            "PINEAPPLE"
        );
    }

    #[test]
    fn pieces_join_back() {
        for t in ["Hello, world! How are you?", "  a  b ", "", "x"] {
            assert_eq!(pieces(t).concat(), t);
        }
    }
}
