//! [`ModelRequest`]: what a model is asked — the conversation, the tools it may call
//! ([`ToolDefinition`]) and the shape of the answer ([`OutputMode`]).

use super::ModelSettings;
use crate::message::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

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
