//! `llm-do serve`'s router in-process, over a scripted model or llm-do's OpenAI-compatible
//! provider pointed at the loopback test server (no retries, so that an upstream failure is
//! the answer): what an OpenAI client sees of failures, streams, model retrieval and
//! `tool_choice`.
//!
//! - A stream that fails before any output is answered like a non-streamed request (status
//!   and JSON body), not `200` and an error event; a failure after the output started stays
//!   in the stream.
//! - The role goes with the first piece: deltas added up as OpenAI's SDKs do give
//!   `content: null` for an answer of tool calls only (before: `""`).
//! - Upstream errors carry OpenAI's `type` and a `code`, a 429's `Retry-After`, and an
//!   upstream 401 is a 502 (before: `upstream_error`, `code: null`, no `Retry-After`, 401).
//! - `GET /v1/models/{id}` (before: 404 for every id).
//! - A `tool_choice` that cannot be honoured is a 400 (before: dropped silently).

use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Model, ModelError, ModelErrorKind};
use llm_do_cli::models::Served;
use llm_do_openai::{OpenAiConfig, OpenAiProvider, RetryPolicy};
use llm_do_testkit::{Fault, TestServer};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f).await.expect("timed out")
}

/// Serves `model` as `label` on a loopback port; the base URL `http://127.0.0.1:PORT/v1`.
async fn serve(model: Arc<dyn Model>, label: &str) -> String {
    let app = llm_do_cli::serve::router(Arc::new(Served::new(model, label)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// `openai:test-model` over `upstream`, without retries.
fn upstream_model(upstream: &TestServer, streaming: bool) -> Arc<dyn Model> {
    let config = OpenAiConfig::new()
        .base_url(upstream.base_url())
        .api_key("sk-test-0123456789abcdefghij")
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(10))
        .streaming(streaming);
    Arc::new(OpenAiProvider::new(config))
}

/// What a client got: status, headers and body text.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The JSON events of a stream, `[DONE]` checked and left out.
    fn events(&self) -> Vec<Value> {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.content_type(), "text/event-stream", "{}", self.text);
        let data: Vec<&str> = self.text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
        assert_eq!(data.last(), Some(&"[DONE]"), "{}", self.text);
        data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect()
    }
}

async fn post(base: &str, body: &Value) -> Answer {
    let request = llm_do_openai::http::client().post(format!("{base}/chat/completions")).json(body);
    answer(request).await
}

async fn get(url: String) -> Answer {
    answer(llm_do_openai::http::client().get(url)).await
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = bounded(request.send()).await.expect("request");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    Answer { status, headers, text: bounded(response.text()).await.expect("body") }
}

fn chat(stream: bool) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream})
}

/// The assistant message a client assembles from a stream's deltas, as the OpenAI Python
/// SDK does (`openai.lib.streaming._deltas.accumulate_delta`): the first delta is the message,
/// later ones are added to it (strings appended, a `null` replaced, tool calls merged by
/// `index`).
fn accumulated(events: &[Value]) -> Value {
    fn add(acc: &mut Map<String, Value>, delta: &Map<String, Value>) {
        for (key, value) in delta {
            let Some(current) = acc.get_mut(key).filter(|v| !v.is_null()) else {
                acc.insert(key.clone(), value.clone());
                continue;
            };
            match (current, value) {
                (Value::String(s), Value::String(more)) if key != "type" => s.push_str(more),
                (Value::Object(inner), Value::Object(more)) => add(inner, more),
                (Value::Array(entries), Value::Array(more)) => {
                    for entry in more {
                        let index = entry["index"].as_u64().unwrap() as usize;
                        match entries.get_mut(index).and_then(Value::as_object_mut) {
                            Some(existing) => add(existing, entry.as_object().unwrap()),
                            None => entries.insert(index, entry.clone()),
                        }
                    }
                }
                (current, value) if key == "index" || key == "type" => *current = value.clone(),
                _ => {}
            }
        }
    }
    let mut deltas = events.iter().filter_map(|e| e["choices"][0]["delta"].as_object());
    let mut message = deltas.next().expect("a first delta").clone();
    deltas.for_each(|d| add(&mut message, d));
    Value::Object(message)
}

