//! `llm-do list PROJECT [--json]`: a project's workers and tools with their kinds, sources and
//! schemas.

use super::{host_builder, load};
use crate::exit::Exit;
use llm_do::{CallableSpec, Registry};
use llm_do_project::Project;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Where a callable of a project's name space comes from.
fn source_of(project: &Project, spec: &CallableSpec, mcp: &BTreeSet<String>) -> String {
    if let Some((server, _)) = spec.name().split_once("__").filter(|_| mcp.contains(spec.name())) {
        return format!("mcp:{server}");
    }
    match project.workers().iter().find(|w| w.name == spec.name()) {
        Some(w) => w.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        None if project.specs().any(|s| s.name() == spec.name()) => "built-in".to_owned(),
        None => "rust".to_owned(),
    }
}

/// Lists the callables of the project in `dir` (with `host`'s; `mcp` names those of MCP
/// servers), as text or as one JSON object.
pub(super) fn list(dir: &Path, host: &Registry, as_json: bool, mcp: &BTreeSet<String>) -> Exit {
    let project = match load(dir, host) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let rt = project.register(host_builder(host)).build();
    let mut specs: Vec<&Arc<CallableSpec>> = rt.registry().iter().collect();
    specs.sort_by_key(|s| (!s.kind().is_stochastic(), s.name().to_owned()));
    let entries: Vec<Value> = specs
        .iter()
        .map(|s| {
            let mut e = json!({
                "name": s.name(),
                "kind": if s.kind().is_stochastic() { "worker" } else { "tool" },
                "source": source_of(&project, s, mcp),
                "description": s.description(),
                "input": s.input_schema(),
                "output": s.output_schema(),
            });
            if let Some(w) = s.worker() {
                e["model"] = json!(w.model);
                e["tools"] = json!(w.tools.iter().map(|t| t.name()).collect::<Vec<_>>());
            }
            if let Some(v) = s.approval() {
                e["approval"] = json!(v);
            }
            e
        })
        .collect();
    if as_json {
        // A path need not be UTF-8 (serde refuses such a one, and the JSON must be printed).
        let project_dir = dir.to_string_lossy();
        let out = json!({"project": project_dir, "entry": project.entry(), "callables": entries});
        crate::output::outln!("{}", crate::terminal::json_pretty(&out));
        return Exit::Ok;
    }
    // Names and descriptions come from project files: shown safe for a terminal.
    let mut shown = String::new();
    for e in &entries {
        let model = match e.get("model") {
            Some(Value::String(m)) => format!(", model {m}"),
            Some(_) => ", default model".to_owned(),
            None => String::new(),
        };
        let entry = if project.entry() == e["name"].as_str() { " (entry)" } else { "" };
        shown.push_str(&format!(
            "{} [{}, {}{model}]{entry}\n",
            e["name"].as_str().unwrap_or(""),
            e["kind"].as_str().unwrap_or(""),
            e["source"].as_str().unwrap_or("")
        ));
        let description = e["description"].as_str().unwrap_or("");
        if !description.is_empty() {
            shown.push_str(&format!("    {description}\n"));
        }
        if let Some(tools) = e.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty()) {
            let names: Vec<&str> = tools.iter().filter_map(Value::as_str).collect();
            shown.push_str(&format!("    tools:  {}\n", names.join(", ")));
        }
        shown.push_str(&format!("    input:  {}\n    output: {}\n", e["input"], e["output"]));
    }
    crate::output::out!("{}", crate::terminal::safe(&shown));
    Exit::Ok
}
