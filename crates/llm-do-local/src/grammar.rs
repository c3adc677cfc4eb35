//! The grammars that constrain the local model's answers, written for
//! [llguidance](https://github.com/guidance-ai/llguidance) (its Lark dialect, with JSON
//! Schemas embedded as `%json {…}`).
//!
//! - JSON output without tools: `start: %json {output schema}`.
//! - With tools: `{"name": ` then one alternative per offered tool,
//!   `"TOOL", "arguments": ` + `%json {the tool's parameter schema}`, or the final answer,
//!   `"final_answer", "arguments": {"answer": ` + `%json {output schema}` + `}`, then `}`.
//!
//! JSON is written with fixed separators (`", "` and `": "`, no other whitespace), the format
//! the prompt shows the model ([`spaced`](crate::prompt)). Every schema is compiled
//! strictly: a keyword llguidance cannot enforce (e.g. `uniqueItems`) is a [`SchemaError`]
//! naming it, reported before any token is generated, never a silently looser grammar.

use crate::error::LocalError;
use crate::prompt::FINAL_ANSWER;
use llguidance::api::{StopReason, TopLevelGrammar};
use llguidance::toktrie::{ApproximateTokEnv, TokEnv};
use llguidance::{Matcher, ParserFactory};
use llm_do_core::attachment::ATTACHMENT_FORMAT;
use llm_do_core::{OutputMode, ToolDefinition};
use serde_json::{Value, json};
use std::fmt;
use std::sync::OnceLock;

/// The key–value separator of JSON the model writes.
pub(crate) const COLON: &str = ": ";
/// The item separator of JSON the model writes.
pub(crate) const COMMA: &str = ", ";

/// A JSON Schema feature the constrained decoder cannot enforce.
///
/// ```
/// use llm_do_local::SchemaError;
/// let e = SchemaError { keyword: Some("uniqueItems".into()), message: "not supported".into() };
/// assert!(e.to_string().contains("`uniqueItems`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The unsupported keyword, when the decoder names one.
    pub keyword: Option<String>,
    /// The decoder's message.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.keyword {
            Some(k) => write!(f, "keyword `{k}` is not supported ({})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SchemaError {}

impl SchemaError {
    /// Reads llguidance's message; its "Unimplemented keys: [...]" names the keywords.
    fn from_llguidance(message: String) -> Self {
        let keyword = message.find("Unimplemented keys: [").and_then(|at| {
            let rest = &message[at + "Unimplemented keys: ".len()..];
            let end = rest.find(']')?;
            let keys: Vec<String> = serde_json::from_str(&rest[..=end]).ok()?;
            (!keys.is_empty()).then(|| keys.join("`, `"))
        });
        let message = message.lines().next().unwrap_or_default().to_owned();
        SchemaError { keyword, message }
    }
}

/// Objects with `properties` and no `additionalProperties` get `additionalProperties: false`:
/// the answer is still valid against the original schema, and a small model cannot pad it with
/// invented keys until the token budget runs out. Recurses through the subschema keywords.
fn close_objects(schema: &mut Value, depth: usize) {
    let Value::Object(map) = schema else { return };
    if depth > 64 {
        return;
    }
    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" => {
                if let Value::Object(subs) = value {
                    subs.values_mut().for_each(|v| close_objects(v, depth + 1));
                }
            }
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(subs) = value {
                    subs.iter_mut().for_each(|v| close_objects(v, depth + 1));
                }
            }
            "items" | "additionalProperties" | "additionalItems" | "not" => {
                close_objects(value, depth + 1)
            }
            _ => {}
        }
    }
}

