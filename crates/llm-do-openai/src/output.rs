//! Structured output: how a worker's output schema goes into the request (per
//! [`StructuredOutput`]), and how the server's answer is turned back into the final text.
//!
//! OpenAI requires the root of a `json_schema` response format (and of tool parameters) to be
//! an object. A schema whose root is anything else (an integer, an enum, an optional struct)
//! is therefore wrapped as `{"response": <schema>}` (its `$defs` moved to the wrapper's root so
//! that references still resolve), and the `response` member of the answer is unwrapped
//! again, so the runtime only ever sees answers to the worker's own schema.

use super::config::StructuredOutput;
use super::error::Failure;
use super::strict;
use super::wire::{FunctionSpec, ToolSpec};
use llm_do_core::{ModelErrorKind, ModelResponse, OutputMode, ToolCall, ToolDefinition, Usage};
use serde_json::{Map, Value, json};

/// Name of the synthetic tool of [`StructuredOutput::FinalAnswerTool`].
pub(crate) const FINAL_TOOL: &str = "final_result";

/// Member that holds the answer of a wrapped schema.
pub(crate) const WRAP_KEY: &str = "response";

/// What the request needs for the output mode, and how to read the answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutputRequest {
    /// `response_format`, if any.
    pub(crate) response_format: Option<Value>,
    /// An extra tool, if any.
    pub(crate) extra_tool: Option<ToolSpec>,
    /// Instructions appended to the system prompt, if any.
    pub(crate) instructions: Option<String>,
    /// How to read the answer.
    pub(crate) plan: OutputPlan,
}

/// How to turn the server's answer into the final text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OutputPlan {
    /// The schema was wrapped as `{"response": ...}`.
    pub(crate) wrapped: bool,
    /// A call of [`FINAL_TOOL`] is the final answer.
    pub(crate) final_tool: bool,
}

/// Prepares the output part of a request.
pub(crate) fn prepare(
    output: &OutputMode,
    mode: StructuredOutput,
    tools: &[ToolDefinition],
) -> Result<OutputRequest, Failure> {
    let OutputMode::Json { name, schema } = output else {
        return Ok(OutputRequest::default());
    };
    match mode {
        StructuredOutput::JsonSchema => {
            let (mut schema, wrapped) = wrap(schema);
            strict::strip_unknown_formats(&mut schema);
            let strict = strict::qualifies(&schema);
            Ok(OutputRequest {
                response_format: Some(json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema_name(name), "schema": schema, "strict": strict}
                })),
                plan: OutputPlan { wrapped, final_tool: false },
                ..OutputRequest::default()
            })
        }
        StructuredOutput::FinalAnswerTool => {
            if tools.iter().any(|t| t.name == FINAL_TOOL) {
                return Err(Failure::new(
                    ModelErrorKind::InvalidRequest,
                    format!(
                        "a tool is named `{FINAL_TOOL}`, the name StructuredOutput::FinalAnswerTool \
                         needs for its answer tool; rename the tool or use another \
                         StructuredOutput mode"
                    ),
                ));
            }
            let (schema, wrapped) = wrap(schema);
            Ok(OutputRequest {
                extra_tool: Some(ToolSpec {
                    kind: "function",
                    function: FunctionSpec {
                        name: FINAL_TOOL.to_owned(),
                        description: "Give your final answer. Call this tool exactly once, when \
                                      you have the answer, with the answer as its arguments."
                            .to_owned(),
                        parameters: schema,
                    },
                }),
                plan: OutputPlan { wrapped, final_tool: true },
                ..OutputRequest::default()
            })
        }
        StructuredOutput::PromptedJson => Ok(OutputRequest {
            instructions: Some(format!(
                "Answer with a single JSON value that matches the JSON Schema below, and nothing \
                 else: no explanation, no Markdown code fence.\n\nJSON Schema:\n{schema}"
            )),
            ..OutputRequest::default()
        }),
    }
}

/// The schema, wrapped in an object when its root is not one.
fn wrap(schema: &Value) -> (Value, bool) {
    if strict::is_object_schema(schema) {
        return (schema.clone(), false);
    }
    let mut inner = schema.clone();
    let mut wrapper = Map::new();
    wrapper.insert("type".into(), json!("object"));
    if let Value::Object(map) = &mut inner {
        map.remove("$schema");
        for key in ["$defs", "definitions"] {
            if let Some(defs) = map.remove(key) {
                wrapper.insert(key.into(), defs);
            }
        }
    }
    wrapper.insert("properties".into(), json!({ WRAP_KEY: inner }));
    wrapper.insert("required".into(), json!([WRAP_KEY]));
    wrapper.insert("additionalProperties".into(), json!(false));
    (Value::Object(wrapper), true)
}

/// A schema name as OpenAI accepts it: `[A-Za-z0-9_-]{1,64}` (the project's rule for names).
fn schema_name(name: &str) -> String {
    llm_do_core::schema::schema_name(&Value::Null, name)
}

/// An answer as decoded from a body or assembled from a stream, before the output plan is
/// applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Answer {
    pub(crate) text: Option<String>,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) usage: Usage,
    pub(crate) model: Option<String>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) refusal: Option<String>,
}

