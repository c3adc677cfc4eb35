//! `llm-do serve`: an OpenAI-compatible HTTP server over one configured model.
//!
//! Routes, on `127.0.0.1` by default:
//!
//! - `GET /v1/models` — the served model; `GET /v1/models/{id}` — its model object, for its
//!   own id (`provider:name`), a 404 `model_not_found` for any other;
//! - `POST /v1/chat/completions` — chat completions, as one JSON body or (with
//!   `"stream": true`) as server-sent events ending with `data: [DONE]`. Messages, tools,
//!   `tool_choice` (`none`, `auto`, `required` or a named function, which must be called),
//!   `response_format` (`json_schema`, `json_object`), `temperature`, `top_p`, `max_tokens`/`max_completion_tokens`, `seed`,
//!   `stop` and `stream_options.include_usage` are honoured; `n` other than 1, `logprobs` and
//!   `top_logprobs` are refused (400), not dropped, and so is a `tool_choice` that cannot be
//!   honoured (`required` without tools, a function that is not among them), and so is a tool
//!   whose name is not `[A-Za-z0-9_-]{1,64}` or repeats another's. The `model`
//!   field is echoed back: the server serves its one model whatever the client names.
//!
//! A stream starts (status 200, its first event) once the model has produced its first piece
//! or finished; a request that fails before that gets the same error response as a
//! non-streamed one, and only a failure after the output started is told in the stream, as an
//! error event before `[DONE]` (`serve/stream.rs`).
//!
//! Every error is an OpenAI-style JSON body `{"error": {"message", "type", "param", "code"}}`
//! with OpenAI's `type` values (`invalid_request_error`, `rate_limit_error`, `server_error`):
//! 400 for a request that cannot be served (malformed JSON, an unknown role, an invalid
//! `response_format` schema), 404 for an unknown path or model, 405 for a wrong method, 413 for
//! a body over [`MAX_BODY_BYTES`], 415 for a body not sent as `application/json`, 403 for a
//! `Host` that is not a loopback name or an IP address on a loopback address (`serve/guard.rs`:
//! web pages cannot use a server on the loopback interface), 408 for a body not received within
//! [`BODY_READ_TIMEOUT`] (a request head not received within [`HEADER_READ_TIMEOUT`] closes
//! the connection: `serve/listen.rs`), 503 `server_overloaded` with `Retry-After` for a
//! request beyond the limit of requests in flight (`serve/limit.rs`); other 5xx only for
//! failures of the model itself (`serve/failure.rs`). An upstream server's error keeps its status (with its `Retry-After`
//! on a 429 or 503), except a 401 or 403, which refused the credentials of this server, not
//! the client's: that is a 502 `upstream_credentials_refused`. An upstream timeout is a 504, a
//! failed connection or an unreadable answer a 502.
//!
//! Answers (text and tool-call arguments, streamed or whole) and error messages are redacted
//! like everything the CLI writes: a secret a model or an upstream server sends is replaced by
//! `[redacted]` before it reaches a client (`serve/redact.rs`).
//!
//! Other tools and frameworks — or llm-do itself through its OpenAI-compatible provider — can
//! then use the embedded local model over HTTP.

mod auth;
mod failure;
mod guard;
mod limit;
mod listen;
mod models;
pub mod parts;
mod redact;
mod stream;

use crate::models::Served;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use llm_do_openai_wire::response::{self as wire, Head};
use llm_do_openai_wire::{error, request};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

pub use limit::Limits;
pub use listen::HEADER_READ_TIMEOUT;

/// How [`run`] serves: the bounds on its work and the API key its clients must send.
///
/// ```
/// use llm_do::secrets::BearerToken;
/// let open: llm_do_cli::serve::Options = llm_do_cli::serve::Limits::default().into();
/// assert!(open.api_key.is_none());
/// let keyed = llm_do_cli::serve::Options { api_key: Some(BearerToken::new("k3y-for-clients")?), ..open };
/// assert_eq!(format!("{:?}", keyed.api_key), "Some(BearerToken([redacted]))");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Bounds on the requests and connections taken on at once.
    pub limits: Limits,
    /// With a key, every request must carry `Authorization: Bearer <key>`, else it is a 401
    /// (`invalid_api_key`) that reaches no model (`serve/auth.rs`); without one, anyone who
    /// can reach the address is served.
    pub api_key: Option<llm_do::secrets::BearerToken>,
}

impl From<Limits> for Options {
    fn from(limits: Limits) -> Self {
        Options { limits, api_key: None }
    }
}

