//! The OpenAI chat-completions wire format, as much of it as `llm-do serve` reads and writes,
//! and its conversion to and from llm-do's [`ModelRequest`] and [`ModelResponse`].
//!
//! Decoding is lenient: unknown fields are ignored, `content` may be a string, a list of text
//! parts or null, and `max_completion_tokens` is accepted as well as `max_tokens`.

use llm_do::{
    Message, ModelRequest, ModelResponse, ModelSettings, OutputMode, ToolCall, ToolDefinition,
    ToolResult,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A `POST /v1/chat/completions` body.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    /// The model the client asked for (echoed back; the server serves its one model).
    #[serde(default)]
    pub model: String,
    /// The conversation.
    pub messages: Vec<WireMessage>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Vec<WireTool>,
    /// `"auto"`, `"none"`, `"required"` or `{"type": "function", "function": {"name": ...}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// `{"type": "text" | "json_object" | "json_schema", "json_schema": {...}}`.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Token budget (legacy name).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Token budget.
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// Seed for reproducible sampling.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Server-sent events instead of one JSON body.
    #[serde(default)]
    pub stream: bool,
    /// `{"include_usage": true}` adds a final chunk with the usage.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
}

/// Streaming options.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk carrying the usage.
    #[serde(default)]
    pub include_usage: bool,
}

/// One message of the conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct WireMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// Text, a list of parts, or null.
    #[serde(default)]
    pub content: Option<Value>,
    /// The assistant's tool calls.
    #[serde(default)]
    pub tool_calls: Vec<WireToolCall>,
    /// For `tool` messages: the call answered.
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// For `tool` messages (legacy): the tool's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A tool call, in a message or a response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireToolCall {
    /// The call's id.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(default = "function_type", rename = "type")]
    pub kind: String,
    /// The function called.
    pub function: WireFunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// The function part of a tool call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireFunctionCall {
    /// The tool's name.
    pub name: String,
    /// The arguments, as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A tool offered to the model.
#[derive(Debug, Clone, Deserialize)]
pub struct WireTool {
    /// The function.
    pub function: WireFunction,
}

/// A function offered to the model.
#[derive(Debug, Clone, Deserialize)]
pub struct WireFunction {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of its arguments.
    #[serde(default)]
    pub parameters: Option<Value>,
}

/// The requested shape of the answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ResponseFormat {
    /// `text`, `json_object` or `json_schema`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `json_schema`: the schema.
    #[serde(default)]
    pub json_schema: Option<JsonSchemaFormat>,
}

/// The `json_schema` response format.
#[derive(Debug, Clone, Deserialize)]
pub struct JsonSchemaFormat {
    /// The schema's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The schema.
    #[serde(default)]
    pub schema: Option<Value>,
}

/// A request the server cannot accept (HTTP 400): the message, the request field it concerns
/// (OpenAI's `param`) and a machine-readable `code`, when there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String, pub Option<String>, pub Option<String>);

impl ChatRequest {
    /// The llm-do request for the served `model` (the name within its provider).
    ///
    /// ```
    /// use llm_do_cli::serve::wire::ChatRequest;
    /// let body = r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 3}"#;
    /// let req: ChatRequest = serde_json::from_str(body).unwrap();
    /// let model_request = req.to_model_request("smollm2").unwrap();
    /// assert_eq!(model_request.settings.seed, Some(3));
    /// ```
    pub fn to_model_request(&self, model: &str) -> Result<ModelRequest, BadRequest> {
        self.to_model_request_for(model, &super::parts::Target::TEXT_ONLY)
    }