/// Drops llm-do's own `"format": "attachment"` (a worker's attachment parameter, see
/// `llm_do_core::attachment`) wherever it is: to the decoder such a value is a plain string (a
/// path or URL), which the runtime checks when it resolves it. llguidance rejects formats it
/// does not know, so a worker taking a file could not otherwise be offered as a tool.
fn drop_attachment_format(schema: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match schema {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some(ATTACHMENT_FORMAT) {
                map.remove("format");
            }
            map.values_mut().for_each(|v| drop_attachment_format(v, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| drop_attachment_format(v, depth + 1)),
        _ => {}
    }
}

/// A JSON Schema as an llguidance `%json` block: strict (unknown keywords are errors), with
/// the fixed separators and closed objects ([`close_objects`]); attachment parameters are
/// strings ([`drop_attachment_format`]).
fn embed(schema: &Value) -> String {
    let mut schema = schema.clone();
    close_objects(&mut schema, 0);
    drop_attachment_format(&mut schema, 0);
    let mut schema = match schema {
        Value::Object(map) => map,
        Value::Bool(true) => serde_json::Map::new(),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("allOf".into(), json!([other]));
            m
        }
    };
    schema.insert(
        "x-guidance".into(),
        json!({
            "item_separator": COMMA,
            "key_separator": COLON,
            "whitespace_flexible": false,
            "lenient": false,
        }),
    );
    format!("%json {}", Value::Object(schema))
}

/// A Lark string literal.
fn literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// The grammar of a JSON answer matching `schema`, checked.
pub(crate) fn output_grammar(schema: &Value) -> Result<String, SchemaError> {
    let grammar = format!("start: {}\n", embed(schema));
    check(&grammar)?;
    Ok(grammar)
}

/// The grammar of one turn with tools: a call of one offered tool (not in `excluded`) with
/// schema-valid arguments, or the final answer, unless a call is `required` (and one is
/// offered). Each schema is checked on its own first, so that an error names the tool.
pub(crate) fn tools_grammar(
    tools: &[ToolDefinition],
    output: &OutputMode,
    excluded: &[String],
    required: bool,
) -> Result<String, LocalError> {
    let mut rules = Vec::new();
    let mut alternatives = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        check(&format!("start: {}\n", embed(&tool.parameters))).map_err(|error| {
            LocalError::UnsupportedSchema {
                context: format!("parameters of tool `{}`", tool.name),
                error,
            }
        })?;
        if excluded.contains(&tool.name) {
            continue;
        }
        let head =
            literal(&format!("{}{COMMA}\"arguments\"{COLON}", Value::String(tool.name.clone())));
        rules.push(format!("call_{i}: {head} args_{i}\nargs_{i}: {}", embed(&tool.parameters)));
        alternatives.push(format!("call_{i}"));
    }
    let answer = match output {
        OutputMode::Text => json!({"type": "string"}),
        OutputMode::Json { schema, .. } => (**schema).clone(),
    };
    check(&format!("start: {}\n", embed(&answer))).map_err(|error| {
        LocalError::UnsupportedSchema { context: "output schema".into(), error }
    })?;
    let head =
        literal(&format!("\"{FINAL_ANSWER}\"{COMMA}\"arguments\"{COLON}{{\"answer\"{COLON}"));
    if !required || alternatives.is_empty() {
        rules.push(format!("final_answer: {head} answer \"}}\"\nanswer: {}", embed(&answer)));
        alternatives.push("final_answer".into());
    }
    let open = literal(&format!("{{\"name\"{COLON}"));
    let mut grammar = format!("start: {open} ({}) \"}}\"\n", alternatives.join(" | "));
    for rule in rules {
        grammar.push_str(&rule);
        grammar.push('\n');
    }
    check(&grammar).map_err(|error| LocalError::UnsupportedSchema {
        context: "tool-call grammar".into(),
        error,
    })?;
    Ok(grammar)
}

/// Compiles `grammar` against a one-byte-per-token vocabulary: every schema problem shows
/// here, before the model's vocabulary is involved.
fn check(grammar: &str) -> Result<(), SchemaError> {
    static FACTORY: OnceLock<Result<ParserFactory, String>> = OnceLock::new();
    let factory = FACTORY
        .get_or_init(|| factory(&ApproximateTokEnv::single_byte_env()))
        .as_ref()
        .map_err(|e| SchemaError { keyword: None, message: e.clone() })?;
    factory
        .create_parser(TopLevelGrammar::from_lark(grammar.to_owned()))
        .map(drop)
        .map_err(|e| SchemaError::from_llguidance(e.to_string()))
}

/// A parser factory for a vocabulary, with llguidance's own logging off.
pub(crate) fn factory(env: &TokEnv) -> Result<ParserFactory, String> {
    let mut factory = ParserFactory::new_simple(env).map_err(|e| e.to_string())?;
    factory.quiet();
    Ok(factory)
}

