//! The prompt format of the local model: how a [`ModelRequest`] becomes chat turns for the
//! model's chat template, which grammar constrains the answer, and how the answer is read back.
//!
//! # Format
//!
//! The conversation is rendered with the model's own chat template (read from the GGUF file),
//! using only the `system`, `user` and `assistant` roles, which every template supports;
//! consecutive turns of one role are merged.
//!
//! **Without tools**, the answer is free text, or — for JSON output — the system turn ends with
//! `Answer with only a JSON value matching this JSON Schema: {schema}` and the answer is
//! decoded under the output schema's grammar (`grammar.rs`).
//!
//! **With tools**, every answer is exactly one JSON object naming a tool: one of the offered
//! tools, or `final_answer`, a pseudo-tool whose `answer` argument is the final answer (a JSON
//! string for text output, a value of the output schema for JSON output). The system turn ends
//! with the list and the convention:
//!
//! ```text
//! You can call these tools:
//! <tools>
//! {"name":"order_status","description":"The shipping status of an order.","parameters":{...}}
//! {"name":"final_answer","description":"Give the final answer.","parameters":{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}}
//! </tools>
//! Answer with only one tool call, as JSON: {"name": TOOL, "arguments": {...}}. When you have
//! the answer, call final_answer with it.
//! ```
//!
//! and the answer is decoded under the grammar
//! `{"name":"TOOL","arguments":ARGS}` (one alternative per tool, `ARGS` under that tool's
//! parameter schema) `| {"name":"final_answer","arguments":{"answer":ANSWER}}`. The model's
//! earlier calls are rendered as the assistant turns it produced
//! (`{"name":"order_status","arguments":{"order":4417}}`), tool results as user turns
//! `<tool_response>\n{"name":"order_status","content":...}\n</tool_response>` (`"error"`
//! instead of `"content"` for a failed call).
//!
//! Why a JSON envelope rather than the model's own tool syntax (most small models have none)
//! or free text next to a tagged call: under a grammar, choosing between "call" and "answer"
//! becomes choosing a tool *name*, which even a 135M-parameter model does sensibly, whereas it
//! almost never opens a `<tool_call>` tag of its own accord. One call per turn.

use crate::error::LocalError;
use crate::grammar::{COLON, COMMA};
use llm_do_core::{Message, ModelRequest, OutputMode, ToolCall, ToolDefinition};
use serde_json::{Value, json};

/// The pseudo-tool that carries the final answer when tools are offered.
pub const FINAL_ANSWER: &str = "final_answer";

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
    pub(crate) grammar: Option<String>,
    /// Tools were offered: the answer is a JSON envelope.
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
    if request.tools.iter().any(|t| t.name == FINAL_ANSWER) {
        return Err(LocalError::UnsupportedSchema {
            context: format!("tool `{FINAL_ANSWER}`"),
            error: crate::grammar::SchemaError {
                keyword: None,
                message: format!(
                    "the local model uses `{FINAL_ANSWER}` for its final answer; rename the tool"
                ),
            },
        });
    }
    let grammar = grammar_for(&request.tools, &request.output, &[], request.tool_required)?;
    let tools = !request.tools.is_empty();
    let mut instructions = Vec::new();
    if tools {
        instructions.push(tool_instructions(&request.tools, &request.output));
    } else if let OutputMode::Json { schema, .. } = &request.output {
        instructions.push(format!(
            "Answer with only a JSON value matching this JSON Schema:\n{}",
            spaced(&compact_schema(schema))
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
                let mut parts: Vec<String> = Vec::new();
                if let Some(text) = content.as_deref().filter(|c| !c.is_empty()) {
                    parts.push(if tools {
                        render_answer(text, &request.output)
                    } else {
                        text.to_owned()
                    });
                }
                parts.extend(tool_calls.iter().map(render_call));
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
                push("user", format!("<tool_response>\n{}\n</tool_response>", spaced(&body)));
            }
            _ => {}
        }
    }
    if !system_done {
        turns.insert(0, Turn { role: "system", content: instructions.join("\n\n") });
    }
    Ok(Prepared { turns, grammar, tools })
}

fn render_call(call: &ToolCall) -> String {
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .map(|v| spaced(&v))
        .unwrap_or_else(|_| call.arguments.clone());
    spaced_envelope(&call.name, &arguments)
}

/// `{"name": NAME, "arguments": ARGUMENTS}` with the grammar's separators.
fn spaced_envelope(name: &str, arguments: &str) -> String {
    format!(
        "{{\"name\"{COLON}{}{COMMA}\"arguments\"{COLON}{arguments}}}",
        Value::String(name.to_owned())
    )
}

/// JSON text with the grammar's separators (`{"a": 1, "b": [2, 3]}`), the way the model is
/// asked to write it.
pub(crate) fn spaced(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}{COLON}{}", Value::String(k.clone()), spaced(v)))
                .collect();
            format!("{{{}}}", members.join(COMMA))
        }
        Value::Array(items) => {
            format!("[{}]", items.iter().map(spaced).collect::<Vec<_>>().join(COMMA))
        }
        other => other.to_string(),
    }
}

