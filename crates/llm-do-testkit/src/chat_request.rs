//! Parsing an OpenAI chat completions request body into a core [`ModelRequest`].

use llm_do_core::{
    Message, ModelRequest, ModelSettings, OutputMode, ToolCall, ToolDefinition, ToolResult,
};
use serde_json::{Map, Value, json};

/// A parsed `POST /v1/chat/completions` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatRequest {
    /// The conversation, tools, output mode and settings, as the in-process models see them.
    pub(crate) model_request: ModelRequest,
    /// `"stream": true`.
    pub(crate) stream: bool,
    /// `"stream_options": {"include_usage": true}`.
    pub(crate) include_usage: bool,
}

/// Why a body is not a valid chat completions request: the message and the offending
/// parameter, as OpenAI reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRequest {
    pub(crate) message: String,
    pub(crate) param: Option<String>,
}

impl BadRequest {
    fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self { message: message.into(), param: Some(param.into()) }
    }
}

/// Parses a request body. Unknown fields are ignored, as OpenAI-compatible servers do.
pub(crate) fn parse(body: &[u8]) -> Result<ChatRequest, BadRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BadRequest {
        message: format!("could not parse the JSON body of the request: {e}"),
        param: None,
    })?;
    let Value::Object(body) = value else {
        return Err(BadRequest {
            message: "the request body must be a JSON object".into(),
            param: None,
        });
    };
    let model = match body.get("model") {
        Some(Value::String(model)) => model.clone(),
        None | Some(Value::Null) => {
            return Err(BadRequest::new("model", "you must provide a model parameter"));
        }
        Some(_) => return Err(BadRequest::new("model", "`model` must be a string")),
    };
    let messages = match body.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(Value::Array(_)) => {
            return Err(BadRequest::new("messages", "`messages` must not be empty"));
        }
        None | Some(Value::Null) => {
            return Err(BadRequest::new("messages", "missing required parameter: `messages`"));
        }
        Some(_) => return Err(BadRequest::new("messages", "`messages` must be an array")),
    };
    let messages = parse_messages(messages)?;
    let tools = parse_tools(body.get("tools"))?;
    let output = parse_output(body.get("response_format"))?;
    let stream = flag(&body, "stream")?;
    let include_usage = match body.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(options)) => flag(options, "include_usage")
            .map_err(|e| BadRequest::new("stream_options.include_usage", e.message))?,
        Some(_) => {
            return Err(BadRequest::new("stream_options", "`stream_options` must be an object"));
        }
    };
    let model_request = ModelRequest::new(model, messages)
        .with_tools(tools)
        .with_output(output)
        .with_settings(settings(&body));
    Ok(ChatRequest { model_request, stream, include_usage })
}

/// A boolean field: absent or `null` is `false`.
fn flag(object: &Map<String, Value>, name: &str) -> Result<bool, BadRequest> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(BadRequest::new(name, format!("`{name}` must be a boolean"))),
    }
}

fn parse_messages(messages: &[Value]) -> Result<Vec<Message>, BadRequest> {
    let mut parsed = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let param = |field: &str| format!("messages[{i}]{field}");
        let Value::Object(message) = message else {
            return Err(BadRequest::new(param(""), "each message must be an object"));
        };
        let content = text_of(message.get("content")).ok_or_else(|| {
            BadRequest::new(
                param(".content"),
                "`content` must be a string, an array of content parts or null",
            )
        })?;
        let role = message.get("role").and_then(Value::as_str).unwrap_or_default();
        parsed.push(match role {
            "system" | "developer" => Message::system(content.unwrap_or_default()),
            "user" => Message::user(content.unwrap_or_default()),
            "assistant" => {
                let calls = parse_tool_calls(message.get("tool_calls"), &param(".tool_calls"))?;
                Message::assistant(content, calls)
            }
            "tool" | "function" => {
                let id = message.get("tool_call_id").and_then(Value::as_str);
                let id = match (role, id) {
                    (_, Some(id)) => id.to_owned(),
                    ("function", None) => String::new(),
                    _ => {
                        return Err(BadRequest::new(
                            param(".tool_call_id"),
                            "a `tool` message needs a `tool_call_id`",
                        ));
                    }
                };
                let name = message
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| called_name(&parsed, &id))
                    .unwrap_or_default();
                Message::Tool(ToolResult::ok(id, name, content.unwrap_or_default()))
            }
            "" => return Err(BadRequest::new(param(".role"), "each message needs a `role`")),
            other => {
                return Err(BadRequest::new(
                    param(".role"),
                    format!(
                        "unknown role `{other}`; expected system, developer, user, assistant or tool"
                    ),
                ));
            }
        });
    }
    Ok(parsed)
}

