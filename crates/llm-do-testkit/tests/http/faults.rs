//! Every fault kind, queued or drawn at a seeded rate.

use crate::support::{ask, chat, chunks, post, sse_data, streamed, within};
use llm_do_testing::scripted::Reply;
use llm_do_testkit::{Fault, FaultKind, TestServer};
use serde_json::{Value, json};
use std::time::Duration;

async fn scripted(text: &str) -> TestServer {
    TestServer::builder().script([Reply::text(text)]).start().await.expect("starts")
}

#[tokio::test]
async fn status_faults_keep_the_reply_for_the_retry() {
    within(async {
        let server = scripted("after the retry").await;
        server.push_fault(Fault::Status { code: 429, retry_after: Some(1), message: None });
        server.push_fault(Fault::Status {
            code: 503,
            retry_after: None,
            message: Some("try later".into()),
        });
        server.push_fault(Fault::Status { code: 400, retry_after: None, message: None });
        server.push_fault(Fault::Status { code: 1000, retry_after: None, message: None });

        let response = post(&server, &ask("x")).await;
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["type"], "rate_limit_error");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert!(body["error"]["message"].as_str().expect("message").contains("Too Many Requests"));

        let response = post(&server, &streamed(ask("x"))).await;
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("retry-after").is_none());
        let body: Value = response.json().await.expect("JSON, even for a stream request");
        assert_eq!(body["error"]["message"], "try later");
        assert_eq!(body["error"]["type"], "server_error");

        assert_eq!(post(&server, &ask("x")).await.status(), 400);
        assert_eq!(
            post(&server, &ask("x")).await.status(),
            500,
            "impossible codes are sent as 500"
        );
        assert_eq!(server.remaining_replies(), 1);
        let answer = chat(&server, &ask("x")).await;
        assert_eq!(answer["choices"][0]["message"]["content"], "after the retry");
        assert_eq!(server.request_count(), 5);
    })
    .await;
}

#[tokio::test]
async fn delay_then_a_normal_answer() {
    within(async {
        let server = scripted("slow").await;
        server.push_fault(Fault::Delay(Duration::from_millis(20)));
        let answer = chat(&server, &ask("x")).await;
        assert_eq!(answer["choices"][0]["message"]["content"], "slow");
        assert_eq!(server.remaining_replies(), 0, "a delayed answer uses the reply");
    })
    .await;
}

#[tokio::test]
async fn close_mid_body_aborts_the_connection() {
    within(async {
        let server = scripted("the full answer, which is rather long").await;
        server.push_fault(Fault::CloseMidBody);
        server.push_fault(Fault::CloseMidBody);

        let response = post(&server, &ask("x")).await;
        assert_eq!(response.status(), 200);
        let declared: usize =
            response.headers()["content-length"].to_str().expect("text").parse().expect("number");
        assert!(declared > 0);
        assert!(response.bytes().await.is_err(), "reading the body fails");

        let response = post(&server, &streamed(ask("x"))).await;
        assert_eq!(response.status(), 200);
        assert!(response.bytes().await.is_err(), "reading the stream fails");

        assert_eq!(server.remaining_replies(), 1);
        let answer = chat(&server, &ask("x")).await;
        assert_eq!(
            answer["choices"][0]["message"]["content"],
            "the full answer, which is rather long"
        );
    })
    .await;
}

#[tokio::test]
async fn truncated_stream_ends_without_done() {
    within(async {
        let server = scripted("a long enough answer to be cut in the middle").await;
        server.push_fault(Fault::TruncatedStream);
        server.push_fault(Fault::TruncatedStream);

        let response = post(&server, &streamed(ask("x"))).await;
        assert_eq!(response.status(), 200);
        let data = sse_data(&response.text().await.expect("the stream ends cleanly"));
        assert!(!data.is_empty());
        assert!(!data.contains(&"[DONE]".to_owned()));
        let chunks: Vec<Value> =
            data.iter().map(|d| serde_json::from_str(d).expect("JSON chunks")).collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert!(chunks.iter().all(|c| c["choices"][0]["finish_reason"].is_null()));

        let response = post(&server, &ask("x")).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.expect("the body is complete as sent");
        assert!(text.starts_with('{'));
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
        assert_eq!(server.remaining_replies(), 1);
    })
    .await;
}

#[tokio::test]
async fn invalid_json_and_empty_choices() {
    within(async {
        let server = scripted("kept").await;
        for fault in
            [Fault::InvalidJson, Fault::InvalidJson, Fault::EmptyChoices, Fault::EmptyChoices]
        {
            server.push_fault(fault);
        }
        let response = post(&server, &ask("x")).await;
        assert_eq!(response.status(), 200);
        assert!(serde_json::from_str::<Value>(&response.text().await.expect("body")).is_err());

        let response = post(&server, &streamed(ask("x"))).await;
        let data = sse_data(&response.text().await.expect("body"));
        assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
        assert!(serde_json::from_str::<Value>(&data[0]).is_err());

        let body = chat(&server, &ask("x")).await;
        assert_eq!(body["choices"], json!([]));
        assert_eq!(body["object"], "chat.completion");

        let response = post(&server, &streamed(ask("x"))).await;
        let chunks = chunks(&sse_data(&response.text().await.expect("body")));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0]["choices"], json!([]));

        assert_eq!(server.remaining_replies(), 1);
    })
    .await;
}

