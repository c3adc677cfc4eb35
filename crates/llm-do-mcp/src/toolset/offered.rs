//! Which of the tools a server lists are offered, and which are left out with the reason: a
//! name that cannot be qualified, an input schema that is not a valid JSON Schema or not an
//! object schema, a name listed twice. An offered tool's description, and those of its input
//! schema's top-level properties, are cut to [`MAX_DESCRIPTION_CHARS`].

use super::{Listed, McpTool, Shared, SkippedTool, lock};
use crate::error::escaped_cut;
use crate::names;
use llm_do_core::schema::Validator;
use rmcp::model::Tool;
use serde_json::Value;

/// Most characters of a schema compiler's message a skipped tool's reason quotes.
const MAX_QUOTED_ERROR: usize = 300;

/// Most characters of a server's tool description offered to a model, and of the description
/// of each top-level property of its input schema (a parameter): a longer one is cut there
/// (`…`) and a note follows, ` [description cut at 4096 characters]`. A description goes into
/// every model request that offers the tool, so a server's megabyte of description would be
/// paid for, and crowd the model's context, on every turn. Descriptions deeper in a schema
/// (nested objects, `$defs`, `items`) are left as they are: the whole listing is bounded (32
/// MiB), and only JSON Schema's own structure tells a description from a value that happens to
/// be named so (a `default` or `const` object with a `description` member).
///
/// ```
/// assert_eq!(llm_do_mcp::MAX_DESCRIPTION_CHARS, 4096);
/// ```
pub const MAX_DESCRIPTION_CHARS: usize = 4096;

/// `description` cut to [`MAX_DESCRIPTION_CHARS`] with a note, when longer (`None` when not).
fn capped_description(description: &str) -> Option<String> {
    // No more bytes than the limit: no more characters either (the common case, uncounted).
    if description.len() <= MAX_DESCRIPTION_CHARS
        || description.chars().count() <= MAX_DESCRIPTION_CHARS
    {
        return None;
    }
    let cut = llm_do_core::bounds::cut(description, MAX_DESCRIPTION_CHARS);
    Some(format!("{cut} [description cut at {MAX_DESCRIPTION_CHARS} characters]"))
}

/// Cuts the descriptions of `schema`'s top-level properties (see [`MAX_DESCRIPTION_CHARS`]);
/// whether any was cut.
fn cap_property_descriptions(schema: &mut Value) -> bool {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut cut = false;
    for property in properties.values_mut() {
        let Some(Value::String(description)) = property.get_mut("description") else { continue };
        if let Some(capped) = capped_description(description) {
            *description = capped;
            cut = true;
        }
    }
    cut
}

/// Whether a schema's `type` lets the value be an object (`"object"`, or a list with it).
fn object_type(kind: &Value) -> bool {
    match kind {
        Value::String(t) => t == "object",
        Value::Array(types) => types.iter().any(|t| t == "object"),
        _ => false,
    }
}

impl Shared {
    /// Takes `listed` as the server's tools: the ones that can be offered, and the ones left
    /// out ([`super::McpToolset::skipped`]).
    pub(super) fn store_tools(&self, listed: Vec<Tool>) {
        let mut out = Listed::default();
        for tool in listed {
            let remote_name = tool.name.to_string();
            let skip = |reason: String| SkippedTool {
                remote_name: llm_do_core::bounds::cut(&remote_name, names::MAX_QUOTED),
                reason,
            };
            let name = match names::qualified(&self.name, &remote_name) {
                Ok(n) => n,
                Err(reason) => {
                    out.skipped.push(skip(reason));
                    continue;
                }
            };
            let mut input_schema = Value::Object((*tool.input_schema).clone());
            if let Err(e) = Validator::new(&input_schema) {
                // The compiler's message quotes the schema's values, whole.
                let e = escaped_cut(&e, MAX_QUOTED_ERROR);
                out.skipped.push(skip(format!("its input schema is not a valid JSON Schema: {e}")));
                continue;
            }
            // MCP's arguments are a JSON object, and model APIs refuse a whole request that
            // offers a function whose parameters are not an object schema.
            if let Some(kind) = input_schema.get("type").filter(|k| !object_type(k)) {
                let kind = escaped_cut(&kind.to_string(), 40);
                out.skipped.push(skip(format!(
                    "its input schema is not an object schema (`type` is {kind}): a tool's \
                     arguments are a JSON object"
                )));
                continue;
            }
            let output_schema = tool.output_schema.as_ref().map(|s| Value::Object((**s).clone()));
            let replayable = tool
                .annotations
                .as_ref()
                .is_some_and(|a| a.read_only_hint == Some(true) || a.idempotent_hint == Some(true));
            if out.tools.contains_key(&name) {
                out.skipped.push(skip(format!("`{name}` is listed twice")));
                continue;
            }
            let description = tool.description.as_deref().unwrap_or_default();
            let capped = capped_description(description);
            let properties_cut = cap_property_descriptions(&mut input_schema);
            if capped.is_some() || properties_cut {
                let (server, tool) = (names::quoted(&self.name), names::quoted(&remote_name));
                tracing::warn!(
                    "MCP server `{server}` describes its tool `{tool}` (or its parameters) in \
                     more than {MAX_DESCRIPTION_CHARS} characters: the description is cut there"
                );
            }
            out.tools.insert(
                name.clone(),
                McpTool {
                    name,
                    remote_name,
                    description: capped.unwrap_or_else(|| description.to_owned()),
                    input_schema,
                    output_schema,
                    replayable,
                },
            );
        }
        *lock(&self.tools) = out;
    }
}
