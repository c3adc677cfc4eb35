//! The `tools`, `tool_choice` and `response_format` of a request.

use super::BadRequest;
use llm_do_core::{OutputMode, ToolDefinition};
use serde_json::{Value, json};

/// The function tools offered; other kinds (built-in tools) are ignored.
pub(super) fn parse(tools: Option<&Value>) -> Result<Vec<ToolDefinition>, BadRequest> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err(BadRequest::new("tools", "`tools` must be an array")),
    };
    let mut parsed = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("function");
        if kind != "function" {
            continue;
        }
        let Some(function) = tool.get("function").filter(|f| f.is_object()) else {
            return Err(BadRequest::new(
                format!("tools[{i}].function"),
                "a function tool needs a `function` object",
            ));
        };
        let Some(name) = function.get("name").and_then(Value::as_str) else {
            return Err(BadRequest::new(
                format!("tools[{i}].function.name"),
                "a function tool needs a `name`",
            ));
        };
        check_name(i, name, &parsed)?;
        let description = function.get("description").and_then(Value::as_str).unwrap_or_default();
        let parameters = match function.get("parameters") {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(schema) => schema.clone(),
        };
        parsed.push(ToolDefinition::new(name, description, parameters));
    }
    Ok(parsed)
}

/// A function's name must be one a model can call and a client tell apart, as OpenAI has it:
/// [`llm_do_syntax::name`]'s `[A-Za-z0-9_-]{1,64}`, and not the name of an earlier tool
/// (an empty name, or two tools of one name, would get calls no client can route).
fn check_name(i: usize, name: &str, earlier: &[ToolDefinition]) -> Result<(), BadRequest> {
    use llm_do_syntax::name::{EXPECTED, NameError, check};
    let why = match check(name) {
        Ok(()) if earlier.iter().any(|t| t.name == name) => {
            format!("`{name}` is the name of an earlier tool; tool names must be unique")
        }
        Ok(()) => return Ok(()),
        // The name itself is left out: it may be long, or hold control characters.
        Err(NameError::Empty) => "it is empty".to_owned(),
        Err(NameError::TooLong { len, .. }) => format!("it is {len} characters long"),
        Err(NameError::BadChar { found, .. }) => format!("it contains `{}`", found.escape_debug()),
        Err(e) => e.to_string(),
    };
    Err(BadRequest::new(
        format!("tools[{i}].function.name"),
        format!("a function tool's `name` must be {EXPECTED}, unique among `tools`: {why}"),
    )
    .with_code("invalid_tool_name"))
}

/// The tools the model may call after `tool_choice`, and whether it must call one: none for
/// `"none"`; the one named by `{"type": "function", "function": {"name": ...}}`, which must be
/// called; all of them for `"required"` (one must be called) and `"auto"`.
///
/// What cannot be honoured is refused, as OpenAI refuses it: `"required"` without a function
/// tool, an object that names no function, or one naming a function `tools` does not have.
pub(super) fn choose(
    mut tools: Vec<ToolDefinition>,
    choice: Option<&Value>,
) -> Result<(Vec<ToolDefinition>, bool), BadRequest> {
    let refuse = |message: String| Err(BadRequest::new("tool_choice", message));
    let required = match choice {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "none" => {
            tools.clear();
            false
        }
        Some(Value::String(s)) if s == "auto" => false,
        Some(Value::String(s)) if s == "required" => {
            if tools.is_empty() {
                return refuse(
                    "tool_choice `required` needs at least one function tool in `tools`".into(),
                );
            }
            true
        }
        Some(Value::String(s)) => {
            return refuse(format!(
                "unknown tool_choice `{}`; expected none, auto, required or a function",
                s.escape_debug()
            ));
        }
        Some(Value::Object(choice)) => {
            let name = choice.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            let Some(name) = name else {
                return refuse(
                    "a `tool_choice` object must name a function: \
                     {\"type\": \"function\", \"function\": {\"name\": ...}}"
                        .into(),
                );
            };
            tools.retain(|t| t.name == name);
            if tools.is_empty() {
                return refuse(format!(
                    "tool_choice names an unknown tool `{}`: `tools` has no function of that name",
                    name.escape_debug()
                ));
            }
            true
        }
        Some(_) => return refuse("`tool_choice` must be a string or an object".into()),
    };
    Ok((tools, required))
}

/// The output mode `response_format` asks for. A `json_schema` format's schema must be a
/// valid JSON Schema: refused here (400), not by the model.
pub(super) fn output(format: Option<&Value>) -> Result<OutputMode, BadRequest> {
    let format = match format {
        None | Some(Value::Null) => return Ok(OutputMode::Text),
        Some(format @ Value::Object(_)) => format,
        Some(_) => {
            return Err(BadRequest::new("response_format", "`response_format` must be an object"));
        }
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(OutputMode::Text),
        Some("json_object") => Ok(OutputMode::json("json_object", json!({"type": "object"}))),
        Some("json_schema") => {
            let Some(spec) = format.get("json_schema").filter(|s| s.is_object()) else {
                return Err(BadRequest::new(
                    "response_format.json_schema",
                    "`json_schema` must be an object with a `name` and a `schema`",
                ));
            };
            let name = spec.get("name").and_then(Value::as_str).unwrap_or("response");
            let schema = spec.get("schema").cloned().unwrap_or_else(|| json!({"type": "object"}));
            if let Err(e) = llm_do_core::schema::Validator::new(&schema) {
                return Err(BadRequest::new(
                    "response_format.json_schema.schema",
                    format!("response_format.json_schema.schema is not a valid JSON Schema: {e}"),
                ));
            }
            Ok(OutputMode::json(name, schema))
        }
        other => Err(BadRequest::new(
            "response_format.type",
            format!(
                "unsupported `response_format.type` {}; expected text, json_object or json_schema",
                other.map_or_else(|| "(missing)".to_owned(), |t| format!("`{}`", t.escape_debug()))
            ),
        )),
    }
}
