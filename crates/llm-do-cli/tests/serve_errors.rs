//! `llm-do serve`'s errors over HTTP, without the embedded model: the real binary serves
//! `openai:test-model`, llm-do's OpenAI-compatible provider pointed at the loopback test server.
//! Every error is an OpenAI-style JSON body `{"error": {"message", "type", "param", "code"}}`
//! with the right 4xx (issue 15: 404 and 405 had empty bodies, an over-size body a plain-text
//! 413, an invalid `response_format` schema a 500).

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), f).await.expect("timed out")
}

/// A running `llm-do serve` (killed on drop) and its base URL `http://127.0.0.1:PORT/v1`.
async fn serve(upstream: &TestServer) -> (Child, String) {
    serve_with(upstream, &[]).await
}

/// [`serve`] with more flags.
async fn serve_with(upstream: &TestServer, flags: &[&str]) -> (Child, String) {
    start(&[], upstream, flags, Stdio::inherit()).await
}

/// Starts `llm-do serve` for `upstream` with more `flags`, through `launcher` (a program and
/// its arguments before llm-do's path; none to start llm-do itself).
async fn start(
    launcher: &[&str],
    upstream: &TestServer,
    flags: &[&str],
    stderr: Stdio,
) -> (Child, String) {
    let bin = env!("CARGO_BIN_EXE_llm-do");
    let cmd = match launcher.split_first() {
        Some((program, args)) => {
            let mut cmd = support::command(program, Some(&upstream.base_url()));
            cmd.args(args).arg(bin);
            cmd
        }
        None => support::command(bin, Some(&upstream.base_url())),
    };
    let mut cmd: tokio::process::Command = cmd.into();
    let mut child = cmd
        .args(["serve", "--model", "openai:test-model", "--port", "0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("start llm-do serve");
    let base = support::served_address(child.stdout.take().expect("stdout")).await;
    (child, base)
}

/// Status and JSON body; the body must be an OpenAI-style error when the status is not 200.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = bounded(request.send()).await.expect("request");
    let status = response.status().as_u16();
    let is_json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
    let text = bounded(response.text()).await.expect("body");
    assert!(is_json, "{status}: not JSON: {text}");
    let body: Value = serde_json::from_str(&text).expect("a JSON body");
    if status != 200 {
        let error = &body["error"];
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        assert!(error["type"].is_string(), "{body}");
        assert!(error.get("param").is_some() && error.get("code").is_some(), "{body}");
    }
    (status, body)
}

fn chat(schema: Value) -> Value {
    json!({
        "model": "test-model",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_openai_style_json_with_the_right_status() {
    let upstream = TestServer::builder().script([Reply::text("{\"a\": 1}")]).start().await.unwrap();
    let (_child, base) = serve(&upstream).await;
    let http = llm_do_openai::http::client();

    let (status, body) = send(http.get(format!("{base}/nope"))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, body) = send(http.get(format!("{base}/chat/completions"))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")));
    let (status, _) = send(http.delete(format!("{base}/models"))).await;
    assert_eq!(status, 405);

    // Over 2 MiB: a JSON 413.
    let big = format!("{{\"model\": \"m\", \"pad\": \"{}\"}}", "x".repeat(3 << 20));
    let (status, body) = send(http.post(format!("{base}/chat/completions")).body(big)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("request_too_large")));

    let (status, _) = send(
        http.post(format!("{base}/chat/completions"))
            .header("content-type", "application/json")
            .body("{\"messages\": ["),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = send(
        http.post(format!("{base}/chat/completions"))
            .json(&json!({"messages": [{"role": "wizard", "content": "x"}]})),
    )
    .await;
    assert_eq!((status, body["error"]["param"].as_str()), (400, Some("messages[0].role")));

    // An invalid `response_format` schema is the client's mistake: 400, before the model.
    for schema in
        [json!({"type": 12}), json!({"type": "object", "properties": {"a": {"minimum": "x"}}})]
    {
        let (status, body) =
            send(http.post(format!("{base}/chat/completions")).json(&chat(schema))).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["param"], "response_format.json_schema.schema");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    assert!(upstream.requests().is_empty(), "no bad request reached the model");

    // A good request still works.
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
    let (status, body) =
        send(http.post(format!("{base}/chat/completions")).json(&chat(schema))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "{\"a\": 1}");
}

/// An upstream server's own error code (`context_length_exceeded`) reaches serve's clients,
/// whose SDKs act on it, rather than the generic code of the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_error_code_is_passed_on() {
    use llm_do::{ModelError, ModelErrorKind};
    let too_long = ModelError::new(ModelErrorKind::Status(400), "the prompt is too long")
        .with_code("context_length_exceeded");
    let upstream = TestServer::builder().script([Reply::error(too_long)]).start().await.unwrap();
    let (_child, base) = serve(&upstream).await;
    let request = json!({"model": "test-model", "messages": [{"role": "user", "content": "hi"}]});
    let http = llm_do_openai::http::client();
    let (status, body) = send(http.post(format!("{base}/chat/completions")).json(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert!(body["error"]["message"].as_str().unwrap().contains("the prompt is too long"));
}

/// The provider flags reach an upstream `openai:…` model: an answer over `--max-answer-bytes`
/// is a 502 (its answer could not be read) and is not asked for again. A streamed request is
/// streamed from the upstream too, so its pieces are passed on as they come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_flags_reach_an_upstream_model_and_streams_are_streamed() {
    let long = "x".repeat(3000);
    let upstream = TestServer::builder()
        .script([Reply::text(long.as_str()), Reply::text("short answer")])
        .start()
        .await
        .unwrap();
    let (_child, base) = serve_with(&upstream, &["--max-answer-bytes", "2000"]).await;
    let http = llm_do_openai::http::client();
    let mut request = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});

    let (status, body) = send(http.post(format!("{base}/chat/completions")).json(&request)).await;
    assert_eq!((status, body["error"]["type"].as_str()), (502, Some("server_error")), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("larger than the limit of 2000 bytes"), "{message}");
    assert_eq!(upstream.request_count(), 1, "an answer over the limit is not asked for again");
    assert_ne!(upstream.last_request().unwrap().body["stream"], true);

    request["stream"] = json!(true);
    let response =
        bounded(http.post(format!("{base}/chat/completions")).json(&request).send()).await.unwrap();
    assert_eq!(response.status(), 200);
    let events = bounded(response.text()).await.unwrap();
    assert_eq!(upstream.last_request().unwrap().body["stream"], true, "streamed from upstream");
    let text = streamed_text(&events);
    assert_eq!(text, "short answer", "{events}");
}

/// The text of a streamed completion's server-sent events, its content deltas joined.
fn streamed_text(events: &str) -> String {
    events
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str::<Value>(data).expect("a JSON event"))
        .filter_map(|event| event["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect()
}

/// A client's image and file parts reach the served model as attachments: over the loopback
/// upstream (an OpenAI-compatible model that takes images and PDFs), as `image_url` and
/// `file` parts; bad parts are 400s with a typed `code`, and the model is never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_and_file_parts_reach_the_model_as_attachments_and_bad_parts_are_typed_400s() {
    let upstream =
        TestServer::builder().script([Reply::text("a deck and a chart")]).start().await.unwrap();
    let (_child, base) = serve(&upstream).await;
    let http = llm_do_openai::http::client();
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pitchdeck_data/aquaroute.pdf"
    ))
    .unwrap();
    let png = "iVBORw0KGgo=";
    let data_url = |bytes: Vec<u8>, name: &str| {
        llm_do::Attachment::from_bytes(bytes, Some(name)).unwrap().data_url().unwrap()
    };
    let pdf_data = data_url(pdf, "aquaroute.pdf");
    assert!(pdf_data.starts_with("data:application/pdf;base64,"));
    let body = |parts: Value| json!({"model": "test-model", "messages": [{"role": "user", "content": parts}]});

    let good = body(json!([
        {"type": "text", "text": "What do they ask?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}},
        {"type": "image_url", "image_url": {"url": "https://example.com/chart.jpg"}},
        {"type": "file", "file": {"filename": "aquaroute.pdf", "file_data": pdf_data}},
    ]));
    let (status, answer) = send(http.post(format!("{base}/chat/completions")).json(&good)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "a deck and a chart");
    let sent = upstream.last_request().unwrap().body;
    let content = &sent["messages"][0]["content"];
    assert_eq!(content[0], json!({"type": "text", "text": "What do they ask?"}));
    assert_eq!(
        content[1],
        json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}})
    );
    assert_eq!(
        content[2],
        json!({"type": "image_url", "image_url": {"url": "https://example.com/chart.jpg"}})
    );
    assert_eq!(
        content[3],
        json!({"type": "file", "file": {"filename": "aquaroute.pdf", "file_data": pdf_data}})
    );
    assert_eq!(upstream.request_count(), 1);

    let big = data_url(vec![b'a'; (1 << 20) + 1], "big.txt");
    let cases = [
        (
            json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@not base64@@"}}),
            "attachment_invalid",
        ),
        (
            json!({"type": "file", "file": {"filename": "x.zip", "file_data": "data:application/zip;base64,UEsDBA=="}}),
            "attachment_unknown_media_type",
        ),
        (
            json!({"type": "file", "file": {"filename": "big.txt", "file_data": big}}),
            "attachment_too_large",
        ),
        (json!({"type": "file", "file": {"file_id": "file-123"}}), "unsupported_content_part"),
        (
            json!({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}),
            "unsupported_content_part",
        ),
        (
            json!({"type": "image_url", "image_url": {"url": "ftp://example.com/x.png"}}),
            "attachment_invalid",
        ),
    ];
    for (part, code) in cases {
        let (status, body) =
            send(http.post(format!("{base}/chat/completions")).json(&body(json!([part])))).await;
        assert_eq!(status, 400, "{code}: {body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert_eq!(body["error"]["param"], "messages[0].content[0]", "{body}");
    }
    assert_eq!(upstream.request_count(), 1, "no bad request reached the model");
}

