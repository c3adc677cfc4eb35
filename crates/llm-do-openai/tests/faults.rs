//! Every fault the test server can inject ends in the documented outcome: retried and
//! answered, or a typed error with a clear message; never a panic or a hang. The API key
//! shows up in no error, event or `Debug` output. Dropping a worker's future closes its
//! connection.

#[allow(dead_code)]
mod common;

use common::bounded;
use common::{KEY, config, model_error, recording, request_complete};
use llm_do::prelude::*;
use llm_do::testing::Reply;
use llm_do::{EventKind, EventLog, ModelErrorKind, ModelResponse, Usage};
use llm_do_openai::{OpenAiConfig, OpenAiProvider, RetryPolicy};
use llm_do_testkit::{Fault, TestServer};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answer a question.
#[worker(prompt = "Answer: {question}", model = "openai:gpt-4o-mini")]
async fn answer(ctx: &Ctx, question: String) -> Result<String>;

const ANSWER: &str = "forty-two";

/// What one run against a faulty server gave.
struct Outcome {
    result: Result<String>,
    requests: usize,
    responses: Vec<std::result::Result<ModelResponse, String>>,
    usage: Usage,
}

impl Outcome {
    fn error(&self) -> &llm_do::ModelError {
        match &self.result {
            Ok(v) => panic!("expected an error, got the answer {v:?}"),
            Err(e) => model_error(e),
        }
    }
}

/// Runs `answer` against a server that first injects `faults`, checking on the way that the
/// key is nowhere to be seen.
async fn run_with(
    faults: Vec<Fault>,
    streaming: bool,
    tweak: impl FnOnce(OpenAiConfig) -> OpenAiConfig,
) -> Outcome {
    let server = TestServer::builder()
        .script([Reply::text(ANSWER).with_tokens(7, 3)])
        .faults(faults)
        .start()
        .await
        .unwrap();
    let model = recording(OpenAiProvider::new(tweak(config(&server, streaming))));
    let log = EventLog::new();
    let rt = Runtime::builder().provider("openai", model.clone()).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    let result = bounded(answer(&ctx, "six times seven?".into())).await;
    assert_key_is_hidden(&result, &log);
    Outcome {
        result,
        requests: server.request_count(),
        responses: model.observer().responses(),
        usage: ctx.usage(),
    }
}

fn assert_key_is_hidden(result: &Result<String>, log: &EventLog) {
    if let Err(e) = result {
        assert!(!e.to_string().contains(KEY), "key in error: {e}");
        assert!(!format!("{e:?}").contains(KEY), "key in error Debug: {e:?}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            assert!(!s.to_string().contains(KEY) && !format!("{s:?}").contains(KEY));
            source = s.source();
        }
    }
    let events = serde_json::to_string(&log.events()).unwrap();
    assert!(!events.contains(KEY), "key in events");
    assert!(!log.transcript().contains(KEY), "key in transcript");
}

fn status(code: u16) -> Fault {
    Fault::Status { code, retry_after: None, message: None }
}

fn unchanged(config: OpenAiConfig) -> OpenAiConfig {
    config
}

#[tokio::test]
async fn transient_faults_are_retried_until_the_answer_arrives() {
    let transient = [
        Fault::Status { code: 429, retry_after: Some(1), message: None },
        status(500),
        status(502),
        status(503),
        Fault::CloseMidBody,
        // Non-streaming: half a JSON body with a matching Content-Length.
        Fault::TruncatedStream,
    ];
    for fault in transient {
        let out = run_with(vec![fault.clone()], false, unchanged).await;
        assert_eq!(out.result.as_deref().ok(), Some(ANSWER), "{fault:?}");
        assert_eq!(out.requests, 2, "{fault:?}: one failed attempt, one retry");
    }
    // A 429 with Retry-After honoured (capped by max_backoff) and several faults in a row.
    let out = run_with(
        vec![
            Fault::Status { code: 429, retry_after: Some(1), message: Some("slow down".into()) },
            status(503),
            Fault::CloseMidBody,
        ],
        false,
        unchanged,
    )
    .await;
    assert_eq!(out.result.as_deref().ok(), Some(ANSWER));
    assert_eq!(out.requests, 4);
}

