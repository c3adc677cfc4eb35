//! The guard on a streamed answer's body: at most
//! [`max_answer_bytes`](super::OpenAiConfig::max_answer_bytes) pass, and an event stream that
//! ends without `data: [DONE]` or breaks off on a connection failure is noticed (async-openai
//! would end quietly on the first, making a truncated answer look complete, and reduce the
//! second to "error decoding response body"). An event stream with bytes that are not UTF-8
//! is ended at the first of them: its event reader would hold everything after it unread and
//! report a stream error (a transport failure, retried) only at the end; the server's answer
//! is broken, as a non-streamed answer that is not UTF-8 is (a decode error, not retried).
//!
//! The guard also passes an event stream on in pieces that end at a line end ([`Lines`]):
//! the event reader (eventsource-stream) reads its whole buffer again for every piece that
//! comes, and copies what follows each line it takes out of it, so a long line arriving in
//! many pieces, or a piece of many lines, cost time quadratic in their length (an 8 MiB event
//! took minutes).
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
use lines::Lines;
use llm_do_core::ModelErrorKind;
use std::collections::VecDeque;
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
    /// An event stream had a byte that is not UTF-8 text after this many bytes.
    NotUtf8(u64),
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
            Cut::NotUtf8(offset) => Failure::new(
                ModelErrorKind::Decode,
                format!(
                    "the streamed answer is not UTF-8 text (an invalid byte sequence after \
                     {offset} bytes); the rest was not read"
                ),
            ),
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
    /// Watches for `data: [DONE]` and for bytes that are not UTF-8, and cuts the stream at
    /// line ends (event streams only).
    scanner: Option<(DoneScanner, Utf8Check, Lines)>,
    /// Pieces ready to be passed on.
    ready: VecDeque<Bytes>,
    /// Bytes that may still pass.
    remaining: u64,
    limit: u64,
    cut: StreamCut,
}

impl StreamGuard {
    fn new(inner: Inner, is_event_stream: bool, limit: u64, cut: StreamCut) -> Self {
        let scanner = is_event_stream.then(Default::default);
        let ready = VecDeque::new();
        Self { inner: Some(inner), scanner, ready, remaining: limit, limit, cut }
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
        loop {
            if let Some(piece) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(piece)));
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    let Some(left) = this.remaining.checked_sub(bytes.len() as u64) else {
                        let limit = this.limit;
                        return this.end(Some(Cut::TooLarge(limit)));
                    };
                    let Some((done, utf8, lines)) = &mut this.scanner else {
                        this.remaining = left;
                        return Poll::Ready(Some(Ok(bytes)));
                    };
                    if let Err(offset) = utf8.observe(&bytes) {
                        return this.end(Some(Cut::NotUtf8(offset)));
                    }
                    done.observe(&bytes);
                    lines.split(&bytes, &mut this.ready);
                    this.remaining = left;
                }
                Poll::Ready(Some(Err(e))) => {
                    let why = format!("the connection failed: {}", llm_do_core::error::chain(&e));
                    return this.end(Some(Cut::BrokeOff(why)));
                }
                Poll::Ready(None) => {
                    let cut = match &mut this.scanner {
                        Some((done, _, _)) if !done.done => {
                            Some(Cut::BrokeOff("the stream ended before `data: [DONE]`".to_owned()))
                        }
                        Some((_, utf8, lines)) => {
                            this.ready.extend(lines.rest());
                            utf8.finish().err().map(Cut::NotUtf8)
                        }
                        None => None,
                    };
                    // What is ready is passed on before the end.
                    let _ = this.end(cut);
                }
            }
        }
    }
}

/// Checks that a byte stream arriving in arbitrary pieces is UTF-8 text (a character may be
/// split between pieces).
#[derive(Debug, Default)]
struct Utf8Check {
    /// The start of a character the last piece ended in the middle of (at most 3 bytes).
    pending: Vec<u8>,
    /// Bytes seen before the current piece.
    seen: u64,
}

impl Utf8Check {
    /// Checks the next piece; `Err` with the offset of the first invalid sequence.
    fn observe(&mut self, bytes: &[u8]) -> Result<(), u64> {
        let start = self.seen;
        self.seen = self.seen.saturating_add(bytes.len() as u64);
        let mut rest = bytes;
        if !self.pending.is_empty() {
            let had = self.pending.len();
            let take = rest.len().min(4 - had);
            self.pending.extend_from_slice(&rest[..take]);
            let completed = match std::str::from_utf8(&self.pending) {
                Ok(_) => self.pending.len(),
                Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
                // Still the start of a character: all of `rest` is in `pending`.
                Err(e) if e.error_len().is_none() => return Ok(()),
                Err(_) => return Err(start.saturating_sub(had as u64)),
            };
            rest = &rest[completed - had..];
            self.pending.clear();
        }
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                self.pending = rest[e.valid_up_to()..].to_vec();
                Ok(())
            }
            Err(e) => {
                let consumed = (bytes.len() - rest.len() + e.valid_up_to()) as u64;
                Err(start.saturating_add(consumed))
            }
        }
    }

    /// At the end of the stream: `Err` (with its offset) when it ended inside a character.
    fn finish(&self) -> Result<(), u64> {
        match self.pending.len() {
            0 => Ok(()),
            n => Err(self.seen.saturating_sub(n as u64)),
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

mod lines;

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

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

    fn check(pieces: &[&[u8]]) -> Result<(), u64> {
        let mut c = Utf8Check::default();
        pieces.iter().try_for_each(|p| c.observe(p))?;
        c.finish()
    }

    #[test]
    fn utf8_is_checked_across_piece_boundaries() {
        let snow = "☃".as_bytes(); // three bytes
        assert_eq!(check(&[b"a", &snow[..1], &snow[1..2], &snow[2..], b"b"]), Ok(()));
        assert_eq!(check(&[&snow[..2], &[snow[2], b'x']]), Ok(()));
        assert_eq!(check(&[b"ab\xffc"]), Err(2));
        assert_eq!(check(&[b"abc", &snow[..2], b"x"]), Err(3));
        assert_eq!(check(&[b"abc", &snow[..1], &[snow[1], snow[2], 0xff]]), Err(6));
        assert_eq!(check(&[b"ab", &snow[..2]]), Err(2));
    }

    #[tokio::test]
    async fn a_stream_with_a_byte_that_is_not_utf8_ends_there_undecodable() {
        let pieces = vec![
            Ok(Bytes::from_static(b"data: {}\n\n")),
            Ok(Bytes::from_static(b"data: {\"a\":\"\xff\"}\n\n")),
            Ok(Bytes::from_static(b"data: [DONE]\n\n")),
        ];
        let (passed, cut) = guarded(pieces, u64::MAX).await;
        assert_eq!(passed, ["data: {}\n\n"]);
        assert_eq!(cut, Some(Cut::NotUtf8(22)));
        let failure = StreamCut(Arc::new(Mutex::new(cut))).failure().unwrap();
        assert_eq!(failure.kind, ModelErrorKind::Decode);
        assert!(!failure.retryable);
        // A complete stream that ends inside a character.
        let pieces =
            vec![Ok(Bytes::from_static(b"data: [DONE]\n\n")), Ok(Bytes::from_static(b"\xe2"))];
        assert_eq!(guarded(pieces, u64::MAX).await.1, Some(Cut::NotUtf8(14)));
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
