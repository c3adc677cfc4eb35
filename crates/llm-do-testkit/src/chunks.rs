//! The `chat.completion.chunk` objects of a streamed [`Completion`]: the shared wire format's
//! chunks and deltas ([`llm_do_openai_wire::response`]) over the answer cut in pieces, with
//! the [`Quirk`]'s deviations.

use crate::completion::Completion;
use crate::quirk::Quirk;
use llm_do_core::StreamDelta;
use llm_do_openai_wire::response as wire;
use serde_json::{Value, json};

/// How many characters of content or tool call arguments one chunk carries at most.
pub(crate) const PIECE_CHARS: usize = 6;

/// A streamed answer, before SSE encoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chunks {
    /// The role chunk, then content pieces, then tool call pieces.
    pub(crate) deltas: Vec<Value>,
    /// The chunk with an empty delta and the `finish_reason`.
    pub(crate) finish: Value,
    /// The usage chunk (empty `choices`), when requested and not left out by a quirk.
    pub(crate) usage: Option<Value>,
}

impl Chunks {
    /// Every chunk, in order.
    pub(crate) fn all(&self) -> Vec<Value> {
        let mut all = self.deltas.clone();
        all.push(self.finish.clone());
        all.extend(self.usage.clone());
        all
    }
}

impl Completion {
    /// The chunks of this answer; `include_usage` as `stream_options.include_usage` says
    /// (every chunk but the last then has `"usage": null`, as OpenAI sends them).
    pub(crate) fn chunks(&self, include_usage: bool) -> Chunks {
        let include_usage = include_usage && self.quirk != Quirk::Minimal;
        let head = self.head();
        let chunk = |delta: Value, finish_reason: Option<&str>| {
            let mut chunk = wire::chunk(&head, delta, finish_reason);
            if let Some(object) = chunk.as_object_mut() {
                self.quirk_head(object);
                if self.quirk == Quirk::ExtraFields
                    && let Some(choice) = object["choices"][0].as_object_mut()
                {
                    choice.insert("logprobs".into(), Value::Null);
                }
                if include_usage {
                    object.insert("usage".into(), Value::Null);
                }
            }
            chunk
        };
        let delta = |piece: StreamDelta| wire::delta(&piece).unwrap_or_else(|| json!({}));

        let mut deltas = Vec::new();
        let mut role = wire::role_delta(self.response.text.is_some());
        if let Some(role) = role.as_object_mut() {
            if self.quirk == Quirk::Minimal && self.response.text.is_none() {
                role.remove("content");
            }
            if self.quirk == Quirk::ExtraFields {
                role.insert("refusal".into(), Value::Null);
                role.insert("x_testkit_delta_note".into(), json!("unknown field"));
            }
        }
        deltas.push(chunk(role, None));
        if let Some(text) = &self.response.text {
            for text in pieces(text) {
                deltas.push(chunk(delta(StreamDelta::Text { text }), None));
            }
        }
        if let Some(refusal) = &self.response.refusal {
            for refusal in pieces(refusal) {
                deltas.push(chunk(json!({ "refusal": refusal }), None));
            }
        }
        for (index, call) in self.response.tool_calls.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let head = StreamDelta::ToolCall {
                index,
                id: Some(call.id.clone()),
                name: Some(call.name.clone()),
                arguments: String::new(),
            };
            deltas.push(chunk(delta(head), None));
            for arguments in pieces(&call.arguments) {
                let piece = StreamDelta::ToolCall { index, id: None, name: None, arguments };
                deltas.push(chunk(delta(piece), None));
            }
        }
        let finish = chunk(json!({}), Some(self.finish_reason()));
        let usage = include_usage.then(|| {
            let mut chunk = wire::usage_chunk(&head, &self.response.usage);
            if let Some(object) = chunk.as_object_mut() {
                self.quirk_head(object);
                object.insert("usage".into(), self.usage().unwrap_or(Value::Null));
            }
            chunk
        });
        Chunks { deltas, finish, usage }
    }
}

/// `text` in pieces of at most [`PIECE_CHARS`] characters (none for empty text).
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(PIECE_CHARS).map(|piece| piece.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::completion::tests::completion;
    use llm_do_core::{ModelResponse, ToolCall, Usage};

    #[test]
    fn splits_on_characters() {
        assert_eq!(pieces(""), Vec::<String>::new());
        assert_eq!(pieces("héllo wörld"), ["héllo ", "wörld"]);
    }

    #[test]
    fn streams_text_then_calls_then_finish_then_usage() {
        let mut response =
            ModelResponse::tool_calls(vec![ToolCall::raw("c1", "add", r#"{"a":1,"b":2}"#)]);
        response.text = Some("checking".into());
        response.usage = Usage::tokens(5, 6);
        let chunks = completion(response, Quirk::Standard).chunks(true);
        let deltas: Vec<&Value> = chunks.deltas.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(
            deltas,
            [
                &json!({"role": "assistant", "content": ""}),
                &json!({"content": "checki"}),
                &json!({"content": "ng"}),
                &json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "add", "arguments": ""}}]}),
                &json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":1"}}]}),
                &json!({"tool_calls": [{"index": 0, "function": {"arguments": ",\"b\":2"}}]}),
                &json!({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}),
            ]
        );
        assert!(
            chunks
                .deltas
                .iter()
                .all(|c| c["usage"].is_null() && c["object"] == "chat.completion.chunk")
        );
        assert_eq!(chunks.finish["choices"][0]["finish_reason"], "tool_calls");
        let usage = chunks.usage.expect("requested");
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["total_tokens"], 11);
    }

    #[test]
    fn no_usage_unless_requested_or_when_minimal() {
        let response = ModelResponse::text("x");
        let plain = completion(response.clone(), Quirk::Standard).chunks(false);
        assert!(plain.usage.is_none());
        assert!(plain.deltas[0].get("usage").is_none());
        let minimal = completion(response, Quirk::Minimal).chunks(true);
        assert!(minimal.usage.is_none());
        assert!(minimal.deltas[0].get("object").is_none());
    }
}
