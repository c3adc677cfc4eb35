//! `llm-do serve --api-key-env VAR`: with it, every request must carry
//! `Authorization: Bearer <key>` (the variable's value), else it is a 401 that reaches no
//! model. Before, a server started with `--host 0.0.0.0` served the model (and spent its
//! operator's upstream key) for anyone who could reach the address.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt as _;
use tokio::process::Child;

const KEY: &str = "k3y-for-the-clients-0123";

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), f).await.expect("timed out")
}

/// `llm-do serve` over the test server with `flags` and `LLM_DO_TEST_SERVE_KEY=KEY`; its
/// address.
async fn serve(upstream: &TestServer, flags: &[&str]) -> (Child, String) {
    let cmd = support::command(env!("CARGO_BIN_EXE_llm-do"), Some(&upstream.base_url()));
    let mut cmd: tokio::process::Command = cmd.into();
    let mut child = cmd
        .env("LLM_DO_TEST_SERVE_KEY", KEY)
        .args(["serve", "--model", "openai:test-model", "--port", "0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start llm-do serve");
    let base = support::served_address(child.stdout.take().expect("stdout")).await;
    (child, base)
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = bounded(request.send()).await.expect("request");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = bounded(response.json()).await.expect("a JSON body");
    (status, challenge, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_api_key_only_requests_that_carry_it_reach_the_model() {
    let upstream = TestServer::builder().script([Reply::text("served")]).start().await.unwrap();
    let (_child, base) = serve(&upstream, &["--api-key-env", "LLM_DO_TEST_SERVE_KEY"]).await;
    let http = llm_do_openai::http::client();
    let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let post = || http.post(format!("{base}/chat/completions")).json(&chat);

    // No key, on every route (the model list too, as OpenAI's API has it).
    let (status, challenge, body) = send(http.get(format!("{base}/models"))).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")), "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key", "{body}");
    assert_eq!(body["error"]["type"], "authentication_error", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("needs an API key"), "{body}");
    let (status, _, _) = send(post()).await;
    assert_eq!(status, 401);
    // Another key, or the key under another scheme.
    let (status, _, body) = send(post().bearer_auth("k3y-for-the-clients-0124")).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("is not this server's"), "{body}");
    assert!(!body.to_string().contains("0124") && !body.to_string().contains(KEY), "{body}");
    let (status, _, _) = send(post().basic_auth("user", Some(KEY))).await;
    assert_eq!(status, 401);
    assert_eq!(upstream.request_count(), 0, "a refused request reached the model");

    // The key: served.
    let (status, _, body) = send(post().bearer_auth(KEY)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "served", "{body}");
    let (status, _, body) = send(http.get(format!("{base}/models")).bearer_auth(KEY)).await;
    assert_eq!((status, body["data"][0]["id"].as_str()), (200, Some("openai:test-model")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_api_key_the_server_answers_anyone_as_before() {
    let upstream = TestServer::builder().script([Reply::text("open")]).start().await.unwrap();
    let (_child, base) = serve(&upstream, &[]).await;
    let http = llm_do_openai::http::client();
    let (status, _, body) = send(http.get(format!("{base}/models"))).await;
    assert_eq!(status, 200, "{body}");
}

#[test]
fn an_api_key_variable_that_is_unset_or_unusable_is_a_usage_error_naming_it() {
    for (value, why) in [
        (None, "`LLM_DO_TEST_SERVE_KEY` is not set"),
        (Some(""), "`LLM_DO_TEST_SERVE_KEY` is empty"),
        (Some("two words"), "visible ASCII"),
    ] {
        let mut cmd = support::command(env!("CARGO_BIN_EXE_llm-do"), None);
        cmd.args(["serve", "--model", "openai:test-model", "--port", "0"])
            .args(["--api-key-env", "LLM_DO_TEST_SERVE_KEY"]);
        match value {
            Some(v) => cmd.env("LLM_DO_TEST_SERVE_KEY", v),
            None => cmd.env_remove("LLM_DO_TEST_SERVE_KEY"),
        };
        let out = support::output(&mut cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--api-key-env LLM_DO_TEST_SERVE_KEY") && stderr.contains(why),
            "{stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("serving"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_beyond_loopback_without_a_key_warns() {
    let upstream = TestServer::builder().script([]).start().await.unwrap();
    let (mut child, _) = serve(&upstream, &["--host", "0.0.0.0"]).await;
    let mut stderr = child.stderr.take().unwrap();
    let _ = child.start_kill();
    let mut text = String::new();
    bounded(stderr.read_to_string(&mut text)).await.unwrap();
    assert!(text.contains("without an API key") && text.contains("--api-key-env"), "{text}");

    let (mut child, _) =
        serve(&upstream, &["--host", "0.0.0.0", "--api-key-env", "LLM_DO_TEST_SERVE_KEY"]).await;
    let mut stderr = child.stderr.take().unwrap();
    let _ = child.start_kill();
    let mut text = String::new();
    bounded(stderr.read_to_string(&mut text)).await.unwrap();
    assert!(!text.contains("without an API key"), "{text}");
}
