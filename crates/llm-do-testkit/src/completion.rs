//! [`Completion`]: one answer rendered as an OpenAI `chat.completion` object.

use crate::quirk::Quirk;
use llm_do_core::{ModelResponse, ToolCall, Usage};
use serde_json::{Map, Value, json};

/// What `system_fingerprint` says.
pub(crate) const FINGERPRINT: &str = "fp_llm_do_testkit";

/// One successful answer and what its JSON needs besides the [`ModelResponse`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Completion {
    /// `chatcmpl-N`.
    pub(crate) id: String,
    /// Unix seconds.
    pub(crate) created: u64,
    /// The model name reported: the reply's, else the request's.
    pub(crate) model: String,
    /// What the answer says.
    pub(crate) response: ModelResponse,
    /// Deviations from the standard shape.
    pub(crate) quirk: Quirk,
}

impl Completion {
    /// The non-streaming body.
    pub(crate) fn body(&self) -> Value {
        let mut body = self.envelope("chat.completion");
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        match (&self.response.text, self.quirk) {
            (Some(text), _) => {
                message.insert("content".into(), json!(text));
            }
            (None, Quirk::Minimal) => {}
            (None, _) => {
                message.insert("content".into(), Value::Null);
            }
        }
        if !self.response.tool_calls.is_empty() {
            let calls = self.response.tool_calls.iter().map(|c| self.tool_call(c)).collect();
            message.insert("tool_calls".into(), Value::Array(calls));
        }
        if self.quirk == Quirk::ExtraFields {
            message.insert("refusal".into(), Value::Null);
            message.insert("annotations".into(), json!([]));
            message.insert("x_testkit_message_note".into(), json!("unknown field"));
        }
        let mut choice = Map::new();
        choice.insert("index".into(), json!(0));
        choice.insert("message".into(), Value::Object(message));
        choice.insert("finish_reason".into(), json!(self.finish_reason()));
        if self.quirk == Quirk::ExtraFields {
            choice.insert("logprobs".into(), Value::Null);
            choice.insert("x_testkit_choice_note".into(), json!("unknown field"));
        }
        body.insert("choices".into(), json!([choice]));
        if let Some(usage) = self.usage() {
            body.insert("usage".into(), usage);
        }
        Value::Object(body)
    }

    /// The fields every body or chunk starts with: `id`, `object`, `created`, `model`,
    /// `system_fingerprint` (the optional ones left out for [`Quirk::Minimal`]), and unknown
    /// fields for [`Quirk::ExtraFields`].
    pub(crate) fn envelope(&self, object: &str) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("id".into(), json!(self.id));
        if self.quirk != Quirk::Minimal {
            body.insert("object".into(), json!(object));
            body.insert("created".into(), json!(self.created));
        }
        body.insert("model".into(), json!(self.model));
        if self.quirk != Quirk::Minimal {
            body.insert("system_fingerprint".into(), json!(FINGERPRINT));
        }
        if self.quirk == Quirk::ExtraFields {
            body.insert("service_tier".into(), json!("default"));
            body.insert("x_testkit_note".into(), json!({"unknown": ["field", 1]}));
        }
        body
    }

    /// A tool call in the non-streaming form.
    fn tool_call(&self, call: &ToolCall) -> Value {
        let mut value = json!({
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        });
        if self.quirk == Quirk::ExtraFields
            && let Some(object) = value.as_object_mut()
        {
            object.insert("x_testkit_call_note".into(), json!("unknown field"));
        }
        value
    }

    /// The reply's finish reason, else `tool_calls` or `stop`; `""` for
    /// [`Quirk::EmptyFinishReason`].
    pub(crate) fn finish_reason(&self) -> &str {
        match (&self.response.finish_reason, self.quirk) {
            (_, Quirk::EmptyFinishReason) => "",
            (Some(reason), _) => reason,
            (None, _) if self.response.tool_calls.is_empty() => "stop",
            (None, _) => "tool_calls",
        }
    }

    /// The `usage` object (`None` for [`Quirk::Minimal`]).
    pub(crate) fn usage(&self) -> Option<Value> {
        if self.quirk == Quirk::Minimal {
            return None;
        }
        let Usage { input_tokens, output_tokens, .. } = self.response.usage;
        let mut usage = json!({
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens.saturating_add(output_tokens),
        });
        if self.quirk == Quirk::ExtraFields
            && let Some(object) = usage.as_object_mut()
        {
            object.insert("prompt_tokens_details".into(), json!({"cached_tokens": 0}));
            object.insert("completion_tokens_details".into(), json!({"reasoning_tokens": 0}));
        }
        Some(usage)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn completion(response: ModelResponse, quirk: Quirk) -> Completion {
        Completion { id: "chatcmpl-1".into(), created: 7, model: "m".into(), response, quirk }
    }

    #[test]
    fn standard_text_body() {
        let c =
            completion(ModelResponse::text("hi").with_usage(Usage::tokens(3, 1)), Quirk::Standard);
        assert_eq!(
            c.body(),
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 7, "model": "m",
                "system_fingerprint": FINGERPRINT,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
            })
        );
    }

    #[test]
    fn tool_calls_and_quirks() {
        let response = ModelResponse::tool_calls(vec![ToolCall::raw("call_1", "add", "{}")]);
        let standard = completion(response.clone(), Quirk::Standard).body();
        assert_eq!(standard["choices"][0]["message"]["content"], Value::Null);
        assert_eq!(standard["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            standard["choices"][0]["message"]["tool_calls"],
            json!([{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{}"}}])
        );
        let minimal = completion(response.clone(), Quirk::Minimal).body();
        for field in ["object", "created", "system_fingerprint", "usage"] {
            assert!(minimal.get(field).is_none(), "{field}");
        }
        assert!(minimal["choices"][0]["message"].get("content").is_none());
        let extra = completion(response.clone(), Quirk::ExtraFields).body();
        assert!(extra.get("x_testkit_note").is_some());
        assert!(
            extra["choices"][0]["message"]["tool_calls"][0].get("x_testkit_call_note").is_some()
        );
        let empty = completion(response, Quirk::EmptyFinishReason).body();
        assert_eq!(empty["choices"][0]["finish_reason"], "");
    }
}
