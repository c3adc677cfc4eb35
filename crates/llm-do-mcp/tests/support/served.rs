//! For the tests of the served side: a tool that needs approval, an rmcp client connected to a
//! service over an in-memory pipe, and the pieces of a call and its result.

#![allow(dead_code)]

use llm_do_core::approval::Verdict;
use llm_do_core::{CallableSpec, ToolSpecBuilder};
use llm_do_mcp::serve::McpService;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `remove(path)`: needs approval (`Ask`), answers "removed" and counts its runs in `removed`.
pub fn remove_tool(removed: &Arc<AtomicUsize>) -> Arc<CallableSpec> {
    let counter = removed.clone();
    ToolSpecBuilder::new("remove")
        .description("Deletes a file.")
        .input_schema(json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}))
        .approval(Verdict::Ask)
        .handler(move |_, _| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(json!("removed"))
            }
        })
        .build()
}

/// The service on one end of an in-memory pipe, rmcp's client with `handler` (`()`: one
/// that declares no capability) on the other.
pub async fn connect<H: rmcp::ClientHandler>(
    service: McpService,
    handler: H,
) -> RunningService<RoleClient, H> {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = service.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    handler.serve(client_io).await.unwrap()
}

/// A `tools/call` of `name` with `args` (an object).
pub fn call(name: &str, args: Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(name.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

/// A result's text blocks, one per line.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}