    /// Like [`to_model_request`](Self::to_model_request), for a model that takes what
    /// `target` says: user messages' image and file parts become attachments, lowered to
    /// what it takes (see [`super::parts`]).
    ///
    /// ```
    /// use llm_do_cli::serve::{parts::Target, wire::ChatRequest};
    /// let body = r#"{"messages": [{"role": "user", "content": [
    ///     {"type": "text", "text": "Read it."},
    ///     {"type": "file", "file": {"filename": "n.txt", "file_data": "data:text/plain;base64,MTIz"}}]}]}"#;
    /// let req: ChatRequest = serde_json::from_str(body).unwrap();
    /// let r = req.to_model_request_for("m", &Target::TEXT_ONLY).unwrap();
    /// assert!(matches!(&r.messages[0], llm_do::Message::User { content } if content.contains("123")));
    /// ```
    pub fn to_model_request_for(
        &self,
        model: &str,
        target: &super::parts::Target<'_>,
    ) -> Result<ModelRequest, BadRequest> {
        let mut messages = Vec::with_capacity(self.messages.len());
        for (i, m) in self.messages.iter().enumerate() {
            if m.role == "user" {
                messages.push(super::parts::user_message(i, m.content.as_ref(), target)?);
                continue;
            }
            let text = content_text(m.content.as_ref());
            messages.push(match m.role.as_str() {
                "system" | "developer" => Message::system(text),
                "assistant" => {
                    let calls = m
                        .tool_calls
                        .iter()
                        .map(|c| ToolCall::raw(&c.id, &c.function.name, &c.function.arguments))
                        .collect();
                    Message::assistant(Some(text).filter(|t| !t.is_empty()), calls)
                }
                "tool" => {
                    let id = m.tool_call_id.clone().unwrap_or_default();
                    let name = m
                        .name
                        .clone()
                        .or_else(|| self.tool_name_of(&id))
                        .unwrap_or_else(|| "tool".into());
                    Message::Tool(ToolResult::ok(id, name, text))
                }
                other => {
                    return Err(BadRequest(
                        format!("messages[{i}]: unknown role `{other}`"),
                        Some(format!("messages[{i}].role")),
                        None,
                    ));
                }
            });
        }
        let mut tools: Vec<ToolDefinition> = self
            .tools
            .iter()
            .map(|t| {
                ToolDefinition::new(
                    &t.function.name,
                    t.function.description.clone().unwrap_or_default(),
                    t.function.parameters.clone().unwrap_or_else(|| json!({"type": "object"})),
                )
            })
            .collect();
        match &self.tool_choice {
            Some(Value::String(s)) if s == "none" => tools.clear(),
            Some(Value::Object(choice)) => {
                if let Some(name) =
                    choice.get("function").and_then(|f| f.get("name")).and_then(Value::as_str)
                {
                    tools.retain(|t| t.name == name);
                    if tools.is_empty() {
                        return Err(BadRequest(
                            format!("tool_choice names an unknown tool `{name}`"),
                            Some("tool_choice".into()),
                            None,
                        ));
                    }
                }
            }
            _ => {}
        }
        let output = match &self.response_format {
            None => OutputMode::Text,
            Some(f) => match f.kind.as_str() {
                "text" => OutputMode::Text,
                "json_object" => OutputMode::json("json_object", json!({"type": "object"})),
                "json_schema" => {
                    let Some(schema) = f.json_schema.as_ref().and_then(|j| j.schema.clone()) else {
                        return Err(BadRequest(
                            "response_format.json_schema.schema is missing".into(),
                            Some("response_format.json_schema.schema".into()),
                            None,
                        ));
                    };
                    // Refused here (400), not by the model (which would make it a 500).
                    if let Err(e) = llm_do::schema::Validator::new(&schema) {
                        return Err(BadRequest(
                            format!(
                                "response_format.json_schema.schema is not a valid JSON Schema: {e}"
                            ),
                            Some("response_format.json_schema.schema".into()),
                            None,
                        ));
                    }
                    let name = f
                        .json_schema
                        .as_ref()
                        .and_then(|j| j.name.clone())
                        .unwrap_or_else(|| "answer".into());
                    OutputMode::json(name, schema)
                }
                other => {
                    return Err(BadRequest(
                        format!("unknown response_format type `{other}`"),
                        Some("response_format.type".into()),
                        None,
                    ));
                }
            },
        };
        let settings = ModelSettings {
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_completion_tokens.or(self.max_tokens),
            seed: self.seed,
        };
        Ok(ModelRequest::new(model, messages)
            .with_tools(tools)
            .with_output(output)
            .with_settings(settings))
    }

