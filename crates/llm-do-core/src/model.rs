//! The [`Model`] trait that providers implement, and the request/response types crossing it.
//!
//! Core knows nothing about HTTP or local inference: a provider turns a [`ModelRequest`] into a
//! [`ModelResponse`] however it likes. The scripted and schema-driven test models in
//! `llm-do-testing` are the smallest examples.

use crate::attachment::InputCapabilities;
use crate::message::{Message, ToolCall};
use crate::usage::Usage;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

mod error;
mod stream;
pub use error::{ModelError, ModelErrorKind};
pub use stream::{DeltaSink, StreamDelta};

/// A language model backend.
///
/// Implementations must be cheap to share (`Arc<dyn Model>`) and safe to call concurrently.
/// Dropping the returned future must cancel the request.
///
/// ```
/// use llm_do_core::{Model, ModelError, ModelRequest, ModelResponse, Usage};
/// use futures::future::BoxFuture;
///
/// /// Answers every request with "ok".
/// struct Fixed;
/// impl Model for Fixed {
///     fn request<'a>(&'a self, _req: &'a ModelRequest)
///         -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
///         Box::pin(async { Ok(ModelResponse::text("ok")) })
///     }
/// }
/// ```
pub trait Model: Send + Sync + 'static {
    /// Sends one request and returns the model's complete answer.
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>;

    /// Like [`request`](Model::request), reporting the answer's pieces to `sink` as they
    /// arrive. The returned response must be the same as the one `request` would assemble.
    /// The runtime always calls this method; the default does not stream.
    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let _ = sink;
        self.request(request)
    }

    /// The attachment parts this model takes natively. The runtime turns what it cannot
    /// take into text, or refuses it, before any request
    /// ([`attachment::lower`](crate::attachment::lower)). The default is
    /// [`InputCapabilities::TEXT_ONLY`]: PDFs as their extracted text, no images.
    fn input_capabilities(&self) -> InputCapabilities {
        InputCapabilities::TEXT_ONLY
    }
}

/// One request to a model: the conversation so far, the tools it may call and the output it
/// must produce.
///
/// ```
/// use llm_do_core::{Message, ModelRequest};
/// let req = ModelRequest::new("gpt-4o-mini", vec![Message::user("hi")]);
/// assert!(req.tools.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelRequest {
    /// Model name within its provider (the part after `provider:`).
    pub model: String,
    /// The conversation, starting with the system message if any.
    pub messages: Vec<Message>,
    /// Tools the model may call: shared, so that the definitions are built once per worker
    /// (per runtime) and not copied into each request.
    #[serde(default, skip_serializing_if = "no_tools")]
    pub tools: Arc<[ToolDefinition]>,
    /// The shape of the final answer.
    pub output: OutputMode,
    /// Sampling settings.
    #[serde(default)]
    pub settings: ModelSettings,
    /// The answer must be a call of one of [`tools`](Self::tools), not text (OpenAI's
    /// `tool_choice: "required"`; with one tool offered, a call of that tool). The embedded
    /// model, OpenAI-compatible servers and the testing crate's `TestModel` honour it; a
    /// `ScriptedModel` answers what its script says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tool_required: bool,
}

impl ModelRequest {
    /// A text-output request with no tools and default settings.
    ///
    /// ```
    /// # use llm_do_core::{ModelRequest, OutputMode};
    /// assert_eq!(ModelRequest::new("m", vec![]).output, OutputMode::Text);
    /// ```
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            messages,
            tools: Arc::new([]),
            output: OutputMode::Text,
            settings: ModelSettings::default(),
            tool_required: false,
        }
    }

    /// Offers these tools to the model.
    ///
    /// ```
    /// # use llm_do_core::{ModelRequest, ToolDefinition};
    /// let req = ModelRequest::new("m", vec![])
    ///     .with_tools(vec![ToolDefinition::new("now", "Current time.", serde_json::json!({"type": "object"}))]);
    /// assert_eq!(req.tools.len(), 1);
    /// ```
    pub fn with_tools(mut self, tools: impl Into<Arc<[ToolDefinition]>>) -> Self {
        self.tools = tools.into();
        self
    }

    /// Requires the answer to be a tool call ([`tool_required`](Self::tool_required)).
    ///
    /// ```
    /// # use llm_do_core::{ModelRequest, ToolDefinition};
    /// let extract = ToolDefinition::new("extract", "Record the fields.", serde_json::json!({"type": "object"}));
    /// let req = ModelRequest::new("m", vec![]).with_tools(vec![extract]).with_tool_required(true);
    /// assert!(req.tool_required);
    /// ```
    pub fn with_tool_required(mut self, required: bool) -> Self {
        self.tool_required = required;
        self
    }

    /// Sets the output mode.
    ///
    /// ```
    /// # use llm_do_core::{ModelRequest, OutputMode};
    /// let req = ModelRequest::new("m", vec![]).with_output(OutputMode::json("answer", serde_json::json!({"type": "integer"})));
    /// assert!(matches!(req.output, OutputMode::Json { .. }));
    /// ```
    pub fn with_output(mut self, output: OutputMode) -> Self {
        self.output = output;
        self
    }

    /// Sets the sampling settings.
    ///
    /// ```
    /// # use llm_do_core::{ModelRequest, ModelSettings};
    /// let req = ModelRequest::new("m", vec![]).with_settings(ModelSettings { temperature: Some(0.0), ..Default::default() });
    /// assert_eq!(req.settings.temperature, Some(0.0));
    /// ```
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }

    /// `true` when at least one message is a tool result.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest, ToolResult};
    /// let req = ModelRequest::new("m", vec![Message::Tool(ToolResult::ok("1", "t", "x"))]);
    /// assert!(req.has_tool_results());
    /// ```
    pub fn has_tool_results(&self) -> bool {
        self.messages.iter().any(|m| matches!(m, Message::Tool(_)))
    }
}

