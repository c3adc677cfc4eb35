//! MCP in the command line: the example project `examples/projects/mcp_orders` (an MCP server
//! declared in llm-do.toml) with `check`, `list` and `run`, a server that cannot start, and
//! `llm-do mcp PROJECT` driven by rmcp's client over stdio.
//!
//! The MCP server is llm-do-mcp's demo server (tests/support/mcp_demo.rs).

#[path = "support/mcp_demo.rs"]
mod mcp_demo;
#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use mcp_demo::*;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

#[test]
fn check_and_list_show_the_servers_tools() {
    let dir = orders_project(&[]);
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("mcp server `orders`: 7 tools (orders__add_tool, orders__crash, orders__echo, orders__lookup_order, orders__photo, orders__refund, orders__slow); MCP 2026-07-28"),
        "{text}"
    );
    let out = output(command(BIN, None).arg("list").arg(dir.path()));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("orders__lookup_order [tool, mcp:orders]"), "{}", stdout(&out));
    assert!(stdout(&out).contains("tools:  orders__lookup_order"), "{}", stdout(&out));
    let started = pids(dir.path());
    assert_eq!(started.len(), 2, "one server per command");
    for pid in started {
        assert!(gone(pid), "server {pid} outlived the command");
    }
}

#[test]
fn check_reports_a_server_that_cannot_start_with_its_stderr() {
    let dir = orders_project(&["--exit"]);
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("llm-do.toml: error: MCP server `orders` could not be started"), "{err}");
    assert!(err.contains("refusing to start (--exit)"), "{err}");

    // A worker naming a tool the server does not list.
    let dir = orders_project(&[]);
    std::fs::write(dir.path().join("main.worker"), "---\ntools: [orders.nope]\n---\nGo {input}.\n")
        .unwrap();
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("main.worker:2:9: error: the MCP server `orders` has no tool `nope`"),
        "{err}"
    );
    assert!(err.contains("`lookup_order`"), "{err}");
}

/// `start_timeout` of `[mcp.NAME]` in `llm-do.toml`: a server that never answers fails `check`
/// after the project's start timeout rather than the default 20 s.
#[test]
fn check_waits_the_projects_start_timeout() {
    let dir = orders_project(&["--silent"]);
    set_server_keys(dir.path(), "start_timeout = 1.5");
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("MCP server `orders` did not answer `initialize` within 1.5s"), "{err}");
}

/// `call_timeout` of `[mcp.NAME]`: a call that takes longer is a tool error the model is told,
/// and the run goes on. Meanwhile the server's progress on the call is shown under it with `-v`
/// (its text escaped); `protocol` pins the revision spoken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_projects_call_timeout_is_a_tool_error() {
    let server = TestServer::builder()
        .script(vec![
            Reply::tool_call("orders__slow", json!({"seconds": 30})),
            Reply::text("gave up waiting"),
        ])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    set_server_keys(dir.path(), "call_timeout = 1");
    std::fs::write(
        dir.path().join("main.worker"),
        "---\ntools: [orders.slow]\n---\nWait {input}.\n",
    )
    .unwrap();
    let out = output(
        command(BIN, Some(&server.base_url()))
            .arg("run")
            .arg("-v")
            .arg(dir.path())
            .arg("--approve-all")
            .arg("a while"),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "gave up waiting\n");
    let err = stderr(&out);
    assert!(err.contains("orders__slow [tool] 1/2 waiting \\x1b[2J"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
    let told = server.requests()[1].body["messages"].to_string();
    assert!(told.contains("did not answer the call of `slow` within 1s"), "{told}");
}

/// `${VAR}` in `[mcp.NAME]` values comes from llm-do's environment when the server starts; a
/// variable that is not set stops the command with a usage error that names the server, the
/// key and the variable, and starts no server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_settings_take_environment_variables() {
    let server = TestServer::builder()
        .script(vec![
            Reply::tool_call("orders__lookup_order", json!({"id": "A-1"})),
            Reply::text("shipped"),
        ])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    let file = dir.path().join("llm-do.toml");
    let config = std::fs::read_to_string(&file).unwrap();
    let config = config.replace(
        "LLM_DO_MCP_DEMO_RECORD = \"calls.jsonl\"",
        "LLM_DO_MCP_DEMO_RECORD = \"${RECORD_TO:-calls.jsonl}\", LLM_DO_MCP_DEMO_NAME = \"${DEMO_NAME}\"",
    );
    std::fs::write(&file, config).unwrap();

    let out = output(command(BIN, None).arg("check").arg(dir.path()).env_remove("DEMO_NAME"));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains(
            "llm-do.toml: error: MCP server `orders`: `env.LLM_DO_MCP_DEMO_NAME`: the environment \
             variable `DEMO_NAME` is not set"
        ),
        "{err}"
    );
    assert!(pids(dir.path()).is_empty(), "no server started");

    let elsewhere = dir.path().join("elsewhere.jsonl");
    let out = output(
        command(BIN, Some(&server.base_url()))
            .arg("run")
            .arg(dir.path())
            .arg("Where is A-1?")
            .env("DEMO_NAME", "desk")
            .env("RECORD_TO", &elsewhere),
    );
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "shipped\n");
    let calls = std::fs::read_to_string(&elsewhere).unwrap();
    assert_eq!(calls.trim(), r#"{"tool":"lookup_order","arguments":{"id":"A-1"}}"#);
    assert!(!dir.path().join("calls.jsonl").exists(), "the default was not used");
}

