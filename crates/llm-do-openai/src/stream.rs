//! Assembling a streamed answer: each `chat.completion.chunk` adds text and tool-call pieces,
//! which are passed on to the [`DeltaSink`] as they arrive, and the final [`ModelResponse`]
//! is built exactly as the non-streaming path builds it.
//!
//! The pieces add up to the final answer. So when the output schema was wrapped
//! (`{"response": …}`, for a root that is not an object), the answer's text is held back and
//! passed on once, unwrapped, when the stream ends: its pieces would spell the wrapper.

use super::decode::{call_id, usage_of};
use super::error::{EXCERPT_CHARS, Failure, excerpt};
use super::output::{Answer, FINAL_TOOL, OutputPlan};
use super::wire::{ChatChunk, ToolCallDelta, error_message};
use llm_do_core::{DeltaSink, ModelErrorKind, ModelResponse, StreamDelta, ToolCall, Usage};
use std::collections::BTreeMap;

/// Collects the chunks of one streamed answer.
pub(crate) struct Assembler<'a> {
    sink: &'a dyn DeltaSink,
    plan: OutputPlan,
    text: String,
    refusal: String,
    calls: BTreeMap<u32, PartialCall>,
    usage: Option<Usage>,
    model: Option<String>,
    finish_reason: Option<String>,
    saw_choice: bool,
    delivered: bool,
    /// The first chunks as received, for error messages.
    raw: String,
}

/// A tool call under construction.
#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

impl<'a> Assembler<'a> {
    pub(crate) fn new(plan: OutputPlan, sink: &'a dyn DeltaSink) -> Self {
        Self {
            sink,
            plan,
            text: String::new(),
            refusal: String::new(),
            calls: BTreeMap::new(),
            usage: None,
            model: None,
            finish_reason: None,
            saw_choice: false,
            delivered: false,
            raw: String::new(),
        }
    }

    /// `true` once a piece has been passed to the sink.
    pub(crate) fn delivered(&self) -> bool {
        self.delivered
    }

