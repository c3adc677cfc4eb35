//! The deterministic token estimate the in-process models report when a script gives none.
//!
//! Real providers report token usage; the test models make one up so that usage accounting
//! (budgets, totals in events) can be tested without scripting numbers everywhere:
//!
//! - input tokens: the characters of every message of the request (text, tool call names and
//!   arguments, tool results) divided by 4, rounded up, at least 1;
//! - output tokens: the characters of the answer (text, tool call names and arguments) divided
//!   by 4, rounded up, at least 1.
//!
//! Characters are Unicode scalar values. Tool definitions and output schemas are not counted.

use llm_do_core::{Message, ModelRequest, ModelResponse, ToolCall, Usage};

/// The estimated usage of answering `request` with `response` (`requests` stays 0).
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelResponse, Usage};
/// use llm_do_providers::estimate::estimate_usage;
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

/// Tokens for `chars` characters: a quarter, rounded up, at least 1.
///
/// ```
/// use llm_do_providers::estimate::tokens;
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
        Message::UserParts { parts } => chars(&llm_do_core::message::parts_text(parts)),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::ToolResult;
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
