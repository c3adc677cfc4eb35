//! `llm-do serve` over the real embedded model: the OpenAI-compatible HTTP API, and the same
//! workers as `local_workers.rs` run over HTTP through llm-do's OpenAI-compatible provider.
//!
//! Each test starts its own server (`--port 0`, the address is read from its stdout) on
//! 127.0.0.1; the process is killed when the test ends. Everything is bounded by timeouts.

#[path = "support/workers.rs"]
mod workers;

use llm_do::prelude::*;
use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
use llm_do::{EventKind, EventLog};
use serde_json::Value;
use std::future::Future;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use workers::*;

async fn bounded<T>(f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(600), f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out"),
    }
}

/// A running `llm-do serve`; killed on drop.
struct Server {
    _child: Child,
    base: String,
}

async fn serve() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llm-do"))
        .args(["serve", "--model", "local:smollm2", "--port", "0", "--threads", "1"])
        .args(["--context-size", "2048"])
        .env_remove("LLM_DO_MODEL")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start llm-do serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = bounded(async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(at) = line.find("http://") {
                return line[at..].trim().to_owned();
            }
        }
        panic!("llm-do serve exited without serving");
    })
    .await;
    Server { _child: child, base }
}

fn client() -> reqwest::Client {
    llm_do_openai::http::client()
}

async fn post(server: &Server, body: Value) -> (u16, String) {
    let r = bounded(client().post(format!("{}/chat/completions", server.base)).json(&body).send())
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, bounded(r.text()).await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_and_completions_over_http() {
    let server = serve().await;
    let models: Value = bounded(client().get(format!("{}/models", server.base)).send())
        .await
        .expect("GET /v1/models")
        .json()
        .await
        .expect("JSON");
    assert_eq!(models["data"][0]["id"], "local:smollm2");

    let schema = serde_json::json!({
        "type": "object",
        "properties": {"category": {"enum": ["Bug", "Billing", "Feature"]}, "urgent": {"type": "boolean"}},
        "required": ["category", "urgent"],
        "additionalProperties": false
    });
    let (status, body) = post(
        &server,
        serde_json::json!({
            "model": "smollm2",
            "messages": [{"role": "user", "content": "Triage: the app crashes on start."}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema, "strict": true}},
            "temperature": 0.8,
            "max_tokens": 48
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "smollm2");
    let content: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().expect("content"))
            .expect("JSON content");
    assert!(jsonschema::is_valid(&schema, &content), "{content}");
    assert!(body["usage"]["completion_tokens"].as_u64().is_some_and(|n| n > 0));

    let (status, body) = post(&server, serde_json::json!({"messages": "nope"})).await;
    assert_eq!(status, 400);
    let error: Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(error["error"]["param"], "messages", "{body}");
    assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
    let (status, body) = post(
        &server,
        serde_json::json!({
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "array", "uniqueItems": true}}}
        }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("keyword `uniqueItems` is not supported"), "{body}");
    // A valid schema no finite answer matches (its required property refers to itself): the
    // client's mistake too, in one line, not the decoder's state.
    let recursive = serde_json::json!({
        "type": "object",
        "properties": {"n": {"$ref": "#/properties/n"}},
        "required": ["n"]
    });
    let (status, body) = post(
        &server,
        serde_json::json!({
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": recursive}},
            "max_tokens": 16
        }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
    assert_eq!(
        error["error"]["message"],
        "invalid request: the output schema cannot be compiled to a grammar: no text can \
         complete an answer that matches it (a schema that no finite JSON value satisfies, such as a required property \
         that refers to itself)"
    );
    // A forced tool call that max_tokens cannot hold: the client's setting, so 400 with the
    // remedy (before: 500, a server error).
    let (status, body) = post(
        &server,
        serde_json::json!({
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [{"type": "function", "function": {"name": "weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}},
            "max_tokens": 3
        }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("max_tokens = 3") && body.contains("raise max_tokens"), "{body}");
    // A named tool_choice is a call of that tool, even for a question that needs none.
    let (status, body) = post(
        &server,
        serde_json::json!({
            "messages": [{"role": "user", "content": "Say hello."}],
            "tools": [{"type": "function", "function": {"name": "weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}},
            "max_tokens": 48
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls", "{body}");
    assert_eq!(body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "weather");

    // `stop` is honoured: a greedy answer, then the same request stopped at its fourth word.
    let story = |stop: Value| {
        serde_json::json!({
            "messages": [{"role": "user", "content": "Write a long story about a dragon."}],
            "temperature": 0, "max_tokens": 40, "stop": stop
        })
    };
    let content = |body: &str| {
        let body: Value = serde_json::from_str(body).expect("JSON body");
        let choice = &body["choices"][0];
        (
            choice["message"]["content"].as_str().unwrap_or_default().to_owned(),
            choice["finish_reason"].clone(),
        )
    };
    let (status, body) = post(&server, story(Value::Null)).await;
    assert_eq!(status, 200, "{body}");
    let (full, _) = content(&body);
    let word = full.split_whitespace().nth(3).expect("a few words").to_owned();
    let (status, body) = post(&server, story(serde_json::json!([word]))).await;
    assert_eq!(status, 200, "{body}");
    let (stopped, reason) = content(&body);
    assert_eq!(stopped.trim_end(), full[..full.find(&word).unwrap()].trim_end(), "{word:?}");
    assert_eq!(reason, "stop");
    // What one answer cannot give is refused, not dropped.
    let (status, body) =
        post(&server, serde_json::json!({"messages": [{"role": "user", "content": "hi"}], "n": 3}))
            .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"param\":\"n\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_completions_are_server_sent_events() {
    let server = serve().await;
    let (status, body) = post(
        &server,
        serde_json::json!({
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.0,
            "max_tokens": 16
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("JSON chunk"))
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String =
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert!(!text.is_empty());
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"].is_string()));
    assert!(chunks.last().expect("usage chunk")["usage"]["completion_tokens"].as_u64().is_some());
}

fn over_http(server: &Server, streaming: bool, log: &EventLog) -> Runtime {
    let provider = OpenAiProvider::new(
        OpenAiConfig::new().base_url(&server.base).api_key("not-needed").streaming(streaming),
    );
    // Every worker keeps its `local:smollm2` model string; the request goes to the server.
    Runtime::builder().model_override(provider).subscribe(log.clone()).ignore_env().build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_workers_run_over_http_through_the_openai_provider() {
    let server = serve().await;
    for streaming in [false, true] {
        let log = EventLog::new();
        let rt = over_http(&server, streaming, &log);
        let ctx = rt.ctx();
        for (i, ticket) in TICKETS.iter().enumerate() {
            let t = bounded(triage(&ctx, (*ticket).into())).await;
            let t = t.unwrap_or_else(|e| panic!("streaming={streaming} sample {i}: {e}"));
            assert!((1..=5).contains(&t.priority));
        }
        let retries =
            log.events().iter().filter(|e| matches!(e.kind, EventKind::OutputRetry { .. })).count();
        assert_eq!(retries, 0, "streaming={streaming}");

        let answer = bounded(where_is_my_order(&ctx, 4417)).await.expect("the loop completes");
        assert!(!answer.trim().is_empty());
        let called = log.events().iter().any(|e| match &e.kind {
            EventKind::ToolCall { call } => call.name == "order_status",
            _ => false,
        });
        assert!(called, "streaming={streaming}:\n{}", log.transcript());
    }
}
