//! The prompt format of the local model: how a [`ModelRequest`] becomes chat turns for the
//! model's chat template, which grammar constrains the answer, and how the answer is read back.
//!
//! # Format
//!
//! The conversation is rendered with the model's own chat template (read from the GGUF file),
//! using only the `system`, `user` and `assistant` roles, which every template supports:
//!
//! - the system message, followed — when tools are offered — by the tool list and calling
//!   convention, and — when the answer must be JSON — by the answer's JSON Schema:
//!
//!   ```text
//!   You can call these tools:
//!   <tools>
//!   {"name":"add","description":"Add two integers.","parameters":{...}}
//!   </tools>
//!   To call a tool, answer with only:
//!   <tool_call>
//!   {"name":"TOOL","arguments":{...}}
//!   </tool_call>
//!   When you have the answer, give it directly instead.
//!   ```
//!
//! - a tool call made by the model is rendered as the assistant turn it produced,
//!   `<tool_call>\n{"name":"add","arguments":{"a":1,"b":2}}\n</tool_call>`;
//! - a tool result is a user turn
//!   `<tool_response>\n{"name":"add","content":3}\n</tool_response>` (`"error"` instead of
//!   `"content"` for a failed call); consecutive turns of one role are merged.
//!
//! This is the Hermes-style convention many small instruct models (SmolLM2 included) have seen
//! in training. The answer is decoded under a grammar (see [`grammar`](super::grammar)):
//!
//! - JSON output, no tools: the output schema's grammar;
//! - tools: `<tool_call>\n{"name":"NAME","arguments":ARGS}\n</tool_call>` for one of the offered
//!   tools, with `ARGS` under that tool's parameter schema — or the final answer: the output
//!   schema's grammar for JSON output, any text not starting with `<` for text output. One tool
//!   call per turn.
//! - text output, no tools: no grammar.

use super::error::LocalError;
use super::grammar::{Grammar, GrammarBuilder, literal};
use llm_do_core::{Message, ModelRequest, OutputMode, ToolCall, ToolDefinition};
use serde_json::{Value, json};

/// Opening tag of a tool call.
pub(crate) const CALL_OPEN: &str = "<tool_call>\n";
/// Closing tag of a tool call.
pub(crate) const CALL_CLOSE: &str = "\n</tool_call>";

/// One chat turn, before the chat template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Turn {
    pub(crate) role: &'static str,
    pub(crate) content: String,
}

/// A request made ready for the engine.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) turns: Vec<Turn>,
    pub(crate) grammar: Option<Grammar>,
    /// Tools were offered: the answer may be a tool call.
    pub(crate) tools: bool,
}

/// What the model answered, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Text(String),
    Call { name: String, arguments: String },
}

/// Builds the turns and grammar for `request`.
pub(crate) fn prepare(request: &ModelRequest) -> Result<Prepared, LocalError> {
    let grammar = grammar_for(&request.tools, &request.output)?;
    let mut instructions = Vec::new();
    if !request.tools.is_empty() {
        instructions.push(tool_instructions(&request.tools));
    }
    if let OutputMode::Json { schema, .. } = &request.output {
        instructions.push(format!(
            "Answer with only a JSON value matching this JSON Schema:\n{}",
            compact_schema(schema)
        ));
    }

    let mut turns: Vec<Turn> = Vec::new();
    let mut push = |role: &'static str, content: String| match turns.last_mut() {
        Some(last) if last.role == role => {
            last.content.push_str("\n\n");
            last.content.push_str(&content);
        }
        _ => turns.push(Turn { role, content }),
    };
    let mut system_done = instructions.is_empty();
    for message in &request.messages {
        match message {
            Message::System { content } => {
                let mut text = content.clone();
                if !system_done {
                    for i in &instructions {
                        text.push_str("\n\n");
                        text.push_str(i);
                    }
                    system_done = true;
                }
                push("system", text);
            }
            Message::User { content } => push("user", content.clone()),
            Message::Assistant { content, tool_calls } => {
                let mut parts: Vec<String> =
                    content.iter().filter(|c| !c.is_empty()).cloned().collect();
                for call in tool_calls {
                    parts.push(render_call(call));
                }
                push("assistant", parts.join("\n"));
            }
            Message::Tool(result) => {
                let value = serde_json::from_str::<Value>(&result.content)
                    .unwrap_or_else(|_| Value::String(result.content.clone()));
                let body = if result.is_error {
                    json!({"name": result.name, "error": value})
                } else {
                    json!({"name": result.name, "content": value})
                };
                push("user", format!("<tool_response>\n{body}\n</tool_response>"));
            }
            _ => {}
        }
    }
    if !system_done {
        turns.insert(0, Turn { role: "system", content: instructions.join("\n\n") });
    }
    Ok(Prepared { turns, grammar, tools: !request.tools.is_empty() })
}