/// The routes of the server, over `served`.
///
/// ```
/// # use std::sync::Arc;
/// # use llm_do::testing::{Reply, ScriptedModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let served = llm_do_cli::models::Served::new(Arc::new(ScriptedModel::queue([Reply::text("hi")])), "test:echo");
/// let app: axum::Router = llm_do_cli::serve::router(Arc::new(served));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/v1/chat/completions", listener.local_addr()?);
/// tokio::spawn(async move { axum::serve(listener, app).await });
/// let body = serde_json::json!({"model": "any", "messages": [{"role": "user", "content": "Hello"}]});
/// let response = llm_do_openai::http::client().post(url).json(&body).send().await?;
/// let answer: serde_json::Value = response.json().await?;
/// assert_eq!(answer["choices"][0]["message"]["content"], "hi");
/// # Ok(())
/// # }
/// ```
pub fn router(served: Arc<Served>) -> Router {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route("/v1/chat/completions", post(chat))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(served)
}

/// Largest request body accepted (2 MiB); a larger one gets a JSON 413.
pub const MAX_BODY_BYTES: usize = 2 << 20;

async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!(
        "no route for {method} {}: this server has GET /v1/models, GET /v1/models/{{id}} and POST \
         /v1/chat/completions",
        uri.path()
    );
    error_response(StatusCode::NOT_FOUND, &message, None, Some("not_found"))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!("{method} is not allowed on {}", uri.path());
    error_response(StatusCode::METHOD_NOT_ALLOWED, &message, None, Some("method_not_allowed"))
}

/// Serves `served` on `listener` within `limits` until the future is dropped or SIGINT,
/// SIGTERM or SIGHUP arrives; after the signal, the requests in flight are answered before it
/// returns.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use llm_do_cli::serve::Limits;
/// # async fn demo(served: llm_do_cli::models::Served) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// llm_do_cli::serve::run(listener, Arc::new(served), Limits::default()).await
/// # }
/// ```
pub async fn run(
    listener: TcpListener,
    served: Arc<Served>,
    options: impl Into<Options>,
) -> std::io::Result<()> {
    serve_until(listener, served, options, crate::signals::shutdown()).await
}

/// Serves `served` on `listener` until `shutdown` completes, then answers the requests in
/// flight and returns: [`run`] without its signals. On a loopback address the router is
/// [`loopback_only`]. A connection that takes longer than [`HEADER_READ_TIMEOUT`] to send a
/// request head is closed, one that takes longer than [`BODY_READ_TIMEOUT`] to send its body
/// answered 408. Beyond [`Limits::max_requests`] requests in flight, one more is answered 503
/// (`server_overloaded`, with `Retry-After`); beyond [`Limits::max_connections`] open
/// connections, no other is accepted until one closes (`serve/limit.rs`). With
/// [`Options::api_key`], a request without that key is answered 401 before anything else.
///
/// ```
/// # use std::sync::Arc;
/// # use llm_do::testing::{Reply, ScriptedModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let served = llm_do_cli::models::Served::new(Arc::new(ScriptedModel::queue([])), "test:echo");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/v1/models", listener.local_addr()?);
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let limits = llm_do_cli::serve::Limits::default();
/// let server = tokio::spawn(llm_do_cli::serve::serve_until(listener, Arc::new(served), limits, async {
///     let _ = stopped.await;
/// }));
/// let models: serde_json::Value = llm_do_openai::http::client().get(url).send().await?.json().await?;
/// assert_eq!(models["data"][0]["id"], "test:echo");
/// let _ = stop.send(());
/// server.await??;
/// # Ok(())
/// # }
/// ```
pub async fn serve_until(
    listener: TcpListener,
    served: Arc<Served>,
    options: impl Into<Options>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Options { limits, api_key } = options.into();
    let mut app = router(served);
    if listener.local_addr()?.ip().is_loopback() {
        app = loopback_only(app);
    }
    let in_flight = limit::InFlight::new(limits.max_requests);
    app = app.layer(axum::middleware::from_fn_with_state(in_flight, limit::in_flight));
    // The outermost layer: a request without the key holds no place among those in flight.
    if let Some(key) = api_key {
        app = app.layer(axum::middleware::from_fn_with_state(key, auth::require));
    }
    listen::serve(listener, app, limits.max_connections, shutdown).await
}

