//! `llm-do mcp PROJECT --http ADDR --token-env VAR`: the served project answers only HTTP
//! clients that send `Authorization: Bearer <VAR's value>` (before, anyone who could reach the
//! port could call every worker and tool), and a variable that cannot be used is a usage error
//! naming it, before anything is served.

#[path = "support/cli.rs"]
mod support;

use serde_json::json;
use std::process::Stdio;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const WORKER: &str =
    "---\ndescription: Says hello.\nmodel: openai:test-model\n---\nSay hello to {input}.\n";

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f).await.expect("timed out")
}

fn initialize() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_with_a_token_only_clients_that_send_it_are_served() {
    let dir = support::project(&[("main.worker", WORKER)]);
    let mut cmd: tokio::process::Command = support::command(BIN, None).into();
    let mut child = cmd
        .env("LLM_DO_TEST_MCP_TOKEN", "t0ken-for-mcp-clients")
        .arg("mcp")
        .arg(dir.path())
        .args(["--http", "127.0.0.1:0", "--token-env", "LLM_DO_TEST_MCP_TOKEN"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = support::served_address(child.stderr.take().unwrap()).await;
    let http = llm_do_openai::http::client();
    let post = || {
        http.post(&url).header("accept", "application/json, text/event-stream").json(&initialize())
    };
    for refused in [post(), post().bearer_auth("t0ken-for-mcp-clientz")] {
        let response = bounded(refused.send()).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    let response = bounded(post().bearer_auth("t0ken-for-mcp-clients").send()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("mcp-session-id"));
}

#[test]
fn a_token_variable_that_cannot_be_used_is_a_usage_error_naming_it() {
    let dir = support::project(&[("main.worker", WORKER)]);
    for (value, why) in [
        (None, "`LLM_DO_TEST_MCP_TOKEN` is not set"),
        (Some(""), "`LLM_DO_TEST_MCP_TOKEN` is empty"),
        (Some("t\u{7f}k"), "visible ASCII"),
    ] {
        let mut cmd = support::command(BIN, None);
        cmd.arg("mcp").arg(dir.path()).args(["--http", "127.0.0.1:0"]);
        cmd.args(["--token-env", "LLM_DO_TEST_MCP_TOKEN"]);
        match value {
            Some(v) => cmd.env("LLM_DO_TEST_MCP_TOKEN", v),
            None => cmd.env_remove("LLM_DO_TEST_MCP_TOKEN"),
        };
        let out = support::output(&mut cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--token-env LLM_DO_TEST_MCP_TOKEN: ") && stderr.contains(why),
            "{stderr}"
        );
        assert!(!stderr.contains("serving MCP"), "{stderr}");
    }
    // A token is for HTTP: on stdio it would check nothing.
    let mut cmd = support::command(BIN, None);
    cmd.arg("mcp").arg(dir.path()).args(["--token-env", "LLM_DO_TEST_MCP_TOKEN"]);
    let out = support::output(&mut cmd);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http"));
}