fn render_call(call: &ToolCall) -> String {
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| call.arguments.clone());
    format!(
        "{CALL_OPEN}{{\"name\":{},\"arguments\":{arguments}}}{CALL_CLOSE}",
        Value::String(call.name.clone())
    )
}

fn tool_instructions(tools: &[ToolDefinition]) -> String {
    let mut text = String::from("You can call these tools:\n<tools>\n");
    for t in tools {
        let line = json!({
            "name": t.name,
            "description": t.description,
            "parameters": compact_schema(&t.parameters),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    text.push_str(
        "</tools>\nTo call a tool, answer with only:\n<tool_call>\n{\"name\":\"TOOL\",\"arguments\":{...}}\n\
         </tool_call>\nWhen you have the answer, give it directly instead.",
    );
    text
}

/// The schema without the keys that only cost tokens (`$schema`, `title`).
fn compact_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "$schema" && k.as_str() != "title")
                .map(|(k, v)| {
                    let v = if k == "properties" || k == "$defs" {
                        match v {
                            Value::Object(props) => Value::Object(
                                props
                                    .iter()
                                    .map(|(pk, pv)| (pk.clone(), compact_schema(pv)))
                                    .collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        compact_schema(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(compact_schema).collect()),
        other => other.clone(),
    }
}

/// The grammar constraining the answer, `None` for free text.
pub(crate) fn grammar_for(
    tools: &[ToolDefinition],
    output: &OutputMode,
) -> Result<Option<Grammar>, LocalError> {
    if tools.is_empty() {
        return match output {
            OutputMode::Text => Ok(None),
            OutputMode::Json { schema, .. } => {
                super::grammar::json_schema_grammar(schema).map(Some).map_err(|error| {
                    LocalError::UnsupportedSchema { context: "output schema".into(), error }
                })
            }
        };
    }
    let mut b = GrammarBuilder::new();
    let mut calls = Vec::new();
    for tool in tools {
        let args = b.schema(&tool.parameters, &tool.parameters).map_err(|error| {
            LocalError::UnsupportedSchema {
                context: format!("parameters of tool `{}`", tool.name),
                error,
            }
        })?;
        let args = b.rule(&format!("{}-args", tool.name), args);
        let head =
            literal(&format!("{{\"name\":{},\"arguments\":", Value::String(tool.name.clone())));
        calls.push(b.rule(&format!("call-{}", tool.name), format!("{head} {args} \"}}\"")));
    }
    let call = format!("{} ({}) {}", literal(CALL_OPEN), calls.join(" | "), literal(CALL_CLOSE));
    let call = b.rule("tool-call", call);
    let answer = match output {
        OutputMode::Text => b.rule("answer", "[^<] [^\\x00]*".into()),
        OutputMode::Json { schema, .. } => {
            let expr = b.schema(schema, schema).map_err(|error| LocalError::UnsupportedSchema {
                context: "output schema".into(),
                error,
            })?;
            b.rule("answer", expr)
        }
    };
    b.set_rule("root", format!("{call} | {answer}"));
    Ok(Some(b.finish()))
}

/// Reads the model's answer back (`tools`: tool calls were allowed).
pub(crate) fn parse_answer(text: &str, tools: bool) -> Result<Answer, LocalError> {
    if !tools || !text.starts_with('<') {
        return Ok(Answer::Text(text.to_owned()));
    }
    let inner = text
        .strip_prefix(CALL_OPEN)
        .and_then(|rest| rest.strip_suffix(CALL_CLOSE))
        .ok_or_else(|| LocalError::Inference {
            reason: format!("the model's tool call is incomplete: {text:?}"),
        })?;
    let value: Value = serde_json::from_str(inner).map_err(|e| LocalError::Inference {
        reason: format!("the model's tool call is not valid JSON ({e}): {inner:?}"),
    })?;
    let name = value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let arguments = value.get("arguments").map(Value::to_string).unwrap_or_else(|| "{}".into());
    Ok(Answer::Call { name, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::ToolResult;

    fn add_tool() -> ToolDefinition {
        ToolDefinition::new(
            "add",
            "Add two integers.",
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
                "additionalProperties": false
            }),
        )
    }

    #[test]
    fn tools_and_schema_go_into_the_system_turn() {
        let req = ModelRequest::new("m", vec![Message::system("Be exact."), Message::user("1+2?")])
            .with_tools(vec![add_tool()])
            .with_output(OutputMode::json("n", json!({"type": "integer"})));
        let p = prepare(&req).unwrap();
        assert_eq!(p.turns.len(), 2);
        let system = &p.turns[0].content;
        assert!(
            system
                .starts_with("Be exact.\n\nYou can call these tools:\n<tools>\n{\"name\":\"add\"")
        );
        assert!(!system.contains("$schema"));
        assert!(system.ends_with("matching this JSON Schema:\n{\"type\":\"integer\"}"));
        assert!(p.tools);
    }

    #[test]
    fn a_system_turn_is_added_when_needed_and_tool_rounds_alternate() {
        let req = ModelRequest::new(
            "m",
            vec![
                Message::user("1+2?"),
                Message::assistant(
                    None,
                    vec![ToolCall::new("c1", "add", &json!({"a": 1, "b": 2}))],
                ),
                Message::Tool(ToolResult::ok("c1", "add", "3")),
                Message::user("and?"),
            ],
        )
        .with_tools(vec![add_tool()]);
        let p = prepare(&req).unwrap();
        let roles: Vec<_> = p.turns.iter().map(|t| t.role).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(
            p.turns[2].content,
            "<tool_call>\n{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}}\n</tool_call>"
        );
        assert_eq!(
            p.turns[3].content,
            "<tool_response>\n{\"name\":\"add\",\"content\":3}\n</tool_response>\n\nand?"
        );
    }

    #[test]
    fn the_tool_grammar_offers_each_tool_or_an_answer() {
        let g = grammar_for(&[add_tool()], &OutputMode::Text).unwrap().unwrap().to_string();
        assert!(g.starts_with("root ::= tool-call | answer\n"), "{g}");
        assert!(
            g.contains(r#"call-add ::= "{\"name\":\"add\",\"arguments\":" add-args "}""#),
            "{g}"
        );
        assert!(g.contains(r#"answer ::= [^<] [^\x00]*"#), "{g}");
    }

    #[test]
    fn unsupported_tool_schemas_name_the_tool() {
        let bad = ToolDefinition::new(
            "mail",
            "",
            json!({"type": "object", "properties": {"to": {"type": "string", "format": "email"}}}),
        );
        let e = grammar_for(&[bad], &OutputMode::Text).unwrap_err();
        assert!(e.to_string().contains("parameters of tool `mail`"), "{e}");
        assert!(e.to_string().contains("/properties/to/format"), "{e}");
    }

    #[test]
    fn answers_are_read_back() {
        assert_eq!(
            parse_answer(
                "<tool_call>\n{\"name\":\"add\",\"arguments\":{\"a\":1}}\n</tool_call>",
                true
            )
            .unwrap(),
            Answer::Call { name: "add".into(), arguments: "{\"a\":1}".into() }
        );
        assert_eq!(parse_answer("<b>hi</b>", false).unwrap(), Answer::Text("<b>hi</b>".into()));
        assert!(parse_answer("<tool_call>\n{\"name\":", true).is_err());
    }
}
