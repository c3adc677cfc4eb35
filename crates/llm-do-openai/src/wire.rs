//! The JSON exchanged with the server: the request we send, and lenient types for what comes
//! back (non-streaming responses and stream chunks).
//!
//! Decoding is deliberately forgiving, because "OpenAI-compatible" servers differ: every
//! field is optional, `null` is accepted wherever a list or object is expected, unknown fields
//! are ignored, `content` may be a string or a list of parts, and tool-call `arguments` may be
//! a string or a JSON object.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

// ---------------------------------------------------------------------------------------------
// Request

/// `POST /chat/completions` body. It borrows the conversation from the
/// [`ModelRequest`](llm_do_core::ModelRequest), and the worker's tools and response format
/// as they were serialised once ([`crate::prepared`]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<ChatMessage<'a>>,
    /// The `tools` array, serialised (absent when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tools: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop: &'a [String],
    /// `"required"` when the answer must be a tool call (absent: the server's `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

/// `stream_options`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// One message of the conversation (borrowing its text from the runtime's message).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(crate) enum ChatMessage<'a> {
    System {
        /// Owned when output instructions were appended to it.
        content: Cow<'a, str>,
    },
    User {
        content: UserContent<'a>,
    },
    Assistant {
        /// Always present: `null` beside tool calls, `""` for an empty answer (OpenAI and
        /// several compatible servers refuse an assistant message without `content`).
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCallOut<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

/// The content of a user message: text, or a list of parts (text, images, files).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum UserContent<'a> {
    Text(&'a str),
    Parts(Vec<PartOut<'a>>),
}

/// One part of a user message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum PartOut<'a> {
    /// `{"type": "text", "text": …}`
    Text { text: &'a str },
    /// `{"type": "image_url", "image_url": {"url": …}}`: an http(s) URL or a `data:` URL.
    ImageUrl { image_url: ImageUrlOut },
    /// `{"type": "file", "file": {"filename": …, "file_data": "data:…;base64,…"}}`.
    File { file: FileOut },
}

/// The `image_url` of [`PartOut::ImageUrl`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ImageUrlOut {
    pub(crate) url: String,
}

/// The `file` of [`PartOut::File`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FileOut {
    pub(crate) filename: String,
    pub(crate) file_data: String,
}

/// A tool call in an assistant message we send back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ToolCallOut<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionOut<'a>,
}

/// The function part of [`ToolCallOut`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FunctionOut<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a str,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ToolSpec {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionSpec,
}

/// The function part of [`ToolSpec`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FunctionSpec {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
    pub(crate) parameters: Value,
}

// ---------------------------------------------------------------------------------------------
// Non-streaming response

/// A chat completion.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    /// Some servers answer errors with status 200 and an `error` object.
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One choice of a completion.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub(crate) index: Option<u32>,
    #[serde(default)]
    pub(crate) message: Option<ResponseMessage>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// The assistant message of a choice.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseMessage {
    #[serde(default)]
    pub(crate) content: Option<Content>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) tool_calls: Vec<WireToolCall>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
}

/// A complete tool call in a response.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireToolCall {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) function: Option<WireFunction>,
}

/// The function part of a tool call (or of a piece of one, in a stream).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireFunction {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) arguments: Option<Arguments>,
}

/// Tool-call arguments: JSON text (the standard), or a JSON value some servers send instead.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Arguments {
    Text(String),
    Value(Value),
}

impl Arguments {
    /// The arguments as JSON text.
    pub(crate) fn into_text(self) -> String {
        match self {
            Arguments::Text(text) => text,
            Arguments::Value(Value::Null) => String::new(),
            Arguments::Value(value) => value.to_string(),
        }
    }
}

/// Message content: a string, or a list of parts whose texts are joined.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
    Other(serde::de::IgnoredAny),
}

/// One part of a list-of-parts content.
#[derive(Debug, Deserialize)]
pub(crate) struct ContentPart {
    #[serde(default)]
    pub(crate) text: Option<String>,
}

impl Content {
    /// The text of the content (`None` for content without text).
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Content::Text(text) => Some(text),
            Content::Parts(parts) => {
                let texts: Vec<String> = parts.into_iter().filter_map(|p| p.text).collect();
                if texts.is_empty() { None } else { Some(texts.concat()) }
            }
            Content::Other(_) => None,
        }
    }
}

/// Token usage. Missing counts are 0, and so are counts that are no count (negative, a
/// fraction, text, …): a server's odd usage must not cost the answer it came with.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "count")]
    pub(crate) prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub(crate) completion_tokens: Option<u64>,
}

/// A token count: a non-negative integer (also written `12.0`), else `None`.
fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Count;
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a token count")
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            let whole = v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64;
            Ok(whole.then_some(v as u64))
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(Count)
}