/// What the final answer must look like.
///
/// ```
/// use llm_do_core::OutputMode;
/// let mode = OutputMode::json("Category", serde_json::json!({"enum": ["Bug", "Billing"]}));
/// assert!(mode.schema().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputMode {
    /// Free text.
    Text,
    /// A JSON value matching `schema`.
    Json {
        /// A short name for the schema (providers that need one use it).
        name: String,
        /// The JSON Schema the answer must satisfy (shared: built once per worker, not copied
        /// into each request).
        schema: Arc<Value>,
    },
}

fn no_tools(tools: &Arc<[ToolDefinition]>) -> bool {
    tools.is_empty()
}

impl OutputMode {
    /// A JSON output mode.
    ///
    /// ```
    /// # use llm_do_core::OutputMode;
    /// assert!(matches!(OutputMode::json("x", serde_json::json!({})), OutputMode::Json { .. }));
    /// ```
    pub fn json(name: impl Into<String>, schema: impl Into<Arc<Value>>) -> Self {
        OutputMode::Json { name: name.into(), schema: schema.into() }
    }

    /// The output schema, `None` for text.
    ///
    /// ```
    /// # use llm_do_core::OutputMode;
    /// assert!(OutputMode::Text.schema().is_none());
    /// ```
    pub fn schema(&self) -> Option<&Value> {
        match self {
            OutputMode::Text => None,
            OutputMode::Json { schema, .. } => Some(&**schema),
        }
    }
}

/// A tool as the model sees it: name, description and JSON Schema of its arguments.
///
/// ```
/// use llm_do_core::ToolDefinition;
/// let t = ToolDefinition::new("add", "Add two numbers.", serde_json::json!({"type": "object"}));
/// assert_eq!(t.name, "add");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Name the model uses to call it.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

impl ToolDefinition {
    /// Builds a tool definition.
    ///
    /// ```
    /// # use llm_do_core::ToolDefinition;
    /// let t = ToolDefinition::new("now", "", serde_json::json!({"type": "object"}));
    /// assert!(t.description.is_empty());
    /// ```
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self { name: name.into(), description: description.into(), parameters }
    }
}

/// Sampling settings forwarded to the model. `None` means "the provider's default".
///
/// ```
/// use llm_do_core::ModelSettings;
/// let s = ModelSettings { temperature: Some(0.2), seed: Some(7), ..Default::default() };
/// assert_eq!(s.max_tokens, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Seed for reproducible sampling, where the provider supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Stop sequences: a text answer ends before the first of them it would contain (finish
    /// reason `stop`), the sequence itself left out. Empty: none. The embedded model and
    /// OpenAI-compatible servers honour them; scripted test models do not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

impl ModelSettings {
    /// The most stop sequences a request may give (what OpenAI-compatible servers accept):
    /// `#[worker]`, worker builders, worker files and `llm-do serve` refuse more (the rule's
    /// home is [`llm_do_syntax::stop`]).
    pub const MAX_STOP: usize = llm_do_syntax::stop::MAX;