/// A stream whose request fails before any output gets the very answer a non-streamed request
/// gets (before: `200` and a `data: {"error": …}` event); a failure after some output is an
/// error event at the end of a `200` stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_fails_before_any_output_is_answered_like_a_plain_request() {
    let overloaded =
        || ModelError::new(ModelErrorKind::Status(503), "overloaded, retry later").retryable(true);
    let invalid = || ModelError::new(ModelErrorKind::InvalidRequest, "the schema is too deep");
    let model = ScriptedModel::queue([
        Reply::error(overloaded()),
        Reply::error(overloaded()),
        Reply::error(invalid()),
        Reply::error(invalid()),
    ]);
    let base = serve(Arc::new(model), "test:echo").await;
    for status in [503, 400] {
        let plain = post(&base, &chat(false)).await;
        let streamed = post(&base, &chat(true)).await;
        assert_eq!(plain.status, status, "{}", plain.text);
        assert_eq!((streamed.status, streamed.content_type()), (status, "application/json"));
        assert_eq!(streamed.json(), plain.json());
        assert!(plain.json()["error"]["message"].is_string(), "{}", plain.text);
    }

    // Upstream: half the answer's pieces, then the stream ends without a finish.
    let upstream = TestServer::builder()
        .script([Reply::text("one two three four five six seven eight nine ten eleven")])
        .faults([Fault::TruncatedStream])
        .start()
        .await
        .unwrap();
    let base = serve(upstream_model(&upstream, true), "openai:test-model").await;
    let events = post(&base, &chat(true)).await.events();
    let message = accumulated(&events);
    assert!(message["content"].as_str().is_some_and(|t| t.starts_with("one two")), "{events:?}");
    let last = events.last().unwrap();
    assert_eq!(last["error"]["type"], "server_error", "{last}");
    assert!(!events.iter().any(|e| e["choices"][0]["finish_reason"].is_string()));
}

/// The first chunk has the role with the first piece; an answer of tool calls only adds up to
/// `content: null` and its calls, a text answer to its text, from a model that streams
/// (upstream) or not (scripted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_deltas_add_up_to_the_message_openai_sends() {
    let call = || Reply::tool_call("save", json!({"note": "x"}));
    let request = |stream: bool| {
        let mut body = chat(stream);
        body["tools"] = json!([{"type": "function", "function": {"name": "save"}}]);
        body
    };
    let scripted = ScriptedModel::queue([call(), Reply::text("hello there")]);
    let upstream =
        TestServer::builder().script([call(), Reply::text("hello there")]).start().await.unwrap();
    for base in [
        serve(Arc::new(scripted), "test:echo").await,
        serve(upstream_model(&upstream, true), "openai:test-model").await,
    ] {
        let events = post(&base, &request(true)).await.events();
        let first = &events[0]["choices"][0]["delta"];
        assert_eq!((first["role"].as_str(), first["content"].is_null()), (Some("assistant"), true));
        let message = accumulated(&events);
        assert!(message["content"].is_null(), "{message}");
        assert_eq!(message["role"], "assistant");
        let calls = message["tool_calls"].as_array().expect("tool calls");
        assert_eq!(calls.len(), 1, "{message}");
        assert_eq!(calls[0]["function"]["name"], "save");
        assert_eq!(calls[0]["type"], "function");
        let arguments: Value =
            serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(arguments, json!({"note": "x"}));
        let finish = events.iter().find_map(|e| e["choices"][0]["finish_reason"].as_str());
        assert_eq!(finish, Some("tool_calls"));

        let events = post(&base, &chat(true)).await.events();
        assert_eq!(events[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(accumulated(&events)["content"], "hello there");
    }
}

/// A refusal reaches the client as OpenAI sends one, `message.refusal` (streamed: `refusal`
/// deltas), from a scripted model and through an upstream, streamed or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_passed_on_as_a_refusal() {
    let refusal = || Reply::refusal("I can't help with that.");
    let upstream = TestServer::builder().script([refusal(), refusal()]).start().await.unwrap();
    for (base, upstream_streams) in [
        (serve(Arc::new(ScriptedModel::queue([refusal(), refusal()])), "test:echo").await, false),
        (serve(upstream_model(&upstream, true), "openai:test-model").await, true),
    ] {
        let whole = post(&base, &chat(false)).await.json();
        let message = &whole["choices"][0]["message"];
        assert_eq!(message["refusal"], "I can't help with that.", "{whole}");
        assert!(message["content"].is_null(), "{whole}");
        let message = accumulated(&post(&base, &chat(true)).await.events());
        assert_eq!(message["refusal"], "I can't help with that.", "{upstream_streams}: {message}");
        assert!(message["content"].is_null(), "{message}");
    }
}