// ---------------------------------------------------------------------------------------------
// Streaming

/// One `chat.completion.chunk`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatChunk {
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    /// A server reporting an error in the middle of a stream.
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One choice of a chunk.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub(crate) index: Option<u32>,
    #[serde(default)]
    pub(crate) delta: Option<Delta>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// What a chunk adds to the answer.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub(crate) content: Option<Content>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) tool_calls: Vec<ToolCallDelta>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
}

/// A piece of a tool call.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolCallDelta {
    #[serde(default)]
    pub(crate) index: Option<u32>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) function: Option<WireFunction>,
}

/// Deserializes `null` as the type's default.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The message of an `error` object (or string) a server put in a 200 answer, cut to
/// [`EXCERPT_CHARS`](super::error::EXCERPT_CHARS) characters
/// ([`server_text`](super::error::server_text)).
pub(crate) fn error_message(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str).or_else(|| error.as_str()) {
        Some(message) => super::error::server_text(message),
        None => super::error::server_text(&error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_leave_out_what_is_unset() {
        let req = ChatRequest {
            model: "m",
            messages: vec![
                ChatMessage::System { content: "s".into() },
                ChatMessage::Assistant { content: None, tool_calls: vec![] },
            ],
            tools: None,
            response_format: None,
            temperature: None,
            top_p: None,
            max_completion_tokens: None,
            max_tokens: None,
            seed: None,
            stop: &[],
            tool_choice: None,
            stream: false,
            stream_options: None,
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"model": "m", "messages": [
                {"role": "system", "content": "s"},
                {"role": "assistant", "content": null}
            ]})
        );
    }

    #[test]
    fn minimal_and_odd_responses_decode() {
        let r: ChatResponse =
            serde_json::from_str(r#"{"choices":[{"message":{"content":"hi"}}]}"#).unwrap();
        assert!(r.usage.is_none() && r.model.is_none());
        let r: ChatResponse = serde_json::from_str(
            r#"{"choices":null,"usage":{"prompt_tokens":1,"extra":{}},"new_field":[1]}"#,
        )
        .unwrap();
        assert!(r.choices.is_empty());
        assert_eq!(r.usage.unwrap().prompt_tokens, Some(1));
        let m: ResponseMessage = serde_json::from_str(
            r#"{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"tool_calls":null}"#,
        )
        .unwrap();
        assert_eq!(m.content.and_then(Content::into_text).as_deref(), Some("ab"));
    }

    #[test]
    fn odd_token_counts_are_no_count_and_cost_nothing_else() {
        let usage = |u: &str| -> WireUsage { serde_json::from_str(u).unwrap() };
        let both = |u: WireUsage| (u.prompt_tokens, u.completion_tokens);
        assert_eq!(
            both(usage(r#"{"prompt_tokens":12,"completion_tokens":3}"#)),
            (Some(12), Some(3))
        );
        assert_eq!(both(usage(r#"{"prompt_tokens":-1,"completion_tokens":2.5}"#)), (None, None));
        assert_eq!(
            both(usage(r#"{"prompt_tokens":7.0,"completion_tokens":"9"}"#)),
            (Some(7), None)
        );
        assert_eq!(
            both(usage(r#"{"prompt_tokens":null,"completion_tokens":[1,{"a":2}]}"#)),
            (None, None)
        );
        assert_eq!(both(usage(r#"{"prompt_tokens":{"n":1},"completion_tokens":1e300}"#)).0, None);
        // The answer around them still decodes.
        let r: ChatResponse = serde_json::from_str(
            r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":-5,"completion_tokens":1.5}}"#,
        )
        .unwrap();
        assert_eq!(r.usage.map(both), Some((None, None)));
    }

    #[test]
    fn arguments_may_be_text_or_json() {
        let f: WireFunction = serde_json::from_str(r#"{"name":"a","arguments":{"x":1}}"#).unwrap();
        assert_eq!(f.arguments.unwrap().into_text(), r#"{"x":1}"#);
        let f: WireFunction = serde_json::from_str(r#"{"name":"a","arguments":"{\"x\""}"#).unwrap();
        assert_eq!(f.arguments.unwrap().into_text(), r#"{"x""#);
    }

    #[test]
    fn error_messages_are_found() {
        assert_eq!(error_message(&json!({"message": "boom"})), "boom");
        assert_eq!(error_message(&json!("boom")), "boom");
        assert_eq!(error_message(&json!({"code": 1})), r#"{"code":1}"#);
        let long = error_message(&json!({ "message": "x ".repeat(10_000) }));
        assert_eq!(long.chars().count(), crate::error::EXCERPT_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
