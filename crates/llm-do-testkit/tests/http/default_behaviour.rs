//! Without a script: call the first tool with schema-valid arguments, then answer; JSON that
//! validates when a schema is requested.

use crate::support::{add_tool, ask, chat, within};
use llm_do_testkit::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn calls_the_first_tool_then_answers_with_its_result() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let now = json!({"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}});
        let mut body = ask("What is 1 + 2?");
        body["tools"] = json!([add_tool(), now]);

        let first = chat(&server, &body).await;
        assert_eq!(first["object"], "chat.completion");
        assert_eq!(first["model"], "gpt-4o-mini");
        let choice = &first["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["role"], "assistant");
        assert_eq!(choice["message"]["content"], Value::Null);
        let calls = choice["message"]["tool_calls"].as_array().expect("tool calls");
        assert_eq!(calls.len(), 1, "only the first tool is called");
        assert_eq!(calls[0]["id"], "call_1");
        assert_eq!(calls[0]["type"], "function");
        assert_eq!(calls[0]["function"]["name"], "add");
        let args: Value = serde_json::from_str(calls[0]["function"]["arguments"].as_str().expect("text"))
            .expect("arguments are JSON text");
        let schema = &add_tool()["function"]["parameters"];
        assert!(jsonschema::is_valid(schema, &args), "{args}");
        let usage = &first["usage"];
        assert_eq!(
            usage["total_tokens"].as_u64(),
            Some(usage["prompt_tokens"].as_u64().expect("n") + usage["completion_tokens"].as_u64().expect("n"))
        );

        let messages = body["messages"].as_array_mut().expect("messages");
        messages.push(choice["message"].clone());
        messages.push(json!({"role": "tool", "tool_call_id": "call_1", "content": "3"}));
        let second = chat(&server, &body).await;
        assert_eq!(second["choices"][0]["finish_reason"], "stop");
        assert_eq!(second["choices"][0]["message"]["content"], r#"{"add":3}"#);
        assert!(second["choices"][0]["message"].get("tool_calls").is_none());
    })
    .await;
}

#[tokio::test]
async fn answers_text_without_tools() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let answer = chat(&server, &ask("hello")).await;
        assert_eq!(answer["choices"][0]["message"]["content"], "success (no tool calls)");
        assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    })
    .await;
}

#[tokio::test]
async fn answers_json_valid_against_the_requested_schema() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let schema = json!({
            "type": "object",
            "properties": {
                "category": {"enum": ["Bug", "Billing", "Feature"]},
                "confidence": {"type": "number", "minimum": 0.5, "maximum": 1},
                "tags": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 2}
            },
            "required": ["category", "confidence", "tags"],
            "additionalProperties": false
        });
        let mut body = ask("Classify: I was charged twice");
        body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "Ticket", "schema": schema, "strict": true}});
        let answer = chat(&server, &body).await;
        let content = answer["choices"][0]["message"]["content"].as_str().expect("content");
        let value: Value = serde_json::from_str(content).expect("content is JSON");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        assert!(validator.is_valid(&value), "{value}");

        body["response_format"] = json!({"type": "json_object"});
        let answer = chat(&server, &body).await;
        let content = answer["choices"][0]["message"]["content"].as_str().expect("content");
        assert!(serde_json::from_str::<Value>(content).expect("JSON").is_object());
    })
    .await;
}

#[tokio::test]
async fn a_schema_without_examples_is_a_400() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let mut body = ask("x");
        body["response_format"] =
            json!({"type": "json_schema", "json_schema": {"name": "Never", "schema": {"not": {}}}});
        let response = crate::support::post(&server, &body).await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert!(error["error"]["message"].as_str().expect("message").contains("Never"), "{error}");
    })
    .await;
}
