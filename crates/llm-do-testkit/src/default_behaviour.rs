//! The answer when no scripted reply is left: deterministic and schema-valid.
//!
//! - Tools offered and no tool result in the conversation: call the **first** tool, with
//!   arguments generated from its parameter schema by
//!   [`example_value`](llm_do_testing::example::example_value).
//! - Otherwise answer. With `response_format` `json_schema`: an example of the schema (as
//!   JSON text in `content`); with `json_object`: `{}`. For text: a JSON object mapping each
//!   tool called to its result (the last result wins), or `success (no tool calls)` when no
//!   tool was called.
//!
//! This is [`TestModel`]'s behaviour restricted to the first tool, so the HTTP server and the
//! in-process model agree. A schema the generator cannot satisfy gives an
//! [`InvalidRequest`](llm_do_core::ModelErrorKind::InvalidRequest) error (answered as a 400).

use llm_do_core::{Model, ModelError, ModelRequest, ModelResponse};
use llm_do_testing::test_model::TestModel;

/// The default answer to `request`. Tool call ids are `call_1`, ... (the caller renumbers
/// them); usage is [estimated](llm_do_testing::estimate).
pub(crate) async fn respond(request: &ModelRequest) -> Result<ModelResponse, ModelError> {
    let model = match request.tools.first() {
        Some(first) => TestModel::new().call_tools([first.name.clone()]),
        None => TestModel::new(),
    };
    model.request(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::{Message, OutputMode, ToolDefinition, ToolResult};
    use serde_json::json;

    #[tokio::test]
    async fn calls_the_first_tool_then_answers() {
        let tools = vec![
            ToolDefinition::new(
                "add",
                "",
                json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}),
            ),
            ToolDefinition::new("now", "", json!({"type": "object"})),
        ];
        let mut request = ModelRequest::new("m", vec![Message::user("go")]).with_tools(tools);
        let turn = respond(&request).await.expect("calls");
        assert_eq!(turn.tool_calls.len(), 1);
        assert_eq!(
            (turn.tool_calls[0].name.as_str(), turn.tool_calls[0].arguments.as_str()),
            ("add", r#"{"a":0}"#)
        );
        request.messages.push(Message::assistant(None, turn.tool_calls));
        request.messages.push(Message::Tool(ToolResult::ok("call_1", "add", "3")));
        let answer = respond(&request).await.expect("answers");
        assert_eq!(answer.text.as_deref(), Some(r#"{"add":3}"#));
        let json = request.with_output(OutputMode::json("x", json!({"type": "object"})));
        assert_eq!(respond(&json).await.expect("json").text.as_deref(), Some("{}"));
    }
}
