//! The dialect-free middle: a [`Turn`] (what a request asks, read by a dialect) becomes an
//! [`Answer`] (what the model says), deterministically, with `max_tokens`, stop sequences,
//! tool choice and output formats applied, and usage counted by [`text::count`].

use serde_json::{Map, Value, json};

use super::config::{Broken, Config};
use super::schema::{self, Hints};
use super::text;

/// The output format asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) enum Format {
    /// Free text.
    #[default]
    Text,
    /// Any JSON object.
    Json,
    /// JSON valid against this schema.
    Schema(Value),
}

/// Which tool calls are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) enum Choice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool call.
    None,
    /// At least one tool call.
    Required,
    /// A call to this tool.
    Named(String),
}

/// An offered tool.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tool {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The JSON Schema of its arguments.
    pub schema: Value,
}

/// What a request asks for, whatever its dialect.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Turn {
    /// The model asked for.
    pub model: String,
    /// The instructions and the last user turn, which the reply is derived from.
    pub prompt: String,
    /// Every text of the request, counted as input tokens.
    pub input: String,
    /// The token limit.
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// The output format.
    pub format: Format,
    /// Offered tools.
    pub tools: Vec<Tool>,
    /// The tool choice.
    pub choice: Choice,
    /// Whether several calls may come in one reply.
    pub parallel: bool,
    /// The content of a tool result, when the last turn is one.
    pub tool_result: Option<String>,
}

/// Why the answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Finish {
    /// Natural end.
    Stop,
    /// A stop sequence matched.
    StopSequence(String),
    /// The token limit cut it.
    Length,
    /// Tool calls.
    ToolCalls,
}

/// One tool call.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments object.
    pub arguments: Value,
}

/// What the model says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    /// The text.
    pub text: String,
    /// Tool calls.
    pub calls: Vec<Call>,
    /// Why it ended (as reported: a broken variant may misreport).
    pub finish: Finish,
    /// Input and output tokens, as reported (`None`: no usage).
    pub usage: Option<(u32, u32)>,
}

/// Answers `turn`; `seq` makes call ids unique.
pub(super) fn answer(turn: &Turn, cfg: &Config, seq: u64) -> Answer {
    let calls = calls(turn, cfg, seq);
    let (text, mut finish, output) = if calls.is_empty() {
        limited_text(turn, cfg)
    } else {
        let out: u32 = calls
            .iter()
            .map(|c| text::count(&c.name) + text::count(&c.arguments.to_string()))
            .sum();
        (String::new(), Finish::ToolCalls, out)
    };
    if finish == Finish::Length && cfg.is_broken(Broken::FinishOnCut) {
        finish = Finish::Stop;
    }
    let input = text::count(&turn.input).max(1);
    let usage = if cfg.is_broken(Broken::UsageMissing) {
        None
    } else if cfg.is_broken(Broken::UsageOverLimit) {
        Some((input, turn.max_tokens.unwrap_or(output) + 5))
    } else {
        Some((input, output))
    };
    Answer {
        text,
        calls,
        finish,
        usage,
    }
}

/// The text answer, stop sequences and the token limit applied.
fn limited_text(turn: &Turn, cfg: &Config) -> (String, Finish, u32) {
    let mut full = raw_text(turn, cfg);
    let mut finish = Finish::Stop;
    if !cfg.is_broken(Broken::IgnoreStop)
        && let Some((at, stop)) = text::find_stop(&full, &turn.stop)
    {
        full.truncate(at);
        finish = Finish::StopSequence(stop.to_string());
    }
    if let Some(limit) = turn.max_tokens {
        let (cut, was_cut) = text::cut(&full, limit);
        if was_cut {
            full = cut;
            finish = Finish::Length;
        }
    }
    let n = text::count(&full);
    (full, finish, n)
}

fn raw_text(turn: &Turn, cfg: &Config) -> String {
    if let Some(result) = &turn.tool_result {
        return format!("The tool returned: {result}");
    }
    let hints = Hints::from_prompt(&turn.prompt);
    match &turn.format {
        Format::Json | Format::Schema(_) if cfg.is_broken(Broken::JsonModeProse) => {
            text::reply(&turn.prompt)
        }
        Format::Json => json_object(&turn.prompt, &hints).to_string(),
        Format::Schema(_) if cfg.is_broken(Broken::SchemaIgnored) => "{}".to_string(),
        Format::Schema(s) => schema::instance(s, &hints).to_string(),
        Format::Text => text::reply(&turn.prompt),
    }
}

