//! Unit tests of how a listed tool is taken or left out (`Shared::store_tools`, offered.rs).

use crate::{McpServer, McpToolset};
use rmcp::model::Tool;
use std::sync::Arc;

/// A tool whose input schema is a valid JSON Schema but not of an object (`{"type":
/// "string"}`) is left out with the reason: before, it was offered, and a model API refuses
/// every request that offers it (a function's parameters must be an object schema), so one
/// such tool broke every run the server's tools were registered on.
#[test]
fn a_tool_whose_input_schema_is_not_an_object_schema_is_left_out() {
    let toolset = McpToolset::new("s", McpServer::stdio("unused", ["x"])).unwrap();
    let schema = |v: serde_json::Value| Arc::new(v.as_object().cloned().unwrap());
    toolset.shared.store_tools(vec![
        Tool::new("plain", "", schema(serde_json::json!({"type": "object"}))),
        Tool::new("untyped", "", schema(serde_json::json!({"properties": {}}))),
        Tool::new("nullable", "", schema(serde_json::json!({"type": ["object", "null"]}))),
        Tool::new("text", "", schema(serde_json::json!({"type": "string"}))),
        Tool::new("list", "", schema(serde_json::json!({"type": ["array", "string"]}))),
    ]);
    let offered: Vec<String> = toolset.tools().into_iter().map(|t| t.remote_name).collect();
    assert_eq!(offered, ["nullable", "plain", "untyped"]);
    let skipped = toolset.skipped();
    let names: Vec<&str> = skipped.iter().map(|s| s.remote_name.as_str()).collect();
    assert_eq!(names, ["text", "list"]);
    assert!(
        skipped[0].reason.contains("not an object schema (`type` is \"string\")"),
        "{skipped:?}"
    );
    assert!(skipped[1].reason.contains("(`type` is [\"array\",\"string\"])"), "{skipped:?}");
}

/// A tool name of a megabyte is left out with its name and reason a few hundred characters
/// long: before, both quoted the whole name (the reason escaped it, up to ten times
/// longer), which `llm-do check` printed.
#[test]
fn a_huge_tool_name_is_quoted_cut() {
    let toolset = McpToolset::new("s", McpServer::stdio("unused", ["x"])).unwrap();
    let object = Arc::new(serde_json::json!({"type": "object"}).as_object().cloned().unwrap());
    let long = "a".repeat(1 << 20);
    let bad = "\u{1b}".repeat(1 << 20);
    toolset
        .shared
        .store_tools(vec![Tool::new(long.clone(), "", object.clone()), Tool::new(bad, "", object)]);
    let skipped = toolset.skipped();
    assert_eq!(skipped.len(), 2, "{}", skipped.len());
    assert!(skipped[0].reason.contains("is longer than the 64 characters"));
    assert!(skipped[1].reason.contains("has characters a model API does not accept"));
    for s in &skipped {
        assert!(s.remote_name.chars().count() <= 101, "{}", s.remote_name.len());
        assert!(s.reason.chars().count() < 400, "{}", s.reason.len());
        assert!(!s.reason.contains('\u{1b}'));
    }
    assert!(long.starts_with(skipped[0].remote_name.trim_end_matches('…')));
}

/// A schema that does not compile because of a megabyte-long value is left out with a reason
/// a few hundred characters long: before, the reason quoted the schema compiler's message
/// whole, and that quotes the value.
#[test]
fn a_huge_invalid_schema_is_quoted_cut() {
    let toolset = McpToolset::new("s", McpServer::stdio("unused", ["x"])).unwrap();
    let huge = "\u{1b}x".repeat(1 << 19);
    let schema = serde_json::json!({"type": "object", "properties": {"a": {"type": huge}}});
    toolset.shared.store_tools(vec![Tool::new(
        "broken",
        "",
        Arc::new(schema.as_object().cloned().unwrap()),
    )]);
    let skipped = toolset.skipped();
    assert_eq!(skipped.len(), 1);
    let reason = &skipped[0].reason;
    assert!(
        reason.starts_with("its input schema is not a valid JSON Schema: "),
        "{}",
        reason.len()
    );
    assert!(reason.chars().count() < 1_000, "{}", reason.len());
    assert!(!reason.contains('\u{1b}'));
}
