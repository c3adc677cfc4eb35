//! The parts of a request body that depend only on the worker, not on the conversation: the
//! `tools` array (its tool definitions, and the answer tool of
//! [`StructuredOutput::FinalAnswerTool`]), the `response_format` and the output instructions.
//! They are serialised once per worker and reused by each of its requests.
//!
//! The runtime shares a worker's tool definitions (`Arc<[ToolDefinition]>`) and output schema
//! (`Arc<Value>`) between all its requests, so the provider recognises them by address. An
//! entry holds both `Arc`s, so an address cannot be reused for other definitions while its
//! entry lives. A request whose definitions are a new allocation (a `ModelRequest` built by
//! hand) is prepared again, as it was before the cache existed; the cache keeps the
//! [`CAPACITY`] most recently used workers.

use super::config::StructuredOutput;
use super::error::Failure;
use super::output::{self, OutputPlan};
use super::wire::{FunctionSpec, ToolSpec};
use llm_do_core::{ModelErrorKind, ModelRequest, OutputMode, ToolDefinition};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How many workers' prepared parts a provider keeps.
pub(crate) const CAPACITY: usize = 64;

/// A worker's parts of the request body, serialised.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The `tools` array; `None` when there are no tools.
    pub(crate) tools: Option<Box<RawValue>>,
    /// `response_format`, if any.
    pub(crate) response_format: Option<Box<RawValue>>,
    /// Instructions appended to the system prompt, if any.
    pub(crate) instructions: Option<String>,
    /// How to read the answer.
    pub(crate) plan: OutputPlan,
}

impl Prepared {
    /// Prepares the parts of `request` that depend on its tools and output mode.
    pub(crate) fn new(request: &ModelRequest, mode: StructuredOutput) -> Result<Self, Failure> {
        let output = output::prepare(&request.output, mode, &request.tools)?;
        let mut tools: Vec<ToolSpec> = request
            .tools
            .iter()
            .map(|t| ToolSpec {
                kind: "function",
                function: FunctionSpec {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    parameters: t.parameters.clone(),
                },
            })
            .collect();
        tools.extend(output.extra_tool);
        Ok(Self {
            tools: if tools.is_empty() { None } else { Some(raw(&tools)?) },
            response_format: output.response_format.as_ref().map(raw).transpose()?,
            instructions: output.instructions,
            plan: output.plan,
        })
    }
}

/// `value` as JSON text, exactly as it would be serialised in place.
fn raw<T: Serialize>(value: &T) -> Result<Box<RawValue>, Failure> {
    serde_json::value::to_raw_value(value).map_err(|e| {
        Failure::new(
            ModelErrorKind::InvalidRequest,
            format!("the tools or the output schema cannot be serialised: {e}"),
        )
    })
}

/// A provider's prepared parts, by worker (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Cache {
    entries: Mutex<VecDeque<Entry>>,
}

#[derive(Debug)]
struct Entry {
    tools: Arc<[ToolDefinition]>,
    output: OutputMode,
    prepared: Arc<Prepared>,
}

impl Entry {
    fn serves(&self, request: &ModelRequest) -> bool {
        let same_tools = Arc::ptr_eq(&self.tools, &request.tools)
            || (self.tools.is_empty() && request.tools.is_empty());
        let same_output = match (&self.output, &request.output) {
            (OutputMode::Text, OutputMode::Text) => true,
            (
                OutputMode::Json { name: a, schema: schema_a },
                OutputMode::Json { name: b, schema: schema_b },
            ) => Arc::ptr_eq(schema_a, schema_b) && a == b,
            _ => false,
        };
        same_tools && same_output
    }
}

