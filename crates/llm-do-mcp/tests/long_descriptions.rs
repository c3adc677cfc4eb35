//! A server's over-long descriptions are cut before a model sees them.

use llm_do_core::Runtime;
use llm_do_mcp::{MAX_DESCRIPTION_CHARS, McpBuilderExt as _, McpServer, McpToolset};
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

/// Before, only the whole listing was bounded (32 MiB): a tool described in a megabyte was
/// offered with that megabyte in every model request, and so was a parameter's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_description_is_cut_with_a_note() {
    let server =
        McpServer::stdio(DEMO, ["--long-description"]).start_timeout(Duration::from_secs(60));
    let wordy = McpToolset::connect("wordy", server).await.unwrap();
    let rt = Runtime::builder().mcp(&wordy).build();
    let offered = rt.registry().get("wordy__echo").unwrap().tool_definition();
    let note = format!("… [description cut at {MAX_DESCRIPTION_CHARS} characters]");
    let kept = "d".repeat(MAX_DESCRIPTION_CHARS);
    assert_eq!(offered.description, format!("{kept}{note}"));
    let text = offered.parameters["properties"]["text"]["description"].as_str().unwrap();
    assert_eq!(text, format!("{kept}{note}"));
    // The rest of the schema is the server's.
    assert_eq!(offered.parameters["properties"]["text"]["type"], "string");
    assert_eq!(offered.parameters["type"], "object");
    wordy.close().await;
}