/// The text of a message's `content`: a string, or the `text` of its content parts joined,
/// or `None` for `null`/absent. The outer `None` means the content has an invalid type.
fn text_of(content: Option<&Value>) -> Option<Option<String>> {
    match content {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(Value::Array(parts)) => Some(Some(
            parts
                .iter()
                .filter_map(|part| match part {
                    Value::String(text) => Some(text.as_str()),
                    other => other.get("text").and_then(Value::as_str),
                })
                .collect(),
        )),
        Some(_) => None,
    }
}

/// The name of the tool an earlier assistant message called with this id.
fn called_name(messages: &[Message], id: &str) -> Option<String> {
    messages.iter().rev().find_map(|message| match message {
        Message::Assistant { tool_calls, .. } => {
            tool_calls.iter().find(|call| call.id == id).map(|call| call.name.clone())
        }
        _ => None,
    })
}

fn parse_tool_calls(calls: Option<&Value>, param: &str) -> Result<Vec<ToolCall>, BadRequest> {
    let calls = match calls {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(calls)) => calls,
        Some(_) => return Err(BadRequest::new(param, "`tool_calls` must be an array")),
    };
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let function = call.get("function");
            let name = function.and_then(|f| f.get("name")).and_then(Value::as_str);
            let Some(name) = name else {
                return Err(BadRequest::new(
                    format!("{param}[{i}].function.name"),
                    "each tool call needs `function.name`",
                ));
            };
            let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
            let arguments = match function.and_then(|f| f.get("arguments")) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(raw)) => raw.clone(),
                Some(other) => other.to_string(),
            };
            Ok(ToolCall::raw(id, name, arguments))
        })
        .collect()
}

fn parse_tools(tools: Option<&Value>) -> Result<Vec<ToolDefinition>, BadRequest> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err(BadRequest::new("tools", "`tools` must be an array")),
    };
    let mut parsed = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        // Only function tools can be called; other kinds (built-in tools) are ignored.
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("function");
        if kind != "function" {
            continue;
        }
        let Some(function) = tool.get("function").filter(|f| f.is_object()) else {
            return Err(BadRequest::new(
                format!("tools[{i}].function"),
                "a function tool needs a `function` object",
            ));
        };
        let Some(name) = function.get("name").and_then(Value::as_str) else {
            return Err(BadRequest::new(
                format!("tools[{i}].function.name"),
                "a function tool needs a `name`",
            ));
        };
        let description = function.get("description").and_then(Value::as_str).unwrap_or_default();
        let parameters = match function.get("parameters") {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(schema) => schema.clone(),
        };
        parsed.push(ToolDefinition::new(name, description, parameters));
    }
    Ok(parsed)
}

fn parse_output(format: Option<&Value>) -> Result<OutputMode, BadRequest> {
    let format = match format {
        None | Some(Value::Null) => return Ok(OutputMode::Text),
        Some(format @ Value::Object(_)) => format,
        Some(_) => {
            return Err(BadRequest::new("response_format", "`response_format` must be an object"));
        }
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(OutputMode::Text),
        Some("json_object") => Ok(OutputMode::json("json_object", json!({"type": "object"}))),
        Some("json_schema") => {
            let Some(spec) = format.get("json_schema").filter(|s| s.is_object()) else {
                return Err(BadRequest::new(
                    "response_format.json_schema",
                    "`json_schema` must be an object with a `name` and a `schema`",
                ));
            };
            let name = spec.get("name").and_then(Value::as_str).unwrap_or("response");
            let schema = spec.get("schema").cloned().unwrap_or_else(|| json!({"type": "object"}));
            Ok(OutputMode::json(name, schema))
        }
        other => Err(BadRequest::new(
            "response_format.type",
            format!(
                "unsupported `response_format.type` {}; expected text, json_object or json_schema",
                other.map_or_else(|| "(missing)".to_owned(), |t| format!("`{t}`"))
            ),
        )),
    }
}

