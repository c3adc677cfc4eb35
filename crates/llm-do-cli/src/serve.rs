//! `llm-do serve`: an OpenAI-compatible HTTP server over one configured model.
//!
//! Routes, on `127.0.0.1` by default:
//!
//! - `GET /v1/models` — the served model;
//! - `POST /v1/chat/completions` — chat completions, as one JSON body or (with
//!   `"stream": true`) as server-sent events ending with `data: [DONE]`. Messages, tools,
//!   `tool_choice` (`none`, `auto`, `required` or a named function, which must be called),
//!   `response_format` (`json_schema`, `json_object`), `temperature`, `top_p`, `max_tokens`/`max_completion_tokens`, `seed`,
//!   `stop` and `stream_options.include_usage` are honoured; `n` other than 1, `logprobs` and
//!   `top_logprobs` are refused (400), not dropped. The `model` field is echoed back: the server
//!   serves its one model whatever the client names.
//!
//! Every error is an OpenAI-style JSON body `{"error": {"message", "type", "param", "code"}}`:
//! 400 for a request that cannot be served (malformed JSON, an unknown role, an invalid
//! `response_format` schema), 404 for an unknown path, 405 for a wrong method, 413 for a body
//! over [`MAX_BODY_BYTES`]; 5xx only for failures of the model itself (an upstream server's:
//! its own status, 504 for a timeout, 502 for a failed connection or an unreadable answer).
//!
//! Answers (text and tool-call arguments, streamed or whole) and error messages are redacted
//! like everything the CLI writes: a secret a model or an upstream server sends is replaced by
//! `[redacted]` before it reaches a client (`serve/redact.rs`).
//!
//! Other tools and frameworks — or llm-do itself through its OpenAI-compatible provider — can
//! then use the embedded local model over HTTP.

pub mod parts;
mod redact;

use crate::models::Served;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use futures::Stream;
use futures::channel::mpsc;
use llm_do::{ModelError, ModelErrorKind, StreamDelta};
use llm_do_openai_wire::response::{self as wire, Head};
use llm_do_openai_wire::{error, request};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

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
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(served)
}

/// Largest request body accepted (2 MiB); a larger one gets a JSON 413.
pub const MAX_BODY_BYTES: usize = 2 << 20;

async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!(
        "no route for {method} {}: this server has GET /v1/models and POST /v1/chat/completions",
        uri.path()
    );
    error_response(StatusCode::NOT_FOUND, &message, None, Some("not_found"))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!("{method} is not allowed on {}", uri.path());
    error_response(StatusCode::METHOD_NOT_ALLOWED, &message, None, Some("method_not_allowed"))
}

/// Serves `served` on `listener` until the future is dropped or SIGINT, SIGTERM or SIGHUP
/// arrives; after the signal, the requests in flight are answered before it returns.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(served: llm_do_cli::models::Served) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// llm_do_cli::serve::run(listener, Arc::new(served)).await
/// # }
/// ```
pub async fn run(listener: TcpListener, served: Arc<Served>) -> std::io::Result<()> {
    axum::serve(listener, router(served)).with_graceful_shutdown(crate::signals::shutdown()).await
}

/// Binds `addr`, prints the address served on stdout, and serves.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(served: llm_do_cli::models::Served) -> std::io::Result<()> {
/// llm_do_cli::serve::bind_and_run("127.0.0.1:8080".parse().unwrap(), Arc::new(served)).await
/// # }
/// ```
pub async fn bind_and_run(addr: SocketAddr, served: Arc<Served>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    crate::output::outln!("llm-do: serving {} at http://{local}/v1", served.label());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    run(listener, served).await
}

async fn models(State(served): State<Arc<Served>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "object": "list",
            "data": [{"id": served.label(), "object": "model", "created": 0, "owned_by": "llm-do"}],
        }),
    )
}

async fn chat(State(served): State<Arc<Served>>, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
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
        return stream(
            served,
            model_request,
            Chunker { id, created, model: model_name },
            request.include_usage,
        );
    }
    match served.model().request(&model_request).await {
        Ok(response) => {
            let head = Head { id: &id, created, model: &model_name, fingerprint: None };
            json_response(StatusCode::OK, &wire::completion(&head, &redact::response(response)))
        }
        Err(e) => model_error(&e),
    }
}

