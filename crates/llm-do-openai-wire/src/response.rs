//! What a server answers: a `chat.completion` body, or the `chat.completion.chunk` objects of
//! a stream (a role delta, content and tool-call deltas, a finish chunk, an optional usage
//! chunk), each sent as a server-sent event and followed by [`DONE`].

use llm_do_core::{ModelResponse, StreamDelta, ToolCall, Usage};
use serde_json::{Map, Value, json};

/// The event that ends a stream.
pub const DONE: &str = "data: [DONE]\n\n";

/// What every body and chunk of one answer starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    /// `chatcmpl-…`, the same in every chunk of a stream.
    pub id: &'a str,
    /// Unix seconds.
    pub created: u64,
    /// The model named in the answer.
    pub model: &'a str,
    /// `system_fingerprint`, when the server sends one.
    pub fingerprint: Option<&'a str>,
}

impl Head<'_> {
    /// The head's fields for an `object` (`chat.completion` or `chat.completion.chunk`).
    ///
    /// ```
    /// let head = llm_do_openai_wire::response::Head { id: "c1", created: 7, model: "m", fingerprint: Some("fp") };
    /// let fields = head.fields("chat.completion");
    /// assert_eq!(fields.keys().collect::<Vec<_>>(), ["id", "object", "created", "model", "system_fingerprint"]);
    /// ```
    pub fn fields(&self, object: &str) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("id".into(), json!(self.id));
        fields.insert("object".into(), json!(object));
        fields.insert("created".into(), json!(self.created));
        fields.insert("model".into(), json!(self.model));
        if let Some(fingerprint) = self.fingerprint {
            fields.insert("system_fingerprint".into(), json!(fingerprint));
        }
        fields
    }
}

/// A complete (non-streamed) `chat.completion` body.
///
/// ```
/// use llm_do_core::ModelResponse;
/// use llm_do_openai_wire::response::{Head, completion};
/// let head = Head { id: "chatcmpl-1", created: 0, model: "local:smollm2", fingerprint: None };
/// let body = completion(&head, &ModelResponse::text("hi"));
/// assert_eq!(body["choices"][0]["message"]["content"], "hi");
/// assert_eq!(body["choices"][0]["finish_reason"], "stop");
/// assert_eq!(body["usage"]["total_tokens"], 0);
/// ```
pub fn completion(head: &Head<'_>, response: &ModelResponse) -> Value {
    let mut body = head.fields("chat.completion");
    let mut choice = Map::new();
    choice.insert("index".into(), json!(0));
    choice.insert("message".into(), Value::Object(message(response)));
    choice.insert("finish_reason".into(), json!(finish_reason(response)));
    body.insert("choices".into(), json!([choice]));
    body.insert("usage".into(), usage(&response.usage));
    Value::Object(body)
}

/// The assistant `message` of a completion: its `role`, `content` (text or `null`),
/// `refusal` and `tool_calls` (when there are).
///
/// ```
/// let m = llm_do_openai_wire::response::message(&llm_do_core::ModelResponse::refused("No."));
/// assert_eq!(serde_json::Value::Object(m), serde_json::json!({"role": "assistant", "content": null, "refusal": "No."}));
/// ```
pub fn message(response: &ModelResponse) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    message.insert("content".into(), json!(response.text));
    if let Some(refusal) = &response.refusal {
        message.insert("refusal".into(), json!(refusal));
    }
    if !response.tool_calls.is_empty() {
        let calls = response.tool_calls.iter().map(tool_call).collect();
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    message
}

/// A tool call as a complete message carries it.
///
/// ```
/// let call = llm_do_core::ToolCall::raw("c1", "add", "{}");
/// let v = llm_do_openai_wire::response::tool_call(&call);
/// assert_eq!(v, serde_json::json!({"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}));
/// ```
pub fn tool_call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    })
}

/// The `finish_reason` of a response in OpenAI's vocabulary: the model's own, else
/// `tool_calls` when it called tools, else `stop`.
pub fn finish_reason(response: &ModelResponse) -> &str {
    match response.finish_reason.as_deref() {
        Some(reason) => reason,
        None if response.tool_calls.is_empty() => "stop",
        None => "tool_calls",
    }
}

/// The `usage` object.
///
/// ```
/// let u = llm_do_openai_wire::response::usage(&llm_do_core::Usage::tokens(5, 6));
/// assert_eq!((u["prompt_tokens"].as_u64(), u["total_tokens"].as_u64()), (Some(5), Some(11)));
/// ```
pub fn usage(usage: &Usage) -> Value {
    let Usage { input_tokens, output_tokens, .. } = *usage;
    json!({
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens.saturating_add(output_tokens),
    })
}

