//! Who may call, and how many calls run at once: [`McpService::max_calls`] bounds the tool
//! calls in flight (over every session and transport of the service), and
//! [`McpService::bearer_token`] makes [`McpService::serve_http`] answer only the clients that
//! send `Authorization: Bearer <token>` (the check is
//! [`BearerToken::admits`], the one rule `llm-do serve --api-key-env` uses too).

use super::McpService;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use llm_do_core::secrets::BearerToken;
use rmcp::ErrorData;
use rmcp::model::ErrorCode;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The default of [`McpService::max_calls`]: tool calls in flight at once. Each is a run
/// (for a worker, model requests that mostly wait), so the bound is on memory and tasks, not
/// on cores.
pub const DEFAULT_MAX_CALLS: usize = 64;

/// The JSON-RPC error code of a call refused because [`McpService::max_calls`] calls are in
/// flight (in the range JSON-RPC leaves to servers).
pub const BUSY: ErrorCode = ErrorCode(-32001);

/// The places for calls in flight, shared by every clone of a service (each HTTP session
/// has one).
#[derive(Clone)]
pub(super) struct CallSlots {
    permits: Arc<Semaphore>,
    max: usize,
}

impl CallSlots {
    pub(super) fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        CallSlots { permits: Arc::new(Semaphore::new(max)), max }
    }

    /// A place for one call, held until the call is answered; none free: the error that
    /// refuses the call at once (it is not queued: a client that floods the server gets
    /// answers, not a growing queue).
    pub(super) fn take(&self) -> Result<OwnedSemaphorePermit, ErrorData> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            ErrorData::new(
                BUSY,
                format!(
                    "this server is running as many tool calls as it takes at once ({}); \
                     retry when one of yours has finished",
                    self.max
                ),
                None,
            )
        })
    }
}

impl McpService {
    /// At most `max` tool calls in flight at once, over every session (at least 1; default
    /// [`DEFAULT_MAX_CALLS`]); one more is refused at once with the JSON-RPC error
    /// [`BUSY`] and runs nothing.
    ///
    /// ```
    /// let s = llm_do_mcp::serve::McpService::new(llm_do_core::Runtime::builder().build());
    /// assert_eq!(s.max_calls_in_flight(), llm_do_mcp::serve::DEFAULT_MAX_CALLS);
    /// assert_eq!(s.max_calls(2).max_calls_in_flight(), 2);
    /// ```
    pub fn max_calls(mut self, max: usize) -> Self {
        self.calls = CallSlots::new(max);
        self
    }

    /// The most tool calls in flight at once ([`max_calls`](Self::max_calls)).
    pub fn max_calls_in_flight(&self) -> usize {
        self.calls.max
    }

    /// Over HTTP, answer only requests that carry `Authorization: Bearer <token>`; every
    /// other request is a `401` with `WWW-Authenticate: Bearer`, and reaches no session. With
    /// a token the server also takes requests for any `Host` (so that it can be reached by
    /// name from other machines: a web page cannot send the header without the CORS
    /// permission this server never grants); without one, only `localhost`, `127.0.0.1` and
    /// `::1`. Stdio has no such check: whoever starts the server is its client.
    ///
    /// ```
    /// use llm_do_core::secrets::BearerToken;
    /// use llm_do_mcp::{McpError, McpServer, McpToolset, serve::McpService};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let service = McpService::new(llm_do_core::Runtime::builder().build())
    ///     .bearer_token(BearerToken::new("t0ken-for-the-client")?);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let url = format!("http://{}/mcp", listener.local_addr()?);
    /// tokio::spawn(service.serve_http(listener, std::future::pending()));
    /// let refused = McpToolset::connect("served", McpServer::http(url.as_str())).await;
    /// assert!(matches!(refused, Err(McpError::Start { .. })));
    /// let client = McpServer::http(url.as_str()).header("Authorization", "Bearer t0ken-for-the-client");
    /// assert!(McpToolset::connect("served", client).await?.specs().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn bearer_token(mut self, token: BearerToken) -> Self {
        self.bearer = Some(token);
        self
    }
}

/// Axum middleware of [`McpService::serve_http`] with a bearer token: the request goes on
/// when it presents the token, else it is answered 401.
pub(super) async fn require_bearer(
    State(token): State<BearerToken>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    if token.admits(request.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes)) {
        return next.run(request).await;
    }
    let message = if request.headers().contains_key(AUTHORIZATION) {
        "the token in `Authorization` is not this server's\n"
    } else {
        "this MCP server needs a token: send `Authorization: Bearer <token>`\n"
    };
    let mut response =
        (StatusCode::UNAUTHORIZED, [(CONTENT_TYPE, "text/plain; charset=utf-8")], message)
            .into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response.map(Body::new)
}
