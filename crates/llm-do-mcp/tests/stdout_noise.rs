//! What a stdio server writes on its stdout that is not JSON-RPC (src/child.rs): before
//! `initialize` is answered it ends the start at once with a typed error quoting the line;
//! after a successful start it is ignored and the session goes on.

#[path = "support/process.rs"]
mod process;

use llm_do_mcp::{McpError, McpServer, McpToolset};
use process::wait_gone;
use serde_json::json;
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

/// Longer than any test may take: an error of these tests is not the start timeout's.
const PATIENT: Duration = Duration::from_secs(600);

/// Bounds a test that would otherwise wait for [`PATIENT`] (proves "no hang", not a speed).
const NO_HANG: Duration = Duration::from_secs(120);

/// The error that ends the start of `server` under `name`, which must come before [`NO_HANG`].
async fn start_error(name: &str, server: McpServer) -> McpError {
    tokio::time::timeout(NO_HANG, McpToolset::connect(name, server.start_timeout(PATIENT)))
        .await
        .expect("the start ends without waiting for its timeout")
        .expect_err("the start fails")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_before_initialize_is_a_typed_error_quoting_the_line_and_the_stderr() {
    let err = start_error("orders", McpServer::stdio(DEMO, ["--garbage"])).await;
    let McpError::NotJsonRpc { server, line, stderr } = &err else {
        panic!("not a NotJsonRpc error: {err}")
    };
    assert_eq!(server, "orders");
    // The first offending line, quoted, its escape sequence escaped.
    assert_eq!(line, r#""this is not JSON-RPC \u{1b}[31m""#);
    assert!(stderr.contains("demo server: never answering (--garbage)"), "{stderr}");
    let shown = err.to_string();
    assert!(shown.contains("wrote something that is not an MCP message on its stdout"), "{shown}");
    assert!(shown.contains("logs belong on stderr"), "{shown}");
    assert!(!shown.contains('\x1b'), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_speaking_something_else_is_stopped_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // A banner, then (JSON, but not JSON-RPC) a log line; a grandchild in its process group.
    let script = format!(
        "sleep 300 & echo $! > {}; echo 'Listening on stdio'; echo '{{\"level\":\"info\"}}'; wait",
        pids.display()
    );
    let err = start_error("s", McpServer::stdio("sh", ["-c", script.as_str()])).await;
    assert!(
        matches!(&err, McpError::NotJsonRpc { line, .. } if line == "\"Listening on stdio\""),
        "{err}"
    );
    let grandchild: u32 = std::fs::read_to_string(&pids).unwrap().trim().parse().unwrap();
    assert!(wait_gone(grandchild).await, "the server's child {grandchild} outlived the start");

    // JSON-RPC that is no MCP message (an error that is a string) is reported with the reason,
    // not answered by rmcp with "Invalid Request" while the start waits out its timeout.
    let script = r#"echo '{"jsonrpc":"2.0","id":0,"error":"not ready"}'; sleep 300"#;
    let err = start_error("s", McpServer::stdio("sh", ["-c", script])).await;
    assert!(
        matches!(&err, McpError::NotJsonRpc { line, .. }
            if line.starts_with(r#""{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":\"not ready\"}" (JSON-RPC, but not an MCP message: "#)),
        "{err}"
    );

    // A line over the length limit is reported as such (not quoted whole).
    let script = "head -c 17000000 /dev/zero | tr '\\0' x; echo; sleep 300";
    let err = start_error("s", McpServer::stdio("sh", ["-c", script])).await;
    assert!(
        matches!(&err, McpError::NotJsonRpc { line, .. } if line == "a line longer than 16 MiB"),
        "{err}"
    );
}

/// After a successful start, noise is ignored (logged): the answer that follows it arrives
/// and the session goes on. (A guard of that choice: rmcp alone ignored such lines too.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_after_the_start_is_ignored_and_the_session_goes_on() {
    let server = McpServer::stdio(DEMO, Vec::<String>::new())
        .env("LLM_DO_MCP_DEMO_NOISE", "1")
        .start_timeout(PATIENT)
        .call_timeout(PATIENT);
    let orders = McpToolset::connect("orders", server).await.unwrap();
    for text in ["one", "two"] {
        let answer = tokio::time::timeout(NO_HANG, orders.call("echo", json!({"text": text})))
            .await
            .expect("the answer after the noise arrives");
        assert_eq!(answer.unwrap().unwrap(), json!(text));
    }
    orders.close().await;
}