    /// Adds one chunk (the `data:` of one event).
    pub(crate) fn push(&mut self, raw: &str) -> Result<(), Failure> {
        if self.raw.len() < EXCERPT_CHARS {
            self.raw.push_str(raw);
            self.raw.push('\n');
        }
        let chunk: ChatChunk = serde_json::from_str(raw).map_err(|e| Failure::json(&e, raw))?;
        if let Some(error) = &chunk.error {
            return Err(Failure::new(
                ModelErrorKind::Other,
                format!(
                    "the server reported an error in the stream: {}; chunk: {}",
                    error_message(error),
                    excerpt(raw)
                ),
            ));
        }
        if self.model.is_none() {
            self.model = chunk.model.filter(|m| !m.is_empty());
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage_of(usage));
        }
        for choice in chunk.choices {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            self.saw_choice = true;
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish_reason = Some(reason);
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(text) = delta.content.and_then(|c| c.into_text()).filter(|t| !t.is_empty())
            {
                self.text.push_str(&text);
                if !self.plan.wrapped {
                    self.emit(StreamDelta::Text { text });
                }
            }
            if let Some(refusal) = delta.refusal {
                self.refusal.push_str(&refusal);
            }
            for piece in delta.tool_calls {
                self.tool_call_piece(piece);
            }
        }
        Ok(())
    }

    fn tool_call_piece(&mut self, piece: ToolCallDelta) {
        let id = piece.id.filter(|id| !id.is_empty());
        let function = piece.function.unwrap_or_default();
        let name = function.name.filter(|n| !n.is_empty());
        let index =
            piece.index.unwrap_or_else(|| self.index_without_one(id.as_deref(), name.as_deref()));
        let arguments = function.arguments.map(|a| a.into_text()).unwrap_or_default();
        let call = self.calls.entry(index).or_default();
        if call.id.is_none() {
            call.id.clone_from(&id);
        }
        if call.name.is_empty()
            && let Some(name) = &name
        {
            call.name.clone_from(name);
        }
        call.arguments.push_str(&arguments);
        let is_answer = self.plan.final_tool && call.name == FINAL_TOOL;
        if is_answer {
            // The answer tool's arguments are the answer: stream them as text.
            if !arguments.is_empty() && !self.plan.wrapped {
                self.emit(StreamDelta::Text { text: arguments });
            }
        } else if id.is_some() || name.is_some() || !arguments.is_empty() {
            self.emit(StreamDelta::ToolCall { index, id, name, arguments });
        }
    }

    /// The index of a piece that has none: a new call when it brings a new id, or (without
    /// an id) a name while the current call has its name already and the piece cannot belong
    /// to it (another name, or the current call's arguments are complete JSON: servers that
    /// send whole calls without index or id); else the current call.
    fn index_without_one(&self, id: Option<&str>, name: Option<&str>) -> u32 {
        let Some((last, call)) = self.calls.last_key_value() else { return 0 };
        let new = match (id, name) {
            (Some(id), _) => call.id.as_deref().is_some_and(|current| current != id),
            (None, Some(name)) if !call.name.is_empty() => {
                name != call.name
                    || serde_json::from_str::<serde::de::IgnoredAny>(&call.arguments).is_ok()
            }
            (None, _) => false,
        };
        if new { last.saturating_add(1) } else { *last }
    }

    fn emit(&mut self, delta: StreamDelta) {
        self.delivered = true;
        self.sink.delta(delta);
    }

    /// The assembled response, once the stream has ended.
    pub(crate) fn finish(self) -> Result<ModelResponse, Failure> {
        if !self.saw_choice {
            return Err(Failure::decode("the streamed answer has no choices", &self.raw));
        }
        let text = Some(self.text).filter(|t| !t.is_empty());
        let tool_calls = self
            .calls
            .into_iter()
            .map(|(index, call)| {
                ToolCall::raw(
                    call_id(call.id, usize::try_from(index).unwrap_or(usize::MAX)),
                    call.name,
                    call.arguments,
                )
            })
            .collect();
        let response = self.plan.finish(Answer {
            text,
            tool_calls,
            usage: self.usage.unwrap_or_default(),
            model: self.model,
            finish_reason: self.finish_reason,
            refusal: Some(self.refusal).filter(|r| !r.is_empty()),
        });
        if self.plan.wrapped
            && let Some(text) = &response.text
        {
            self.sink.delta(StreamDelta::Text { text: text.clone() });
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;
    use std::sync::Mutex;

    fn run(
        plan: OutputPlan,
        chunks: &[&str],
    ) -> (Result<ModelResponse, Failure>, Vec<StreamDelta>) {
        let seen = Mutex::new(Vec::new());
        let sink = |d: StreamDelta| seen.lock().unwrap().push(d);
        let mut a = Assembler::new(plan, &sink);
        for chunk in chunks {
            if let Err(f) = a.push(chunk) {
                return (Err(f), seen.into_inner().unwrap());
            }
        }
        let out = a.finish();
        (out, seen.into_inner().unwrap())
    }

    #[test]
    fn text_and_tool_calls_are_streamed_and_assembled() {
        let chunks = [
            r#"{"model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"add","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"mul","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}}"#,
        ];
        let (out, deltas) = run(OutputPlan::default(), &chunks);
        let out = out.unwrap();
        assert_eq!(out.text.as_deref(), Some("Hello"));
        assert_eq!(
            out.tool_calls,
            [ToolCall::raw("c1", "add", r#"{"a":1}"#), ToolCall::raw("c2", "mul", "{}")]
        );
        assert_eq!(out.usage, Usage::tokens(9, 4));
        assert_eq!(out.model.as_deref(), Some("m1"));
        assert_eq!(out.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(deltas.len(), 6);
        assert_eq!(deltas[0], StreamDelta::Text { text: "Hel".into() });
        assert_eq!(
            deltas[2],
            StreamDelta::ToolCall {
                index: 0,
                id: Some("c1".into()),
                name: Some("add".into()),
                arguments: String::new()
            }
        );
    }

    #[test]
    fn the_assembled_answer_equals_the_decoded_one() {
        let body = r#"{"model":"m","choices":[{"index":0,"message":{"content":"Hi","tool_calls":[
            {"id":"c1","function":{"name":"t","arguments":"{\"x\":1}"}}]},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":3,"completion_tokens":2}}"#;
        let decoded = OutputPlan::default().finish(decode::response(body).unwrap());
        let chunks = [
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":"H"}}]}"#,
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":"i","tool_calls":[{"index":0,"id":"c1","function":{"name":"t","arguments":"{\"x\":"}}]}}]}"#,
            r#"{"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"stop"}]}"#,
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
        ];
        assert_eq!(run(OutputPlan::default(), &chunks).0.unwrap(), decoded);
    }

    #[test]
    fn pieces_without_index_follow_their_ids() {
        let chunks = [
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"x","arguments":"{"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"y","arguments":"{}"}}]}}]}"#,
        ];
        let out = run(OutputPlan::default(), &chunks).0.unwrap();
        assert_eq!(out.tool_calls, [ToolCall::raw("a", "x", "{}"), ToolCall::raw("b", "y", "{}")]);
    }

    #[test]
    fn whole_calls_without_index_or_id_stay_apart() {
        let chunks = [
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"b","arguments":"{\"x\":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"b","arguments":"{\"x\":2}"}}]}}]}"#,
        ];
        let out = run(OutputPlan::default(), &chunks).0.unwrap();
        assert_eq!(
            out.tool_calls,
            [
                ToolCall::raw("call_0", "a", "{}"),
                ToolCall::raw("call_1", "b", r#"{"x":1}"#),
                ToolCall::raw("call_2", "b", r#"{"x":2}"#)
            ]
        );
        // A name repeated in every piece of one call does not split it.
        let chunks = [
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"{\"x\""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":":1}"}}]}}]}"#,
        ];
        let out = run(OutputPlan::default(), &chunks).0.unwrap();
        assert_eq!(out.tool_calls, [ToolCall::raw("call_0", "a", r#"{"x":1}"#)]);
    }

    #[test]
    fn the_final_answer_tool_streams_as_text() {
        let plan = OutputPlan { wrapped: true, final_tool: true };
        let chunks = [
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"f","function":{"name":"final_result","arguments":"{\"response\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"7}"}}]},"finish_reason":"tool_calls"}]}"#,
        ];
        let (out, deltas) = run(plan, &chunks);
        let out = out.unwrap();
        assert_eq!(out.text.as_deref(), Some("7"));
        assert!(out.tool_calls.is_empty());
        // Wrapped, the answer comes unwrapped, in one piece at the end.
        assert_eq!(deltas, [StreamDelta::Text { text: "7".into() }]);
        let plan = OutputPlan { wrapped: false, final_tool: true };
        let chunks = [
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"f","function":{"name":"final_result","arguments":"{\"a\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"7}"}}]},"finish_reason":"tool_calls"}]}"#,
        ];
        let (out, deltas) = run(plan, &chunks);
        assert_eq!(out.unwrap().text.as_deref(), Some(r#"{"a":7}"#));
        assert_eq!(
            deltas,
            [
                StreamDelta::Text { text: r#"{"a":"#.into() },
                StreamDelta::Text { text: "7}".into() }
            ]
        );
    }

    #[test]
    fn a_wrapped_text_answer_streams_as_the_final_text() {
        let plan = OutputPlan { wrapped: true, final_tool: false };
        let chunks = [
            r#"{"choices":[{"delta":{"content":"{\"response\": "}}]}"#,
            r#"{"choices":[{"delta":{"content":"42}"},"finish_reason":"stop"}]}"#,
        ];
        let (out, deltas) = run(plan, &chunks);
        assert_eq!(out.unwrap().text.as_deref(), Some("42"));
        assert_eq!(deltas, [StreamDelta::Text { text: "42".into() }]);
    }

    #[test]
    fn broken_streams_are_typed_errors() {
        let (out, _) = run(OutputPlan::default(), &[r#"{"choices":[]}"#]);
        let f = out.unwrap_err();
        assert_eq!(f.kind, ModelErrorKind::Decode);
        assert!(f.message.contains("no choices"));
        let (out, _) = run(OutputPlan::default(), &["not json"]);
        assert_eq!(out.unwrap_err().kind, ModelErrorKind::Decode);
        let (out, _) = run(OutputPlan::default(), &[r#"{"error":{"message":"overloaded"}}"#]);
        assert!(out.unwrap_err().message.contains("overloaded"));
        let (out, _) = run(OutputPlan::default(), &[]);
        assert!(out.is_err());
    }
}
