//! How much `llm-do serve` takes on at once (`serve/limit.rs`): before, nothing bounded the
//! requests in flight or the open connections — each request may hold a 2 MiB body and run a
//! model, and every one that arrived was taken on.
//!
//! - Beyond `max_requests` requests in flight, one more is answered at once with a 503
//!   `server_overloaded` and `Retry-After`, and reaches no model.
//! - Beyond `max_connections` open connections, no other is served until one closes.
//!
//! Requests are held in flight by a model that waits on a gate the test opens; the clock of
//! the connection test is tokio's paused clock, which moves only when every task waits.

use futures::future::BoxFuture;
use llm_do::{Model, ModelError, ModelRequest, ModelResponse};
use llm_do_cli::models::Served;
use llm_do_cli::serve::{Limits, serve_until};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

/// A model whose every request reports that it started, then waits for a pass of the gate.
struct GatedModel {
    started: mpsc::UnboundedSender<()>,
    gate: Arc<Semaphore>,
    calls: AtomicUsize,
}

impl Model for GatedModel {
    fn request<'a>(
        &'a self,
        _request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let _ = self.started.send(());
            self.gate.acquire().await.expect("gate open").forget();
            Ok(ModelResponse::text("done"))
        })
    }
}

/// A gated model served within `limits`: its address, the model, the gate and the start reports.
async fn serve(
    limits: Limits,
) -> (String, Arc<GatedModel>, Arc<Semaphore>, mpsc::UnboundedReceiver<()>) {
    let (started, starts) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let model = Arc::new(GatedModel { started, gate: gate.clone(), calls: AtomicUsize::new(0) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = Arc::new(Served::new(model.clone(), "test:gated"));
    tokio::spawn(serve_until(listener, served, limits, std::future::pending()));
    (addr, model, gate, starts)
}

fn chat(addr: &str, stream: bool) -> reqwest::RequestBuilder {
    let body = serde_json::json!({
        "model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]
    });
    llm_do_openai::http::client().post(format!("http://{addr}/v1/chat/completions")).json(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_beyond_the_limit_in_flight_is_a_503_with_retry_after() {
    let limits = Limits { max_requests: 2, ..Limits::default() };
    let (addr, model, gate, mut starts) = serve(limits).await;
    // Two requests in flight, one of them streamed: both reached the model, which holds them.
    let first = tokio::spawn(chat(&addr, false).send());
    let second = tokio::spawn(chat(&addr, true).send());
    starts.recv().await.unwrap();
    starts.recv().await.unwrap();

    // Either it is answered, or the model reports a third request taken on: no waiting.
    let refused = tokio::select! {
        answer = chat(&addr, false).send() => answer.unwrap(),
        Some(()) = starts.recv() => panic!("a third request reached the model"),
    };
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["type"], "server_error");
    assert_eq!(body["error"]["code"], "server_overloaded");
    assert!(body["error"]["message"].as_str().unwrap().contains("--max-requests"), "{body}");
    // Other routes too are requests in flight.
    let models = llm_do_openai::http::client().get(format!("http://{addr}/v1/models"));
    assert_eq!(models.send().await.unwrap().status(), 503);
    assert!(starts.try_recv().is_err(), "a refused request reached the model");
    assert_eq!(model.calls.load(Ordering::SeqCst), 2, "the refused request reached the model");

    // Once the held requests are answered, whole, there is room again.
    gate.add_permits(2);
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    let second = second.await.unwrap().unwrap();
    assert_eq!(second.status(), 200);
    assert!(second.text().await.unwrap().contains("[DONE]"));
    gate.add_permits(1);
    let again = chat(&addr, false).send().await.unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_holds_its_place_until_its_body_is_sent() {
    let limits = Limits { max_requests: 1, ..Limits::default() };
    let (addr, _model, gate, mut starts) = serve(limits).await;
    gate.add_permits(1);
    let streamed = chat(&addr, true).send().await.unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(starts.recv().await, Some(()));
    // Its body read to the end, its place is free.
    assert!(streamed.text().await.unwrap().contains("[DONE]"));
    gate.add_permits(1);
    assert_eq!(chat(&addr, false).send().await.unwrap().status(), 200);
}

fn raw_request() -> &'static [u8] {
    b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
}

/// The first (up to) 12 bytes the server sends on `stream`: its status line's start.
async fn read_some(stream: &mut TcpStream) -> String {
    let mut buf = vec![0; 12];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_connection_beyond_the_limit_waits_until_one_closes() {
    let limits = Limits { max_connections: 1, ..Limits::default() };
    let (addr, _model, _gate, _starts) = serve(limits).await;
    // The first connection is served, and kept open (keep-alive).
    let mut first = TcpStream::connect(&addr).await.unwrap();
    first.write_all(raw_request()).await.unwrap();
    assert_eq!(read_some(&mut first).await, "HTTP/1.1 200");

    // The second is not served while the first is open (the paused clock jumps 10 s ahead
    // only once every task waits: well within the 30 s the first may idle).
    let mut second = TcpStream::connect(&addr).await.unwrap();
    second.write_all(raw_request()).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(10), read_some(&mut second)).await;
    assert!(waited.is_err(), "served beyond the limit: {waited:?}");

    drop(first);
    assert_eq!(read_some(&mut second).await, "HTTP/1.1 200");
}
