//! Who may call a served runtime and how many calls run at once (`serve/access.rs`):
//! `McpService::max_calls` refuses a call beyond the bound at once (before, every call a
//! client sent was started, however many), and `McpService::bearer_token` makes the HTTP
//! transport answer only clients that send the token (before, anyone who could reach the
//! port could call every tool).

#[path = "support/served.rs"]
mod served;

use llm_do_core::secrets::BearerToken;
use llm_do_core::{Runtime, ToolSpecBuilder};
use llm_do_mcp::serve::{BUSY, McpService};
use llm_do_mcp::{McpError, McpServer, McpToolset};
use rmcp::service::ServiceError;
use serde_json::json;
use served::{HttpServer, call, connect, text_of};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f).await.expect("timed out")
}

/// A runtime with `hold`, which reports that it started and then waits for a pass of the gate.
fn held() -> (Runtime, Arc<Semaphore>, mpsc::UnboundedReceiver<()>) {
    let gate = Arc::new(Semaphore::new(0));
    let (started, starts) = mpsc::unbounded_channel();
    let g = gate.clone();
    let hold = ToolSpecBuilder::new("hold")
        .description("Holds until released.")
        .handler(move |_, _| {
            let (gate, started) = (g.clone(), started.clone());
            async move {
                let _ = started.send(());
                gate.acquire().await.expect("gate").forget();
                Ok(json!("released"))
            }
        })
        .build();
    (Runtime::builder().register(hold).build(), gate, starts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_beyond_max_calls_is_refused_at_once_and_the_place_comes_back() {
    let (rt, gate, mut starts) = held();
    let client = Arc::new(connect(McpService::new(rt).max_calls(2), ()).await);
    let spawn = |c: &Arc<rmcp::service::RunningService<rmcp::RoleClient, ()>>| {
        let c = c.clone();
        tokio::spawn(async move { c.call_tool(call("hold", json!({}))).await })
    };
    let (first, second) = (spawn(&client), spawn(&client));
    bounded(starts.recv()).await.unwrap();
    bounded(starts.recv()).await.unwrap();

    let refused = bounded(client.call_tool(call("hold", json!({})))).await;
    match refused {
        Err(ServiceError::McpError(e)) => {
            assert_eq!(e.code, BUSY, "{e:?}");
            assert!(e.message.contains("as many tool calls as it takes at once (2)"), "{e:?}");
        }
        other => panic!("expected the busy error, got {other:?}"),
    }
    assert!(starts.try_recv().is_err(), "the refused call ran");

    // One call answered: its place serves the next call.
    gate.add_permits(1);
    let done = bounded(async {
        tokio::select! { r = first => r, r = second => r }
    })
    .await;
    assert_eq!(text_of(&done.unwrap().unwrap()), "released");
    let third = spawn(&client);
    bounded(starts.recv()).await.unwrap();
    gate.add_permits(2);
    assert_eq!(text_of(&bounded(third).await.unwrap().unwrap()), "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_with_a_token_only_clients_that_send_it_are_answered() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let token = BearerToken::new("t0ken-0123456789").unwrap();
    let service = McpService::new(served::greeter()).bearer_token(token);
    let server = HttpServer::start(service).await;
    let url = format!("http://{}/mcp", server.addr);

    // A plain request: 401 with the challenge, and nothing of the session behind it.
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post =
        || http.post(&url).header("accept", "application/json, text/event-stream").json(&init);
    for request in [post(), post().bearer_auth("t0ken-0123456780"), post().bearer_auth("")] {
        let response = bounded(request.send()).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let text = bounded(response.text()).await.unwrap();
        assert!(!text.contains("t0ken"), "{text}");
    }
    // rmcp's client without the token cannot start; with it, it starts and lists the tools.
    let refused = bounded(McpToolset::connect("g", McpServer::http(url.as_str()))).await;
    assert!(matches!(refused, Err(McpError::Start { .. })), "{refused:?}");
    let with = McpServer::http(url.as_str()).header("Authorization", "Bearer t0ken-0123456789");
    let toolset = bounded(McpToolset::connect("g", with)).await.unwrap();
    assert!(toolset.specs().iter().any(|s| s.name() == "g__greet"), "{:?}", toolset.specs().len());

    // With a token, any `Host` is taken (the server can be reached by name).
    let response =
        bounded(post().bearer_auth("t0ken-0123456789").header("host", "mcp.example").send())
            .await
            .unwrap();
    assert_eq!(response.status(), 200, "{:?}", bounded(response.text()).await);
    toolset.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_without_a_token_only_loopback_hosts_are_answered_as_before() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = HttpServer::start(McpService::new(served::greeter())).await;
    let url = format!("http://{}/mcp", server.addr);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let response = bounded(
        reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("host", "mcp.example")
            .json(&init)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 403);
    server.stop().await;
}
