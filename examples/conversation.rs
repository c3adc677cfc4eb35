//! Reading a conversation from inside a scripted stand-in model.

use llm_do::{Message, ModelRequest, ToolResult};

/// The results of the last batch of tool calls in the conversation, in call order (empty when
/// the last message is not a tool result).
///
/// ```
/// use llm_do::{Message, ModelRequest, ToolResult};
/// let req = ModelRequest::new("m", vec![
///     Message::user("hi"),
///     Message::Tool(ToolResult::ok("c1", "a", "1")),
///     Message::Tool(ToolResult::ok("c2", "b", "2")),
/// ]);
/// let batch = llm_do_examples::conversation::last_tool_results(&req);
/// assert_eq!(batch.iter().map(|r| r.content.as_str()).collect::<Vec<_>>(), ["1", "2"]);
/// ```
pub fn last_tool_results(req: &ModelRequest) -> Vec<ToolResult> {
    let mut batch: Vec<ToolResult> = req
        .messages
        .iter()
        .rev()
        .map_while(|m| match m {
            Message::Tool(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    batch.reverse();
    batch
}