// ---------------------------------------------------------------------------------------
// Stopping: SIGTERM, what a service manager (systemd, Docker, Kubernetes) sends.

#[cfg(unix)]
fn signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id().expect("running") as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

/// A chat request to `base` that is in flight once `upstream` has seen it.
#[cfg(unix)]
async fn in_flight(
    base: &str,
    upstream: &TestServer,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let body = json!({"model": "test-model", "messages": [{"role": "user", "content": "hi"}]});
    let request = tokio::spawn(
        llm_do_openai::http::client().post(format!("{base}/chat/completions")).json(&body).send(),
    );
    bounded(async {
        while upstream.request_count() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    request
}

/// SIGTERM stops `llm-do serve` in order: the request in flight is answered, then the process
/// exits with 0 (before, it died on the spot and the client's connection was cut).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_the_request_in_flight_then_stops() {
    let upstream = TestServer::builder()
        .script([Reply::text("answered after the signal")])
        .latency(Duration::from_millis(1500))
        .start()
        .await
        .expect("test server");
    let (mut child, base) = start(support::DEFAULT_SIGNALS, &upstream, &[], Stdio::piped()).await;
    let request = in_flight(&base, &upstream).await;
    signal(&child, rustix::process::Signal::TERM);
    let response = bounded(request).await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = bounded(response.json()).await.expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "answered after the signal", "{body}");
    let status = bounded(child.wait()).await.expect("wait");
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("SIGTERM: no new requests"), "{stderr}");
}

