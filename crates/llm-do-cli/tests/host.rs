//! Embedding the command line: a host program with its own Rust tool (`tally`) runs a project
//! of two file workers through `llm_do_cli::main_with`; the file worker `main` calls the Rust
//! tool and the file worker `helper`, and the Rust tool calls `helper` by name.
//!
//! The same host program serves its Rust tool over MCP (`host mcp PROJECT`, through
//! `llm_do_cli::main_with` itself), driven by rmcp's client over the process's stdio.
//!
//! This test has its own `main` (harness = false): started with `LLM_DO_TEST_HOST` set it *is*
//! the host program (`1`: through `run_with` with the arguments after `--`; `main_with`:
//! through `main_with` with its own arguments); otherwise it starts itself as one, as a real
//! process, against the loopback test server.

use llm_do::prelude::*;
use llm_do_cli::run_log;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::Value;
use std::process::{Command, Stdio};

/// Count the words of a text, then ask the helper worker about the first one.
#[tool]
async fn tally(
    ctx: &Ctx,
    /** the text */
    text: String,
) -> Result<String> {
    let words = text.split_whitespace().count();
    let first = text.split_whitespace().next().unwrap_or("").to_owned();
    let help: String = ctx.call("helper", json!({ "input": first })).await?;
    Ok(format!("{words} words; helper says: {help}"))
}

