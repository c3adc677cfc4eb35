//! A stdio server that stops reading its stdin (wedged, alive): a call too large for the pipe
//! times out, and closing the toolset still ends the server instead of waiting for it.

#[path = "support/process.rs"]
mod process;

use llm_do_mcp::{McpError, McpServer, McpToolset};
use process::wait_gone;
use serde_json::json;
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

/// Before, the request the server never read stayed half written, holding the transport's
/// writer, and `close` waited for that writer without end: `McpToolset::close` (and so every
/// `llm-do` command of a project with such a server, which closes its servers at the end)
/// never returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_server_that_reads_nothing_more_ends_it() {
    let server = McpServer::stdio(DEMO, ["--deaf"])
        .protocol("2025-11-25")
        .call_timeout(Duration::from_secs(1));
    let deaf = McpToolset::connect("deaf", server).await.unwrap();
    let pid = deaf.pid().await.expect("a stdio server has a process");
    // Far more than a pipe holds: the write blocks once the pipe is full.
    let big = "x".repeat(4 << 20);
    let err = deaf.call("echo", json!({"text": big})).await.unwrap_err();
    assert!(matches!(err, McpError::Timeout { .. }), "{err}");
    // A guard against the hang, not a timing assertion: close waits at most a few seconds of
    // grace before it kills the server.
    let closed = tokio::time::timeout(Duration::from_secs(120), deaf.close()).await;
    assert!(closed.is_ok(), "close never returned");
    assert!(wait_gone(pid).await, "the server {pid} outlived close");
}
