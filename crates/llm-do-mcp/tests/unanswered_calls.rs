//! Calls a stdio server never answers: one it keeps (a timeout that quotes its stderr), and
//! one whose server process exits while a process it started keeps its stdout open (the dead
//! server's error, long before the call timeout, and nothing left running).

#[path = "support/process.rs"]
mod process;

use llm_do_mcp::{McpError, McpServer, McpToolset};
use process::wait_gone;
use serde_json::json;
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

/// Before, `Timeout` was the one error about a child process without the tail of its stderr:
/// what the server said about why it did not answer was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_timeout_quotes_the_servers_stderr() {
    let server = McpServer::stdio(DEMO, ["--mute"])
        .start_timeout(Duration::from_secs(60))
        .call_timeout(Duration::from_secs(2));
    let mute = McpToolset::connect("mute", server).await.unwrap();
    let err = mute.call("echo", json!({"text": "x"})).await.unwrap_err();
    let McpError::Timeout { server, tool, stderr, .. } = &err else { panic!("{err}") };
    assert_eq!((server.as_str(), tool.as_str()), ("mute", "echo"));
    let line = "demo server: up, and never answering a call (--mute)";
    assert!(stderr.contains(line), "{stderr:?}");
    assert!(err.to_string().contains(&format!("; its stderr ends with:\n{line}")), "{err}");
    mute.close().await;
}

/// Before, the client noticed a dead server only by the end of its stdout: a server that
/// exits while a process it started holds its stdout (a launcher's helper, a daemon) left the
/// call waiting for its whole call timeout, and every later call too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_leaving_its_stdout_open_is_a_dead_server() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("grandchildren");
    let server = McpServer::stdio(DEMO, ["--orphan"])
        .env("LLM_DO_MCP_DEMO_PIDFILE", pidfile.display().to_string())
        .start_timeout(Duration::from_secs(60))
        .call_timeout(Duration::from_secs(60));
    let orphaning = McpToolset::connect("orphaning", server).await.unwrap();
    for attempt in 1..=2 {
        let leader = orphaning.pid().await;
        // The bound turns a regression (a wait for the 60 s call timeout) into a failure
        // rather than a hang; it is not a timing assertion.
        let call = orphaning.call("echo", json!({"text": "x"}));
        let err = tokio::time::timeout(Duration::from_secs(20), call)
            .await
            .expect("the call waited for its timeout: the server's exit went unnoticed")
            .unwrap_err();
        // `echo` is not marked idempotent: the call is not made again.
        let McpError::DiedDuringCall { server, tool, message, stderr } = &err else {
            panic!("attempt {attempt}: {err}")
        };
        assert_eq!((server.as_str(), tool.as_str()), ("orphaning", "echo"));
        assert!(message.contains("exit status: 4"), "{message}");
        assert!(stderr.contains("leaving `sleep` behind and exiting (--orphan)"), "{stderr:?}");
        assert_eq!(orphaning.pid().await, None, "the dead server is buried");
        // What it left behind went with its process group.
        let left: Vec<u32> = std::fs::read_to_string(&pidfile)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(left.len(), attempt, "{left:?}");
        for pid in left.into_iter().chain(leader) {
            assert!(wait_gone(pid).await, "{pid} outlived the dead server");
        }
        // The next call starts the server anew (and it dies the same way).
    }
}
