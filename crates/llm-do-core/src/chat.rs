//! One turn of a [`Conversation`]: [`Ctx::chat`], [`Ctx::chat_value`] and [`Ctx::chat_spec`].
//!
//! A turn renders the worker's prompt from the arguments (attachment arguments read and
//! lowered as for a run's first message), runs the conversation's history processor on the
//! history followed by that prompt, and calls the worker with the result as
//! its conversation (after its system prompt). When the call succeeds, the conversation
//! becomes the processed history, the prompt and every message of the turn (tool calls, tool
//! results, the answer). When it fails — a provider fault, a budget, an over-long input, the
//! future dropped — the conversation is left exactly as it was: no half-answer is kept.

use crate::call::{CallId, CallKind};
use crate::conversation::{Conversation, Entry};
use crate::ctx::{Ctx, convert_result, wrap_bare_argument};
use crate::error::{Error, Result};
use crate::estimate;
use crate::message::Message;
use crate::spec::CallableSpec;
use crate::usage::Usage;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// What a chat turn hands to the agent loop and gets back from it.
#[derive(Default)]
pub(crate) struct ChatTurn {
    /// The processed history, ending with the turn's prompt (taken by the agent loop).
    pub(crate) history: Vec<Message>,
    /// On success: the history again, then every message of the turn.
    pub(crate) messages: Vec<Message>,
    /// For each model request: how many conversation messages it carried, and its usage.
    pub(crate) requests: Vec<(usize, Usage)>,
    /// The kinds of the tools the worker offered, by name.
    pub(crate) tool_kinds: Vec<(String, CallKind)>,
    /// The worker call's id.
    pub(crate) call_id: Option<CallId>,
    /// The worker call's usage, nested calls included.
    pub(crate) usage: Usage,
}

impl Ctx {
    /// Calls the worker `name` as the next turn of `conversation` and converts its answer to
    /// `T`. See [`chat_value`](Self::chat_value).
    ///
    /// ```
    /// use llm_do_core::conversation::Conversation;
    /// use llm_do_core::{Message, Model, ModelError, ModelRequest, ModelResponse, Runtime, WorkerSpecBuilder};
    /// use futures::future::BoxFuture;
    /// use serde_json::json;
    ///
    /// /// Answers with the conversation it was sent.
    /// struct Echo;
    /// impl Model for Echo {
    ///     fn request<'a>(&'a self, req: &'a ModelRequest) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
    ///         let seen: Vec<String> = req.messages.iter().map(|m| match m {
    ///             Message::User { content } => format!("user: {content}"),
    ///             Message::Assistant { content, .. } => format!("assistant: {}", content.as_deref().unwrap_or("")),
    ///             _ => String::new(),
    ///         }).collect();
    ///         Box::pin(async move { Ok(ModelResponse::text(seen.join(" | "))) })
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let echo = WorkerSpecBuilder::new("echo").prompt("{input}").build()?;
    /// let ctx = Runtime::builder().register(echo).provider("echo", Echo).default_model("echo:m").build().ctx();
    /// let mut chat = Conversation::new();
    /// let first: String = ctx.chat("echo", &mut chat, json!({"input": "hello"})).await?;
    /// let second: String = ctx.chat("echo", &mut chat, json!({"input": "again"})).await?;
    /// assert_eq!(first, "user: hello");
    /// assert_eq!(second, "user: hello | assistant: user: hello | user: again");
    /// assert_eq!((chat.turns(), chat.len()), (2, 4));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`chat_value`](Self::chat_value), and [`Error::ResultType`] when the answer does
    /// not fit `T` (the turn is kept: the worker did answer).
    pub async fn chat<T: DeserializeOwned>(
        &self,
        name: &str,
        conversation: &mut Conversation,
        args: impl Serialize,
    ) -> Result<T> {
        let args = serde_json::to_value(args).map_err(|e| Error::InvalidArguments {
            name: name.to_owned(),
            message: format!("the arguments cannot be converted to JSON: {e}"),
        })?;
        let value = self.chat_value(name, conversation, args).await?;
        convert_result(name, value)
    }

    /// Calls the worker `name` (looked up in the registry, like [`call_value`](Self::call_value))
    /// as the next turn of `conversation`, with JSON in and out.
    ///
    /// The worker sees its system prompt, then the conversation's history (after its
    /// [processor](crate::history)), then its prompt rendered from `args`. On success the
    /// conversation grows by the turn; on any error it is unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCallable`], [`Error::NotAWorker`], [`Error::Attachment`] (an attachment
    /// argument that cannot be read or given to the model, before any request),
    /// [`Error::ContextOverflow`] (from a token budget), [`Error::History`] (a processor broke
    /// its contract), and every error of a call ([`Error::Model`], budgets, ...).
    pub async fn chat_value(
        &self,
        name: &str,
        conversation: &mut Conversation,
        args: Value,
    ) -> Result<Value> {
        let Some(spec) = self.registry().get(name).cloned() else {
            return Err(Error::UnknownCallable {
                name: name.to_owned(),
                known: self.registry().names().map(str::to_owned).collect(),
            });
        };
        self.chat_spec(&spec, conversation, args).await
    }

