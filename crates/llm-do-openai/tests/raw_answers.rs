//! Answers the test server does not give, from a socket that writes exact bytes: a body that
//! stalls after the response headers (the attempt timeout must still fire once the first-byte
//! deadline has been passed on), a body or event stream that is not UTF-8 (a typed decode
//! error, not a panic or a retry), answers larger than the size limit (cut off at the limit, not read
//! to their end: each of those servers then stalls, so reading on would end in the timeout;
//! also when the limit falls inside an event), and a stream closed or reset inside an event
//! (a transport error, not an undecodable half event).

#[allow(dead_code)]
mod common;

use common::{KEY, bounded, model_error, request_complete};
use llm_do::ModelErrorKind;
use llm_do::prelude::*;
use llm_do_openai::{OpenAiConfig, OpenAiProvider, RetryPolicy};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answer a question.
#[worker(prompt = "Answer: {question}", model = "openai:gpt-4o-mini")]
async fn answer(ctx: &Ctx, question: String) -> Result<String>;

/// A server that answers every request on every connection with `bytes`, then keeps the
/// connection open without writing more.
async fn serve_bytes(bytes: impl Into<Vec<u8>>) -> String {
    serve(bytes, Then::Hold).await.0
}

/// What the server does with a connection once it has written its bytes.
#[derive(Clone, Copy)]
enum Then {
    /// Keeps it open until the client goes away.
    Hold,
    /// Closes it (a clean end of a body that has no length).
    Close,
    /// Resets it (`SO_LINGER` 0, then closed: the client gets a TCP reset).
    Reset,
}

/// A server that answers every request on every connection with `bytes`, then does `then`;
/// also returns the number of requests it has answered.
async fn serve(bytes: impl Into<Vec<u8>>, then: Then) -> (String, Arc<AtomicUsize>) {
    let bytes: Arc<[u8]> = bytes.into().into();
    let requests = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (bytes, counter) = (bytes.clone(), counter.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut received = Vec::new();
                while !request_complete(&received) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => received.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
                match then {
                    Then::Hold => while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {},
                    Then::Close => {}
                    Then::Reset => {
                        let _ = socket.flush().await;
                        let _ = socket.set_zero_linger();
                    }
                }
            });
        }
    });
    (base_url, requests)
}

async fn ask(base_url: String, tweak: impl FnOnce(OpenAiConfig) -> OpenAiConfig) -> Error {
    let config = OpenAiConfig::new().base_url(base_url).api_key(KEY).retry(RetryPolicy::none());
    let rt = Runtime::builder().provider("openai", OpenAiProvider::new(tweak(config))).build();
    let result = bounded(answer(&rt.ctx(), "six times seven?".into())).await;
    let error = result.expect_err("the answer cannot be complete");
    assert!(!format!("{error} {error:?}").contains(KEY));
    error
}

#[tokio::test]
async fn a_body_that_stalls_after_the_headers_ends_in_the_attempt_timeout() {
    let url = serve_bytes(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"choi",
    )
    .await;
    let error = ask(url, |c| {
        c.first_byte_timeout(Duration::from_secs(20)).timeout(Duration::from_millis(400))
    })
    .await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Timeout, "{e}");
    assert!(e.message().contains("attempt timeout of 400ms"), "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn headers_that_never_come_end_in_the_first_byte_timeout_when_it_is_the_shorter() {
    let url = serve_bytes(b"").await;
    let error = ask(url, |c| {
        c.first_byte_timeout(Duration::from_millis(300)).timeout(Duration::from_secs(20))
    })
    .await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Timeout, "{e}");
    assert!(e.message().contains("first-byte timeout of 300ms"), "{e}");
}

#[tokio::test]
async fn an_answer_that_is_not_utf8_is_a_decode_error_quoting_the_body() {
    let url = serve_bytes(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"choices\":[\xff]}",
    )
    .await;
    let error = ask(url, |c| c).await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Decode, "{e}");
    assert!(e.message().contains("not UTF-8"), "{e}");
    assert!(e.message().contains("{\"choices\":["), "{e}");
    assert!(!e.is_retryable());
}

/// Five seconds to the end of an attempt; a client that reads on past the limit gets the
/// timeout instead of the error these tests expect.
fn limited(c: OpenAiConfig) -> OpenAiConfig {
    c.max_answer_bytes(100).timeout(Duration::from_secs(5))
}

