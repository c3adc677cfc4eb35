//! A server's answer reaches the model bounded, whatever form it takes: structured content
//! longer than `MAX_RESULT_CHARS` as JSON becomes that JSON text cut, with a note, as long
//! text does; a JSON-RPC error's message is escaped and cut. Before, both passed whole (the
//! demo server's million characters reached the model).

use llm_do_mcp::{MAX_RESULT_CHARS, McpError, McpServer, McpToolset};
use serde_json::{Value, json};
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

async fn huge() -> McpToolset {
    let server = McpServer::stdio(DEMO, ["--huge"]).start_timeout(Duration::from_secs(60));
    McpToolset::connect("huge", server).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_content_past_the_limit_is_cut_text_with_a_note() {
    let server = huge().await;
    let result = server.call("structured", json!({})).await.unwrap();
    let Ok(Value::String(text)) = result else {
        panic!("not text: {}", llm_do_core::bounds::excerpt(&format!("{result:?}")))
    };
    let note = "\n[structured result cut: its JSON is longer than 100000 characters; ";
    let (kept, end) = text.rsplit_once(note).expect("a note");
    assert_eq!(kept.chars().count(), MAX_RESULT_CHARS);
    let cut: usize = end.strip_suffix(" bytes cut]").and_then(|n| n.parse().ok()).unwrap();
    let json = json!({"blob": "A".repeat(1_000_000)}).to_string();
    assert_eq!(cut, json.len() - MAX_RESULT_CHARS, "the note says how much was cut");
    assert!(kept.starts_with(r#"{"blob":"AAAA"#), "{:?}", llm_do_core::bounds::excerpt(kept));
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_rpc_error_message_is_escaped_and_cut() {
    let server = huge().await;
    let err = server.call("rpc_error", json!({})).await.unwrap_err();
    let McpError::Call { server: name, tool, message } = &err else {
        panic!("not a Call error: {err}")
    };
    assert_eq!((name.as_str(), tool.as_str()), ("huge", "rpc_error"));
    assert!(message.starts_with(r"\x1b[2JAAAA"), "{:?}", llm_do_core::bounds::excerpt(message));
    assert!(message.ends_with("A…"), "cut, and marked so");
    assert_eq!(message.chars().count(), MAX_RESULT_CHARS + 1);
    assert!(!err.to_string().contains('\x1b'));
    server.close().await;
}
