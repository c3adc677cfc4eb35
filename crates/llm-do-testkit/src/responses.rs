//! HTTP response bodies: JSON, SSE streams, and bodies that break off.

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use futures::stream;
use serde_json::Value;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub(crate) use llm_do_openai_wire::response::{DONE, event};

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

fn with_body(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `value` as a JSON body.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    with_body(status, JSON, Body::from(value.to_string()))
}

/// Status 200, declared JSON, with this (possibly broken) body text.
pub(crate) fn raw_json(body: impl Into<Bytes>) -> Response {
    with_body(StatusCode::OK, JSON, Body::from(body.into()))
}

/// An SSE stream of these events, one body chunk each.
pub(crate) fn sse(events: Vec<String>) -> Response {
    let chunks = stream::iter(events.into_iter().map(|e| Ok::<_, io::Error>(Bytes::from(e))));
    let mut response = with_body(StatusCode::OK, EVENT_STREAM, Body::from_stream(chunks));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Counts the streams whose client went away before their last event: a stream body dropped
/// before it was read to its end.
#[derive(Debug)]
pub(crate) struct Unfinished {
    counter: Arc<AtomicU64>,
    finished: bool,
}

impl Unfinished {
    pub(crate) fn new(counter: Arc<AtomicU64>) -> Self {
        Self { counter, finished: false }
    }

    /// The stream was read to its end: not counted.
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.finished {
            self.counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// An SSE stream of these events with `pause` before each event after the first; `guard`
/// counts it when the body is dropped before its end.
pub(crate) fn sse_paced(events: Vec<String>, pause: Duration, guard: Unfinished) -> Response {
    let state = (events.into_iter().enumerate(), guard);
    let chunks = stream::unfold(state, move |(mut events, mut guard)| async move {
        let Some((i, event)) = events.next() else {
            guard.finish();
            return None;
        };
        if i > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Some((Ok::<_, io::Error>(Bytes::from(event)), (events, guard)))
    });
    let mut response = with_body(StatusCode::OK, EVENT_STREAM, Body::from_stream(chunks));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Status 200 whose body stops after `sent` and then fails, which makes the server abort the
/// connection. A JSON body declares its full length (`full_len`) in `Content-Length`; a stream
/// (`full_len == None`) is chunked.
pub(crate) fn broken_off(sent: Bytes, full_len: Option<usize>) -> Response {
    // Yielding once after the partial body lets the server flush it before the error.
    let body = stream::iter([Ok(sent)]).chain(stream::once(async {
        tokio::task::yield_now().await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "llm-do-testkit: connection closed mid-body",
        ))
    }));
    let content_type = if full_len.is_some() { JSON } else { EVENT_STREAM };
    let mut response = with_body(StatusCode::OK, content_type, Body::from_stream(body));
    if let Some(len) = full_len {
        response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    response
}

/// The first `ceil(n/2)` of `n` items, at least one when there are any.
pub(crate) fn first_half<T>(mut items: Vec<T>) -> Vec<T> {
    items.truncate(items.len().div_ceil(2));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves() {
        assert_eq!(first_half(Vec::<u8>::new()), Vec::<u8>::new());
        assert_eq!(first_half(vec![1]), [1]);
        assert_eq!(first_half(vec![1, 2, 3]), [1, 2]);
        assert_eq!(first_half(vec![1, 2, 3, 4]), [1, 2]);
    }
}
