//! Assembling a streamed answer: each `chat.completion.chunk` adds text and tool-call pieces,
//! which are passed on to the [`DeltaSink`] as they arrive, and the final [`ModelResponse`]
//! is built exactly as the non-streaming path builds it.
//!
//! The pieces add up to the final answer. So when the output schema was wrapped
//! (`{"response": …}`, for a root that is not an object), the answer's text is held back and
//! passed on once, unwrapped, when the stream ends: its pieces would spell the wrapper.

use super::decode::{call_id, followed_choice, usage_of};
use super::error::{EXCERPT_CHARS, Failure, excerpt};
use super::output::{Answer, FINAL_TOOL, OutputPlan};
use super::wire::{ChatChunk, ToolCallDelta, error_message};
use json_end::JsonEnd;
use llm_do_core::{DeltaSink, ModelErrorKind, ModelResponse, StreamDelta, ToolCall, Usage};
use std::collections::BTreeMap;

/// Collects the chunks of one streamed answer.
pub(crate) struct Assembler<'a> {
    sink: &'a dyn DeltaSink,
    plan: OutputPlan,
    text: String,
    refusal: String,
    /// The tool calls in the order they started: a call's position here is its index in the
    /// answer (and in the pieces passed on).
    calls: Vec<PartialCall>,
    /// For each `index` the server gave a piece, the position of the latest call with it.
    positions: BTreeMap<u32, usize>,
    usage: Option<Usage>,
    model: Option<String>,
    finish_reason: Option<String>,
    /// The index of the choice followed, fixed by the first chunk with choices (pieces are
    /// passed on as they come): the decoder's rule applied to that chunk's choices.
    choice: Option<u32>,
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
    /// Whether `arguments` are complete JSON yet.
    end: JsonEnd,
}

impl<'a> Assembler<'a> {
    pub(crate) fn new(plan: OutputPlan, sink: &'a dyn DeltaSink) -> Self {
        Self {
            sink,
            plan,
            text: String::new(),
            refusal: String::new(),
            calls: Vec::new(),
            positions: BTreeMap::new(),
            usage: None,
            model: None,
            finish_reason: None,
            choice: None,
            delivered: false,
            raw: String::new(),
        }
    }

    /// Bytes of tool-call arguments examined to tell calls apart (what the tests measure).
    #[cfg(test)]
    fn examined(&self) -> u64 {
        self.calls.iter().map(|call| call.end.examined).sum()
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
        if self.choice.is_none() {
            self.choice = followed_choice(chunk.choices.iter().map(|c| c.index))
                .and_then(|position| chunk.choices.get(position))
                .map(|choice| choice.index.unwrap_or(0));
        }
        for choice in chunk.choices {
            if Some(choice.index.unwrap_or(0)) != self.choice {
                continue;
            }
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
        let position = match piece.index {
            Some(index) => self.position_at(index, id.as_deref()),
            None => self.position_without_index(id.as_deref(), name.as_deref()),
        };
        if position == self.calls.len() {
            self.calls.push(PartialCall::default());
        }
        let index = u32::try_from(position).unwrap_or(u32::MAX);
        let arguments = function.arguments.map(|a| a.into_text()).unwrap_or_default();
        let call = &mut self.calls[position];
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

    /// The position of the call a piece with `index` belongs to: the latest call with that
    /// index, unless the piece brings an id other than that call's (servers that send whole
    /// calls all at index 0, each with its own id); else (a new call) the next position.
    fn position_at(&mut self, index: u32, id: Option<&str>) -> usize {
        let latest = self.positions.get(&index).copied().filter(|&position| {
            let current = self.calls[position].id.as_deref();
            !matches!((current, id), (Some(current), Some(id)) if current != id)
        });
        latest.unwrap_or_else(|| {
            let position = self.calls.len();
            self.positions.insert(index, position);
            position
        })
    }

    /// The position of the call a piece without an index belongs to: a new call when it
    /// brings a new id, or (without an id) a name while the current call has its name already
    /// and the piece cannot belong to it (another name, or the current call's arguments are
    /// complete JSON: servers that send whole calls without index or id); else the current
    /// (latest) call. Telling whether the arguments are complete costs time linear in their
    /// length over all pieces ([`JsonEnd`]).
    fn position_without_index(&mut self, id: Option<&str>, name: Option<&str>) -> usize {
        let count = self.calls.len();
        let Some(call) = self.calls.last_mut() else { return 0 };
        let new = match (id, name) {
            (Some(id), _) => call.id.as_deref().is_some_and(|current| current != id),
            (None, Some(name)) if !call.name.is_empty() => {
                name != call.name || call.end.is_complete(&call.arguments)
            }
            (None, _) => false,
        };
        if new { count } else { count - 1 }
    }

    fn emit(&mut self, delta: StreamDelta) {
        self.delivered = true;
        self.sink.delta(delta);
    }

    /// The assembled response, once the stream has ended.
    pub(crate) fn finish(self) -> Result<ModelResponse, Failure> {
        if self.choice.is_none() {
            return Err(Failure::decode("the streamed answer has no choices", &self.raw));
        }
        let text = Some(self.text).filter(|t| !t.is_empty());
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(position, call)| {
                ToolCall::raw(call_id(call.id, position), call.name, call.arguments)
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

mod json_end;
#[cfg(test)]
mod tests;
