//! An HTTP server that answers a tool call with an HTTP error status: a typed error saying what
//! the server answered, in words.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse as _;
use llm_do_core::{Runtime, ToolSpecBuilder};
use llm_do_mcp::serve::McpService;
use llm_do_mcp::{McpError, McpServer, McpToolset};
use std::sync::Arc;

/// llm-do's own MCP service (one tool, `shout`) behind a gateway that answers every
/// `tools/call` with a plain-text `500`, on a free loopback port.
async fn failing_gateway() -> String {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    let shout = ToolSpecBuilder::new("shout")
        .handler(|_, _| async move { Ok(serde_json::json!("HI")) })
        .build();
    let served = McpService::new(Runtime::builder().register(shout).build());
    let service = StreamableHttpService::new(
        move || Ok(served.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let route = |request: Request<Body>, next: axum::middleware::Next| async move {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        if bytes.windows(b"tools/call".len()).any(|w| w == b"tools/call") {
            let plain = [(header::CONTENT_TYPE, "text/plain")];
            return (StatusCode::INTERNAL_SERVER_ERROR, plain, "boom").into_response();
        }
        next.run(Request::from_parts(parts, Body::from(bytes))).await
    };
    let router =
        axum::Router::new().nest_service("/mcp", service).layer(axum::middleware::from_fn(route));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Before, the error quoted rmcp's internals (`Transport send error: Transport
/// [rmcp::transport::worker::WorkerTransport<…StreamableHttpClientWorker<reqwest::…>>] error:
/// HTTP 500`), as the start's errors no longer do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_answered_with_an_http_error_says_so_without_rmcps_type_names() {
    let url = failing_gateway().await;
    for protocol in ["2025-11-25", "2026-07-28"] {
        let t = McpToolset::connect("gw", McpServer::http(&url).protocol(protocol)).await.unwrap();
        let err = t.call("shout", serde_json::json!({})).await.unwrap_err();
        // `shout` is not marked idempotent: the gateway may have run it, so it is not made again.
        let McpError::DiedDuringCall { server, tool, message, .. } = &err else {
            panic!("{protocol}: {err:?}")
        };
        assert_eq!((server.as_str(), tool.as_str()), ("gw", "shout"));
        assert!(message.contains("HTTP 500"), "{protocol}: {message}");
        assert!(!err.to_string().contains("rmcp::"), "{protocol}: {err}");
        t.close().await;
    }
}