fn main() -> std::process::ExitCode {
    if let Some(how) = std::env::var_os("LLM_DO_TEST_HOST") {
        let mut host = llm_do::Registry::default();
        host.insert(tally::spec());
        if how == "main_with" {
            return llm_do_cli::main_with(host);
        }
        let args = std::iter::once(std::ffi::OsString::from("host"))
            .chain(std::env::args_os().skip_while(|a| a != "--").skip(1));
        return llm_do_cli::run_with(args, host);
    }
    if std::env::args().any(|a| a == "--list") {
        println!("file_workers_and_a_rust_tool_call_each_other: test");
        println!("a_host_serves_its_rust_tool_over_mcp: test");
        return std::process::ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(file_workers_and_a_rust_tool_call_each_other());
    println!("test file_workers_and_a_rust_tool_call_each_other ... ok");
    rt.block_on(a_host_serves_its_rust_tool_over_mcp());
    println!("test a_host_serves_its_rust_tool_over_mcp ... ok");
    std::process::ExitCode::SUCCESS
}

/// The project of these tests: `main` calls the Rust tool `tally` and the file worker `helper`.
fn colours_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("llm-do.toml", "model = \"openai:m\"\n"),
        (
            "main.worker",
            "---\ndescription: Looks at colours.\ntools: [tally, helper]\n---\nLook at {input}.\n",
        ),
        ("helper.worker", "---\ndescription: Explains one word.\n---\nExplain {input}.\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

async fn file_workers_and_a_rust_tool_call_each_other() {
    let server = TestServer::builder()
        .script([
            Reply::tool_call("tally", json!({"text": "red green blue"})), // main → tally (Rust)
            Reply::text("red is a colour"),                               // tally → helper (file)
            Reply::tool_call("helper", json!({"input": "blue"})),         // main → helper (file)
            Reply::text("blue is calm"),                                  // helper
            Reply::text("3 colours, all fine"),                           // main's answer
        ])
        .start()
        .await
        .expect("test server");
    let dir = colours_project();
    let log = dir.path().join("run.jsonl");
    let base_url = server.base_url();
    let exe = std::env::current_exe().expect("current exe");
    let (project, log_arg) = (dir.path().to_owned(), log.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .env("LLM_DO_TEST_HOST", "1")
            .env_remove("LLM_DO_MODEL")
            .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
            .env("OPENAI_BASE_URL", base_url)
            .arg("--")
            .args(["run", "--json", "--log"])
            .arg(log_arg)
            .arg(project)
            .arg("colours")
            .stdin(Stdio::null())
            .output()
            .expect("run the host")
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    assert_eq!(result["output"], "3 colours, all fine");

    let records = run_log::read(&log).expect("log");
    let started: Vec<(u64, Option<u64>, &str, &str)> = records
        .iter()
        .filter(|r| r.event == "call_started")
        .map(|r| (r.call, r.parent, r.name.as_str(), r.callable.as_str()))
        .collect();
    assert_eq!(
        started,
        [
            (1, None, "main", "worker"),
            (2, Some(1), "tally", "tool"),
            (3, Some(2), "helper", "worker"),
            (4, Some(1), "helper", "worker"),
        ],
        "{stderr}"
    );
    let tally = run_log::worker_calls(&records, "tally");
    assert_eq!(tally[0].output, Some(json!("3 words; helper says: red is a colour")));
    let helper = run_log::worker_calls(&records, "helper");
    assert_eq!(helper.len(), 2);
    assert_eq!(helper[0].spec_hash, helper[1].spec_hash, "same definition, same hash");
    assert_ne!(helper[0].spec_hash, tally[0].spec_hash);

    // `check` knows the host's tool; the plain `llm-do` binary does not.
    let out = Command::new(std::env::current_exe().expect("exe"))
        .env("LLM_DO_TEST_HOST", "1")
        .args(["--", "check"])
        .arg(dir.path())
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_llm-do"))
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown tool `tally`"));
}

/// `host mcp PROJECT` through `main_with`: an MCP client lists the host's Rust tool (its
/// description and schema from `#[tool]`) beside the project's workers, and calls it; the
/// tool's own call of the file worker `helper` reaches the model.
async fn a_host_serves_its_rust_tool_over_mcp() {
    use rmcp::ServiceExt as _;
    use rmcp::model::CallToolRequestParams;
    let server = TestServer::builder()
        .script([Reply::text("red is a colour")])
        .start()
        .await
        .expect("server");
    let dir = colours_project();
    let mut cmd = tokio::process::Command::new(std::env::current_exe().expect("current exe"));
    cmd.env("LLM_DO_TEST_HOST", "main_with")
        .env_remove("LLM_DO_MODEL")
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
        .env("OPENAI_BASE_URL", server.base_url())
        .arg("mcp")
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("start the host");
    let transport = (child.stdout.take().expect("stdout"), child.stdin.take().expect("stdin"));
    let client = tokio::time::timeout(std::time::Duration::from_secs(60), ().serve(transport))
        .await
        .expect("initialize within 60 s")
        .expect("initialize");
    let tools = client.peer().list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, ["helper", "main", "tally"]);
    let tally = tools.iter().find(|t| t.name == "tally").expect("tally");
    assert_eq!(
        tally.description.as_deref(),
        Some("Count the words of a text, then ask the helper worker about the first one.")
    );
    assert_eq!(tally.input_schema["properties"]["text"]["type"], "string");
    assert_eq!(tally.input_schema["required"], json!(["text"]));

    let mut call = CallToolRequestParams::new("tally");
    call.arguments = json!({"text": "red green blue"}).as_object().cloned();
    let r = client.peer().call_tool(call).await.expect("tools/call");
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let text = &r.content[0].as_text().expect("text").text;
    assert_eq!(text, "3 words; helper says: red is a colour");
    assert_eq!(server.request_count(), 1, "helper's one model request");
    // Arguments that do not fit the schema: a JSON-RPC "invalid params" error, and the host
    // serves on.
    let mut call = CallToolRequestParams::new("tally");
    call.arguments = json!({"text": 5}).as_object().cloned();
    match client.peer().call_tool(call).await {
        Err(rmcp::service::ServiceError::McpError(e)) => {
            assert_eq!(e.code.0, -32602, "{e:?}");
            assert!(e.message.contains("invalid arguments for `tally`"), "{e:?}");
        }
        other => panic!("not an invalid-params error: {other:?}"),
    }
    let tools = client.peer().list_all_tools().await.expect("tools/list after the error");
    assert_eq!(tools.len(), 3);

    client.cancel().await.expect("close");
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the host ends once its stdin closes")
        .expect("wait");
    assert!(status.success(), "{status}");
}
