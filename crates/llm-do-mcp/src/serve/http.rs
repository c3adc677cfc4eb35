//! [`McpService::serve_http`]: the streamable HTTP transport (rmcp's), behind the filters of
//! `serve/malformed.rs` and `serve/session_end.rs`, and, with a bearer token, the check of
//! `serve/access.rs`.

use super::{McpService, access, malformed, session_end};
use std::future::Future;
use std::sync::Arc;

impl McpService {
    /// Serves streamable HTTP at `/mcp` on `listener` until `shutdown` completes. Without a
    /// [`bearer_token`](Self::bearer_token), only requests whose `Host` is `localhost`,
    /// `127.0.0.1` or `::1` are accepted (DNS rebinding protection); with one, only requests
    /// that carry it, for any `Host`.
    ///
    /// ```no_run
    /// # async fn f(s: llm_do_mcp::serve::McpService) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8765").await?;
    /// s.serve_http(listener, std::future::pending()).await
    /// # }
    /// ```
    pub async fn serve_http(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use rmcp::transport::streamable_http_server::{
            StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
        };
        let ct = tokio_util::sync::CancellationToken::new();
        let mut config = StreamableHttpServerConfig::default().with_cancellation_token(ct.clone());
        let bearer = self.bearer.clone();
        if bearer.is_some() {
            config = config.disable_allowed_hosts();
        }
        let service = StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(malformed::http_filter))
            .layer(axum::middleware::from_fn(session_end::no_content));
        // Outermost: a request without the token reaches nothing else.
        let router = match bearer {
            Some(token) => {
                router.layer(axum::middleware::from_fn_with_state(token, access::require_bearer))
            }
            None => router,
        };
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                ct.cancel();
            })
            .await
    }
}
