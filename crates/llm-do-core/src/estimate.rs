//! The deterministic token estimate, used wherever a provider reports no token counts: by the
//! agent loop, which counts it against a run's token budget for a response without them (so
//! that the budget holds whatever the provider), by the in-process test models (so that usage accounting can be tested without
//! scripting numbers) and by the conversation's history processors (to trim to a token budget).
//!
//! - the tokens of a message: the characters of its text, tool call names and arguments, or
//!   tool result, divided by 4, rounded up, at least 1;
//! - input tokens of a request: the characters of every message divided by 4, rounded up, at
//!   least 1;
//! - output tokens: the characters of the answer (text, tool call names and arguments) divided
//!   by 4, rounded up, at least 1.
//!
//! Characters are Unicode scalar values. Tool definitions and output schemas are not counted.

use crate::message::{Message, ToolCall};
use crate::model::{ModelRequest, ModelResponse};
use crate::usage::Usage;

/// The estimated usage of answering `request` with `response` (`requests` stays 0).
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelResponse, Usage};
/// use llm_do_core::estimate::estimate_usage;
///
/// let request = ModelRequest::new("m", vec![Message::user("What is 2 + 2?")]); // 14 chars
/// let usage = estimate_usage(&request, &ModelResponse::text("4"));
/// assert_eq!(usage, Usage::tokens(4, 1));
/// ```
pub fn estimate_usage(request: &ModelRequest, response: &ModelResponse) -> Usage {
    let input: usize = request.messages.iter().map(message_chars).sum();
    let output = response.text.as_deref().map_or(0, chars) + calls_chars(&response.tool_calls);
    Usage::tokens(tokens(input), tokens(output))
}

/// The estimated tokens of one message.
///
/// ```
/// use llm_do_core::{Message, estimate::message_tokens};
/// assert_eq!(message_tokens(&Message::user("What is 2 + 2?")), 4);
/// ```
pub fn message_tokens(message: &Message) -> u64 {
    tokens(message_chars(message))
}

/// Tokens for `chars` characters: a quarter, rounded up, at least 1.
///
/// ```
/// use llm_do_core::estimate::tokens;
/// assert_eq!(tokens(0), 1);
/// assert_eq!(tokens(8), 2);
/// assert_eq!(tokens(9), 3);
/// ```
pub fn tokens(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX).max(1)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn calls_chars(calls: &[ToolCall]) -> usize {
    calls.iter().map(|c| chars(&c.name) + chars(&c.arguments)).sum()
}

fn message_chars(message: &Message) -> usize {
    match message {
        Message::System { content } | Message::User { content } => chars(content),
        Message::Assistant { content, tool_calls } => {
            content.as_deref().map_or(0, chars) + calls_chars(tool_calls)
        }
        Message::Tool(result) => chars(&result.content),
        Message::UserParts { parts } => chars(&crate::message::parts_text(parts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ToolResult;
    use serde_json::json;

    #[test]
    fn counts_every_kind_of_message() {
        let request = ModelRequest::new(
            "m",
            vec![
                Message::system("abcd"),
                Message::user("é"),
                Message::assistant(Some("xy".into()), vec![ToolCall::new("1", "add", &json!({}))]),
                Message::Tool(ToolResult::ok("1", "add", "3")),
            ],
        );
        // 4 + 1 + (2 + 3 + 2) + 1 = 13 chars -> 4 tokens.
        let response = ModelResponse::tool_calls(vec![ToolCall::raw("2", "mul", "{\"a\":1}")]);
        assert_eq!(estimate_usage(&request, &response), Usage::tokens(4, 3));
        assert_eq!(
            estimate_usage(&ModelRequest::new("m", vec![]), &ModelResponse::default()),
            Usage::tokens(1, 1)
        );
    }
}
