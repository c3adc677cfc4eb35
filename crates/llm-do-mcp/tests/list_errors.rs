//! A server whose `tools/list` fails: a typed error that says what the server answered, its
//! own text escaped.

use llm_do_mcp::{McpError, McpServer, McpToolset};
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

async fn list_error(mode: &str) -> String {
    let server = McpServer::stdio(DEMO, [mode]).start_timeout(Duration::from_secs(60));
    let err = McpToolset::connect("orders", server).await.unwrap_err();
    let McpError::ListTools { server, message, .. } = &err else {
        panic!("not a ListTools error: {err}")
    };
    assert_eq!(server, "orders");
    assert!(!err.to_string().contains('\x1b'), "{err:?}");
    message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_rpc_error_is_quoted_escaped() {
    assert_eq!(
        list_error("--list-error").await,
        r"it answered `tools/list` with the error -32603: the tool registry is down \x1b[2J"
    );
}

/// A `tools/list` that goes on and on is cut at 100 pages: an error, not a list that grows
/// until memory or the start timeout runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_list_without_end_is_an_error() {
    assert_eq!(list_error("--list-endless").await, "its `tools/list` goes on past 100 pages");
}

/// Pages of tools with 1 MiB descriptions are cut at 32 MiB together, long before 100 pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_list_too_large_in_bytes_is_an_error() {
    assert_eq!(
        list_error("--list-fat").await,
        "its tools take more than 32 MiB (names, descriptions and schemas)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_is_not_a_list_of_tools_is_said_so() {
    assert_eq!(
        list_error("--list-invalid").await,
        "its answer to `tools/list` is not a list of tools"
    );
}
