//! What keeps web pages off `llm-do serve` (`serve/guard.rs`): a page can make a browser send a
//! request to a server on the loopback interface without asking it first when the body is
//! `text/plain`, a form or untyped (a CORS "simple request"), and, with a domain name that it
//! made resolve to `127.0.0.1` (DNS rebinding), read the answer. Before this guard each such
//! request ran the served model — spending the operator's upstream key for `openai:…`.
//!
//! - A chat completion whose body is not sent as `application/json` is a 415
//!   `unsupported_media_type`, and never reaches the model.
//! - On a loopback address, a `Host` that is not `localhost` or an IP address is a 403
//!   `host_not_allowed`.

use llm_do::testing::{Reply, ScriptedModel};
use llm_do_cli::models::Served;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f).await.expect("timed out")
}

/// Serves `app` on a loopback port; the base URL `http://127.0.0.1:PORT/v1`.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = bounded(request.send()).await.expect("request");
    let status = response.status().as_u16();
    let text = bounded(response.text()).await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn body() -> String {
    json!({"messages": [{"role": "user", "content": "hi"}]}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_not_sent_as_json_is_a_415_and_reaches_no_model() {
    let model = Arc::new(ScriptedModel::queue([Reply::text("one"), Reply::text("two")]));
    let base =
        serve(llm_do_cli::serve::router(Arc::new(Served::new(model.clone(), "test:m")))).await;
    let http = llm_do_openai::http::client();
    let url = format!("{base}/chat/completions");
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut request = http.post(&url).body(body());
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let (status, answer) = send(request).await;
        assert_eq!(status, 415, "{content_type:?}: {answer}");
        assert_eq!(answer["error"]["code"], "unsupported_media_type", "{answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error", "{answer}");
    }
    assert_eq!(model.requests().len(), 0, "no refused request reached the model");
    // JSON, with a charset or without, is served.
    for content_type in ["application/json", "application/json; charset=utf-8"] {
        let (status, answer) =
            send(http.post(&url).header("content-type", content_type).body(body())).await;
        assert_eq!(status, 200, "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_loopback_a_host_that_is_not_local_is_a_403() {
    let model =
        Arc::new(ScriptedModel::queue([Reply::text("a"), Reply::text("b"), Reply::text("c")]));
    let served = Arc::new(Served::new(model.clone(), "test:m"));
    let base = serve(llm_do_cli::serve::loopback_only(llm_do_cli::serve::router(served))).await;
    let http = llm_do_openai::http::client();
    let chat = |host: &str| {
        http.post(format!("{base}/chat/completions"))
            .header("host", host)
            .header("content-type", "application/json")
            .body(body())
    };
    for host in ["attacker.example", "attacker.example:8080", "localhost.attacker.example"] {
        let (status, answer) = send(chat(host)).await;
        assert_eq!(status, 403, "{host}: {answer}");
        assert_eq!(answer["error"]["code"], "host_not_allowed", "{answer}");
    }
    let (status, _) =
        send(http.get(format!("{base}/models")).header("host", "attacker.example")).await;
    assert_eq!(status, 403);
    assert_eq!(model.requests().len(), 0, "no refused request reached the model");
    for host in ["127.0.0.1", "localhost:8080", "[::1]:8080"] {
        let (status, answer) = send(chat(host)).await;
        assert_eq!(status, 200, "{host}: {answer}");
    }
}
