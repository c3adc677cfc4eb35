//! For the tests of the served side: a tool that needs approval, an rmcp client connected to a
//! service over an in-memory pipe, the pieces of a call and its result, a service on loopback
//! HTTP, and the official Python client run against it.

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
use std::time::Duration;

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

/// A service on streamable HTTP on a free loopback port, until [`HttpServer::stop`].
pub struct HttpServer {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    pub async fn start(service: McpService) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(service.serve_http(listener, async {
            let _ = stopped.await;
        }));
        Self { addr, stop, server }
    }

    /// Stops the server; it must end cleanly and soon.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.server).await.unwrap().unwrap().unwrap();
    }
}

/// Runs `tests/python/SCRIPT` with the Python given by `LLM_DO_TEST_PY_MCP` against the
/// server at `addr` and returns the JSON it prints; `None` (the test `test` is skipped, saying
/// so) when that variable is unset outside CI, a failure in CI (.ci/run installs one).
pub async fn python_client(test: &str, script: &str, addr: std::net::SocketAddr) -> Option<Value> {
    let Some(python) = std::env::var_os("LLM_DO_TEST_PY_MCP") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but LLM_DO_TEST_PY_MCP (a python with the `mcp` package) is not"
        );
        eprintln!(
            "SKIPPED {test}: set LLM_DO_TEST_PY_MCP to a python with the `mcp` package \
             (python3 -m venv V && V/bin/pip install mcp)"
        );
        return None;
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python)
            .arg(script)
            .arg(format!("http://{addr}/mcp"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the python client finishes")
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed: {stderr}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}
