//! Scripted replies: served in order, appended at run time, errors as HTTP errors, then the
//! default behaviour.

use crate::support::{add_tool, ask, chat, client, post, within};
use llm_do_core::{ModelError, ModelErrorKind};
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn serves_replies_in_order_then_the_default_behaviour() {
    within(async {
        let server = TestServer::builder()
            .script([
                Reply::tool_call("add", json!({"a": 1, "b": 2})),
                Reply::text("3").with_tokens(11, 1).with_model("gpt-4o-mini-2024-07-18"),
            ])
            .start()
            .await
            .expect("starts");
        server.push_reply(Reply::json(json!({"sum": 3})).with_finish_reason("length"));

        let first = chat(&server, &ask("1 + 2?")).await;
        let call = &first["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call, &json!({"id": "call_1", "type": "function", "function": {"name": "add", "arguments": r#"{"a":1,"b":2}"#}}));
        assert_eq!(first["choices"][0]["finish_reason"], "tool_calls");

        let second = chat(&server, &ask("and?")).await;
        assert_eq!(second["choices"][0]["message"]["content"], "3");
        assert_eq!(second["model"], "gpt-4o-mini-2024-07-18");
        assert_eq!(second["usage"], json!({"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12}));

        let third = chat(&server, &ask("json")).await;
        assert_eq!(third["choices"][0]["message"]["content"], r#"{"sum":3}"#);
        assert_eq!(third["choices"][0]["finish_reason"], "length");
        assert_eq!(server.remaining_replies(), 0);

        // The script has run out: the default behaviour calls the first tool offered.
        let mut body = ask("again");
        body["tools"] = json!([add_tool()]);
        let fourth = chat(&server, &body).await;
        assert_eq!(fourth["choices"][0]["message"]["tool_calls"][0]["id"], "call_2");
        assert_eq!(server.request_count(), 4);
    })
    .await;
}

#[tokio::test]
async fn error_replies_become_http_errors() {
    within(async {
        let server = TestServer::builder()
            .script([
                Reply::error(
                    ModelError::new(ModelErrorKind::Status(503), "overloaded")
                        .with_retry_after(std::time::Duration::from_millis(1500)),
                ),
                Reply::error(
                    ModelError::new(ModelErrorKind::InvalidRequest, "bad tool schema")
                        .with_code("invalid_tool_schema"),
                ),
                Reply::error(ModelError::new(ModelErrorKind::Other, "boom")),
                Reply::error(ModelError::new(ModelErrorKind::Decode, "garbage")),
                Reply::error(ModelError::new(ModelErrorKind::Transport, "reset")),
            ])
            .start()
            .await
            .expect("starts");
        // A scripted `Retry-After` is sent in whole seconds, rounded up; a scripted code
        // replaces the one of the status.
        for (status, kind, message, retry_after, code) in [
            (503, "server_error", "overloaded", Some("2"), "server_error"),
            (400, "invalid_request_error", "bad tool schema", None, "invalid_tool_schema"),
            (500, "server_error", "boom", None, "server_error"),
        ] {
            let response = post(&server, &ask("x")).await;
            assert_eq!(response.status(), status);
            let header = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
            assert_eq!(header, retry_after);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["error"]["message"], message);
            assert_eq!(body["error"]["type"], kind);
            assert_eq!(body["error"]["code"], code, "{body}");
        }
        let decode = post(&server, &ask("x")).await;
        assert_eq!(decode.status(), 200);
        assert!(serde_json::from_str::<Value>(&decode.text().await.expect("body")).is_err());
        let transport = post(&server, &ask("x")).await;
        assert!(transport.bytes().await.is_err(), "the connection is aborted mid-body");
        // The server is still fine afterwards.
        let response =
            client().get(format!("{}/models", server.base_url())).send().await.expect("sent");
        assert_eq!(response.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn script_files_load() {
    within(async {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/script.json");
        let script = llm_do_testkit::load_script(path).expect("the example script loads");
        let server = TestServer::builder().script(script).start().await.expect("starts");
        let first = chat(&server, &ask("2 + 3?")).await;
        assert_eq!(first["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "add");
        assert_eq!(post(&server, &ask("?")).await.status(), 503);
        let third = chat(&server, &ask("?")).await;
        assert_eq!(third["choices"][0]["message"]["content"], r#"{"sum":5}"#);
        assert_eq!(third["usage"]["prompt_tokens"], 120);
    })
    .await;
}
