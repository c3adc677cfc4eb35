//! The guard on a streamed answer's body: at most
//! [`max_answer_bytes`](super::OpenAiConfig::max_answer_bytes) pass, and an event stream that
//! ends without `data: [DONE]` or breaks off on a connection failure is noticed (async-openai
//! would end quietly on the first, making a truncated answer look complete, and reduce the
//! second to "error decoding response body").
//!
//! The guard reports why it ended the body out of band, in a [`StreamCut`] the stream reader
//! checks once the event stream has ended, not as an event in the stream: the bytes it passed
//! before may end in the middle of an event (half a chunk of JSON), and whatever that half
//! event would make of the stream must not hide the reason. The half event is never passed on
//! as an event (an event stream drops an event its end cuts short).

use super::body;
use super::error::Failure;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// Why a guarded body was ended early, once it has been: shared between the guard (in
/// async-openai's reader task) and the reader of the events.
#[derive(Clone, Default)]
pub(crate) struct StreamCut(Arc<Mutex<Option<Cut>>>);

/// A reason to end a streamed body early.
#[derive(Debug, Clone, PartialEq)]
enum Cut {
    /// More than this many bytes came (nothing more was read).
    TooLarge(u64),
    /// The connection failed, or an event stream ended before `data: [DONE]`.
    BrokeOff(String),
}

impl StreamCut {
    fn set(&self, cut: Cut) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(cut);
    }

    fn get(&self) -> Option<Cut> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The failure of a body the guard ended early, if it did.
    pub(crate) fn failure(&self) -> Option<Failure> {
        self.get().map(|cut| match cut {
            Cut::TooLarge(limit) => body::too_large(limit),
            Cut::BrokeOff(why) => Failure::transport(format!("the event stream broke off: {why}")),
        })
    }
}

/// Wraps a streamed answer's body in a [`StreamGuard`] that reports to `cut`.
pub(crate) fn guard_stream(
    response: reqwest::Response,
    limit: u64,
    cut: StreamCut,
) -> reqwest::Response {
    let is_event_stream = super::transport::is_event_stream(response.headers());
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let guard = StreamGuard::new(Box::pin(response.bytes_stream()), is_event_stream, limit, cut);
    let mut wrapped = http::Response::new(reqwest::Body::wrap_stream(guard));
    *wrapped.status_mut() = status;
    *wrapped.version_mut() = version;
    *wrapped.headers_mut() = headers;
    reqwest::Response::from(wrapped)
}

type Inner = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A body stream that ends early, and says why in its [`StreamCut`], when more than `limit`
/// bytes come (nothing more is read), when the connection fails, or when an event stream ends
/// without `data: [DONE]`.
struct StreamGuard {
    /// The body; dropped (which closes the connection) once the guard has ended.
    inner: Option<Inner>,
    /// Watches for `data: [DONE]` (event streams only).
    scanner: Option<DoneScanner>,
    /// Bytes that may still pass.
    remaining: u64,
    limit: u64,
    cut: StreamCut,
}

impl StreamGuard {
    fn new(inner: Inner, is_event_stream: bool, limit: u64, cut: StreamCut) -> Self {
        let scanner = is_event_stream.then(DoneScanner::default);
        Self { inner: Some(inner), scanner, remaining: limit, limit, cut }
    }

    /// Ends the body, recording why (if it ended early).
    fn end(&mut self, cut: Option<Cut>) -> Poll<Option<Result<Bytes, std::convert::Infallible>>> {
        self.inner = None;
        if let Some(cut) = cut {
            self.cut.set(cut);
        }
        Poll::Ready(None)
    }
}

impl Stream for StreamGuard {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                let Some(left) = this.remaining.checked_sub(bytes.len() as u64) else {
                    let limit = this.limit;
                    return this.end(Some(Cut::TooLarge(limit)));
                };
                this.remaining = left;
                if let Some(scanner) = &mut this.scanner {
                    scanner.observe(&bytes);
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(e))) => {
                let why = format!("the connection failed: {}", llm_do_core::error::chain(&e));
                this.end(Some(Cut::BrokeOff(why)))
            }
            Poll::Ready(None) => {
                let complete = this.scanner.as_ref().is_none_or(|s| s.done);
                let why = "the stream ended before `data: [DONE]`";
                this.end((!complete).then(|| Cut::BrokeOff(why.to_owned())))
            }
        }
    }
}