/// Sampling settings; values of the wrong type are ignored (they change nothing here).
fn settings(body: &Map<String, Value>) -> ModelSettings {
    let float = |name: &str| body.get(name).and_then(Value::as_f64).map(|x| x as f32);
    let max_tokens = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|name| body.get(*name).and_then(Value::as_u64))
        .and_then(|n| u32::try_from(n).ok());
    ModelSettings {
        temperature: float("temperature"),
        top_p: float("top_p"),
        max_tokens,
        seed: body.get("seed").and_then(Value::as_u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: Value) -> ChatRequest {
        parse(body.to_string().as_bytes()).expect("valid request")
    }

    fn bad(body: &str) -> BadRequest {
        parse(body.as_bytes()).expect_err("invalid request")
    }

    #[test]
    fn parses_a_full_conversation() {
        let r = ok(json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "developer", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "add "}, {"type": "text", "text": "1 and 2"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_9", "type": "function", "function": {"name": "add", "arguments": "{\"a\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_9", "content": "3"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "add", "description": "Add.", "parameters": {"type": "object"}}},
                {"type": "web_search"}
            ],
            "response_format": {"type": "json_schema", "json_schema": {"name": "Sum", "schema": {"type": "integer"}, "strict": true}},
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.5,
            "max_completion_tokens": 100,
            "seed": 7,
            "unknown": {"ignored": true}
        }));
        assert!(r.stream && r.include_usage);
        let m = &r.model_request;
        assert_eq!(m.model, "gpt-4o-mini");
        assert_eq!(
            m.messages,
            vec![
                Message::system("Be terse."),
                Message::user("add 1 and 2"),
                Message::assistant(None, vec![ToolCall::raw("call_9", "add", "{\"a\":1}")]),
                Message::Tool(ToolResult::ok("call_9", "add", "3")),
            ]
        );
        assert_eq!(*m.tools, [ToolDefinition::new("add", "Add.", json!({"type": "object"}))]);
        assert_eq!(m.output, OutputMode::json("Sum", json!({"type": "integer"})));
        assert_eq!(
            m.settings,
            ModelSettings {
                temperature: Some(0.5),
                max_tokens: Some(100),
                seed: Some(7),
                ..Default::default()
            }
        );
    }

    #[test]
    fn defaults() {
        let r = ok(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        assert!(!r.stream && !r.include_usage);
        assert_eq!(r.model_request.output, OutputMode::Text);
        let r = ok(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_object"}}));
        assert_eq!(r.model_request.output.schema(), Some(&json!({"type": "object"})));
    }

    #[test]
    fn rejects_bad_bodies_with_the_parameter() {
        let cases = [
            ("", None, "could not parse the JSON body"),
            ("{", None, "could not parse the JSON body"),
            ("[1]", None, "must be a JSON object"),
            (r#"{"messages": []}"#, Some("model"), "provide a model"),
            (r#"{"model": 1, "messages": []}"#, Some("model"), "must be a string"),
            (r#"{"model": "m"}"#, Some("messages"), "missing required"),
            (r#"{"model": "m", "messages": []}"#, Some("messages"), "must not be empty"),
            (r#"{"model": "m", "messages": [1]}"#, Some("messages[0]"), "must be an object"),
            (
                r#"{"model": "m", "messages": [{"role": "robot"}]}"#,
                Some("messages[0].role"),
                "unknown role",
            ),
            (
                r#"{"model": "m", "messages": [{"content": "x"}]}"#,
                Some("messages[0].role"),
                "needs a `role`",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#,
                Some("messages[0].content"),
                "must be a string",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "tool", "content": "x"}]}"#,
                Some("messages[0].tool_call_id"),
                "needs a `tool_call_id`",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{}]}]}"#,
                Some("messages[0].tool_calls[0].function.name"),
                "needs `function.name`",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "user"}], "tools": [{"type": "function"}]}"#,
                Some("tools[0].function"),
                "needs a `function`",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "user"}], "stream": "yes"}"#,
                Some("stream"),
                "must be a boolean",
            ),
            (
                r#"{"model": "m", "messages": [{"role": "user"}], "response_format": {"type": "xml"}}"#,
                Some("response_format.type"),
                "unsupported",
            ),
        ];
        for (body, param, message) in cases {
            let e = bad(body);
            assert_eq!(e.param.as_deref(), param, "{body}");
            assert!(e.message.contains(message), "{body}: {}", e.message);
        }
    }
}
