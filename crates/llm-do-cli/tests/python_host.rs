//! A project written for the Python llm-do whose `tools.py` defines a toolset (`arithmetic`):
//! the plain `llm-do` binary refuses it, naming the file; a host program that registers the
//! same tools in Rust and names the group with `Registry::insert_toolset` runs the project
//! unchanged through `llm_do_cli::main_with`.
//!
//! This test has its own `main` (harness = false): started with `LLM_DO_TEST_HOST=1` it *is*
//! the host program; otherwise it starts itself as one, as a real process, against the
//! loopback test server.

#[path = "support/cli.rs"]
mod support;

use llm_do::prelude::*;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use support::*;

/// Add two numbers.
#[tool]
async fn add(
    /** the first number */
    a: f64,
    /** the second number */
    b: f64,
) -> Result<f64> {
    Ok(a + b)
}

/// Multiply two numbers.
#[tool]
async fn multiply(
    /** the first number */
    a: f64,
    /** the second number */
    b: f64,
) -> Result<f64> {
    Ok(a * b)
}

const TEST: &str = "a_python_toolset_replaced_by_rust_tools_runs_unchanged";

fn main() -> std::process::ExitCode {
    if std::env::var_os("LLM_DO_TEST_HOST").is_some() {
        let mut host = llm_do::Registry::default();
        host.insert(add::spec());
        host.insert(multiply::spec());
        // tools.py's `TOOLSETS = {"arithmetic": ...}`, in Rust.
        host.insert_toolset("arithmetic", ["add", "multiply"]);
        let args = std::iter::once(std::ffi::OsString::from("host"))
            .chain(std::env::args_os().skip_while(|a| a != "--").skip(1));
        return llm_do_cli::run_with(args, host);
    }
    if std::env::args().any(|a| a == "--list") {
        println!("{TEST}: test");
        return std::process::ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(a_python_toolset_replaced_by_rust_tools_runs_unchanged());
    println!("test {TEST} ... ok");
    std::process::ExitCode::SUCCESS
}

fn host(base_url: Option<&str>) -> std::process::Command {
    let mut cmd = command(std::env::current_exe().expect("current exe"), base_url);
    cmd.env("LLM_DO_TEST_HOST", "1").env("LLM_DO_MODEL", "openai:test-model").arg("--");
    cmd
}

async fn a_python_toolset_replaced_by_rust_tools_runs_unchanged() {
    let project = repo_root().join("crates/llm-do-project/tests/fixtures/python/calculator");

    // The plain binary cannot run tools.py.
    let out = output(command(env!("CARGO_BIN_EXE_llm-do"), None).arg("check").arg(&project));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("the toolset `arithmetic` is defined in Python (tools.py)"), "{err}");
    assert!(err.contains("llm_do_cli::main_with"), "{err}");

    // The host program can.
    let out = output(host(None).arg("check").arg(&project));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = output(host(None).arg("list").arg(&project));
    assert!(stdout(&out).contains("    tools:  add, multiply"), "{}", stdout(&out));

    let server = TestServer::builder()
        .script([
            Reply::tool_call("add", json!({"a": 2, "b": 3})),
            Reply::tool_call("multiply", json!({"a": 5, "b": 4})),
            Reply::text("(2 + 3) * 4 = 20"),
        ])
        .start()
        .await
        .expect("test server");
    let base_url = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        output(host(Some(&base_url)).args(["run"]).arg(project))
    })
    .await
    .expect("join");
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "(2 + 3) * 4 = 20\n"), "{}", stderr(&out));
    let requests = server.requests();
    let offered: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["add", "multiply"]);
    assert!(
        requests[0].body["messages"].to_string().contains("What is (2 + 3) * 4?"),
        "entry.args"
    );
    let last =
        |i: usize| requests[i].body["messages"].as_array().unwrap().last().unwrap().to_string();
    assert!(last(1).contains("5"), "{}", last(1));
    assert!(last(2).contains("20"), "{}", last(2));
}
