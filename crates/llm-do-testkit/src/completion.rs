//! [`Completion`]: one answer rendered as an OpenAI `chat.completion` object — the standard
//! shape from the shared wire format ([`llm_do_openai_wire::response`]), then the
//! [`Quirk`]'s deviations from it.

use crate::quirk::Quirk;
use llm_do_core::ModelResponse;
use llm_do_openai_wire::response::{self as wire, Head};
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
    /// The wire head of every body and chunk of this answer.
    pub(crate) fn head(&self) -> Head<'_> {
        Head {
            id: &self.id,
            created: self.created,
            model: &self.model,
            fingerprint: Some(FINGERPRINT),
        }
    }

    /// The non-streaming body.
    pub(crate) fn body(&self) -> Value {
        let mut body = self.envelope("chat.completion");
        let mut message = wire::message(&self.response);
        if self.quirk == Quirk::Minimal && self.response.text.is_none() {
            message.remove("content");
        }
        if self.quirk == Quirk::ExtraFields {
            if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
                for call in calls.iter_mut().filter_map(Value::as_object_mut) {
                    call.insert("x_testkit_call_note".into(), json!("unknown field"));
                }
            }
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

    /// The fields every body or chunk starts with ([`Head::fields`]), as the quirk has them.
    pub(crate) fn envelope(&self, object: &str) -> Map<String, Value> {
        let mut body = self.head().fields(object);
        self.quirk_head(&mut body);
        body
    }

    /// A body's or chunk's head fields as the quirk has them: the optional ones left out for
    /// [`Quirk::Minimal`], unknown fields added for [`Quirk::ExtraFields`].
    pub(crate) fn quirk_head(&self, object: &mut Map<String, Value>) {
        if self.quirk == Quirk::Minimal {
            for optional in ["object", "created", "system_fingerprint"] {
                object.remove(optional);
            }
        }
        if self.quirk == Quirk::ExtraFields {
            object.insert("service_tier".into(), json!("default"));
            object.insert("x_testkit_note".into(), json!({"unknown": ["field", 1]}));
        }
    }

    /// The reply's finish reason, else `tool_calls` or `stop` ([`wire::finish_reason`]); `""`
    /// for [`Quirk::EmptyFinishReason`].
    pub(crate) fn finish_reason(&self) -> &str {
        match self.quirk {
            Quirk::EmptyFinishReason => "",
            _ => wire::finish_reason(&self.response),
        }
    }

    /// The `usage` object (`None` for [`Quirk::Minimal`]).
    pub(crate) fn usage(&self) -> Option<Value> {
        if self.quirk == Quirk::Minimal {
            return None;
        }
        let mut usage = wire::usage(&self.response.usage);
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
    use llm_do_core::{ToolCall, Usage};

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