/// Most bytes of an over-size body read (and dropped) before the 413 is sent: a client gets
/// its answer once it has sent its body, instead of a connection closed mid-request.
const MAX_DRAINED_BYTES: usize = 32 << 20;

/// Reads a request body of at most [`MAX_BODY_BYTES`] (axum's `Bytes` extractor would answer
/// a larger one with a plain-text 413).
async fn read_body(body: Body) -> Result<Vec<u8>, Response> {
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

/// Builds the chunks of one streamed completion.
struct Chunker {
    id: String,
    created: u64,
    model: String,
}

impl Chunker {
    fn head(&self) -> Head<'_> {
        Head { id: &self.id, created: self.created, model: &self.model, fingerprint: None }
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Bytes {
        event(&wire::chunk(&self.head(), delta, finish_reason))
    }
}

/// One server-sent event.
fn event(value: &Value) -> Bytes {
    Bytes::from(wire::event(value))
}

fn stream(
    served: Arc<Served>,
    request: llm_do::ModelRequest,
    chunker: Chunker,
    include_usage: bool,
) -> Response {
    let (tx, rx) = mpsc::unbounded::<Bytes>();
    let task = tokio::spawn(async move {
        let _ = tx.unbounded_send(chunker.chunk(wire::role_delta(true), None));
        // A `Restart` (an upstream provider lost its stream and sends the request again)
        // cannot be taken back over SSE: it is not forwarded, and the client may see the
        // restarted text twice.
        let redacted = std::sync::Mutex::new(redact::Deltas::default());
        let send = |delta: &StreamDelta| {
            if let Some(delta) = wire::delta(delta) {
                let _ = tx.unbounded_send(chunker.chunk(delta, None));
            }
        };
        let sink = |delta: StreamDelta| {
            let passed = redacted.lock().unwrap_or_else(|p| p.into_inner()).push(delta);
            if let Some(delta) = passed {
                send(&delta);
            }
        };
        let result = served.model().request_streaming(&request, &sink).await;
        let held = redacted.lock().unwrap_or_else(|p| p.into_inner()).finish();
        match result {
            Ok(response) => {
                held.iter().for_each(send);
                let _ = tx
                    .unbounded_send(chunker.chunk(json!({}), Some(wire::finish_reason(&response))));
                if include_usage {
                    let chunk = wire::usage_chunk(&chunker.head(), &response.usage);
                    let _ = tx.unbounded_send(event(&chunk));
                }
            }
            Err(e) => {
                let (_, kind) = status_of(&e);
                let message = redact::message(&e.to_string());
                let _ = tx.unbounded_send(event(&error::body(&message, kind, None, None)));
            }
        }
        let _ = tx.unbounded_send(Bytes::from_static(wire::DONE.as_bytes()));
    });
    let body = Body::from_stream(Guarded { rx, task });
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The event stream of one response; dropping it (the client went away) cancels the model
/// request.
struct Guarded {
    rx: mpsc::UnboundedReceiver<Bytes>,
    task: tokio::task::JoinHandle<()>,
}

impl Stream for Guarded {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx).map(|o| o.map(Ok))
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn status_of(e: &ModelError) -> (StatusCode, &'static str) {
    match e.kind() {
        ModelErrorKind::InvalidRequest => (StatusCode::BAD_REQUEST, "invalid_request_error"),
        ModelErrorKind::Status(code) => {
            (StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY), "upstream_error")
        }
        ModelErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        // Only an upstream server's failures have these kinds (the embedded model has none).
        ModelErrorKind::Transport | ModelErrorKind::Decode => {
            (StatusCode::BAD_GATEWAY, "upstream_error")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

fn model_error(e: &ModelError) -> Response {
    let (status, kind) = status_of(e);
    json_response(status, &error::body(&redact::message(&e.to_string()), kind, None, None))
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
