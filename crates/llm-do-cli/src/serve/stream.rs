//! A streamed chat completion (`"stream": true`): server-sent `chat.completion.chunk` events
//! ending with `data: [DONE]`.
//!
//! No response is sent until the model has produced its first piece or finished (a piece
//! counts once the redactor lets it out: the start of a word that may be a secret is held
//! back until the word is whole): a request that fails before any output is answered like a
//! non-streamed one, with the failure's status and JSON body ([`Failure`]), not a `200` whose
//! only event is an error. A failure after the output started can only be told in the
//! stream: an error event, then `[DONE]`.
//!
//! The role goes with the first piece, as OpenAI sends it: `{"role": "assistant", "content":
//! "Hel"}`, or `content: null` next to the first tool call, so that a client adding the deltas
//! up gets `content: null` for an answer of tool calls only. Every piece passes the redactor
//! ([`redact::Deltas`]). A model that does not stream (it reports no pieces) has its whole
//! answer sent as pieces when it is done.

use super::failure::Failure;
use super::redact;
use crate::models::Served;
use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use futures::channel::mpsc;
use futures::{Stream, StreamExt as _};
use llm_do::{ModelRequest, StreamDelta};
use llm_do_openai_wire::response::{self as wire, Head};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Builds the chunks of one streamed completion.
pub(super) struct Chunker {
    /// `chatcmpl-…`.
    pub(super) id: String,
    /// Unix seconds.
    pub(super) created: u64,
    /// The model named in the chunks.
    pub(super) model: String,
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

/// What the model's task hands the response.
enum Out {
    /// An event of the stream.
    Event(Bytes),
    /// The request failed before any output: the answer is this failure, not a stream.
    Failed(Failure),
}

/// Answers `request` with a stream, once the model has produced its first piece or finished.
pub(super) async fn respond(
    served: Arc<Served>,
    request: ModelRequest,
    chunker: Chunker,
    include_usage: bool,
) -> Response {
    let (tx, rx) = mpsc::unbounded::<Out>();
    let task = tokio::spawn(produce(served, request, chunker, include_usage, tx));
    // Dropped (the client went away, or the answer is not a stream): the request is cancelled.
    let mut events = Guarded { first: None, rx, task };
    match events.rx.next().await {
        Some(Out::Event(first)) => {
            events.first = Some(first);
            let mut response = Response::new(Body::from_stream(events));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Some(Out::Failed(failure)) => failure.response(),
        None => super::json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &llm_do_openai_wire::error::body(
                "the model stopped without an answer or an error",
                "server_error",
                None,
                Some("server_error"),
            ),
        ),
    }
}

/// Runs the model request, sending its events to `tx`.
async fn produce(
    served: Arc<Served>,
    request: ModelRequest,
    chunker: Chunker,
    include_usage: bool,
    tx: mpsc::UnboundedSender<Out>,
) {
    // A `Restart` (an upstream provider lost its stream and sends the request again) cannot
    // be taken back over SSE: it is not forwarded, and the client may see the restarted text
    // twice.
    let redacted = std::sync::Mutex::new(redact::Deltas::default());
    let (started, streamed) = (AtomicBool::new(false), AtomicBool::new(false));
    let emit = |chunk: Bytes| {
        let _ = tx.unbounded_send(Out::Event(chunk));
    };
    let send = |delta: &StreamDelta| {
        if let Some(mut delta) = wire::delta(delta) {
            if !started.swap(true, Ordering::Relaxed) {
                delta = wire::with_role(delta);
            }
            emit(chunker.chunk(delta, None));
        }
    };
    let sink = |delta: StreamDelta| {
        streamed.store(true, Ordering::Relaxed);
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
            if !streamed.load(Ordering::Relaxed) {
                redact::response(response.clone()).deltas().iter().for_each(send);
            }
            if let Some(refusal) = &response.refusal {
                let mut delta = json!({ "refusal": redact::message(refusal) });
                if !started.swap(true, Ordering::Relaxed) {
                    delta = wire::with_role(delta);
                }
                emit(chunker.chunk(delta, None));
            }
            if !started.load(Ordering::Relaxed) {
                emit(chunker.chunk(wire::role_delta(response.text.is_some()), None));
            }
            emit(chunker.chunk(json!({}), Some(wire::finish_reason(&response))));
            if include_usage {
                emit(event(&wire::usage_chunk(&chunker.head(), &response.usage)));
            }
        }
        Err(e) if !started.load(Ordering::Relaxed) => {
            let _ = tx.unbounded_send(Out::Failed(Failure::of(&e)));
            return;
        }
        Err(e) => emit(event(Failure::of(&e).body())),
    }
    emit(Bytes::from_static(wire::DONE.as_bytes()));
}

/// The event stream of one response; dropping it (the client went away) cancels the model
/// request.
struct Guarded {
    /// The event that started the response, sent first.
    first: Option<Bytes>,
    rx: mpsc::UnboundedReceiver<Out>,
    task: tokio::task::JoinHandle<()>,
}

impl Stream for Guarded {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        Pin::new(&mut self.rx).poll_next(cx).map(|out| {
            out.map(|out| match out {
                Out::Event(bytes) => Ok(bytes),
                // Not sent once the stream started; told as an event all the same.
                Out::Failed(failure) => Ok(event(failure.body())),
            })
        })
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.task.abort();
    }
}