/// A matcher of `grammar` (already checked) for one generation. A grammar that compiled
/// against the one-byte vocabulary but not against the model's is the schema's problem
/// ([`LocalError::SchemaNotCompilable`]).
pub(crate) fn matcher(factory: &ParserFactory, grammar: &str) -> Result<Matcher, LocalError> {
    factory
        .create_parser(TopLevelGrammar::from_lark(grammar.to_owned()))
        .map(|p| Matcher::new(Ok(p)))
        .map_err(|e| LocalError::SchemaNotCompilable {
            context: context_of(grammar).into(),
            reason: first_line(&e.to_string()),
        })
}

/// The error for a failure of a matcher of `grammar` while decoding. A matcher that reaches
/// a point where no token can continue the answer (llguidance's `NoExtension`) fails because
/// of the schema the grammar was built from (e.g. a required property that refers to itself:
/// no finite JSON value matches), which is [`LocalError::SchemaNotCompilable`]; any other
/// failure is [`LocalError::Inference`]. Either way the message is one short line, never
/// llguidance's dump of its state. (After a failure the matcher reports no stop reason but
/// an "internal error": its message, whose first line is the reason, is what tells.)
pub(crate) fn decoding_error(grammar: &str, e: impl fmt::Display) -> LocalError {
    let line = first_line(&e.to_string());
    let dead_end = [StopReason::NoExtension, StopReason::NoExtensionBias]
        .iter()
        .any(|r| r.to_string() == line);
    // llguidance's bound on the parser's work per token ("Too many items (limit …)"): the
    // grammar, so the schema, is too large or too ambiguous to follow (e.g. `{"$ref": "#"}`
    // as a tool's parameters, with the model's vocabulary).
    let too_large = line.contains("Too many items");
    let reason = match (dead_end, too_large) {
        (true, _) => {
            "no text can complete an answer that matches it (a schema that no finite JSON \
             value satisfies, such as a required property that refers to itself)"
        }
        (false, true) => {
            "following it takes the parser past its work limit for one token (a schema too \
             large or ambiguous, such as one that refers to itself as a whole)"
        }
        (false, false) => return LocalError::Inference { reason: format!("grammar: {line}") },
    };
    LocalError::SchemaNotCompilable { context: context_of(grammar).into(), reason: reason.into() }
}

/// Which schemas `grammar` (one of this module's) was built from.
fn context_of(grammar: &str) -> &'static str {
    if grammar.starts_with("start: %json") {
        "output schema"
    } else {
        "output schema or a tool's parameter schema"
    }
}