/// A JSON object with the keys the prompt shows (`{"city": ...}`), or one `answer`.
fn json_object(prompt: &str, hints: &Hints) -> Value {
    let re = regex::Regex::new(r#""(\w+)"\s*:"#).expect("key regex");
    let mut out = Map::new();
    for c in re.captures_iter(prompt) {
        let v = hints
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| "example".into());
        out.insert(c[1].to_string(), json!(v));
    }
    if out.is_empty() {
        out.insert("answer".into(), json!(text::reply(prompt)));
    }
    Value::Object(out)
}

/// The tool calls the turn gets.
fn calls(turn: &Turn, cfg: &Config, seq: u64) -> Vec<Call> {
    if turn.tools.is_empty() || turn.tool_result.is_some() {
        return Vec::new();
    }
    let choice = match &turn.choice {
        Choice::None if cfg.is_broken(Broken::ToolChoiceIgnored) => Choice::Required,
        c => c.clone(),
    };
    let tool = match &choice {
        Choice::None => return Vec::new(),
        Choice::Named(n) => turn.tools.iter().find(|t| &t.name == n),
        Choice::Auto => best_tool(turn)
            .filter(|(_, score)| *score > 0)
            .map(|(t, _)| t),
        Choice::Required => best_tool(turn).map(|(t, _)| t),
    };
    let Some(tool) = tool else {
        return Vec::new();
    };
    let hints = Hints::from_prompt(&turn.prompt);
    let several = turn.parallel
        && !matches!(choice, Choice::Named(_))
        && hints.names.len() >= 2
        && turn.prompt.contains(" and ");
    let sets: Vec<Hints> = if several {
        hints.names.iter().map(|n| hints.with_name(n)).collect()
    } else {
        vec![hints]
    };
    sets.iter()
        .enumerate()
        .map(|(i, h)| Call {
            id: format!("call_ref{seq}x{i}"),
            name: tool.name.clone(),
            arguments: arguments(tool, h, cfg),
        })
        .collect()
}

fn arguments(tool: &Tool, hints: &Hints, cfg: &Config) -> Value {
    if cfg.is_broken(Broken::ToolArgsInvalid) {
        // Every required field missing, and one no schema offers.
        return json!({"unexpected_argument": 42});
    }
    schema::instance(&tool.schema, hints)
}

/// The tool whose name and description share most words with the prompt.
fn best_tool(turn: &Turn) -> Option<(&Tool, usize)> {
    let prompt = turn.prompt.to_lowercase();
    turn.tools
        .iter()
        .map(|t| {
            let words = format!("{} {}", t.name.replace('_', " "), t.description).to_lowercase();
            let score = words
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 3 && prompt.contains(*w))
                .count();
            (t, score)
        })
        .rev()
        .max_by_key(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> Tool {
        Tool {
            name: "get_weather".into(),
            description: "Current weather for a city.".into(),
            schema: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        }
    }

    #[test]
    fn max_tokens_cuts_and_counts() {
        let turn = Turn {
            prompt: "Write a long essay about the ocean.".into(),
            input: "Write a long essay about the ocean.".into(),
            max_tokens: Some(16),
            ..Turn::default()
        };
        let a = answer(&turn, &Config::default(), 0);
        assert_eq!(a.finish, Finish::Length);
        assert_eq!(a.usage, Some((8, 16)));
        assert_eq!(text::count(&a.text), 16);
    }

    #[test]
    fn stop_sequences_end_the_text() {
        let turn = Turn {
            prompt: "Reply with exactly the words blue green red.".into(),
            stop: vec!["green".into()],
            ..Turn::default()
        };
        let a = answer(&turn, &Config::default(), 0);
        assert_eq!(a.text, "blue ");
        assert_eq!(a.finish, Finish::StopSequence("green".into()));
    }

    #[test]
    fn tool_choice_and_parallel_calls() {
        let mut turn = Turn {
            prompt: "What is the weather in Paris and in Tokyo?".into(),
            tools: vec![weather()],
            parallel: true,
            ..Turn::default()
        };
        let a = answer(&turn, &Config::default(), 3);
        let cities: Vec<&Value> = a.calls.iter().map(|c| &c.arguments["city"]).collect();
        assert_eq!(cities, [&json!("Paris"), &json!("Tokyo")]);
        assert_eq!(a.finish, Finish::ToolCalls);
        turn.parallel = false;
        assert_eq!(answer(&turn, &Config::default(), 3).calls.len(), 1);
        turn.choice = Choice::None;
        assert!(answer(&turn, &Config::default(), 3).calls.is_empty());
    }
}
