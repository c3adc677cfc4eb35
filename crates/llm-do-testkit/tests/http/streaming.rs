//! SSE: chunk format, `[DONE]`, the usage chunk, and streams that add up to the non-streaming
//! message.

use crate::support::{add_tool, ask, assemble, chat, chat_stream, chunks, streamed, within};
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};

/// The non-streaming message and the assembled stream for the same reply, from two servers.
async fn both_ways(reply: Reply, body: &Value) -> (Value, Value, Vec<Value>) {
    let plain = TestServer::builder().script([reply.clone()]).start().await.expect("starts");
    let stream = TestServer::builder().script([reply]).start().await.expect("starts");
    let message = chat(&plain, body).await["choices"][0]["message"].clone();
    let chunks = chunks(&chat_stream(&stream, &streamed(body.clone())).await);
    (message, assemble(&chunks), chunks)
}

#[tokio::test]
async fn text_streams_in_pieces_then_finish_then_usage_then_done() {
    within(async {
        let text = "The answer is three, and that is final.";
        let (message, assembled, chunks) =
            both_ways(Reply::text(text).with_tokens(9, 10), &ask("1 + 2?")).await;
        assert_eq!(assembled, message);
        assert_eq!(message["content"], text);

        for chunk in &chunks {
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["id"], chunks[0]["id"]);
            assert_eq!(chunk["model"], "gpt-4o-mini");
        }
        let deltas: Vec<&Value> =
            chunks.iter().filter_map(|c| c["choices"].get(0)).map(|c| &c["delta"]).collect();
        assert_eq!(deltas[0]["role"], "assistant", "role first");
        let pieces = deltas
            .iter()
            .filter(|d| d.get("content").and_then(Value::as_str).is_some_and(|c| !c.is_empty()))
            .count();
        assert!(pieces > 3, "content comes in several chunks: {pieces}");

        let [.., finish, usage] = chunks.as_slice() else { panic!("too few chunks") };
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        assert_eq!(finish["choices"][0]["delta"], json!({}));
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(
            usage["usage"],
            json!({"prompt_tokens": 9, "completion_tokens": 10, "total_tokens": 19})
        );
        assert!(chunks[..chunks.len() - 1].iter().all(|c| c["usage"].is_null()));
        assert!(
            chunks[..chunks.len() - 2].iter().all(|c| c["choices"][0]["finish_reason"].is_null())
        );
    })
    .await;
}

#[tokio::test]
async fn tool_calls_stream_with_ids_first_and_arguments_in_pieces() {
    within(async {
        let reply = Reply::tool_calls([
            ("add", json!({"a": 12345, "b": 67890})),
            ("lookup", json!({"email": "someone@example.com"})),
        ])
        .with_text("Let me check.");
        let mut body = ask("go");
        body["tools"] = json!([add_tool()]);
        let (message, assembled, chunks) = both_ways(reply, &body).await;
        assert_eq!(assembled, message);
        assert_eq!(message["tool_calls"][1]["id"], "call_2");
        assert_eq!(message["content"], "Let me check.");

        let call_deltas: Vec<&Value> = chunks
            .iter()
            .filter_map(|c| c["choices"].get(0))
            .filter_map(|c| c["delta"].get("tool_calls"))
            .map(|calls| &calls[0])
            .collect();
        let firsts: Vec<&&Value> = call_deltas.iter().filter(|d| d.get("id").is_some()).collect();
        assert_eq!(firsts.len(), 2);
        for first in &firsts {
            assert_eq!(first["type"], "function");
            assert!(first["function"]["name"].is_string());
        }
        let add_pieces =
            call_deltas.iter().filter(|d| d["index"] == 0 && d.get("id").is_none()).count();
        assert!(add_pieces > 2, "arguments come in several chunks: {add_pieces}");
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    })
    .await;
}

#[tokio::test]
async fn default_behaviour_streams_too_and_usage_only_when_asked() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let mut body = ask("go");
        body["tools"] = json!([add_tool()]);
        body["stream"] = json!(true);
        let data = chat_stream(&server, &body).await;
        let chunks = chunks(&data);
        assert!(
            chunks.iter().all(|c| c.get("usage").is_none()
                && !c["choices"].as_array().expect("choices").is_empty())
        );
        let message = assemble(&chunks);
        assert_eq!(message["tool_calls"][0]["function"]["name"], "add");
        assert!(message["content"].is_null());
        let args: Value = serde_json::from_str(
            message["tool_calls"][0]["function"]["arguments"].as_str().expect("text"),
        )
        .expect("JSON");
        assert!(jsonschema::is_valid(&add_tool()["function"]["parameters"], &args));
    })
    .await;
}

#[tokio::test]
async fn paced_streams_arrive_in_pieces_and_an_abandoned_one_is_counted() {
    use crate::support::{post, sse_data};
    use futures::StreamExt as _;
    use std::time::{Duration, Instant};
    within(async {
        let pause = Duration::from_millis(40);
        let text = "A long answer that arrives slowly, six characters at a time.";
        let server = TestServer::builder()
            .script([Reply::text(text), Reply::text(text)])
            .stream_pause(pause)
            .start()
            .await
            .expect("starts");
        let body = streamed(ask("slowly"));

        // Read to the end: the events come one by one (one body chunk each), and the stream
        // is not abandoned.
        let mut pieces = Vec::new();
        let mut stream = post(&server, &body).await.bytes_stream();
        while let Some(piece) = stream.next().await {
            pieces.push(String::from_utf8_lossy(&piece.expect("bytes")).into_owned());
        }
        assert!(pieces.len() > 10, "one chunk per event: {pieces:?}");
        assert_eq!(assemble(&chunks(&sse_data(&pieces.concat())))["content"], text);
        assert_eq!(server.abandoned_streams(), 0);

        // Read the first piece, then close the connection.
        let response = post(&server, &body).await;
        let mut stream = response.bytes_stream();
        let first = stream.next().await.expect("a first piece").expect("bytes");
        assert!(String::from_utf8_lossy(&first).starts_with("data: "));
        drop(stream);
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.abandoned_streams() == 0 {
            assert!(Instant::now() < deadline, "the server never saw the connection close");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.abandoned_streams(), 1);
    })
    .await;
}
