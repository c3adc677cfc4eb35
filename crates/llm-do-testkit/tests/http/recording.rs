//! Every request is recorded, with secrets redacted.

use crate::support::{ask, client, within};
use llm_do_testkit::{REDACTED, TestServer};
use serde_json::{Value, json};

#[tokio::test]
async fn records_method_path_headers_and_body_without_secrets() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let body = ask("hi");
        let response = client()
            .post(format!("{}/chat/completions?api-version=1", server.base_url()))
            .bearer_auth("sk-live-very-secret")
            .header("api-key", "azure-very-secret")
            .header("x-request-id", "req-7")
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        client()
            .post(format!("{}/chat/completions", server.base_url()))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("sent");
        client().get(format!("http://{}/elsewhere", server.addr())).send().await.expect("sent");

        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(server.request_count(), 3);
        let first = &requests[0];
        assert_eq!((first.method.as_str(), first.path.as_str()), ("POST", "/v1/chat/completions"));
        assert_eq!(first.body, body);
        assert_eq!(first.header("authorization"), Some(REDACTED));
        assert_eq!(first.headers.get("api-key").map(String::as_str), Some("[redacted]"));
        assert_eq!(first.header("X-Request-Id"), Some("req-7"));
        assert_eq!(first.header("content-type"), Some("application/json"));
        let everything = serde_json::to_string(&requests).expect("serializes");
        assert!(!everything.contains("very-secret"), "{everything}");

        assert_eq!(requests[1].body, Value::String("{not json".into()));
        assert_eq!((requests[2].method.as_str(), requests[2].path.as_str()), ("GET", "/elsewhere"));
        assert_eq!(requests[2].body, Value::Null);
        assert_eq!(server.last_request().as_ref(), requests.last());
        assert_eq!(json!(requests[0].headers.contains_key("host")), json!(true));
    })
    .await;
}
