//! The worker-file projects under `examples/` that README.md and the docs tell users to run:
//! each checks clean, and no schema of theirs holds a `null` — what YAML makes of an unquoted
//! comma in a flow mapping (`{ description: the name, as given }` is the description `the
//! name` and a key `as given` with no value), a mistake that loads without an error.

use llm_do_core::Registry;
use llm_do_project::Project;
use serde_json::Value;
use std::path::Path;

/// The example projects without MCP servers (`examples/projects/mcp_orders` needs its server
/// running; `crates/llm-do-cli/tests/mcp.rs` runs it).
const PROJECTS: &[&str] = &[
    "examples/projects/hello",
    "examples/projects/chat",
    "examples/ticket_classifier/workers",
    "examples/recursive_summarizer/workers",
    "examples/pitchdeck_eval/project",
    "examples/approvals_demo/project",
];

/// The JSON pointers of the `null`s in `value`.
fn nulls(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Null => found.push(at.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{at}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                nulls(item, &format!("{at}/{key}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn the_example_projects_check_clean_and_their_schemas_hold_no_null() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for dir in PROJECTS {
        let project = Project::check(root.join(dir), &Registry::default())
            .unwrap_or_else(|e| panic!("{dir} does not check clean:\n{e}"));
        assert!(!project.workers().is_empty(), "{dir} has workers");
        for worker in project.workers() {
            let mut found = Vec::new();
            nulls(&worker.input, "input", &mut found);
            nulls(&worker.output, "output", &mut found);
            assert!(
                found.is_empty(),
                "{}: null in its schema at {found:?} (an unquoted comma in a YAML flow mapping?)",
                worker.path.display()
            );
        }
    }
}