/// Upstream errors as OpenAI sends its own: OpenAI's `type`, a `code`, a 429's `Retry-After`
/// passed on, and a 401 or 403 (the upstream refused *this server's* key) as a 502, so that
/// the client does not take it for its own key's; streamed or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_errors_are_openais_with_retry_after_and_a_refused_key_is_a_502() {
    let upstream = TestServer::builder().start().await.unwrap();
    let plain = serve(upstream_model(&upstream, false), "openai:test-model").await;
    let streaming = serve(upstream_model(&upstream, true), "openai:test-model").await;
    let fault = |code: u16, retry_after: Option<u64>| Fault::Status {
        code,
        retry_after,
        message: Some(format!("upstream says {code}")),
    };
    for (base, stream) in [(&plain, false), (&streaming, true)] {
        upstream.push_fault(fault(429, Some(7)));
        let a = post(base, &chat(stream)).await;
        assert_eq!(a.status, 429, "{}", a.text);
        let error = &a.json()["error"];
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("rate_limit_error"), Some("rate_limit_exceeded"))
        );
        assert!(error["message"].as_str().unwrap().contains("upstream says 429"), "{error}");
        assert_eq!(a.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("7"));
        assert_eq!(a.headers.get("retry-after-ms").map(|v| v.to_str().unwrap()), Some("7000"));

        upstream.push_fault(fault(503, None));
        let a = post(base, &chat(stream)).await;
        assert_eq!(a.status, 503, "{}", a.text);
        assert_eq!(a.json()["error"]["type"], "server_error");
        assert!(a.headers.get("retry-after").is_none());

        for refused in [401, 403] {
            upstream.push_fault(fault(refused, None));
            let a = post(base, &chat(stream)).await;
            assert_eq!(a.status, 502, "{}", a.text);
            let error = &a.json()["error"];
            assert_eq!(
                (error["type"].as_str(), error["code"].as_str()),
                (Some("server_error"), Some("upstream_credentials_refused"))
            );
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("refused the credentials of this server"), "{message}");
            assert!(message.contains(&format!("upstream says {refused}")), "{message}");
        }
    }
}

/// `client.models.retrieve(id)`: the served model for its own id (a label with a `/` too, and
/// percent-encoded), an OpenAI-style 404 `model_not_found` for any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_model_is_retrieved_by_its_id_and_no_other() {
    let base = serve(Arc::new(ScriptedModel::queue([])), "openai:org/echo-1").await;
    let listed = get(format!("{base}/models")).await.json();
    let expected =
        json!({"id": "openai:org/echo-1", "object": "model", "created": 0, "owned_by": "llm-do"});
    assert_eq!(listed["data"][0], expected);
    for id in ["openai:org/echo-1", "openai%3Aorg%2Fecho-1"] {
        let a = get(format!("{base}/models/{id}")).await;
        assert_eq!((a.status, a.json()), (200, expected.clone()), "{id}");
    }
    for id in ["echo-1", "openai:org", "gpt-4o", "openai:org/echo-1/x"] {
        let a = get(format!("{base}/models/{id}")).await;
        assert_eq!(a.status, 404, "{id}: {}", a.text);
        let error = &a.json()["error"];
        assert_eq!(error["code"], "model_not_found", "{error}");
        assert_eq!(
            (error["type"].as_str(), error["param"].as_str()),
            (Some("invalid_request_error"), Some("model"))
        );
    }
    let a =
        answer(llm_do_openai::http::client().delete(format!("{base}/models/openai:org/echo-1")))
            .await;
    assert_eq!(a.status, 405, "{}", a.text);
}

/// A `tool_choice` that cannot be honoured is refused with a 400 naming `tool_choice`, and the
/// model is not asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_choice_that_cannot_be_honoured_is_a_400() {
    let model = Arc::new(ScriptedModel::queue([]));
    let base = serve(model.clone(), "test:echo").await;
    let tools = json!([{"type": "function", "function": {"name": "save"}}]);
    for (tools, choice) in [
        (Value::Null, json!("required")),
        (tools.clone(), json!({"type": "function"})),
        (tools.clone(), json!({"type": "function", "function": {"name": "load"}})),
    ] {
        for stream in [false, true] {
            let mut body = chat(stream);
            body["tools"] = tools.clone();
            body["tool_choice"] = choice.clone();
            let a = post(&base, &body).await;
            assert_eq!(a.status, 400, "{choice}: {}", a.text);
            let error = &a.json()["error"];
            assert_eq!(
                (error["type"].as_str(), error["param"].as_str()),
                (Some("invalid_request_error"), Some("tool_choice"))
            );
        }
    }
    assert_eq!(model.request_count(), 0);
}