impl Cache {
    /// The prepared parts of `request`: kept from an earlier request with the same tool
    /// definitions and output schema, or prepared now (and kept).
    pub(crate) fn get(
        &self,
        request: &ModelRequest,
        mode: StructuredOutput,
    ) -> Result<Arc<Prepared>, Failure> {
        let lock = || self.entries.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut entries = lock();
            if let Some(at) = entries.iter().position(|e| e.serves(request)) {
                // Most recently used first, so that a burst of one-off requests (definitions
                // built anew for each, as for a worker with tools from an MCP server) pushes
                // out the workers not used for longest, not the busiest.
                if at > 0
                    && let Some(entry) = entries.remove(at)
                {
                    entries.push_front(entry);
                }
                return Ok(entries[0].prepared.clone());
            }
        }
        let prepared = Arc::new(Prepared::new(request, mode)?);
        let mut entries = lock();
        if entries.len() >= CAPACITY {
            entries.pop_back();
        }
        entries.push_front(Entry {
            tools: request.tools.clone(),
            output: request.output.clone(),
            prepared: prepared.clone(),
        });
        Ok(prepared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::Message;
    use serde_json::json;

    fn request(tools: &Arc<[ToolDefinition]>, output: &OutputMode) -> ModelRequest {
        ModelRequest::new("m", vec![Message::user("hi")])
            .with_tools(tools.clone())
            .with_output(output.clone())
    }

    #[test]
    fn the_same_definitions_are_prepared_once_and_new_ones_again() {
        let tools: Arc<[ToolDefinition]> =
            vec![ToolDefinition::new("add", "Add.", json!({"type": "object"}))].into();
        let output = OutputMode::json("n", json!({"type": "integer"}));
        let cache = Cache::default();
        let first = cache.get(&request(&tools, &output), StructuredOutput::JsonSchema).unwrap();
        let again = cache.get(&request(&tools, &output), StructuredOutput::JsonSchema).unwrap();
        assert!(Arc::ptr_eq(&first, &again));

        // Equal definitions in a new allocation: prepared again, to the same text.
        let copy: Arc<[ToolDefinition]> = tools.to_vec().into();
        let other = cache.get(&request(&copy, &output), StructuredOutput::JsonSchema).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(other.tools.as_ref().unwrap().get(), first.tools.as_ref().unwrap().get());

        // The same tools with text output: a different entry, with no response format.
        let text = cache.get(&request(&tools, &OutputMode::Text), StructuredOutput::JsonSchema);
        assert!(text.unwrap().response_format.is_none());
        assert!(first.response_format.is_some());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = Cache::default();
        for _ in 0..CAPACITY + 5 {
            let tools: Arc<[ToolDefinition]> =
                vec![ToolDefinition::new("t", "", json!({"type": "object"}))].into();
            cache.get(&request(&tools, &OutputMode::Text), StructuredOutput::JsonSchema).unwrap();
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
    }

    #[test]
    fn the_cache_drops_the_worker_used_least_recently() {
        let cache = Cache::default();
        let new_tools = || -> Arc<[ToolDefinition]> {
            vec![ToolDefinition::new("t", "", json!({"type": "object"}))].into()
        };
        let get = |tools: &Arc<[ToolDefinition]>| {
            cache.get(&request(tools, &OutputMode::Text), StructuredOutput::JsonSchema).unwrap()
        };
        let busy = new_tools();
        let first = get(&busy);
        // The busy worker is the oldest entry, used again just before the cache is full.
        let others: Vec<_> = (1..CAPACITY).map(|_| new_tools()).collect();
        for tools in &others {
            get(tools);
        }
        assert!(Arc::ptr_eq(&first, &get(&busy)));
        get(&new_tools());
        let kept = |tools: &Arc<[ToolDefinition]>| {
            cache.entries.lock().unwrap().iter().any(|e| Arc::ptr_eq(&e.tools, tools))
        };
        // The one dropped is the least recently used, the first of the others.
        assert!(!kept(&others[0]) && kept(&others[1]));
        assert!(Arc::ptr_eq(&first, &get(&busy)), "the busy worker was prepared again");
    }

    #[test]
    fn serialised_parts_are_the_text_of_the_values() {
        let tools: Arc<[ToolDefinition]> = vec![ToolDefinition::new(
            "add",
            "",
            json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
        )]
        .into();
        let prepared =
            Prepared::new(&request(&tools, &OutputMode::Text), StructuredOutput::FinalAnswerTool)
                .unwrap();
        assert_eq!(
            prepared.tools.unwrap().get(),
            r#"[{"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}]"#
        );
        assert!(prepared.response_format.is_none() && prepared.instructions.is_none());
    }
}
