//! The `messages` of a request.

use super::{BadRequest, UserContent};
use llm_do_core::{Message, ToolCall, ToolResult};
use serde_json::Value;

/// The conversation; user messages' content read by `user`.
pub(super) fn parse(
    messages: &[Value],
    user: &UserContent<'_>,
) -> Result<Vec<Message>, BadRequest> {
    let mut parsed = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        let param = |field: &str| format!("messages[{i}]{field}");
        let Value::Object(message) = message else {
            return Err(BadRequest::new(param(""), "each message must be an object"));
        };
        let raw = message.get("content");
        let content = text_of(raw).ok_or_else(|| {
            BadRequest::new(
                param(".content"),
                "`content` must be a string, an array of content parts or null",
            )
        })?;
        let role = message.get("role").and_then(Value::as_str).unwrap_or_default();
        parsed.push(match role {
            "system" | "developer" => Message::system(content.unwrap_or_default()),
            "user" => user(i, raw)?,
            "assistant" => {
                let calls = tool_calls(message.get("tool_calls"), &param(".tool_calls"))?;
                Message::assistant(content.filter(|text| !text.is_empty()), calls)
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
                        "unknown role `{}`; expected system, developer, user, assistant or tool",
                        other.escape_debug()
                    ),
                ));
            }
        });
    }
    Ok(parsed)
}

/// The text of a message's `content`: a string, or the text of its parts (strings, or
/// objects with a `text`) joined; empty for `null` or any other value.
///
/// ```
/// use llm_do_openai_wire::request::content_text;
/// use serde_json::json;
/// assert_eq!(content_text(Some(&json!([{"type": "text", "text": "a"}, "b"]))), "ab");
/// assert_eq!(content_text(None), "");
/// ```
pub fn content_text(content: Option<&Value>) -> String {
    text_of(content).flatten().unwrap_or_default()
}

/// The text of a message's `content`, `None` for `null`/absent; the outer `None` means the
/// content has an invalid type.
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

/// An assistant message's `tool_calls`.
fn tool_calls(calls: Option<&Value>, param: &str) -> Result<Vec<ToolCall>, BadRequest> {
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