#[tokio::test]
async fn lenient_decoding_quirks() {
    within(async {
        let call = Reply::tool_call("add", json!({"a": 1}));
        let server = TestServer::builder()
            .script([
                call.clone(),
                Reply::text("extra"),
                Reply::text("empty"),
                call.clone(),
                Reply::text("extra"),
                Reply::text("empty"),
            ])
            .faults([Fault::MinimalBody, Fault::ExtraFields, Fault::EmptyFinishReason])
            .start()
            .await
            .expect("starts");

        let minimal = chat(&server, &ask("x")).await;
        for field in ["object", "created", "system_fingerprint", "usage"] {
            assert!(minimal.get(field).is_none(), "{field}: {minimal}");
        }
        assert!(minimal["choices"][0]["message"].get("content").is_none());
        assert_eq!(minimal["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "add");
        assert!(minimal["id"].is_string() && minimal["model"].is_string());

        let extra = chat(&server, &ask("x")).await;
        assert!(extra.get("x_testkit_note").is_some());
        assert!(extra["choices"][0].get("logprobs").is_some());
        assert!(extra["choices"][0]["message"].get("refusal").is_some());
        assert!(extra["usage"].get("prompt_tokens_details").is_some());
        assert_eq!(extra["choices"][0]["message"]["content"], "extra");

        let empty = chat(&server, &ask("x")).await;
        assert_eq!(empty["choices"][0]["finish_reason"], "");
        assert_eq!(empty["choices"][0]["message"]["content"], "empty");

        // The same quirks on streams.
        for fault in [Fault::MinimalBody, Fault::ExtraFields, Fault::EmptyFinishReason] {
            server.push_fault(fault);
        }
        let minimal = stream_chunks(&server).await;
        assert!(minimal.iter().all(|c| c.get("object").is_none() && c.get("usage").is_none()));
        assert!(
            minimal.iter().all(|c| !c["choices"].as_array().expect("choices").is_empty()),
            "no usage chunk"
        );
        let extra = stream_chunks(&server).await;
        assert!(extra.iter().all(|c| c.get("x_testkit_note").is_some()));
        let empty = stream_chunks(&server).await;
        assert_eq!(empty[empty.len() - 2]["choices"][0]["finish_reason"], "");
        assert_eq!(server.remaining_replies(), 0);
    })
    .await;
}

#[tokio::test]
async fn whole_body_answers_a_streamed_request_with_json() {
    within(async {
        let server = scripted("whole").await;
        server.push_fault(Fault::WholeBody);
        let response = post(&server, &streamed(ask("x"))).await;
        let kind = response.headers()["content-type"].to_str().expect("ascii").to_owned();
        assert!(kind.starts_with("application/json"), "{kind}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["choices"][0]["message"]["content"], "whole");
    })
    .await;
}

/// The chunks of a streamed answer.
async fn stream_chunks(server: &TestServer) -> Vec<Value> {
    let response = post(server, &streamed(ask("x"))).await;
    chunks(&sse_data(&response.text().await.expect("body")))
}

/// What a client sees, in short, for one request.
async fn outcome(server: &TestServer) -> String {
    let response = post(server, &ask("x")).await;
    let status = response.status().as_u16();
    match response.bytes().await {
        Err(_) => format!("{status} aborted"),
        Ok(body) => match serde_json::from_slice::<Value>(&body) {
            Err(_) => format!("{status} not-json"),
            Ok(v) if status != 200 => format!("{status} {}", v["error"]["code"]),
            Ok(v) => format!("{status} choices={}", v["choices"].as_array().map_or(0, Vec::len)),
        },
    }
}

async fn run(seed: u64) -> Vec<String> {
    let kinds = [
        FaultKind::Status500,
        FaultKind::Status429,
        FaultKind::InvalidJson,
        FaultKind::EmptyChoices,
        FaultKind::CloseMidBody,
    ];
    let server = TestServer::builder().fault_rate(0.5, seed, kinds).start().await.expect("starts");
    let mut outcomes = Vec::new();
    for _ in 0..24 {
        outcomes.push(outcome(&server).await);
    }
    outcomes
}

#[tokio::test]
async fn rate_based_faults_are_reproducible_with_a_seed() {
    within(async {
        let first = run(42).await;
        assert_eq!(first, run(42).await);
        assert_ne!(first, run(43).await);
        let faulty = first.iter().filter(|o| o.as_str() != "200 choices=1").count();
        assert!(faulty > 0 && faulty < first.len(), "{first:?}");
    })
    .await;
}