/// Adds `keys` (TOML lines) to the `[mcp.orders]` table of the project in `dir`.
fn set_server_keys(dir: &std::path::Path, keys: &str) {
    let file = dir.join("llm-do.toml");
    let config = std::fs::read_to_string(&file).unwrap();
    let config = config.replacen("[mcp.orders]\n", &format!("[mcp.orders]\n{keys}\n"), 1);
    std::fs::write(file, config).unwrap();
}

/// A server whose `tools/list` fails (a JSON-RPC error, or an answer that is not a list of
/// tools) fails `check` and `list` with a usage error that names the server and says what went
/// wrong, the server's own text escaped (before, an escape sequence in its error message
/// reached the terminal, and a malformed answer was "Unexpected response type").
#[test]
fn check_and_list_report_a_server_whose_tools_list_fails() {
    let cases = [
        (
            "--list-error",
            r"it answered `tools/list` with the error -32603: the tool registry is down \x1b[2J",
        ),
        ("--list-invalid", "its answer to `tools/list` is not a list of tools"),
    ];
    for (server_arg, said) in cases {
        let dir = orders_project(&[server_arg]);
        for cmd in ["check", "list"] {
            let out = output(command(BIN, None).arg(cmd).arg(dir.path()));
            assert_eq!(code(&out), 2, "{cmd} with {server_arg}");
            let err = stderr(&out);
            assert!(
                err.contains("llm-do.toml: error: MCP server `orders` could not list its tools: "),
                "{cmd} with {server_arg}: {err}"
            );
            assert!(err.contains(said), "{cmd} with {server_arg}: {err}");
            assert!(!err.contains('\x1b'), "{cmd} with {server_arg}: {err:?}");
            assert!(stdout(&out).is_empty(), "{cmd} with {server_arg}: {}", stdout(&out));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_calls_the_servers_tool_through_the_approval_rules() {
    let server = TestServer::builder()
        .script(vec![
            Reply::tool_call("orders__lookup_order", json!({"id": "A-1"})),
            Reply::text("Order A-1 has shipped."),
        ])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    let out = output(
        command(BIN, Some(&server.base_url()))
            .arg("run")
            .arg(dir.path())
            .arg("Where is my order A-1?"),
    );
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "Order A-1 has shipped.\n");
    let requests = server.requests();
    assert_eq!(requests[0].body["tools"][0]["function"]["name"], "orders__lookup_order");
    assert!(requests[1].body["messages"].to_string().contains("shipped"));
    let calls = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    assert_eq!(calls.trim(), r#"{"tool":"lookup_order","arguments":{"id":"A-1"}}"#);
    for pid in pids(dir.path()) {
        assert!(gone(pid), "server {pid} outlived the run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_serves_the_project_over_stdio() {
    let server = TestServer::builder()
        .script(vec![Reply::text("Order B-2 is pending."), Reply::text("x".repeat(4096))])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    let log = dir.path().join("served.jsonl");
    let mut cmd = llm_do_mcp(dir.path(), &server.base_url());
    cmd.arg("--log").arg(&log).args(["--max-answer-bytes", "1000"]);
    // Spawned here rather than by rmcp's TokioChildProcess, whose close kills the process:
    // this test closes stdin and waits for `llm-do mcp` to finish on its own.
    let mut child = cmd.spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let tools = client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"main") && names.contains(&"orders__lookup_order"), "{names:?}");
    let call = tool_call("main", json!({"input": "Where is B-2?"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.content[0].as_text().unwrap().text, "Order B-2 is pending.");
    // The server's tool asks for approval by default: refused, with no terminal to ask.
    let call = tool_call("orders__echo", json!({"text": "x"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    // The project's rule allows lookup_order.
    let call = tool_call("orders__lookup_order", json!({"id": "A-1"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.structured_content.unwrap()["status"], "shipped");
    // The provider flags reach the served workers: an answer over the limit is an error.
    let call = tool_call("main", json!({"input": "And A-1?"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = &r.content[0].as_text().unwrap().text;
    assert!(text.contains("larger than the limit of 1000 bytes"), "{text}");
    client.cancel().await.unwrap();
    let status =
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"main\""), "{logged}");
    for pid in pids(dir.path()) {
        assert!(gone(pid), "server {pid} outlived `llm-do mcp`");
    }
}

/// SIGTERM (what an MCP client sends a stdio server it is done with) ends `llm-do mcp` in
/// order: exit 0, the run log finished, the project's MCP servers closed (before, the process
/// died on the spot).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_over_stdio_stops_in_order_on_sigterm() {
    let server = TestServer::builder().script(vec![Reply::text("ok")]).start().await.unwrap();
    let dir = orders_project(&[]);
    let log = dir.path().join("served.jsonl");
    let (launcher, env_args) = DEFAULT_SIGNALS.split_first().unwrap();
    let mut cmd: tokio::process::Command = command(launcher, Some(&server.base_url())).into();
    cmd.args(env_args).arg(BIN).arg("mcp").arg(dir.path()).arg("--log").arg(&log);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let tools = client.peer().list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "main"));
    let pid = rustix::process::Pid::from_raw(child.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status =
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("SIGTERM: stopped"), "{err}");
    assert!(log.exists(), "the run log was created");
    for pid in pids(dir.path()) {
        assert!(gone(pid), "server {pid} outlived `llm-do mcp`");
    }
    drop(client);
}

/// `llm-do chat` starts the project's MCP servers as `run` does (before, the project check
/// failed: "the MCP server `orders` has no tool `lookup_order`"), and a project named by one
/// of its files (`check DIR/main.worker`) is that directory's project, servers included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_a_file_target_use_the_servers_tools() {
    let server = TestServer::builder()
        .script(vec![
            Reply::tool_call("orders__lookup_order", json!({"id": "A-1"})),
            Reply::text("Order A-1 has shipped."),
        ])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    let mut chat = command(BIN, Some(&server.base_url()));
    chat.arg("chat").arg(dir.path());
    let out = tokio::task::spawn_blocking(move || {
        output_with_stdin(&mut chat, "Where is my order A-1?\n")
    })
    .await
    .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Order A-1 has shipped.\n");
    let calls = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    assert_eq!(calls.trim(), r#"{"tool":"lookup_order","arguments":{"id":"A-1"}}"#);

    let out = output(command(BIN, None).arg("check").arg(dir.path().join("main.worker")));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("mcp server `orders`: 7 tools"), "{}", stdout(&out));
    for pid in pids(dir.path()) {
        assert!(gone(pid), "server {pid} outlived its command");
    }
}

/// A worker file's `budget:` holds for each call of it that `llm-do mcp` serves, as for a
/// `llm-do run` that starts with it (before, served calls had only `llm-do.toml`'s budgets);
/// a worker without one keeps the project's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_gives_each_served_worker_its_own_budget() {
    let server = TestServer::builder()
        .script(vec![
            // `capped`: its one request asks for `helper`, whose request would be the second.
            Reply::tool_call("helper", json!({"input": "x"})),
            // `open`: the same shape, within the project's budget.
            Reply::tool_call("helper", json!({"input": "y"})),
            Reply::text("helped"),
            Reply::text("open is done"),
        ])
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(
        project.join("llm-do.toml"),
        "model = \"openai:test-model\"\n[budget]\nrequests = 5\n",
    )
    .unwrap();
    std::fs::write(
        project.join("capped.worker"),
        "---\ntools: [helper]\nbudget: {requests: 1}\n---\nDelegate.\n",
    )
    .unwrap();
    std::fs::write(project.join("open.worker"), "---\ntools: [helper]\n---\nDelegate.\n").unwrap();
    std::fs::write(project.join("helper.worker"), "---\ndescription: Helps.\n---\nHelp.\n")
        .unwrap();
    let mut cmd: tokio::process::Command = command(BIN, Some(&server.base_url())).into();
    cmd.arg("mcp").arg(project);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let call = tool_call("capped", json!({"input": "go"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = &r.content[0].as_text().unwrap().text;
    assert_eq!(text, "run budget exceeded: model requests used 1, limit 1");
    let call = tool_call("open", json!({"input": "go"}));
    let r = client.peer().call_tool(call).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    assert_eq!(r.content[0].as_text().unwrap().text, "open is done");
    assert_eq!(server.request_count(), 4, "the capped run stopped before its second request");
    client.cancel().await.unwrap();
    let status =
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
}

/// `llm-do mcp` and `llm-do restate serve` open a project as every other command does: a bad
/// project is reported file by file with a summary, exit 2, and nothing is served.
#[test]
fn serving_commands_report_a_bad_project_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.worker"), "---\ntools: [nope]\n---\nGo.\n").unwrap();
    for args in [&["mcp"][..], &["restate", "serve", "--port", "0"][..]] {
        let out = output(command(BIN, None).args(args).arg(dir.path()));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("main.worker:2:9: error: unknown tool `nope`"), "{args:?}: {err}");
        assert!(err.contains("1 problem found in"), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}

/// A stdio server inherits llm-do's environment without the providers' keys or any other
/// secret-looking variable, unless `pass_env` names it; its `env` table is set as given.
#[cfg(unix)]
#[test]
fn a_server_gets_no_secret_variables_it_was_not_given() {
    let dir = orders_project(&[]);
    let config = std::fs::read_to_string(dir.path().join("llm-do.toml")).unwrap();
    let (head, rest) = config.split_once("[mcp.orders]").unwrap();
    let (_, tail) = rest.split_once("\n\n").unwrap();
    let script = format!("env > env.txt; exec '{}'", demo_server().display());
    let config = format!(
        "{head}[mcp.orders]\ncommand = \"sh\"\nargs = [\"-c\", {script:?}]\nenv = {{ LOG = \"info\", GIVEN_TOKEN = \"tok-given\" }}\npass_env = [\"PASSED_TOKEN\"]\n\n{tail}"
    );
    std::fs::write(dir.path().join("llm-do.toml"), config).unwrap();
    let out = output(
        command(BIN, None)
            .arg("check")
            .arg(dir.path())
            .env("OPENAI_API_KEY", "sk-not-for-servers-0123456789")
            .env("OTHER_TOKEN", "tok-other")
            .env("PASSED_TOKEN", "tok-passed")
            .env("PLAIN_SETTING", "plain"),
    );
    assert_eq!(code(&out), 0);
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    let lines: Vec<&str> = env.lines().collect();
    for present in
        ["PASSED_TOKEN=tok-passed", "PLAIN_SETTING=plain", "LOG=info", "GIVEN_TOKEN=tok-given"]
    {
        assert!(lines.contains(&present), "{present} missing from:\n{env}");
    }
    assert!(lines.iter().any(|l| l.starts_with("PATH=")), "{env}");
    for absent in ["OPENAI_API_KEY", "OTHER_TOKEN"] {
        assert!(!lines.iter().any(|l| l.starts_with(&format!("{absent}="))), "{absent} in:\n{env}");
    }
}

/// llm-do.toml's `model =` is the served workers' model also when no API key is set: before,
/// `llm-do mcp` let the environment's default (the embedded model) replace it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_keeps_the_projects_model_without_a_key() {
    let dir = orders_project(&[]);
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("mcp").arg(dir.path());
    for var in ["LLM_DO_MODEL", "LLM_DO_LOCAL_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let call = tool_call("main", json!({"input": "Where is B-2?"}));
    let r = tokio::time::timeout(Duration::from_secs(120), client.peer().call_tool(call))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let text = &r.content[0].as_text().unwrap().text;
    assert!(text.contains("OPENAI_API_KEY is not set"), "{text}");
    client.cancel().await.unwrap();
}

/// `check --no-servers` checks a project without running the programs its llm-do.toml names:
/// no server process starts (the demo server writes its pid when it does), the declarations
/// are still checked, and each server is said not to have been started.
#[test]
fn check_no_servers_starts_no_server() {
    let dir = orders_project(&[]);
    let out = output(command(BIN, None).arg("check").arg("--no-servers").arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("mcp server `orders`: not started (--no-servers)"),
        "{}",
        stdout(&out)
    );
    assert!(pids(dir.path()).is_empty(), "a server was started");

    // A worker naming a server llm-do.toml does not declare is still an error.
    std::fs::write(dir.path().join("main.worker"), "---\ntools: [nope.x]\n---\nGo {input}.\n")
        .unwrap();
    let out = output(command(BIN, None).arg("check").arg("--no-servers").arg(dir.path()));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("main.worker:2:9: error: unknown MCP server `nope`"),
        "{}",
        stderr(&out)
    );
}

/// An MCP client's user answering approval questions: approves what mentions "yes".
#[derive(Clone, Default)]
struct Approving {
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    progress: std::sync::Arc<std::sync::Mutex<Vec<rmcp::model::ProgressNotificationParam>>>,
}

impl rmcp::ClientHandler for Approving {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        use rmcp::model::{ClientCapabilities, ElicitationCapability, FormElicitationCapability};
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        rmcp::model::ClientConfig::new(
            capabilities,
            rmcp::model::Implementation::new("approving", "0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let yes = message.contains("yes");
        self.asked.lock().unwrap().push(message);
        Ok(if yes {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }

    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// `llm-do mcp` passes a served call's progress on to the client that asks for it: here an MCP
/// tool of the project (the demo server's `slow`, which reports at its start), whose reports
/// cross both hops as they are (escaping is the displaying client's business).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_passes_a_served_calls_progress_on() {
    let server = TestServer::start().await.unwrap();
    let dir = orders_project(&[]);
    let mut serving = llm_do_mcp(dir.path(), &server.base_url());
    let mut child = serving.arg("--approve-all").spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let user = Approving::default();
    let client = tokio::time::timeout(Duration::from_secs(60), user.clone().serve(transport))
        .await
        .unwrap()
        .unwrap();
    let r = client.call_tool(tool_call("orders__slow", json!({"seconds": 1}))).await.unwrap();
    assert_eq!(r.content[0].as_text().unwrap().text, "waited 1s");
    // rmcp's client hands each notification to a task of its own: wait for the first.
    for _ in 0..500 {
        if !user.progress.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = user.progress.lock().unwrap().clone();
    let first = got.first().expect("a progress notification");
    assert_eq!(
        (first.progress, first.total, first.message.as_deref()),
        (1.0, Some(2.0), Some("waiting \x1b[2J"))
    );
    // The end's report may race the call's own end in llm-do's client; if it came, it grew.
    assert!(got.windows(2).all(|w| w[0].progress < w[1].progress), "{got:?}");
    client.cancel().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
}

/// `llm-do mcp` asks a client that supports elicitation about the calls that need approval,
/// the served tool's own and those a served worker's model asks for, instead of refusing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_asks_a_client_that_supports_elicitation() {
    asks_the_client(rmcp::ClientLifecycleMode::Initialize).await;
}

/// The same with a client on protocol 2026-07-28, which forbids requests from the server: the
/// questions come in the calls' answers (`InputRequiredResult`), which rmcp's `call_tool`
/// answers and repeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_asks_a_2026_07_28_client_in_rounds() {
    let version = rmcp::model::ProtocolVersion::V_2026_07_28;
    asks_the_client(rmcp::ClientLifecycleMode::Discover { preferred_versions: vec![version] })
        .await;
}

/// A client connected with `lifecycle`, approving what mentions "yes", calls `orders__echo`
/// twice and a worker that calls it; only the approved calls reach the demo server.
async fn asks_the_client(lifecycle: rmcp::ClientLifecycleMode) {
    use rmcp::ClientServiceExt as _;
    let server = TestServer::builder()
        .script(vec![
            Reply::tool_call("orders__echo", json!({"text": "nested yes"})),
            Reply::text("echoed"),
        ])
        .start()
        .await
        .unwrap();
    let dir = orders_project(&[]);
    std::fs::write(
        dir.path().join("shouter.worker"),
        "---\ndescription: Echoes.\ntools: [orders.echo]\n---\nEcho {input}.\n",
    )
    .unwrap();
    let mut child = llm_do_mcp(dir.path(), &server.base_url()).spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let user = Approving::default();
    let connecting = user.clone().serve_with_lifecycle(transport, lifecycle);
    let client = tokio::time::timeout(Duration::from_secs(60), connecting).await.unwrap().unwrap();
    let echo = |text: &str| tool_call("orders__echo", json!({ "text": text }));
    let r = client.call_tool(echo("yes please")).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{r:?}");
    let r = client.call_tool(echo("no thanks")).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = &r.content[0].as_text().unwrap().text;
    assert!(text.contains("declined by the MCP client's user"), "{text}");
    // A served worker's model asks for the tool: the client is asked, as the worker's call.
    let call = tool_call("shouter", json!({"input": "this"}));
    let r = client.call_tool(call).await.unwrap();
    assert_eq!(r.content[0].as_text().unwrap().text, "echoed");
    let asked = user.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(asked[2].contains("The worker `shouter` (depth 1) asks"), "{}", asked[2]);
    client.cancel().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let calls = std::fs::read_to_string(dir.path().join("calls.jsonl")).unwrap();
    let texts: Vec<&str> = calls.lines().collect();
    assert_eq!(
        texts,
        [
            r#"{"tool":"echo","arguments":{"text":"yes please"}}"#,
            r#"{"tool":"echo","arguments":{"text":"nested yes"}}"#
        ],
        "only the approved calls reached the server"
    );
}

/// `llm-do mcp --expose GLOB` serves only the matching names; a glob that matches nothing is a
/// usage error that lists the names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_do_mcp_serves_only_what_it_exposes() {
    let server = TestServer::builder().script(vec![Reply::text("ok")]).start().await.unwrap();
    let dir = orders_project(&[]);
    let mut child =
        llm_do_mcp(dir.path(), &server.base_url()).args(["--expose", "main"]).spawn().unwrap();
    let transport = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client =
        tokio::time::timeout(Duration::from_secs(60), ().serve(transport)).await.unwrap().unwrap();
    let tools = client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["main"]);
    let e = client.peer().call_tool(tool_call("orders__lookup_order", json!({"id": "A-1"}))).await;
    assert!(e.unwrap_err().to_string().contains("unknown tool `orders__lookup_order`"));
    client.cancel().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;

    let out = output(
        command(BIN, Some(&server.base_url()))
            .arg("mcp")
            .arg(dir.path())
            .args(["--expose", "nope*"]),
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("--expose `nope*` matches no worker or tool of the project; they are:")
            && err.contains("main"),
        "{err}"
    );
}

/// `llm-do mcp DIR` over stdio (piped, killed when dropped), its workers' models reached at the
/// test server `base_url`.
fn llm_do_mcp(dir: &std::path::Path, base_url: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("mcp").arg(dir);
    cmd.env_remove("LLM_DO_MODEL")
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
        .env("OPENAI_BASE_URL", base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A `tools/call` of `name` with `args` (an object).
fn tool_call(name: &str, args: serde_json::Value) -> CallToolRequestParams {
    let mut call = CallToolRequestParams::new(name.to_owned());
    call.arguments = args.as_object().cloned();
    call
}