#[tokio::test]
async fn a_stream_is_retried_when_it_fails_before_its_first_piece() {
    for fault in [Fault::Status { code: 429, retry_after: Some(1), message: None }, status(500)] {
        let out = run_with(vec![fault.clone()], true, unchanged).await;
        assert_eq!(out.result.as_deref().ok(), Some(ANSWER), "{fault:?}");
        assert_eq!(out.requests, 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_stream_cut_off_after_some_pieces_is_restarted_and_retried() {
    for fault in [Fault::TruncatedStream, Fault::CloseMidBody] {
        let out = run_with(vec![fault.clone()], true, unchanged).await;
        assert_eq!(out.result.as_deref().ok(), Some(ANSWER), "{fault:?}");
        assert_eq!(out.requests, 2, "{fault:?}: retried once");
    }
    // Without retries the cut-off stream is a typed, retryable transport error that says why.
    let out = run_with(vec![Fault::TruncatedStream], true, |c| c.retry(RetryPolicy::none())).await;
    assert_eq!(out.error().kind(), ModelErrorKind::Transport);
    assert!(out.error().is_retryable());
    assert!(out.error().message().contains("ended before `data: [DONE]`"), "{}", out.error());
    let out = run_with(vec![Fault::CloseMidBody], true, |c| c.retry(RetryPolicy::none())).await;
    assert!(out.error().message().contains("the connection failed"), "{}", out.error());
}

#[tokio::test]
async fn an_attempt_that_takes_too_long_times_out_and_is_retried() {
    for streaming in [false, true] {
        let out = run_with(vec![Fault::Delay(Duration::from_secs(60))], streaming, |c| {
            c.timeout(Duration::from_secs(2))
        })
        .await;
        assert_eq!(out.result.as_deref().ok(), Some(ANSWER), "streaming={streaming}");
        assert_eq!(out.requests, 2);
    }
}

#[tokio::test]
async fn a_server_that_sends_nothing_ends_in_a_typed_timeout_error() {
    // The test server accepts the request and holds its answer back for a minute.
    for streaming in [false, true] {
        let out = run_with(vec![Fault::Delay(Duration::from_secs(60))], streaming, |c| {
            c.first_byte_timeout(Duration::from_millis(300)).retry(RetryPolicy::none())
        })
        .await;
        let e = out.error();
        assert_eq!(e.kind(), ModelErrorKind::Timeout, "streaming={streaming}: {e}");
        assert!(e.is_retryable());
        assert!(e.message().contains("first-byte timeout of 300ms"), "{e}");
        assert_eq!(out.requests, 1);
    }
    // The attempt timeout is a timeout too.
    let out = run_with(vec![Fault::Delay(Duration::from_secs(60))], false, |c| {
        c.timeout(Duration::from_millis(300)).retry(RetryPolicy::none())
    })
    .await;
    assert_eq!(out.error().kind(), ModelErrorKind::Timeout, "{}", out.error());
}

#[tokio::test]
async fn persistent_transient_failures_give_up_after_max_attempts() {
    let out = run_with(vec![status(503); 4], false, unchanged).await;
    let e = out.error();
    assert_eq!(e.kind(), ModelErrorKind::Status(503));
    assert!(e.is_retryable());
    assert!(e.message().contains("gave up after 4 attempts"), "{e}");
    assert_eq!(out.requests, 4);

    // Without retries, the first failure is the answer.
    let out = run_with(vec![status(503)], false, |c| c.retry(RetryPolicy::none())).await;
    assert_eq!(out.error().kind(), ModelErrorKind::Status(503));
    assert_eq!(out.requests, 1);
}

#[tokio::test]
async fn client_errors_are_typed_and_not_retried() {
    for streaming in [false, true] {
        let fault =
            Fault::Status { code: 400, retry_after: None, message: Some("bad temperature".into()) };
        let out = run_with(vec![fault], streaming, unchanged).await;
        let e = out.error();
        assert_eq!(e.kind(), ModelErrorKind::Status(400));
        assert!(!e.is_retryable());
        // The provider's message first, then an excerpt of the body.
        assert!(e.message().starts_with("bad temperature; body: {"), "{e}");
        assert!(e.to_string().starts_with("HTTP status 400: bad temperature"), "{e}");
        assert_eq!(out.requests, 1);
    }
}

#[tokio::test]
async fn undecodable_answers_are_typed_decode_errors_with_the_body() {
    for streaming in [false, true] {
        let out = run_with(vec![Fault::InvalidJson], streaming, unchanged).await;
        let e = out.error();
        assert_eq!(e.kind(), ModelErrorKind::Decode, "streaming={streaming}: {e}");
        assert!(!e.is_retryable());
        assert!(e.message().contains("body: "), "{e}");
        assert_eq!(out.requests, 1);

        let out = run_with(vec![Fault::EmptyChoices], streaming, unchanged).await;
        let e = out.error();
        assert_eq!(e.kind(), ModelErrorKind::Decode, "streaming={streaming}: {e}");
        assert!(e.message().contains("no choices"), "{e}");
        assert_eq!(out.requests, 1);
    }
}

#[tokio::test]
async fn quirks_of_other_servers_decode_the_same_streamed_or_not() {
    let quirks =
        [Fault::MinimalBody, Fault::ExtraFields, Fault::EmptyFinishReason, Fault::WholeBody];
    for fault in quirks {
        let plain = run_with(vec![fault.clone()], false, unchanged).await;
        let streamed = run_with(vec![fault.clone()], true, unchanged).await;
        assert_eq!(plain.result.as_deref().ok(), Some(ANSWER), "{fault:?}");
        assert_eq!(streamed.result.as_deref().ok(), Some(ANSWER), "{fault:?}");
        assert_eq!(plain.responses, streamed.responses, "{fault:?}");
        assert_eq!(plain.requests, 1);
        let response = plain.responses[0].as_ref().unwrap();
        match fault {
            // No usage anywhere: tolerated, counted as zero tokens.
            Fault::MinimalBody => {
                assert_eq!(plain.usage, Usage { requests: 1, ..Usage::default() })
            }
            Fault::EmptyFinishReason => assert_eq!(response.finish_reason, None),
            _ => assert_eq!(plain.usage, Usage { requests: 1, input_tokens: 7, output_tokens: 3 }),
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_transport_error() {
    // A port that was free a moment ago: nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let provider = OpenAiProvider::new(
        OpenAiConfig::new()
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .api_key(KEY)
            .retry(common::fast_retry()),
    );
    let log = EventLog::new();
    let rt = Runtime::builder().provider("openai", provider).subscribe(log.clone()).build();
    let result = bounded(answer(&rt.ctx(), "anyone there?".into())).await;
    assert_key_is_hidden(&result, &log);
    let error = result.unwrap_err();
    let e = model_error(&error);
    assert_eq!(e.kind(), ModelErrorKind::Transport);
    assert!(e.is_retryable());
    assert!(e.message().contains("gave up after 4 attempts"), "{e}");
}

#[tokio::test]
async fn the_api_key_appears_in_no_error_event_or_debug_output() {
    // A server echoing the key in its error message.
    let echo = format!("Incorrect API key provided: {KEY}");
    let out = run_with(
        vec![Fault::Status { code: 401, retry_after: None, message: Some(echo) }],
        false,
        unchanged,
    )
    .await;
    let e = out.error();
    assert_eq!(e.kind(), ModelErrorKind::Status(401));
    assert!(e.message().contains("Incorrect API key provided: [redacted]"), "{e}");

    // A configuration that cannot work, with the key pasted into the URL by mistake.
    let broken = OpenAiConfig::new().api_key(KEY).base_url(format!("{KEY}/v1"));
    assert!(!format!("{broken:?}").contains(KEY));
    let provider = OpenAiProvider::new(broken.clone());
    assert!(!format!("{provider:?}").contains(KEY));
    let creation = OpenAiProvider::try_new(broken).unwrap_err();
    assert!(!creation.to_string().contains(KEY) && !format!("{creation:?}").contains(KEY));
    let log = EventLog::new();
    let rt = Runtime::builder().provider("openai", provider).subscribe(log.clone()).build();
    let result = bounded(answer(&rt.ctx(), "hi".into())).await;
    assert_key_is_hidden(&result, &log);
    assert_eq!(model_error(result.as_ref().unwrap_err()).kind(), ModelErrorKind::InvalidRequest);

    // Every other error kind is checked by `run_with` as it runs; the recordings never have it.
    let server = TestServer::start().await.unwrap();
    let rt = Runtime::builder().provider("openai", common::provider(&server, true)).build();
    let _ = bounded(answer(&rt.ctx(), "hi".into())).await.unwrap();
    let recorded = serde_json::to_string(&server.requests()).unwrap();
    assert!(!recorded.contains(KEY));
}

/// Accepts one connection, reads one request, optionally starts a streamed answer, then
/// waits for the client to close the connection. Returns whether it saw the close.
async fn hold_one_request(
    listener: TcpListener,
    stream_start: bool,
    arrived: tokio::sync::oneshot::Sender<()>,
) -> bool {
    let Ok((mut socket, _)) = listener.accept().await else { return false };
    let mut received = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        received.extend_from_slice(&buf[..n]);
        if request_complete(&received) {
            break;
        }
    }
    if stream_start {
        let chunk =
            r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#;
        let event = format!("{chunk}\n\n");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
            event.len()
        );
        if socket.write_all(head.as_bytes()).await.is_err() {
            return false;
        }
    }
    let _ = arrived.send(());
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

/// Resolves once the request is in flight (and, streaming, its first piece has arrived).
async fn in_flight(arrived: tokio::sync::oneshot::Receiver<()>, log: &EventLog, streaming: bool) {
    let _ = arrived.await;
    while streaming && !log.events().iter().any(|e| matches!(e.kind, EventKind::ModelDelta { .. }))
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn dropping_the_worker_future_closes_the_connection() {
    for streaming in [false, true] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (arrived_tx, arrived_rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(hold_one_request(listener, streaming, arrived_tx));
        let provider = OpenAiProvider::new(
            OpenAiConfig::new().base_url(base_url).api_key(KEY).streaming(streaming),
        );
        let log = EventLog::new();
        let rt = Runtime::builder().provider("openai", provider).subscribe(log.clone()).build();
        let ctx = rt.ctx();
        bounded(async {
            tokio::select! {
                result = answer(&ctx, "take your time".into()) => {
                    panic!("the server never answers, yet the call ended: {result:?}")
                }
                _ = in_flight(arrived_rx, &log, streaming) => {} // drop the worker's future
            }
        })
        .await;
        assert!(bounded(server).await.unwrap(), "streaming={streaming}: connection not closed");
        assert!(log.events().iter().any(|e| matches!(e.kind, EventKind::CallCancelled { .. })));
    }
}

/// The shared corpus of secrets (`tests/fixtures/secrets.json`) in a server's error body: the
/// provider's error carries none of them. The corpus's API key is the provider's key here;
/// its other environment values are unknown to the provider (the CLI test covers them).
#[tokio::test]
async fn no_secret_of_the_corpus_in_an_error_body_reaches_the_error() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/secrets.json");
    let corpus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let key = corpus["env"]["OPENAI_API_KEY"].as_str().unwrap().to_owned();
    let others: Vec<&str> = corpus["env"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "OPENAI_API_KEY")
        .filter_map(|(_, v)| v.as_str())
        .collect();
    let entries: Vec<&serde_json::Value> = corpus["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !others.contains(&e["secret"].as_str().unwrap()))
        .collect();
    let body: Vec<String> = entries
        .iter()
        .map(|e| e["text"].as_str().map(str::to_owned).unwrap_or_else(|| e["args"].to_string()))
        .collect();
    let message = body.join("\n");
    let key_for_config = key.clone();
    let outcome = run_with(
        vec![Fault::Status { code: 400, retry_after: None, message: Some(message) }],
        false,
        move |c| c.api_key(key_for_config),
    )
    .await;
    let shown = format!("{} | {:?}", outcome.error(), outcome.error());
    assert!(shown.contains("[redacted]"), "{shown}");
    for e in entries {
        let secret = e["secret"].as_str().unwrap();
        assert!(!shown.contains(secret), "{}: {secret} in {shown}", e["name"]);
    }
}

#[tokio::test]
async fn a_retry_after_of_decades_is_capped_by_max_backoff_not_waited_out() {
    let decades = Fault::Status { code: 429, retry_after: Some(1_000_000_000), message: None };
    for streaming in [false, true] {
        // fast_retry's max_backoff is 20 ms: the retry comes at once.
        let out = run_with(vec![decades.clone()], streaming, unchanged).await;
        assert_eq!(out.result.as_deref().ok(), Some(ANSWER), "streaming={streaming}");
        assert_eq!(out.requests, 2);
    }
    // Without retries, the error passes on a delay of at most a day.
    let out = run_with(vec![decades], false, |c| c.retry(RetryPolicy::none())).await;
    let e = out.error();
    assert_eq!(e.kind(), ModelErrorKind::Status(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(86_400)));
}

#[tokio::test]
async fn a_key_the_excerpts_cut_through_leaves_no_prefix_in_the_error() {
    // The server's message and the body excerpt are cut to 500 characters; a key the cut
    // runs through must not leave its start behind, where the redactor no longer knows it.
    for offset in (470..505).step_by(3) {
        let echo = format!("{} {KEY} rest", "x".repeat(offset - 1));
        let out = run_with(
            vec![Fault::Status { code: 401, retry_after: None, message: Some(echo) }],
            false,
            unchanged,
        )
        .await;
        let e = out.error();
        assert_eq!(e.kind(), ModelErrorKind::Status(401));
        assert!(!e.message().contains("sk-"), "key at {offset}: {e}");
    }
}