/// Looks for a `data: [DONE]` line in a byte stream that arrives in arbitrary pieces.
#[derive(Debug)]
struct DoneScanner {
    /// The last bytes seen (a line start is assumed before the first piece).
    tail: Vec<u8>,
    done: bool,
}

impl Default for DoneScanner {
    fn default() -> Self {
        Self { tail: b"\n".to_vec(), done: false }
    }
}

impl DoneScanner {
    const KEEP: usize = 16;

    fn observe(&mut self, bytes: &[u8]) {
        if self.done {
            return;
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(bytes);
        self.done = [&b"\ndata: [DONE]"[..], b"\ndata:[DONE]", b"\rdata: [DONE]", b"\rdata:[DONE]"]
            .iter()
            .any(|needle| window.windows(needle.len()).any(|w| w == *needle));
        let keep_from = window.len().saturating_sub(Self::KEEP);
        self.tail = window.split_off(keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use llm_do_core::ModelErrorKind;

    fn scan(pieces: &[&str]) -> bool {
        let mut s = DoneScanner::default();
        for p in pieces {
            s.observe(p.as_bytes());
        }
        s.done
    }

    #[test]
    fn finds_done_across_piece_boundaries_only_at_line_starts() {
        assert!(scan(&["data: [DONE]\n\n"]));
        assert!(scan(&["data: {\"a\":1}\n\ndata: [DO", "NE]\n\n"]));
        assert!(scan(&["data: {}\r\n\r\n", "d", "ata:", "[DONE]"]));
        assert!(!scan(&["data: {\"content\":\"say data: [DONE]\"}\n\n"]));
        assert!(!scan(&["data: {}\n\n"]));
    }

    /// What passes the guard, and why it ended early (if it did).
    async fn guarded(
        pieces: Vec<reqwest::Result<Bytes>>,
        limit: u64,
    ) -> (Vec<String>, Option<Cut>) {
        let cut = StreamCut::default();
        let guard =
            StreamGuard::new(Box::pin(futures::stream::iter(pieces)), true, limit, cut.clone());
        let passed = guard
            .map(|item| match item {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(never) => match never {},
            })
            .collect()
            .await;
        (passed, cut.get())
    }

    #[tokio::test]
    async fn a_stream_without_done_ends_broken_off() {
        let (passed, cut) = guarded(vec![Ok(Bytes::from_static(b"data: {}\n\n"))], u64::MAX).await;
        assert_eq!(passed, ["data: {}\n\n"]);
        assert_eq!(cut, Some(Cut::BrokeOff("the stream ended before `data: [DONE]`".into())));
    }

    #[tokio::test]
    async fn a_stream_over_the_limit_ends_too_large_with_nothing_of_the_piece_past_it() {
        let piece = || Ok(Bytes::from_static(b"data: {\"x\":1}\n\n"));
        let (passed, cut) = guarded(vec![piece(), piece(), piece()], 29).await; // 15 bytes each
        assert_eq!(passed, ["data: {\"x\":1}\n\n"]);
        assert_eq!(cut, Some(Cut::TooLarge(29)));
        let failure = StreamCut(Arc::new(Mutex::new(cut))).failure().unwrap();
        assert_eq!(failure.kind, ModelErrorKind::Decode);
        assert!(!failure.retryable);
        // Exactly at the limit passes whole (and then lacks its `[DONE]`).
        let (passed, cut) = guarded(vec![piece(), piece()], 30).await;
        assert_eq!(passed.len(), 2);
        assert!(matches!(cut, Some(Cut::BrokeOff(_))));
    }

    #[tokio::test]
    async fn a_complete_stream_ends_quietly() {
        let pieces = vec![
            Ok(Bytes::from_static(b"data: {}\n\n")),
            Ok(Bytes::from_static(b"data: [DONE]\n\n")),
        ];
        let (passed, cut) = guarded(pieces, u64::MAX).await;
        assert_eq!((passed.len(), cut), (2, None));
    }
}
