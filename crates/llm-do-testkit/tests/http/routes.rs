//! `/v1/models`, unknown paths and malformed requests.

use crate::support::{ask, chat, client, within};
use llm_do_testkit::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn lists_models_including_those_asked_for() {
    within(async {
        let server = TestServer::builder().models(["gpt-4o"]).start().await.expect("starts");
        let mut body = ask("hi");
        body["model"] = json!("any-model-name");
        chat(&server, &body).await;
        let response =
            client().get(format!("{}/models", server.base_url())).send().await.expect("sent");
        assert_eq!(response.status(), 200);
        let list: Value = response.json().await.expect("JSON");
        assert_eq!(list["object"], "list");
        let ids: Vec<&str> = list["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        assert_eq!(ids, ["gpt-4o", "any-model-name"]);
        assert_eq!(list["data"][0]["object"], "model");

        let default = TestServer::start().await.expect("starts");
        let list: Value = client()
            .get(format!("{}/models", default.base_url()))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON");
        assert_eq!(list["data"][0]["id"], llm_do_testkit::DEFAULT_MODEL);
    })
    .await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_openai_style_errors() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let response = client()
            .post(format!("http://{}/v1/completions", server.addr()))
            .json(&ask("x"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(body["error"]["message"].as_str().expect("message").contains("/v1/completions"));

        let response = client()
            .get(format!("{}/chat/completions", server.base_url()))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 405);
        let body: Value = response.json().await.expect("JSON");
        assert!(body["error"]["message"].is_string());
    })
    .await;
}

#[tokio::test]
async fn malformed_requests_are_400s_and_the_server_keeps_serving() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let url = format!("{}/chat/completions", server.base_url());
        let cases: [(&str, Option<&str>); 6] = [
            ("{not json", None),
            ("", None),
            ("[1, 2]", None),
            (r#"{"messages": [{"role": "user", "content": "x"}]}"#, Some("model")),
            (r#"{"model": "m", "messages": "hi"}"#, Some("messages")),
            (r#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {}}]}"#, Some("tools[0].function.name")),
        ];
        for (body, param) in cases {
            let response = client()
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), 400, "{body}");
            let error: Value = response.json().await.expect("JSON");
            assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
            assert_eq!(error["error"]["param"].as_str(), param, "{body}");
            assert!(error["error"]["message"].is_string());
        }
        chat(&server, &ask("still there?")).await;
    })
    .await;
}
