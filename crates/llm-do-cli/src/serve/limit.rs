//! How much `llm-do serve` takes on at once: each request may hold a body of up to
//! [`super::MAX_BODY_BYTES`] and run a model, and each connection a task and a descriptor.
//!
//! - At most [`Limits::max_requests`] requests are in flight (from their head to the last
//!   byte of their answer, a stream included); one more is answered at once with a 503
//!   `server_overloaded`, `Retry-After: 1`, and reaches no model — it is not queued.
//! - At most [`Limits::max_connections`] connections are open; while that many are, the
//!   server accepts no other, which waits in the kernel's (bounded) listen backlog.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt as _;
use llm_do_openai_wire::error;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Bounds on the work `llm-do serve` takes on at once (see the module's documentation).
///
/// ```
/// let limits = llm_do_cli::serve::Limits::default();
/// assert!(limits.max_requests >= 4);
/// assert!(limits.max_connections >= limits.max_requests);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most requests in flight; one more is answered 503 with `Retry-After`.
    pub max_requests: usize,
    /// Most open connections; another waits in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Limits {
    /// The default [`Limits::max_requests`]: four per core.
    pub fn default_max_requests() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from).saturating_mul(4)
    }

    /// The default [`Limits::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_requests: Self::default_max_requests(),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The semaphore of in-flight requests, shared by the middleware's calls.
#[derive(Clone)]
pub(super) struct InFlight(Arc<Semaphore>);

impl InFlight {
    /// Room for `max` requests (at least one).
    pub(super) fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))))
    }
}

/// Middleware: runs the request if one of the permits is free, and keeps it until the answer
/// has been sent whole; else answers 503 at once.
pub(super) async fn in_flight(
    State(InFlight(permits)): State<InFlight>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = permits.try_acquire_owned() else {
        return overloaded();
    };
    let response = next.run(request).await;
    // A streamed answer runs the model while its body is sent: the permit goes with the body.
    response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &permit;
            chunk
        }))
    })
}

/// The 503 of a server at its limit of requests in flight.
fn overloaded() -> Response {
    let (kind, _) = error::kind_of(503);
    let body = error::body(
        "this server is answering as many requests as it takes at once (see `llm-do serve \
         --max-requests`); retry later",
        kind,
        None,
        Some("server_overloaded"),
    );
    let mut response = super::json_response(StatusCode::SERVICE_UNAVAILABLE, &body);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