impl OutputPlan {
    /// The final response. Both the streaming and the non-streaming path end here, which is
    /// what keeps their results identical.
    pub(crate) fn finish(self, answer: Answer) -> ModelResponse {
        let Answer { mut text, mut tool_calls, usage, model, finish_reason, refusal } = answer;
        if self.final_tool
            && let Some(pos) = tool_calls.iter().position(|c| c.name == FINAL_TOOL)
        {
            // The answer ends the run: other calls made alongside it are dropped.
            text = Some(tool_calls.swap_remove(pos).arguments);
            tool_calls.clear();
        }
        if self.wrapped {
            text = text.map(|t| unwrap(&t));
        }
        let text = text.filter(|t| !t.is_empty());
        let mut response = ModelResponse::tool_calls(tool_calls).with_usage(usage);
        response.text = text;
        response.model = model.filter(|m| !m.is_empty());
        response.finish_reason = finish_reason.filter(|r| !r.is_empty());
        response.refusal = refusal;
        response
    }
}

/// `{"response": v}` becomes `v` (as JSON text); anything else is kept as it is.
fn unwrap(text: &str) -> String {
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(Value::Object(mut map)) if map.len() == 1 && map.contains_key(WRAP_KEY) => {
            map.remove(WRAP_KEY).map(|v| v.to_string()).unwrap_or_else(|| text.to_owned())
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_schema() -> Value {
        json!({"type": "object", "properties": {"a": {"type": "integer", "format": "int64"}},
               "required": ["a"], "additionalProperties": false})
    }

    #[test]
    fn text_output_needs_nothing() {
        let out = prepare(&OutputMode::Text, StructuredOutput::JsonSchema, &[]).unwrap();
        assert_eq!(out, OutputRequest::default());
    }

    #[test]
    fn json_schema_mode_sets_a_strict_response_format_when_it_can() {
        let out = prepare(
            &OutputMode::json("My Answer!", object_schema()),
            StructuredOutput::JsonSchema,
            &[],
        )
        .unwrap();
        assert_eq!(
            out.response_format,
            Some(json!({"type": "json_schema", "json_schema": {
                "name": "My_Answer_",
                "schema": {"type": "object", "properties": {"a": {"type": "integer"}},
                           "required": ["a"], "additionalProperties": false},
                "strict": true
            }}))
        );
        assert_eq!(out.plan, OutputPlan::default());
    }

    #[test]
    fn non_object_roots_are_wrapped_with_their_definitions_hoisted() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "anyOf": [{"$ref": "#/$defs/Cat"}, {"type": "null"}],
            "$defs": {"Cat": {"type": "string", "enum": ["Bug", "Billing"]}}
        });
        let out =
            prepare(&OutputMode::json("c", schema), StructuredOutput::JsonSchema, &[]).unwrap();
        let format = out.response_format.unwrap();
        assert_eq!(
            format["json_schema"]["schema"],
            json!({
                "type": "object",
                "$defs": {"Cat": {"type": "string", "enum": ["Bug", "Billing"]}},
                "properties": {"response": {"anyOf": [{"$ref": "#/$defs/Cat"}, {"type": "null"}]}},
                "required": ["response"],
                "additionalProperties": false
            })
        );
        assert_eq!(format["json_schema"]["strict"], json!(true));
        assert!(out.plan.wrapped);
    }

    #[test]
    fn final_answer_tool_mode_offers_the_tool_and_reads_its_call() {
        let out = prepare(
            &OutputMode::json("n", json!({"type": "integer"})),
            StructuredOutput::FinalAnswerTool,
            &[],
        )
        .unwrap();
        let tool = out.extra_tool.unwrap();
        assert_eq!(tool.function.name, FINAL_TOOL);
        assert_eq!(tool.function.parameters["required"], json!(["response"]));
        let answer = Answer {
            tool_calls: vec![
                ToolCall::raw("1", "other", "{}"),
                ToolCall::raw("2", FINAL_TOOL, r#"{"response": 42}"#),
            ],
            ..Answer::default()
        };
        let response = out.plan.finish(answer);
        assert_eq!(response.text.as_deref(), Some("42"));
        assert!(response.tool_calls.is_empty());
    }

    #[test]
    fn final_answer_tool_mode_refuses_a_clashing_tool_name() {
        let tools = [ToolDefinition::new(FINAL_TOOL, "", json!({"type": "object"}))];
        let err = prepare(
            &OutputMode::json("n", json!({"type": "integer"})),
            StructuredOutput::FinalAnswerTool,
            &tools,
        )
        .unwrap_err();
        assert_eq!(err.kind, ModelErrorKind::InvalidRequest);
    }

    #[test]
    fn prompted_json_mode_adds_instructions_with_the_schema() {
        let out = prepare(
            &OutputMode::json("n", json!({"type": "integer"})),
            StructuredOutput::PromptedJson,
            &[],
        )
        .unwrap();
        let text = out.instructions.unwrap();
        assert!(text.contains(r#"{"type":"integer"}"#));
        assert!(out.response_format.is_none() && out.extra_tool.is_none());
    }

    #[test]
    fn unwrapping_keeps_what_is_not_a_wrapper() {
        assert_eq!(unwrap(r#" {"response": "Billing"} "#), r#""Billing""#);
        assert_eq!(unwrap(r#"{"response": 1, "x": 2}"#), r#"{"response": 1, "x": 2}"#);
        assert_eq!(unwrap("not json"), "not json");
    }

    #[test]
    fn empty_strings_become_none() {
        let answer = Answer {
            text: Some(String::new()),
            model: Some(String::new()),
            finish_reason: Some(String::new()),
            ..Answer::default()
        };
        assert_eq!(OutputPlan::default().finish(answer), ModelResponse::default());
    }
}