    /// The name of the tool called with `id` earlier in the conversation.
    fn tool_name_of(&self, id: &str) -> Option<String> {
        self.messages
            .iter()
            .flat_map(|m| &m.tool_calls)
            .find(|c| c.id == id)
            .map(|c| c.function.name.clone())
    }
}

/// The text of a `content` field: a string, or the text parts of a list, or nothing.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str).or_else(|| p.as_str()))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The `tool_calls` of a response.
pub fn wire_tool_calls(response: &ModelResponse) -> Vec<WireToolCall> {
    response
        .tool_calls
        .iter()
        .map(|c| WireToolCall {
            id: c.id.clone(),
            kind: function_type(),
            function: WireFunctionCall { name: c.name.clone(), arguments: c.arguments.clone() },
        })
        .collect()
}

/// The `usage` object of a response.
pub fn usage(response: &ModelResponse) -> Value {
    let (input, output) = (response.usage.input_tokens, response.usage.output_tokens);
    json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output})
}

/// The finish reason of a response, in OpenAI's vocabulary.
pub fn finish_reason(response: &ModelResponse) -> &str {
    match response.finish_reason.as_deref() {
        Some(r) => r,
        None if response.tool_calls.is_empty() => "stop",
        None => "tool_calls",
    }
}

/// A complete (non-streamed) `chat.completion` body.
///
/// ```
/// use llm_do::ModelResponse;
/// let body = llm_do_cli::serve::wire::completion("chatcmpl-1", 0, "local:smollm2", &ModelResponse::text("hi"));
/// assert_eq!(body["choices"][0]["message"]["content"], "hi");
/// assert_eq!(body["choices"][0]["finish_reason"], "stop");
/// ```
pub fn completion(id: &str, created: u64, model: &str, response: &ModelResponse) -> Value {
    let calls = wire_tool_calls(response);
    let mut message = json!({"role": "assistant", "content": response.text});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
    }
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(response)}],
        "usage": usage(response),
    })
}

/// An OpenAI-style error body.
///
/// ```
/// let e = llm_do_cli::serve::wire::error_body("bad", "invalid_request_error");
/// assert_eq!(e["error"]["message"], "bad");
/// ```
pub fn error_body(message: &str, kind: &str) -> Value {
    error_body_with(message, kind, None, None)
}

/// An OpenAI-style error body with its `param` (the request field concerned) and `code`.
///
/// ```
/// let e = llm_do_cli::serve::wire::error_body_with("no such route", "invalid_request_error", None, Some("not_found"));
/// assert_eq!((e["error"]["code"].as_str(), e["error"]["param"].as_str()), (Some("not_found"), None));
/// ```
pub fn error_body_with(
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_request_converts() {
        let body = json!({
            "model": "x",
            "messages": [
                {"role": "developer", "content": "Be exact."},
                {"role": "user", "content": [{"type": "text", "text": "1+2?"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{\"a\":1,\"b\":2}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "3"}
            ],
            "tools": [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "integer"}, "strict": true}},
            "max_completion_tokens": 9, "temperature": 0.5, "stream": true
        });
        let req: ChatRequest = serde_json::from_value(body).unwrap();
        let m = req.to_model_request("smollm2").unwrap();
        assert_eq!(m.model, "smollm2");
        assert_eq!(m.messages[0], Message::system("Be exact."));
        assert_eq!(m.messages[1], Message::user("1+2?"));
        assert_eq!(m.messages[3], Message::Tool(ToolResult::ok("c1", "add", "3")));
        assert_eq!(m.tools.len(), 1);
        assert_eq!(m.output, OutputMode::json("n", json!({"type": "integer"})));
        assert_eq!(m.settings.max_tokens, Some(9));
    }

    #[test]
    fn tool_choice_and_bad_roles() {
        let req: ChatRequest = serde_json::from_value(json!({
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}}
        }))
        .unwrap();
        let m = req.to_model_request("m").unwrap();
        assert_eq!(m.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["b"]);
        let req: ChatRequest =
            serde_json::from_value(json!({"messages": [{"role": "robot", "content": "hi"}]}))
                .unwrap();
        assert!(req.to_model_request("m").unwrap_err().0.contains("unknown role `robot`"));
    }
}
