//! What the served side sends its clients of a failure is bounded and redacted by the rule the
//! client side applies to what servers send it: cut to `MAX_RESULT_CHARS` characters with a
//! note, secrets replaced. Before, a tool's 1 MB error, a worker's error quoting a model's long
//! answer, or a JSON-RPC error quoting what the client sent went out whole, and a secret in a
//! JSON-RPC error went out as it was.

#[path = "support/served.rs"]
mod served;

use llm_do_core::{ModelError, ModelErrorKind, Runtime, ToolSpecBuilder, WorkerSpecBuilder};
use llm_do_mcp::MAX_RESULT_CHARS;
use llm_do_mcp::serve::McpService;
use llm_do_testing::scripted::ScriptedModel;
use rmcp::model::ErrorCode;
use rmcp::service::ServiceError;
use serde_json::json;
use served::{call, connect, text_of};

const KEY: &str = "sk-abcdefghijklmnopqrstuvwxyz012345";
const NOTE: &str = "\n[error cut: longer than 100000 characters; ";

/// `text` is the first `MAX_RESULT_CHARS` characters of an error, then the note saying so and
/// how many bytes were cut (at least `min_cut`).
fn assert_cut(text: &str, min_cut: usize) {
    let (kept, note) = text.rsplit_once(NOTE).unwrap_or_else(|| {
        panic!("no note: …{}", &text[text.len().saturating_sub(80)..]);
    });
    assert_eq!(kept.chars().count(), MAX_RESULT_CHARS);
    let cut: usize = note.strip_suffix(" bytes cut]").and_then(|n| n.parse().ok()).unwrap();
    assert!(cut >= min_cut, "{cut} bytes cut");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_tool_error_or_worker_error_reaches_the_client_cut_with_a_note() {
    let fail = ToolSpecBuilder::new("fail")
        .handler(|_, _| async {
            let long = format!("bad key {KEY}: {}", "E".repeat(1 << 20));
            Err(llm_do_core::Error::msg(long))
        })
        .build();
    // A provider's error quoting a long answer: the worker's error carries it.
    let model = ScriptedModel::new(|_: &llm_do_core::ModelRequest| {
        let message = format!("provider said {KEY}: {}", "M".repeat(1 << 20));
        Err::<llm_do_testing::scripted::Reply, _>(ModelError::new(ModelErrorKind::Other, message))
    });
    let summarize =
        WorkerSpecBuilder::new("summarize").prompt("Go.").model("scripted:any").build().unwrap();
    let rt = Runtime::builder().model_override(model).register(fail).register(summarize).build();
    let client = connect(McpService::new(rt), ()).await;
    for tool in ["fail", "summarize"] {
        let r = client.peer().call_tool(call(tool, json!({}))).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool}");
        let text = text_of(&r);
        assert_cut(&text, (1 << 20) - MAX_RESULT_CHARS);
        assert!(!text.contains(KEY) && text.contains("[redacted]"), "{tool}: the key went out");
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_rpc_error_is_cut_with_a_note_and_its_secrets_redacted() {
    let count = ToolSpecBuilder::new("count")
        .input_schema(json!({"type": "object", "properties": {"n": {"type": "integer"}}}))
        .handler(|_, a| async move { Ok(a) })
        .build();
    let client = connect(McpService::new(Runtime::builder().register(count).build()), ()).await;
    let error = |r: Result<_, ServiceError>| match r {
        Err(ServiceError::McpError(e)) => e,
        other => panic!("not a JSON-RPC error: {other:?}"),
    };
    // An unknown tool's error quotes its name.
    let name = "x".repeat(1 << 20);
    let e = error(client.peer().call_tool(call(&name, json!({}))).await);
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(e.message.starts_with("unknown tool `xxx"), "{}", &e.message[..80]);
    assert_cut(&e.message, (1 << 20) - MAX_RESULT_CHARS);
    // Arguments that violate the schema are quoted by the validator's message.
    let e = error(client.peer().call_tool(call("count", json!({"n": KEY}))).await);
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(!e.message.contains(KEY) && e.message.contains("[redacted]"), "{}", e.message);
    client.cancel().await.unwrap();
}
