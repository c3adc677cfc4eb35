//! Slow clients of `llm-do serve` (`serve/listen.rs`, `read_body`): before, a client that sent
//! half a request line, or a request head and part of its body, and then nothing, held its
//! connection (a task, a file descriptor) for ever — `axum::serve` gives hyper no timer, and
//! the body was read without a deadline. Enough such clients exhaust the server's descriptors.
//!
//! - A request head not sent within `HEADER_READ_TIMEOUT` closes the connection.
//! - A body not sent within `BODY_READ_TIMEOUT` is a 408 `request_timeout`, and reaches no model.
//!
//! The clock is tokio's paused clock: it jumps ahead whenever every task waits.

use llm_do::testing::{Reply, ScriptedModel};
use llm_do_cli::models::Served;
use llm_do_cli::serve::{BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, Limits, serve_until};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Serves a scripted model on a loopback port; its address.
async fn serve(model: Arc<ScriptedModel>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = Arc::new(Served::new(model, "test:m"));
    tokio::spawn(serve_until(listener, served, Limits::default(), std::future::pending()));
    addr
}

/// Everything the server sends on `stream` until it closes it, and when it closed it.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    // Bounded: with the fix the server closes the connection after at most a minute.
    let read = tokio::time::timeout(Duration::from_secs(600), stream.read_to_end(&mut answer));
    let _ = read.await.expect("the server never closed the connection");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

fn request(body: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
         application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_client_that_never_finishes_its_request_head_is_cut_off() {
    let model = Arc::new(ScriptedModel::queue([Reply::text("hi")]));
    let addr = serve(model.clone()).await;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127").await.unwrap();
    let (answer, after) = until_closed(&mut slow).await;
    assert!(after >= HEADER_READ_TIMEOUT && after < HEADER_READ_TIMEOUT * 2, "{after:?}: {answer}");
    // A silent connection too.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let (_, after) = until_closed(&mut silent).await;
    assert!(after < HEADER_READ_TIMEOUT * 2, "{after:?}");

    // The server still serves.
    let mut good = TcpStream::connect(&addr).await.unwrap();
    let body = r#"{"messages": [{"role": "user", "content": "hi"}]}"#;
    good.write_all(request(body).as_bytes()).await.unwrap();
    let (answer, _) = until_closed(&mut good).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_body_that_never_arrives_whole_is_a_408() {
    let model = Arc::new(ScriptedModel::queue([Reply::text("hi")]));
    let addr = serve(model.clone()).await;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = request(&" ".repeat(100));
    // The head and 10 bytes of the 100 announced.
    slow.write_all(&head.as_bytes()[..head.len() - 90]).await.unwrap();
    let (answer, after) = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(after >= BODY_READ_TIMEOUT && after < BODY_READ_TIMEOUT * 2, "{after:?}");
    assert_eq!(model.requests().len(), 0);
}