/// `app` answering only requests whose `Host` is a loopback name (`localhost`) or an IP
/// address, the others with a 403 `host_not_allowed`: what [`run`] serves on a loopback
/// address, so that a web page whose domain resolves to `127.0.0.1` (DNS rebinding) cannot
/// use the server.
///
/// ```
/// # use std::sync::Arc;
/// # use llm_do::testing::{Reply, ScriptedModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let served = llm_do_cli::models::Served::new(Arc::new(ScriptedModel::queue([])), "test:echo");
/// let app = llm_do_cli::serve::loopback_only(llm_do_cli::serve::router(Arc::new(served)));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/v1/models", listener.local_addr()?);
/// tokio::spawn(async move { axum::serve(listener, app).await });
/// let response = llm_do_openai::http::client().get(url).header("host", "attacker.example").send().await?;
/// assert_eq!(response.status(), 403);
/// # Ok(())
/// # }
/// ```
pub fn loopback_only(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(guard::loopback_host))
}

/// Binds `addr`, prints the address served on stdout, and serves as `options` say.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use llm_do_cli::serve::Limits;
/// # async fn demo(served: llm_do_cli::models::Served) -> std::io::Result<()> {
/// let addr = "127.0.0.1:8080".parse().unwrap();
/// llm_do_cli::serve::bind_and_run(addr, Arc::new(served), Limits::default()).await
/// # }
/// ```
pub async fn bind_and_run(
    addr: SocketAddr,
    served: Arc<Served>,
    options: impl Into<Options>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    crate::output::outln!("llm-do: serving {} at http://{local}/v1", served.label());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    run(listener, served, options).await
}

async fn chat(State(served): State<Arc<Served>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    if let Some(refusal) = guard::refuse_unless_json(&headers) {
        return refusal;
    }
    let target =
        parts::Target { capabilities: served.model().input_capabilities(), label: served.label() };
    let user = |i: usize, content: Option<&Value>| parts::user_message(i, content, &target);
    let request = match request::parse_with(&body, &user) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &e.message,
                e.param.as_deref(),
                e.code.as_deref(),
            );
        }
    };
    // The server serves its one model whatever the client names; the name is echoed back.
    let mut model_request = request.model_request;
    model_request.model = served.name().to_owned();
    let id = format!("chatcmpl-{}", next_id());
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let model_name = match request.model {
        Some(name) if !name.is_empty() => name,
        _ => served.label().to_owned(),
    };
    if request.stream {
        let chunker = stream::Chunker { id, created, model: model_name };
        return stream::respond(served, model_request, chunker, request.include_usage).await;
    }
    match served.model().request(&model_request).await {
        Ok(response) => {
            let head = Head { id: &id, created, model: &model_name, fingerprint: None };
            json_response(StatusCode::OK, &wire::completion(&head, &redact::response(response)))
        }
        Err(e) => failure::Failure::of(&e).response(),
    }
}

/// Most bytes of an over-size body read (and dropped) before the 413 is sent: a client gets
/// its answer once it has sent its body, instead of a connection closed mid-request.
const MAX_DRAINED_BYTES: usize = 32 << 20;

/// Longest wait for a request's whole body: a client that sends it slower is answered 408
/// (`request_timeout`), and the request dropped.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a request body of at most [`MAX_BODY_BYTES`] (axum's `Bytes` extractor would answer
/// a larger one with a plain-text 413) within [`BODY_READ_TIMEOUT`].
async fn read_body(body: Body) -> Result<Vec<u8>, Response> {
    let Ok(read) = tokio::time::timeout(BODY_READ_TIMEOUT, read_bounded(body)).await else {
        let message =
            format!("the request body was not received within {} s", BODY_READ_TIMEOUT.as_secs());
        let code = Some("request_timeout");
        return Err(error_response(StatusCode::REQUEST_TIMEOUT, &message, None, code));
    };
    read
}

async fn read_bounded(body: Body) -> Result<Vec<u8>, Response> {
    use futures::StreamExt as _;
    let mut stream = body.into_data_stream();
    let (mut kept, mut seen) = (Vec::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(bad_request("the request body could not be read", None));
        };
        seen = seen.saturating_add(chunk.len());
        if seen <= MAX_BODY_BYTES {
            kept.extend_from_slice(&chunk);
        } else if seen > MAX_DRAINED_BYTES {
            break;
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            None,
            Some("request_too_large"),
        ));
    }
    Ok(kept)
}

fn bad_request(message: &str, param: Option<&str>) -> Response {
    error_response(StatusCode::BAD_REQUEST, message, param, None)
}

/// A 4xx answer with an OpenAI-style body.
fn error_response(
    status: StatusCode,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    json_response(status, &error::body(message, "invalid_request_error", param, code))
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
