//! Which of the tools a server lists are offered, and which are left out with the reason: a
//! name that cannot be qualified, an input schema that is not a valid JSON Schema or not an
//! object schema, a name listed twice.

use super::{Listed, McpTool, Shared, SkippedTool, lock};
use crate::error::escaped_cut;
use crate::names;
use llm_do_core::schema::Validator;
use rmcp::model::Tool;
use serde_json::Value;

/// Most characters of a schema compiler's message a skipped tool's reason quotes.
const MAX_QUOTED_ERROR: usize = 300;

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
            let input_schema = Value::Object((*tool.input_schema).clone());
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
            out.tools.insert(
                name.clone(),
                McpTool {
                    name,
                    remote_name,
                    description: tool.description.as_deref().unwrap_or_default().to_owned(),
                    input_schema,
                    output_schema,
                    replayable,
                },
            );
        }
        *lock(&self.tools) = out;
    }
}