/// The first line of an llguidance message, at most 200 characters.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_schemas_compile_and_unsupported_keywords_are_named() {
        let schema = json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
            "required": ["name"],
            "additionalProperties": false
        });
        assert!(output_grammar(&schema).is_ok());
        let e = output_grammar(&json!({"type": "array", "uniqueItems": true})).unwrap_err();
        assert_eq!(e.keyword.as_deref(), Some("uniqueItems"), "{e}");
    }

    #[test]
    fn objects_without_additional_properties_are_closed() {
        let mut schema = json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}, "open": {"type": "object", "properties": {}, "additionalProperties": true}},
            "$defs": {"A": {"type": "object", "properties": {"b": {"type": "integer"}}}}
        });
        close_objects(&mut schema, 0);
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["$defs"]["A"]["additionalProperties"], false);
        assert_eq!(schema["properties"]["open"]["additionalProperties"], true);
    }

    #[test]
    fn refs_resolve_inside_each_tool_schema() {
        let tool = ToolDefinition::new(
            "book",
            "",
            json!({
                "type": "object",
                "properties": {"when": {"$ref": "#/$defs/Day"}},
                "required": ["when"],
                "$defs": {"Day": {"enum": ["mon", "tue"]}}
            }),
        );
        let g = tools_grammar(&[tool], &OutputMode::Text, &[], false).unwrap();
        assert!(g.starts_with("start: \"{\\\"name\\\": \" (call_0 | final_answer) \"}\""), "{g}");
    }

    #[test]
    fn a_required_call_leaves_out_the_final_answer_unless_every_tool_is_excluded() {
        let tool = || ToolDefinition::new("now", "", json!({"type": "object"}));
        let g = tools_grammar(&[tool()], &OutputMode::Text, &[], true).unwrap();
        assert!(g.starts_with("start: \"{\\\"name\\\": \" (call_0) \"}\""), "{g}");
        assert!(!g.contains("final_answer"), "{g}");
        // Every offered tool excluded (its call would repeat one answered): the answer is all
        // that is left, so the turn can end.
        let g = tools_grammar(&[tool()], &OutputMode::Text, &["now".into()], true).unwrap();
        assert!(g.starts_with("start: \"{\\\"name\\\": \" (final_answer) \"}\""), "{g}");
    }

    #[test]
    fn a_worker_taking_a_file_can_be_offered_as_a_tool() {
        let evaluate = ToolDefinition::new(
            "evaluate_deck",
            "",
            json!({
                "type": "object",
                "properties": {
                    "deck": {"type": "string", "format": "attachment"},
                    "more": {"type": "array", "items": {"type": "string", "format": "attachment"}}
                },
                "required": ["deck"]
            }),
        );
        let g = tools_grammar(&[evaluate], &OutputMode::Text, &[], false).unwrap();
        assert!(!g.contains("attachment"), "{g}");
        // Other formats are still the decoder's to accept or refuse.
        let e = output_grammar(&json!({"type": "string", "format": "no-such-format"}));
        assert!(e.is_err());
    }

    #[test]
    fn a_schema_without_a_finite_answer_is_a_short_typed_error() {
        let schema = json!({
            "type": "object",
            "properties": {"n": {"$ref": "#/properties/n"}},
            "required": ["n"]
        });
        let grammar = output_grammar(&schema).unwrap();
        let env = ApproximateTokEnv::single_byte_env();
        let mut m = matcher(&factory(&env).unwrap(), &grammar).unwrap();
        // `{"n": ` is forced, one byte at a time; then nothing can follow.
        let error = loop {
            match m.compute_mask() {
                Ok(mask) => {
                    let next = (0..256u32).find(|&t| mask.is_allowed(t)).unwrap();
                    m.consume_token(next).unwrap();
                }
                Err(e) => break decoding_error(&grammar, e),
            }
        };
        assert_eq!(
            error.to_string(),
            "the output schema cannot be compiled to a grammar: no text can complete an answer \
             that matches it (a schema that no finite JSON value satisfies, such as a required \
             property that refers to itself)"
        );
        let e = llm_do_core::ModelError::from(error);
        assert_eq!(e.kind(), llm_do_core::ModelErrorKind::InvalidRequest);
        // The parser's work limit, reached while following a schema, is the schema's problem
        // too (llguidance's message, as its parser words it).
        let limit = decoding_error(
            &grammar,
            "parser error: Too many items (limit 50000; mask); try avoiding \
             single-byte/short lexemes\n<state>…</state>",
        );
        let LocalError::SchemaNotCompilable { reason, .. } = &limit else { panic!("{limit:?}") };
        assert!(reason.contains("work limit"), "{reason}");
        assert_eq!(
            llm_do_core::ModelError::from(limit).kind(),
            llm_do_core::ModelErrorKind::InvalidRequest
        );
        // Other failures stay inference errors, cut to their first line.
        let other = decoding_error(&grammar, "token 7 not allowed\n<state>…</state>");
        assert_eq!(other, LocalError::Inference { reason: "grammar: token 7 not allowed".into() });
    }

    #[test]
    fn an_unsupported_tool_schema_names_the_tool_and_keyword() {
        let bad = ToolDefinition::new(
            "tag",
            "",
            json!({"type": "object", "properties": {"t": {"type": "array", "uniqueItems": true}}}),
        );
        let e = tools_grammar(&[bad], &OutputMode::Text, &[], false).unwrap_err();
        let LocalError::UnsupportedSchema { context, error } = &e else { panic!("{e:?}") };
        assert_eq!(context, "parameters of tool `tag`");
        assert_eq!(error.keyword.as_deref(), Some("uniqueItems"));
    }
}