/// An earlier final answer, in the envelope the model would have produced.
fn render_answer(text: &str, output: &OutputMode) -> String {
    let answer = match output {
        OutputMode::Json { .. } => {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        OutputMode::Text => Value::String(text.to_owned()),
    };
    spaced(&json!({"name": FINAL_ANSWER, "arguments": {"answer": answer}}))
}

fn tool_instructions(tools: &[ToolDefinition], output: &OutputMode) -> String {
    let mut text = String::from("You can call these tools:\n<tools>\n");
    for t in tools {
        let line = json!({
            "name": t.name,
            "description": t.description,
            "parameters": compact_schema(&t.parameters),
        });
        text.push_str(&spaced(&line));
        text.push('\n');
    }
    let answer_schema = match output {
        OutputMode::Text => json!({"type": "string"}),
        OutputMode::Json { schema, .. } => compact_schema(schema),
    };
    let final_answer = json!({
        "name": FINAL_ANSWER,
        "description": "Give the final answer.",
        "parameters": {"type": "object", "properties": {"answer": answer_schema}, "required": ["answer"]},
    });
    text.push_str(&spaced(&final_answer));
    text.push_str(
        "\n</tools>\nAnswer with only one tool call, as JSON: {\"name\": TOOL, \"arguments\": \
         {...}}. When you have the answer, call final_answer with it.",
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

/// The grammar constraining the answer, `None` for free text. Tools named in `excluded` are
/// not offered (the prompt still lists them); `required`: the answer must call one.
pub(crate) fn grammar_for(
    tools: &[ToolDefinition],
    output: &OutputMode,
    excluded: &[String],
    required: bool,
) -> Result<Option<String>, LocalError> {
    if tools.is_empty() {
        return match output {
            OutputMode::Text => Ok(None),
            OutputMode::Json { schema, .. } => {
                crate::grammar::output_grammar(schema).map(Some).map_err(|error| {
                    LocalError::UnsupportedSchema { context: "output schema".into(), error }
                })
            }
        };
    }
    crate::grammar::tools_grammar(tools, output, excluded, required).map(Some)
}

/// Reads the model's answer back (`tools`: the answer is a JSON envelope).
pub(crate) fn parse_answer(
    text: &str,
    tools: bool,
    output: &OutputMode,
) -> Result<Answer, LocalError> {
    if !tools {
        return Ok(Answer::Text(text.to_owned()));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| LocalError::Inference {
        reason: format!("the model's answer is not a complete tool call ({e}): {text:?}"),
    })?;
    let name = value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let arguments = value.get("arguments").cloned().unwrap_or_else(|| json!({}));
    if name == FINAL_ANSWER {
        let answer = arguments.get("answer").cloned().unwrap_or(Value::Null);
        return Ok(Answer::Text(match (output, answer) {
            (OutputMode::Text, Value::String(s)) => s,
            (_, other) => other.to_string(),
        }));
    }
    Ok(Answer::Call { name, arguments: arguments.to_string() })
}

/// The final answer text of an envelope cut off by the token budget, as far as it got (text
/// output only); `None` when the cut-off answer was a tool call.
pub(crate) fn salvage_text_answer(text: &str) -> Option<String> {
    let head = format!(
        "{{\"name\"{COLON}\"{FINAL_ANSWER}\"{COMMA}\"arguments\"{COLON}{{\"answer\"{COLON}\""
    );
    let rest = text.strip_prefix(&head)?;
    // Drop a trailing partial escape, then close the string. The longest is 11 characters: a
    // surrogate pair's first half, whose second half was cut (`\ud83d\ude0`); serde_json
    // refuses a lone half.
    let mut candidate = rest.to_owned();
    for _ in 0..12 {
        if let Ok(Value::String(s)) = serde_json::from_str::<Value>(&format!("\"{candidate}\"")) {
            return Some(s);
        }
        candidate.pop();
    }
    Some(rest.to_owned())
}

/// A call that repeats one already answered in the conversation (same tool, same arguments).
pub(crate) fn is_repeat(request: &ModelRequest, name: &str, arguments: &str) -> bool {
    let Ok(args) = serde_json::from_str::<Value>(arguments) else { return false };
    let answered: Vec<&str> = request
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some(r.tool_call_id.as_str()),
            _ => None,
        })
        .collect();
    request.messages.iter().any(|m| match m {
        Message::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| {
            c.name == name
                && answered.contains(&c.id.as_str())
                && serde_json::from_str::<Value>(&c.arguments).is_ok_and(|a| a == args)
        }),
        _ => false,
    })
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
    fn tools_and_the_final_answer_go_into_the_system_turn() {
        let req = ModelRequest::new("m", vec![Message::system("Be exact."), Message::user("1+2?")])
            .with_tools(vec![add_tool()])
            .with_output(OutputMode::json("n", json!({"type": "integer"})));
        let p = prepare(&req).unwrap();
        assert_eq!(p.turns.len(), 2);
        let system = &p.turns[0].content;
        assert!(
            system
                .starts_with("Be exact.\n\nYou can call these tools:\n<tools>\n{\"name\": \"add\"")
        );
        assert!(!system.contains("$schema"));
        assert!(system.contains(r#"{"name": "final_answer", "description": "Give the final answer.", "parameters": {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}}"#), "{system}");
        assert!(p.tools);
    }

    #[test]
    fn json_output_without_tools_gets_its_schema() {
        let req = ModelRequest::new("m", vec![Message::user("1+2?")])
            .with_output(OutputMode::json("n", json!({"type": "integer"})));
        let p = prepare(&req).unwrap();
        assert_eq!(p.turns[0].role, "system");
        assert!(
            p.turns[0].content.ends_with("matching this JSON Schema:\n{\"type\": \"integer\"}")
        );
    }

    #[test]
    fn tool_rounds_alternate_roles() {
        let req = ModelRequest::new(
            "m",
            vec![
                Message::user("1+2?"),
                Message::assistant(
                    None,
                    vec![ToolCall::new("c1", "add", &json!({"a": 1, "b": 2}))],
                ),
                Message::Tool(ToolResult::ok("c1", "add", "3")),
                Message::assistant(Some("three".into()), vec![]),
                Message::user("and?"),
            ],
        )
        .with_tools(vec![add_tool()]);
        let p = prepare(&req).unwrap();
        let roles: Vec<_> = p.turns.iter().map(|t| t.role).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user", "assistant", "user"]);
        assert_eq!(p.turns[2].content, r#"{"name": "add", "arguments": {"a": 1, "b": 2}}"#);
        assert_eq!(
            p.turns[3].content,
            "<tool_response>\n{\"name\": \"add\", \"content\": 3}\n</tool_response>"
        );
        assert_eq!(
            p.turns[4].content,
            r#"{"name": "final_answer", "arguments": {"answer": "three"}}"#
        );
        assert!(is_repeat(&req, "add", r#"{"b":2,"a":1}"#));
        assert!(!is_repeat(&req, "add", r#"{"a":2,"b":2}"#));
    }

    #[test]
    fn the_tool_grammar_offers_each_tool_or_the_final_answer() {
        let g = grammar_for(&[add_tool()], &OutputMode::Text, &[], false).unwrap().unwrap();
        assert!(g.starts_with(r#"start: "{\"name\": " (call_0 | final_answer) "}""#), "{g}");
        assert!(g.contains(r#"call_0: "\"add\", \"arguments\": " args_0"#), "{g}");
        let g =
            grammar_for(&[add_tool()], &OutputMode::Text, &["add".into()], false).unwrap().unwrap();
        assert!(g.starts_with(r#"start: "{\"name\": " (final_answer) "}""#), "{g}");
    }

    #[test]
    fn unsupported_tool_schemas_name_the_tool() {
        let bad = ToolDefinition::new(
            "tags",
            "",
            json!({"type": "object", "properties": {"t": {"type": "array", "uniqueItems": true}}}),
        );
        let e = grammar_for(&[bad], &OutputMode::Text, &[], false).unwrap_err();
        assert!(e.to_string().contains("parameters of tool `tags`"), "{e}");
        assert!(e.to_string().contains("`uniqueItems`"), "{e}");
        let clash = ToolDefinition::new(FINAL_ANSWER, "", json!({"type": "object"}));
        let req = ModelRequest::new("m", vec![Message::user("hi")]).with_tools(vec![clash]);
        assert!(prepare(&req).unwrap_err().to_string().contains("rename the tool"));
    }

    #[test]
    fn answers_are_read_back() {
        let text = OutputMode::Text;
        assert_eq!(
            parse_answer(r#"{"name":"add","arguments":{"a":1}}"#, true, &text).unwrap(),
            Answer::Call { name: "add".into(), arguments: "{\"a\":1}".into() }
        );
        assert_eq!(
            parse_answer(r#"{"name":"final_answer","arguments":{"answer":"3"}}"#, true, &text)
                .unwrap(),
            Answer::Text("3".into())
        );
        let json_out = OutputMode::json("n", json!({"type": "integer"}));
        assert_eq!(
            parse_answer(r#"{"name":"final_answer","arguments":{"answer":3}}"#, true, &json_out)
                .unwrap(),
            Answer::Text("3".into())
        );
        assert_eq!(
            parse_answer("<b>hi</b>", false, &text).unwrap(),
            Answer::Text("<b>hi</b>".into())
        );
        assert!(parse_answer(r#"{"name":"add","argu"#, true, &text).is_err());
        assert_eq!(
            salvage_text_answer(
                r#"{"name": "final_answer", "arguments": {"answer": "It ships Mon\"#
            ),
            Some("It ships Mon".into())
        );
        assert_eq!(salvage_text_answer(r#"{"name":"add","arguments":{"#), None);
        // Cut inside the second half of an escaped surrogate pair (an emoji): the text before
        // it, decoded, not the raw JSON escapes.
        assert_eq!(
            salvage_text_answer(
                r#"{"name": "final_answer", "arguments": {"answer": "a\nb\ud83d\ude0"#
            ),
            Some("a\nb".into())
        );
    }
}