/// A `chat.completion.chunk` with one choice: `delta`, and `finish_reason` (`null` until the
/// finish chunk).
///
/// ```
/// use llm_do_openai_wire::response::{Head, chunk};
/// let head = Head { id: "c1", created: 0, model: "m", fingerprint: None };
/// let c = chunk(&head, serde_json::json!({"content": "hi"}), None);
/// assert_eq!(c["choices"][0]["delta"]["content"], "hi");
/// assert!(c["choices"][0]["finish_reason"].is_null());
/// ```
pub fn chunk(head: &Head<'_>, delta: Value, finish_reason: Option<&str>) -> Value {
    let mut chunk = head.fields("chat.completion.chunk");
    chunk.insert(
        "choices".into(),
        json!([{"index": 0, "delta": delta, "finish_reason": finish_reason}]),
    );
    Value::Object(chunk)
}

/// The last chunk of a stream that asked for the usage: no choices, the `usage`.
pub fn usage_chunk(head: &Head<'_>, usage: &Usage) -> Value {
    let mut chunk = head.fields("chat.completion.chunk");
    chunk.insert("choices".into(), json!([]));
    chunk.insert("usage".into(), self::usage(usage));
    Value::Object(chunk)
}

/// The first delta of a stream sent ahead of the answer's pieces: the role, and empty
/// content (`null` when the answer has no text).
///
/// ```
/// let d = llm_do_openai_wire::response::role_delta(false);
/// assert_eq!(d, serde_json::json!({"role": "assistant", "content": null}));
/// ```
pub fn role_delta(has_text: bool) -> Value {
    json!({"role": "assistant", "content": if has_text { json!("") } else { Value::Null }})
}

/// The first delta of a stream that carries the answer's first piece: that piece's `delta`
/// with the role, and `content: null` when the piece is no text. A client that adds the
/// deltas up (OpenAI's SDKs) then ends with `content: null` for an answer of tool calls only,
/// as from OpenAI, rather than `""`.
///
/// ```
/// use llm_do_core::StreamDelta;
/// use llm_do_openai_wire::response::{delta, with_role};
/// let call = StreamDelta::ToolCall { index: 0, id: Some("c1".into()), name: Some("add".into()), arguments: String::new() };
/// let first = with_role(delta(&call).unwrap());
/// assert_eq!((first["role"].as_str(), first["content"].is_null()), (Some("assistant"), true));
/// assert_eq!(first["tool_calls"][0]["id"], "c1");
/// let first = with_role(delta(&StreamDelta::Text { text: "Hel".into() }).unwrap());
/// assert_eq!(first, serde_json::json!({"role": "assistant", "content": "Hel"}));
/// ```
pub fn with_role(delta: Value) -> Value {
    match delta {
        Value::Object(mut fields) => {
            fields.insert("role".into(), json!("assistant"));
            fields.entry("content").or_insert(Value::Null);
            Value::Object(fields)
        }
        _ => role_delta(false),
    }
}

/// The delta of a piece of a streamed answer. A [`StreamDelta::Restart`] (an upstream
/// provider lost its stream and sent the request again) cannot be taken back over SSE: it
/// has none.
///
/// ```
/// use llm_do_core::StreamDelta;
/// use llm_do_openai_wire::response::delta;
/// let d = delta(&StreamDelta::ToolCall { index: 0, id: Some("c1".into()), name: Some("add".into()), arguments: String::new() });
/// assert_eq!(d.unwrap()["tool_calls"][0]["function"]["name"], "add");
/// ```
pub fn delta(piece: &StreamDelta) -> Option<Value> {
    Some(match piece {
        StreamDelta::Text { text } => json!({"content": text}),
        StreamDelta::ToolCall { index, id, name, arguments } => {
            let mut call = json!({"index": index, "function": {"arguments": arguments}});
            if let Some(id) = id {
                call["id"] = json!(id);
                call["type"] = json!("function");
            }
            if let Some(name) = name {
                call["function"]["name"] = json!(name);
            }
            json!({"tool_calls": [call]})
        }
        StreamDelta::Restart { .. } => return None,
    })
}

/// One server-sent event carrying `value`.
///
/// ```
/// assert_eq!(llm_do_openai_wire::response::event(&serde_json::json!({"a": 1})), "data: {\"a\":1}\n\n");
/// ```
pub fn event(value: &Value) -> String {
    format!("data: {value}\n\n")
}