fn assert_too_large(error: &Error) {
    let e = model_error(error);
    assert_eq!(e.kind(), ModelErrorKind::Decode, "{e}");
    assert!(e.message().contains("larger than the limit of 100 bytes"), "{e}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_limit_is_refused_before_its_body() {
    let url = serve_bytes(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n{\"choi",
    )
    .await;
    assert_too_large(&ask(url, limited).await);
}

#[tokio::test]
async fn a_chunked_answer_is_cut_off_once_it_passes_the_limit() {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..3 {
        bytes.extend_from_slice(b"3c\r\n");
        bytes.extend_from_slice(&[b' '; 60]);
        bytes.extend_from_slice(b"\r\n");
    }
    assert_too_large(&ask(serve_bytes(bytes).await, limited).await);
}

#[tokio::test]
async fn a_streamed_answer_is_cut_off_once_it_passes_the_limit() {
    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n".to_vec();
    let event = br#"data: {"choices":[{"index":0,"delta":{"content":"forty"}}]}"#;
    for _ in 0..3 {
        bytes.extend_from_slice(event);
        bytes.extend_from_slice(b"\n\n");
    }
    let error = ask(serve_bytes(bytes).await, |c| limited(c).streaming(true)).await;
    assert_too_large(&error);
}

/// The head of an event stream and the start of an event whose text never ends.
fn endless_event(text_bytes: usize) -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n".to_vec();
    bytes.extend_from_slice(EVENT_START);
    bytes.extend(std::iter::repeat_n(b'A', text_bytes));
    bytes
}

const EVENT_START: &[u8] = br#"data: {"choices":[{"index":0,"delta":{"content":""#;

/// The same in HTTP chunks: the start of the event (under the limit of [`limited`], so it
/// passes whole), then a chunk of text that takes the answer past the limit.
fn endless_event_chunked() -> Vec<u8> {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in [EVENT_START.to_vec(), vec![b'A'; 1000]] {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(&chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

#[tokio::test]
async fn a_streamed_answer_that_passes_the_limit_inside_an_event_is_too_large_and_not_retried() {
    let (url, requests) = serve(endless_event_chunked(), Then::Hold).await;
    let error = ask(url, |c| limited(c).streaming(true).retry(common::fast_retry())).await;
    assert_too_large(&error);
    assert_eq!(requests.load(Ordering::SeqCst), 1, "the answer was asked for again");
}

#[tokio::test]
async fn a_stream_closed_or_reset_inside_an_event_is_a_transport_error() {
    for then in [Then::Close, Then::Reset] {
        let (url, _) = serve(endless_event(10), then).await;
        let error = ask(url, |c| c.streaming(true)).await;
        let e = model_error(&error);
        assert_eq!(e.kind(), ModelErrorKind::Transport, "{e}");
        assert!(e.is_retryable());
    }
}

#[tokio::test]
async fn an_error_status_with_an_endless_body_is_reported_from_its_first_64_kib() {
    let mut bytes =
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 1000000000\r\n\r\nbroken: ".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 70 * 1024));
    let error = ask(serve_bytes(bytes).await, limited).await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Status(500), "{e}");
    // Cut between words: the run of `x` the excerpt's limit falls in is left out whole.
    assert!(e.message().ends_with("body: broken: …"), "{e}");
}

#[tokio::test]
async fn timeouts_of_duration_max_mean_no_limit_not_a_panic() {
    let body = r#"{"choices":[{"message":{"content":"42"},"finish_reason":"stop"}]}"#;
    let url = serve_bytes(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let first_bytes = [Duration::MAX, Duration::from_secs(20)];
    for (first_byte, streaming) in first_bytes.into_iter().flat_map(|f| [(f, false), (f, true)]) {
        let config = OpenAiConfig::new()
            .base_url(url.clone())
            .api_key(KEY)
            .retry(RetryPolicy::none())
            .timeout(Duration::MAX)
            .first_byte_timeout(first_byte)
            .streaming(streaming);
        let rt = Runtime::builder().provider("openai", OpenAiProvider::new(config)).build();
        let answered = bounded(answer(&rt.ctx(), "six times seven?".into())).await;
        assert_eq!(answered.unwrap(), "42", "first byte {first_byte:?}, streaming {streaming}");
    }
}

#[tokio::test]
async fn a_streamed_answer_that_is_not_utf8_is_a_decode_error_and_not_retried() {
    let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n".to_vec();
    bytes.extend_from_slice(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\xffb\"}}]}\n\n",
    );
    bytes.extend_from_slice(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    bytes.extend_from_slice(b"data: [DONE]\n\n");
    let (url, requests) = serve(bytes, Then::Close).await;
    let error = ask(url, |c| c.streaming(true).retry(common::fast_retry())).await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Decode, "{e}");
    assert!(e.message().contains("not UTF-8"), "{e}");
    assert!(!e.is_retryable());
    assert_eq!(requests.load(Ordering::SeqCst), 1, "the answer was asked for again");
}

/// An answer with status `head` and `body` (its length announced), then the connection held.
async fn serve_body(head: &str, content_type: &str, body: &str) -> String {
    serve_bytes(format!(
        "HTTP/1.1 {head}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ))
    .await
}

/// The most characters an error message quoting a server may have: its message and an
/// excerpt of the body, 500 characters each, and the words around them.
const MESSAGE_BOUND: usize = 1_300;

#[tokio::test]
async fn a_servers_huge_error_message_is_cut_in_the_error() {
    let huge = format!("quota {}", "x ".repeat(1 << 19));
    let error_body = serde_json::json!({ "error": { "message": huge } }).to_string();
    let stream = format!("data: {error_body}\n\ndata: [DONE]\n\n");
    let cases = [
        ("200 OK", "application/json", error_body.as_str(), false, ModelErrorKind::Other),
        ("200 OK", "text/event-stream", stream.as_str(), true, ModelErrorKind::Other),
        (
            "400 Bad Request",
            "application/json",
            error_body.as_str(),
            false,
            ModelErrorKind::Status(400),
        ),
    ];
    for (head, content_type, body, streaming, kind) in cases {
        let url = serve_body(head, content_type, body).await;
        let error = ask(url, |c| c.streaming(streaming)).await;
        let e = model_error(&error);
        assert_eq!(e.kind(), kind, "{head} {content_type}");
        assert!(e.message().contains("quota x x x"), "{head} {content_type}");
        let chars = e.message().chars().count();
        assert!(chars <= MESSAGE_BOUND, "{head} {content_type}: {chars} characters");
    }
}

/// The head of an event stream and an event with `text` as content.
fn stream_with(text: &str) -> String {
    let event = serde_json::json!({ "choices": [{ "index": 0, "delta": { "content": text } }] });
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: {event}\n\n")
}

#[tokio::test]
async fn a_stream_that_stalls_after_its_first_event_ends_in_the_attempt_timeout() {
    let url = serve_bytes(stream_with("4")).await;
    let error = ask(url, |c| {
        c.streaming(true)
            .first_byte_timeout(Duration::from_secs(20))
            .timeout(Duration::from_millis(400))
    })
    .await;
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Timeout, "{e}");
    assert!(e.message().contains("attempt timeout of 400ms"), "{e}");
}

#[tokio::test]
async fn whatever_follows_done_on_a_connection_held_open_is_not_read() {
    // Garbage, a line without its newline, and no end: the answer is complete at `[DONE]`.
    let mut bytes = stream_with("42");
    bytes.push_str(
        "data: [DONE]\n\ndata: {not json}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x",
    );
    let config = OpenAiConfig::new()
        .base_url(serve_bytes(bytes).await)
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(20))
        .streaming(true);
    let rt = Runtime::builder().provider("openai", OpenAiProvider::new(config)).build();
    let answered = bounded(answer(&rt.ctx(), "six times seven?".into())).await;
    assert_eq!(answered.unwrap(), "42");
}

#[tokio::test]
async fn a_long_event_line_arriving_in_many_pieces_is_read_in_time_linear_in_its_length() {
    // One event of 8 MiB of text, as a streaming server sends a large answer: the event-stream
    // reader must not read the line again for every piece of it that arrives (quadratic: 64
    // MiB would keep a core busy until the attempt timeout, and the answer would never come).
    let text = "y".repeat(8 << 20);
    let mut bytes = stream_with(&text);
    bytes.push_str("data: [DONE]\n\n");
    let (url, _) = serve(bytes, Then::Close).await;
    let config =
        OpenAiConfig::new().base_url(url).api_key(KEY).retry(RetryPolicy::none()).streaming(true);
    let rt = Runtime::builder().provider("openai", OpenAiProvider::new(config)).build();
    let answered = bounded(answer(&rt.ctx(), "six times seven?".into())).await;
    assert_eq!(answered.unwrap().len(), text.len());
}