    /// These settings with every field that `over` sets replaced by its value (`stop` when
    /// `over` has any).
    ///
    /// ```
    /// # use llm_do_core::ModelSettings;
    /// let worker = ModelSettings { temperature: Some(0.0), max_tokens: Some(64), ..Default::default() };
    /// let over = ModelSettings { temperature: Some(0.8), seed: Some(1), ..Default::default() };
    /// let s = worker.overlaid_with(&over);
    /// assert_eq!((s.temperature, s.max_tokens, s.seed), (Some(0.8), Some(64), Some(1)));
    /// ```
    pub fn overlaid_with(&self, over: &ModelSettings) -> ModelSettings {
        ModelSettings {
            temperature: over.temperature.or(self.temperature),
            top_p: over.top_p.or(self.top_p),
            max_tokens: over.max_tokens.or(self.max_tokens),
            seed: over.seed.or(self.seed),
            stop: if over.stop.is_empty() { self.stop.clone() } else { over.stop.clone() },
        }
    }
}

/// A model's complete answer to one request.
///
/// ```
/// use llm_do_core::{ModelResponse, ToolCall};
/// let r = ModelResponse::tool_calls(vec![ToolCall::new("1", "now", &serde_json::json!({}))]);
/// assert!(r.text.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelResponse {
    /// Text, if any (the final answer when there are no tool calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Tool calls the model wants made before it answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Tokens used by this request (`requests` is counted by the runtime, leave it 0).
    #[serde(default)]
    pub usage: Usage,
    /// The model that actually answered, if the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider's finish reason, if any, in OpenAI's words where the provider has them
    /// (`stop`, `length`, `tool_calls`, `content_filter`). A worker call ends with an error on
    /// `content_filter`, and on `length` when what the budget cut off is a tool call or a
    /// structured answer (a cut-off text answer is kept as far as it got).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The model's refusal, when it declined to answer (OpenAI's `refusal`): a worker call
    /// ends with a [`ModelErrorKind::Refused`] error instead of taking it for an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

impl ModelResponse {
    /// A final text answer.
    ///
    /// ```
    /// # use llm_do_core::ModelResponse;
    /// assert_eq!(ModelResponse::text("42").text.as_deref(), Some("42"));
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Default::default() }
    }

    /// A refusal to answer.
    ///
    /// ```
    /// # use llm_do_core::ModelResponse;
    /// let r = ModelResponse::refused("I can't help with that.");
    /// assert_eq!((r.text, r.refusal.as_deref()), (None, Some("I can't help with that.")));
    /// ```
    pub fn refused(refusal: impl Into<String>) -> Self {
        Self { refusal: Some(refusal.into()), ..Default::default() }
    }

    /// A turn that calls tools.
    ///
    /// ```
    /// # use llm_do_core::{ModelResponse, ToolCall};
    /// assert_eq!(ModelResponse::tool_calls(vec![ToolCall::raw("1", "t", "{}")]).tool_calls.len(), 1);
    /// ```
    pub fn tool_calls(calls: Vec<ToolCall>) -> Self {
        Self { tool_calls: calls, ..Default::default() }
    }

    /// Sets the token usage.
    ///
    /// ```
    /// # use llm_do_core::{ModelResponse, Usage};
    /// let r = ModelResponse::text("x").with_usage(Usage::tokens(10, 2));
    /// assert_eq!(r.usage.output_tokens, 2);
    /// ```
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// The answer as the pieces a streaming model would have delivered, one per part: its
    /// text (when not empty), then each tool call whole. For a provider or server that got
    /// the answer in one piece but owes a sink its pieces.
    ///
    /// ```
    /// # use llm_do_core::{ModelResponse, StreamDelta, ToolCall};
    /// let mut r = ModelResponse::tool_calls(vec![ToolCall::raw("c1", "add", "{}")]);
    /// r.text = Some("Adding.".into());
    /// assert_eq!(r.deltas(), [
    ///     StreamDelta::Text { text: "Adding.".into() },
    ///     StreamDelta::ToolCall { index: 0, id: Some("c1".into()), name: Some("add".into()), arguments: "{}".into() },
    /// ]);
    /// ```
    pub fn deltas(&self) -> Vec<StreamDelta> {
        let text = self.text.iter().filter(|t| !t.is_empty());
        let text = text.map(|text| StreamDelta::Text { text: text.clone() });
        let calls = (0u32..).zip(&self.tool_calls).map(|(index, call)| StreamDelta::ToolCall {
            index,
            id: Some(call.id.clone()),
            name: Some(call.name.clone()),
            arguments: call.arguments.clone(),
        });
        text.chain(calls).collect()
    }
}

impl<M: Model + ?Sized> Model for std::sync::Arc<M> {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).request(request)
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        (**self).request_streaming(request, sink)
    }

    fn input_capabilities(&self) -> InputCapabilities {
        (**self).input_capabilities()
    }
}
