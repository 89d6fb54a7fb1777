//! What the reference provider serves: its models, an optional key, and the broken variants.

use std::collections::BTreeSet;

/// One model the provider knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The model's name on the wire.
    pub name: String,
    /// Whether it accepts images.
    pub vision: bool,
    /// Whether it is installed locally (listed by `/api/tags`, usable at once). A model that is
    /// not installed can be pulled with `/api/pull` and is then installed.
    pub installed: bool,
}

impl ModelSpec {
    /// An installed text-only model.
    pub fn text(name: &str) -> ModelSpec {
        ModelSpec {
            name: name.to_string(),
            vision: false,
            installed: true,
        }
    }
}

/// How the reference provider is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The models it knows; any other name is unknown (404 in every dialect).
    pub models: Vec<ModelSpec>,
    /// When set, OpenAI and Anthropic requests must carry this key (401 otherwise). Ollama,
    /// like a local Ollama, takes no key.
    pub api_key: Option<String>,
    /// Rules to break on purpose; none by default.
    pub broken: BTreeSet<Broken>,
    /// Whether tools are supported. Without, a request offering tools is refused with 400, as
    /// servers without tool support do (Ollama: `"x" does not support tools`).
    pub tools: bool,
    /// Whether streaming is supported. Without, `stream: true` is ignored and the whole reply
    /// comes as one JSON body, as servers without streaming do.
    pub streaming: bool,
}

impl Default for Config {
    fn default() -> Self {
        let mut vision = ModelSpec::text("ref-vision");
        vision.vision = true;
        let mut pullable = ModelSpec::text("ref-pullable");
        pullable.installed = false;
        Config {
            models: vec![
                ModelSpec::text("ref-small"),
                ModelSpec::text("ref-second"),
                ModelSpec::text("ref-tools"),
                vision,
                pullable,
            ],
            api_key: None,
            broken: BTreeSet::new(),
            tools: true,
            streaming: true,
        }
    }
}

impl Config {
    /// The model named `name`, if the provider knows it.
    pub(crate) fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The refusal of a request that offers tools to a server without them, if it is one.
    pub(crate) fn refuse_tools(&self, model: &str, offered: bool) -> Option<String> {
        (offered && !self.tools).then(|| format!("\"{model}\" does not support tools"))
    }

    /// Whether `model` takes images: a vision model, or any model when images are ignored.
    pub(crate) fn takes_images(&self, model: &str) -> bool {
        self.is_broken(Broken::IgnoreImages) || self.model(model).is_some_and(|m| m.vision)
    }

    /// Whether the rule `b` is broken on purpose.
    pub(crate) fn is_broken(&self, b: Broken) -> bool {
        self.broken.contains(&b)
    }
}

/// One rule the provider can be told to break, so a test can prove the check for that rule
/// fires. Each knob names the check category it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Broken {
    /// Finish reason: a reply cut at the token limit says `stop` / `end_turn`.
    FinishOnCut,
    /// Usage: output tokens reported above `max_tokens`.
    UsageOverLimit,
    /// Usage: no usage at all.
    UsageMissing,
    /// Stream grammar: no terminal marker (`[DONE]`, `message_stop`, `done: true`).
    StreamNoTerminal,
    /// Stream grammar: events out of order.
    StreamOutOfOrder,
    /// Tools: arguments that break the offered tool's schema.
    ToolArgsInvalid,
    /// Tools: `tool_choice: none` ignored, tools called anyway.
    ToolChoiceIgnored,
    /// Structured output: JSON mode answered with prose.
    JsonModeProse,
    /// Structured output: a JSON-schema answer that lacks the required fields.
    SchemaIgnored,
    /// Errors: bodies in another dialect's shape.
    ErrorShape,
    /// Validation: invalid requests accepted with 200.
    AcceptInvalid,
    /// Errors: every error answered with 500.
    WrongStatus,
    /// Shapes: required reply fields missing (id, model, object, done ...).
    MissingFields,
    /// Parameters: stop sequences ignored.
    IgnoreStop,
    /// Models: the reply names another model than the one asked for.
    WrongModel,
    /// Model lifecycle: `keep_alive: 0` does not unload.
    NoUnload,
    /// Model lifecycle: a pull's progress never reaches `success`.
    PullNoSuccess,
    /// Parameters: OpenAI `n` ignored, one choice whatever was asked.
    IgnoreN,
    /// Parameters: OpenAI `logprobs` ignored, none in the reply.
    IgnoreLogprobs,
    /// Parameters: images accepted by a text-only model (and silently dropped).
    IgnoreImages,
}

impl Broken {
    /// Every knob.
    pub const ALL: [Broken; 20] = [
        Broken::FinishOnCut,
        Broken::UsageOverLimit,
        Broken::UsageMissing,
        Broken::StreamNoTerminal,
        Broken::StreamOutOfOrder,
        Broken::ToolArgsInvalid,
        Broken::ToolChoiceIgnored,
        Broken::JsonModeProse,
        Broken::SchemaIgnored,
        Broken::ErrorShape,
        Broken::AcceptInvalid,
        Broken::WrongStatus,
        Broken::MissingFields,
        Broken::IgnoreStop,
        Broken::WrongModel,
        Broken::NoUnload,
        Broken::PullNoSuccess,
        Broken::IgnoreN,
        Broken::IgnoreLogprobs,
        Broken::IgnoreImages,
    ];

    /// The knob's name on a command line (kebab case).
    pub fn name(self) -> &'static str {
        match self {
            Broken::FinishOnCut => "finish-on-cut",
            Broken::UsageOverLimit => "usage-over-limit",
            Broken::UsageMissing => "usage-missing",
            Broken::StreamNoTerminal => "stream-no-terminal",
            Broken::StreamOutOfOrder => "stream-out-of-order",
            Broken::ToolArgsInvalid => "tool-args-invalid",
            Broken::ToolChoiceIgnored => "tool-choice-ignored",
            Broken::JsonModeProse => "json-mode-prose",
            Broken::SchemaIgnored => "schema-ignored",
            Broken::ErrorShape => "error-shape",
            Broken::AcceptInvalid => "accept-invalid",
            Broken::WrongStatus => "wrong-status",
            Broken::MissingFields => "missing-fields",
            Broken::IgnoreStop => "ignore-stop",
            Broken::WrongModel => "wrong-model",
            Broken::NoUnload => "no-unload",
            Broken::PullNoSuccess => "pull-no-success",
            Broken::IgnoreN => "ignore-n",
            Broken::IgnoreLogprobs => "ignore-logprobs",
            Broken::IgnoreImages => "ignore-images",
        }
    }

    /// The knob named `name`.
    pub fn parse(name: &str) -> Option<Broken> {
        Broken::ALL.into_iter().find(|b| b.name() == name)
    }
}
