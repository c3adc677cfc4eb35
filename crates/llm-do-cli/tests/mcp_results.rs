//! What `llm-do mcp` sends its clients of a successful call is bounded by the rule its errors
//! follow (`llm_do_mcp::MAX_RESULT_CHARS` characters, secrets redacted), with a note saying how
//! much was cut. Before, an error was cut but a worker's 150,000-character answer went out
//! whole.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const MAX: usize = 100_000;

fn text_of(r: &CallToolResult) -> &str {
    &r.content[0].as_text().unwrap().text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_successful_result_is_cut_with_a_note_saying_how_much() {
    let key = "sk-abcdefghijklmnopqrstuvwxyz012345";
    let big = json!({"blob": "z".repeat(150_000)}).to_string();
    let server = TestServer::builder()
        .script(vec![
            Reply::text(format!("{key} {}", "y".repeat(150_000))),
            Reply::text(big.clone()),
            Reply::text(r#"{"blob": "small"}"#),
        ])
        .start()
        .await
        .unwrap();
    let dir = project(&[
        ("llm-do.toml", "model = \"openai:test-model\"\n"),
        ("long.worker", "---\ndescription: Writes a lot.\n---\nWrite {input}.\n"),
        (
            "report.worker",
            "---\ndescription: Reports.\noutput:\n  type: object\n  properties: {blob: {type: string}}\n  required: [blob]\n---\nReport {input}.\n",
        ),
    ]);
    let mut cmd: tokio::process::Command = command(BIN, Some(&server.base_url())).into();
    cmd.arg("mcp").arg(dir.path());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let call = |name: &str| {
        let mut call = CallToolRequestParams::new(name.to_owned());
        call.arguments = json!({"input": "it"}).as_object().cloned();
        call
    };

    // Text: redacted, then cut, with a note saying how many bytes were cut.
    let r = client.peer().call_tool(call("long")).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", &text_of(&r)[..200]);
    let text = text_of(&r);
    let sent = format!("[redacted] {}", "y".repeat(150_000));
    let note =
        format!("\n[result cut: longer than {MAX} characters; {} bytes cut]", sent.len() - MAX);
    let kept = text
        .strip_suffix(&note)
        .unwrap_or_else(|| panic!("no note: …{}", &text[text.len() - 120..]));
    assert_eq!(kept, &sent[..MAX]);

    // Structured content cannot be cut and still match the output schema: the result is a
    // tool error (clients check a success's structured content against the schema), its text
    // the JSON cut with the note.
    let r = client.peer().call_tool(call("report")).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content, None);
    let text = text_of(&r);
    let note =
        format!("\n[result cut: longer than {MAX} characters; {} bytes cut]", big.len() - MAX);
    assert!(text.ends_with(&note), "…{}", &text[text.len() - 120..]);
    let intro = format!(
        "the result of `report` is not sent: its JSON is longer than the {MAX} characters an MCP result may have (its output schema does not allow it cut); it starts:\n"
    );
    assert!(text.starts_with(&intro), "{}", &text[..300]);
    assert_eq!(text.len(), intro.len() + MAX + note.len());

    // Within the limit, nothing changes.
    let r = client.peer().call_tool(call("report")).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"blob": "small"})));
    assert_eq!(text_of(&r), r#"{"blob":"small"}"#);

    client.cancel().await.unwrap();
    let status =
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
}
