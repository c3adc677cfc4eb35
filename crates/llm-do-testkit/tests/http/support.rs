//! Helpers shared by the HTTP tests: a bounded client, request bodies, SSE parsing and stream
//! assembly.

use llm_do_testkit::TestServer;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::time::Duration;

/// The most any test may take.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs a test body, failing it if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(test: F) -> F::Output {
    match tokio::time::timeout(LIMIT, test).await {
        Ok(output) => output,
        Err(_) => panic!("test timed out after {LIMIT:?}"),
    }
}

/// An HTTP client whose every request is bounded too.
pub fn client() -> reqwest::Client {
    llm_do_openai::http::client_builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// A chat request asking `text`.
pub fn ask(text: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

/// The same request, streamed, with the usage chunk asked for.
pub fn streamed(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body
}

/// An `add` tool definition.
pub fn add_tool() -> Value {
    json!({"type": "function", "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "minimum": 1}},
            "required": ["a", "b"],
            "additionalProperties": false
        }
    }})
}

/// `POST {base}/chat/completions` with an API key.
pub async fn post(server: &TestServer, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/chat/completions", server.base_url()))
        .bearer_auth("sk-test-secret")
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// A chat request that must succeed; its JSON body.
pub async fn chat(server: &TestServer, body: &Value) -> Value {
    let response = post(server, body).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON body")
}

/// The `data:` payloads of an SSE body, in order (`[DONE]` included as is).
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {event:?}"))
                .to_owned()
        })
        .collect()
}

/// A streamed chat request that must succeed; its `data:` payloads.
pub async fn chat_stream(server: &TestServer, body: &Value) -> Vec<String> {
    let response = post(server, body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    sse_data(&response.text().await.expect("a complete body"))
}

/// The chunks of a complete stream (everything before `[DONE]`, which must come last).
pub fn chunks(data: &[String]) -> Vec<Value> {
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{data:?}");
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("each chunk is JSON"))
        .collect()
}

/// The assistant message the deltas of `chunks` add up to, in the non-streaming form.
pub fn assemble(chunks: &[Value]) -> Value {
    let mut role = Value::Null;
    let mut content: Option<String> = None;
    let mut calls: Vec<Map<String, Value>> = Vec::new();
    for chunk in chunks {
        let Some(delta) = chunk["choices"].get(0).map(|c| &c["delta"]) else { continue };
        if let Some(r) = delta.get("role") {
            role = r.clone();
        }
        if let Some(piece) = delta.get("content").and_then(Value::as_str) {
            content.get_or_insert_with(String::new).push_str(piece);
        }
        for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let index = call["index"].as_u64().expect("index") as usize;
            if index == calls.len() {
                calls.push(Map::new());
                calls[index].insert("id".into(), call["id"].clone());
                calls[index].insert("type".into(), call["type"].clone());
                calls[index].insert(
                    "function".into(),
                    json!({"name": call["function"]["name"], "arguments": ""}),
                );
            }
            let piece = call["function"]["arguments"].as_str().unwrap_or_default();
            let arguments = &mut calls[index]["function"]["arguments"];
            *arguments = json!(format!("{}{piece}", arguments.as_str().unwrap_or_default()));
        }
    }
    let mut message = json!({"role": role, "content": content});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls.into_iter().map(Value::Object).collect());
    }
    message
}
