//! [`ModelResponse`]: a model's complete answer to one request.

use super::StreamDelta;
use crate::message::ToolCall;
use crate::usage::Usage;
use serde::{Deserialize, Serialize};

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
    /// ends with a [`ModelErrorKind::Refused`](super::ModelErrorKind::Refused) error instead of taking it for an answer.
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