/// A second signal does not wait for the requests in flight: the process ends at once with
/// 128 + the signal's number.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_serve_at_once() {
    let upstream = TestServer::builder()
        .script([Reply::text("too late")])
        .latency(Duration::from_secs(30))
        .start()
        .await
        .expect("test server");
    let (mut child, base) = start(support::DEFAULT_SIGNALS, &upstream, &[], Stdio::inherit()).await;
    let request = in_flight(&base, &upstream).await;
    signal(&child, rustix::process::Signal::TERM);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(child.try_wait().unwrap().is_none(), "the first signal waits for the request");
    signal(&child, rustix::process::Signal::INT);
    let status = bounded(child.wait()).await.expect("wait");
    assert_eq!(status.code(), Some(130));
    assert!(bounded(request).await.unwrap().is_err(), "the request in flight was cut");
}

/// A model `serve` cannot serve is refused before it binds: an unknown provider is told every
/// provider name (`local` too, though it was not loaded; before, only `openai`), and `openai`
/// without its key says which variable to set (before: advice about Rust code).
#[test]
fn an_unknown_or_unusable_provider_is_refused_with_what_to_do() {
    let bin = env!("CARGO_BIN_EXE_llm-do");
    let out = support::output(support::command(bin, None).args(["serve", "--model", "nope:x"]));
    assert_eq!(support::code(&out), 2);
    let err = support::stderr(&out);
    assert!(
        err.contains("unknown model provider `nope` in `nope:x` (known: local, openai)"),
        "{err}"
    );
    let out = support::output(support::command(bin, None).args(["serve", "--model", "openai:x"]));
    assert_eq!(support::code(&out), 2);
    let err = support::stderr(&out);
    assert!(
        err.contains("is not usable: OPENAI_API_KEY is not set (set it, and OPENAI_BASE_URL for a server other than OpenAI's)"),
        "{err}"
    );
}

/// An upstream that echoes the server's own API key (or any token) does not hand it to the
/// server's clients: answers are redacted like all CLI output, whole and streamed (where the
/// stream cuts the key in pieces), tool-call arguments included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_answers_are_redacted_whole_and_streamed() {
    let key = "sk-test-0123456789abcdefghij"; // support::command's OPENAI_API_KEY
    let echo = format!("the key is {key}, keep it safe");
    let upstream = TestServer::builder()
        .script([
            Reply::text(echo.as_str()),
            Reply::tool_call("save", json!({"note": key})),
            Reply::text(echo.as_str()),
        ])
        .start()
        .await
        .unwrap();
    let (_child, base) = serve(&upstream).await;
    let http = llm_do_openai::http::client();
    let mut request = json!({"messages": [{"role": "user", "content": "hi"}]});
    let url = format!("{base}/chat/completions");

    let (status, body) = send(http.post(&url).json(&request)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "the key is [redacted], keep it safe");
    let (status, body) = send(http.post(&url).json(&request)).await;
    assert_eq!(status, 200, "{body}");
    let arguments = body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .expect("arguments");
    assert_eq!(serde_json::from_str::<Value>(arguments).unwrap(), json!({"note": "[redacted]"}));

    request["stream"] = json!(true);
    let response = bounded(http.post(&url).json(&request).send()).await.unwrap();
    let events = bounded(response.text()).await.unwrap();
    assert!(!events.contains(key) && !events.contains("0123456789"), "{events}");
    let text = streamed_text(&events);
    assert_eq!(text, "the key is [redacted], keep it safe", "{events}");
}