    /// Like [`chat_value`](Self::chat_value) with a given spec (the typed `NAME::chat` that
    /// `#[worker]` generates uses it, so typed and by-name chats behave identically).
    ///
    /// # Errors
    ///
    /// As [`chat_value`](Self::chat_value).
    pub async fn chat_spec(
        &self,
        spec: &Arc<CallableSpec>,
        conversation: &mut Conversation,
        args: Value,
    ) -> Result<Value> {
        let Some(config) = spec.worker() else {
            return Err(Error::NotAWorker { name: spec.name().to_owned() });
        };
        let args = wrap_bare_argument(spec, args);
        spec.validate_input(&args)?;
        // The prompt with its attachments read and lowered, like a run's first message.
        let prompt = crate::user_message::user_message(self, spec, config, &args)?;
        let mut pending = Entry::new(conversation.turns().saturating_add(1), spec.name(), prompt);
        pending.kind = Some(CallKind::Worker);
        let mut history = conversation.entries().to_vec();
        history.push(pending.clone());

        let before = self.run_usage();
        let processed = match conversation.processor().cloned() {
            Some(processor) => processor.process(self, history).await?,
            None => history,
        };
        let processing = usage_since(before, self.run_usage());
        check_processed(&processed, &pending)?;

        let mut turn = ChatTurn {
            history: processed.iter().map(|e| e.message.clone()).collect(),
            ..ChatTurn::default()
        };
        let value = match self.call_spec_turn(spec, args, &mut turn).await {
            Ok(value) => value,
            Err(e) => {
                // The summary (if any) was paid for: count it, keep no history change.
                conversation.add_usage(processing);
                return Err(e);
            }
        };
        let kept = processed.len();
        let mut entries = processed;
        for message in turn.messages.into_iter().skip(kept) {
            let kind = match &message {
                Message::Assistant { .. } => Some(CallKind::Worker),
                Message::Tool(result) => {
                    turn.tool_kinds.iter().find(|(n, _)| *n == result.name).map(|(_, k)| *k)
                }
                _ => None,
            };
            let mut entry = Entry::new(pending.turn, spec.name(), message);
            entry.call_id = turn.call_id;
            entry.kind = kind;
            entries.push(entry);
        }
        for e in &mut entries[kept - 1..] {
            e.call_id = turn.call_id;
        }
        attribute_tokens(&mut entries, &turn.requests);
        conversation.commit(entries, turn.usage + processing);
        Ok(value)
    }
}

fn usage_since(before: Usage, after: Usage) -> Usage {
    Usage {
        requests: after.requests.saturating_sub(before.requests),
        input_tokens: after.input_tokens.saturating_sub(before.input_tokens),
        output_tokens: after.output_tokens.saturating_sub(before.output_tokens),
    }
}

/// The processed history must end with the pending prompt and keep tool calls with their
/// results.
fn check_processed(processed: &[Entry], pending: &Entry) -> Result<()> {
    if processed.last() != Some(pending) {
        return Err(Error::History {
            message: "the pending turn's prompt must stay the last entry, unchanged".into(),
        });
    }
    crate::conversation::validate(processed)
        .map_err(|e| Error::History { message: format!("the processed history is invalid: {e}") })
}

/// Sets `reported_tokens` from the usage of the turn's requests: each answer gets its output
/// tokens; the messages added between two requests share the growth of the input tokens, in
/// proportion to their estimates.
fn attribute_tokens(entries: &mut [Entry], requests: &[(usize, Usage)]) {
    let mut previous: Option<(usize, Usage)> = None;
    for &(sent, usage) in requests {
        if let Some(answer) = entries.get_mut(sent)
            && usage.output_tokens > 0
        {
            answer.reported_tokens = Some(usage.output_tokens);
        }
        if let Some((prev_sent, prev)) = previous {
            let added = prev_sent + 1..sent.min(entries.len());
            let grown = usage.input_tokens.checked_sub(prev.total_tokens()).filter(|g| *g > 0);
            if let (Some(grown), false) = (grown, added.is_empty() || prev.input_tokens == 0) {
                let estimates: Vec<u64> = entries[added.clone()]
                    .iter()
                    .map(|e| estimate::message_tokens(&e.message))
                    .collect();
                let total: u64 = estimates.iter().sum::<u64>().max(1);
                let mut left = grown;
                let last = added.end - 1;
                for (i, est) in added.zip(estimates) {
                    let share = if i == last { left } else { grown.saturating_mul(est) / total };
                    let share = share.min(left);
                    left -= share;
                    entries[i].reported_tokens = Some(share);
                }
            }
        }
        previous = Some((sent, usage));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToolCall, ToolResult};

    #[test]
    fn tokens_come_from_the_reported_usage() {
        let mut entries = vec![
            Entry::new(1, "w", Message::user("question")),
            Entry::new(1, "w", Message::assistant(None, vec![ToolCall::raw("1", "t", "{}")])),
            Entry::new(1, "w", Message::Tool(ToolResult::ok("1", "t", "aaaa"))),
            Entry::new(1, "w", Message::Tool(ToolResult::ok("1", "t", "aaaaaaaaaaaa"))),
            Entry::new(1, "w", Message::assistant(Some("answer".into()), vec![])),
        ];
        // Request 1: 1 message, 50 in / 7 out. Request 2: 4 messages, 77 in (20 more) / 3 out.
        attribute_tokens(&mut entries, &[(1, Usage::tokens(50, 7)), (4, Usage::tokens(77, 3))]);
        let got: Vec<Option<u64>> = entries.iter().map(|e| e.reported_tokens).collect();
        assert_eq!(got, [None, Some(7), Some(5), Some(15), Some(3)]);
    }

    #[test]
    fn no_usage_means_estimates() {
        let mut entries = vec![
            Entry::new(1, "w", Message::user("question")),
            Entry::new(1, "w", Message::assistant(Some("answer".into()), vec![])),
        ];
        attribute_tokens(&mut entries, &[(1, Usage::default())]);
        assert!(entries.iter().all(|e| e.reported_tokens.is_none()));
    }
}
