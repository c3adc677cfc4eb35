//! The client side against a real MCP server (the demo server, built with rmcp's server side)
//! run as a child process: the stdio transport is exercised for real.

#[path = "support/process.rs"]
mod process;

use llm_do_core::approval::{ApprovalPolicy, ApproveAll, Rule, Verdict};
use llm_do_core::{EventKind, EventLog, Message, Runtime};
use llm_do_mcp::{McpBuilderExt as _, McpError, McpServer, McpToolset};
use llm_do_process::running;
use llm_do_testing::scripted::{Reply, ScriptedModel};
use process::wait_gone;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

fn demo(record: &Path) -> McpServer {
    McpServer::stdio(DEMO, Vec::<String>::new())
        .env("LLM_DO_MCP_DEMO_RECORD", record.display().to_string())
        .start_timeout(Duration::from_secs(30))
}

fn recorded(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The tool results the model was sent, in order.
fn tool_results(model: &ScriptedModel) -> Vec<(String, String, bool)> {
    let Some(last) = model.last_request() else { return Vec::new() };
    last.messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some((r.name.clone(), r.content.clone(), r.is_error)),
            _ => None,
        })
        .collect()
}

fn worker(tools: &[&str]) -> std::sync::Arc<llm_do_core::CallableSpec> {
    let mut b = llm_do_core::WorkerSpecBuilder::new("desk").prompt("Help with {input}.");
    for t in tools {
        b = b.tool_name(*t);
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_tools_with_prefixed_names_and_unchanged_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let orders = McpToolset::connect("orders", demo(&dir.path().join("calls"))).await.unwrap();
    let names: Vec<String> = orders.tools().into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "orders__add_tool",
            "orders__crash",
            "orders__echo",
            "orders__lookup_order",
            "orders__photo",
            "orders__refund",
            "orders__slow"
        ]
    );
    let lookup = orders.tools().into_iter().find(|t| t.remote_name == "lookup_order").unwrap();
    assert_eq!(lookup.description, "Looks an order up by its number.");
    assert_eq!(lookup.input_schema["properties"]["id"]["type"], "string");
    assert_eq!(lookup.input_schema["required"], json!(["id"]));
    assert_eq!(lookup.output_schema.unwrap()["properties"]["status"]["type"], "string");
    assert!(orders.skipped().is_empty());

    let rt = Runtime::builder().mcp(&orders).build();
    let spec = rt.registry().get("orders__lookup_order").unwrap();
    assert_eq!(spec.approval(), Some(Verdict::Ask), "MCP tools ask by default");
    assert_eq!(spec.tool_definition().parameters, lookup.input_schema);
    orders.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_calls_tools_structured_text_images_and_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    let orders = McpToolset::connect("orders", demo(&record)).await.unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__lookup_order", json!({"id": "A-1"})),
        Reply::tool_call("orders__lookup_order", json!({"id": "Z-9"})),
        Reply::tool_call("orders__echo", json!({"text": "hello"})),
        Reply::tool_call("orders__photo", json!({})),
        Reply::text("done"),
    ]);
    let log = EventLog::new();
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approver(ApproveAll)
        .subscribe(log.clone())
        .register(worker(&["orders__lookup_order", "orders__echo", "orders__photo"]))
        .mcp(&orders)
        .build();
    let answer: String = rt.ctx().call("desk", json!({"input": "order A-1"})).await.unwrap();
    assert_eq!(answer, "done");

    let results = tool_results(&model);
    assert_eq!(results.len(), 4);
    let order: Value = serde_json::from_str(&results[0].1).unwrap();
    assert_eq!(order, json!({"id": "A-1", "status": "shipped", "total_cents": 4200}));
    assert!(!results[0].2);
    assert!(results[1].2, "isError becomes an error result");
    assert!(
        results[1].1.contains("no order Z-9; known orders are A-1 and B-2"),
        "{}",
        results[1].1
    );
    assert_eq!((results[2].1.as_str(), results[2].2), ("hello", false));
    // The scripted model takes text only: the image is named, with the reason, not sent.
    assert!(
        results[3].1.starts_with(
            "parcel photo:\n[image image-1.png]\n[image-1.png (image/png, 8 bytes) not shown:"
        ),
        "{}",
        results[3].1
    );
    assert!(results[3].1.contains("takes text only"), "{}", results[3].1);
    let last = model.last_request().unwrap();
    assert!(!last.messages.iter().any(|m| matches!(m, Message::UserParts { .. })));

    let seen: Vec<String> =
        recorded(&record).iter().map(|c| c["tool"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, ["lookup_order", "lookup_order", "echo", "photo"]);
    let names: Vec<String> = log
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallStarted { .. } => Some(e.call.name.to_string()),
            _ => None,
        })
        .collect();
    assert!(names.contains(&"orders__photo".to_owned()), "{names:?}");
    orders.close().await;
}

/// The scripted model, declaring that it takes images.
#[derive(Debug)]
struct Vision(ScriptedModel);

impl llm_do_core::Model for Vision {
    fn request<'a>(
        &'a self,
        request: &'a llm_do_core::ModelRequest,
    ) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>>
    {
        self.0.request(request)
    }

    fn input_capabilities(&self) -> llm_do_core::attachment::InputCapabilities {
        llm_do_core::attachment::InputCapabilities::ALL
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_result_reaches_a_model_that_takes_images_as_an_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let orders = McpToolset::new("orders", demo(&dir.path().join("c"))).unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__photo", json!({})),
        Reply::text("a parcel"),
    ]);
    let rt = Runtime::builder()
        .model_override(Vision(model.clone()))
        .approver(ApproveAll)
        .register(worker(&["orders__photo"]))
        .mcp(&orders)
        .build();
    let answer: String = rt.ctx().call("desk", json!({"input": "x"})).await.unwrap();
    assert_eq!(answer, "a parcel");
    let results = tool_results(&model);
    assert_eq!(
        results[0].1,
        "parcel photo:\n[image image-1.png]\n[attached below: image-1.png (image/png, 8 bytes)]"
    );
    let last = model.last_request().unwrap();
    let Some(Message::UserParts { parts }) = last.messages.last() else {
        panic!("{:?}", last.messages.last())
    };
    let files: Vec<_> = parts
        .iter()
        .filter_map(|p| match p {
            llm_do_core::message::ContentPart::Attachment(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].media_type(), files[0].bytes()),
        ("image/png", Some(&b"\x89PNG\r\n\x1a\n"[..]))
    );
    // Called directly, the tool's value is its text and its files.
    let direct = rt.ctx().call_value("orders__photo", json!({})).await.unwrap();
    assert_eq!(direct["text"], "parcel photo:\n[image image-1.png]");
    assert!(
        direct["attachments"][0]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;name=image-1.png;base64,")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_never_reaches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    let orders = McpToolset::connect("orders", demo(&record)).await.unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__echo", json!({"text": "no approver: denied"})),
        Reply::tool_call("orders__lookup_order", json!({"id": "A-1"})),
        Reply::text("gave up"),
    ]);
    // No approver: the default `Ask` is denied. A rule denies lookup_order explicitly.
    let policy = ApprovalPolicy::new().rule(Rule::new("orders__lookup_*", Verdict::Deny).unwrap());
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approval_policy(policy)
        .register(worker(&["orders__echo", "orders__lookup_order"]))
        .mcp(&orders)
        .build();
    let answer: String = rt.ctx().call("desk", json!({"input": "x"})).await.unwrap();
    assert_eq!(answer, "gave up");
    let results = tool_results(&model);
    assert!(results.iter().all(|r| r.2 && r.1.starts_with("permission denied")), "{results:?}");
    assert!(recorded(&record).is_empty(), "the server saw a call: {:?}", recorded(&record));
    // The server is up and answers a direct (trusted, ungated) call.
    assert_eq!(orders.call("echo", json!({"text": "hi"})).await.unwrap().unwrap(), json!("hi"));
    assert_eq!(recorded(&record).len(), 1);
    orders.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_process_ends_on_close_and_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let orders = McpToolset::connect("orders", demo(&dir.path().join("c"))).await.unwrap();
    let pid = orders.pid().await.unwrap();
    assert!(running(pid));
    orders.close().await;
    assert!(wait_gone(pid).await, "process {pid} still running after close");
    let err = orders.call("echo", json!({"text": "x"})).await.unwrap_err();
    assert!(matches!(err, McpError::Closed { .. }), "{err}");

    // Dropping the runtime and the toolset (the last handles) ends the process too.
    let orders = McpToolset::connect("orders", demo(&dir.path().join("c"))).await.unwrap();
    let pid = orders.pid().await.unwrap();
    let rt = Runtime::builder().mcp(&orders).build();
    drop(orders);
    assert!(running(pid), "the runtime still holds the connection");
    drop(rt);
    assert!(wait_gone(pid).await, "process {pid} still running after drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_starts_its_server_on_first_use_and_tools_added_later_join_it() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let server =
        demo(&dir.path().join("c")).env("LLM_DO_MCP_DEMO_PIDFILE", pidfile.display().to_string());
    let orders = McpToolset::new("orders", server).unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__add_tool", json!({})),
        Reply::text("added"),
        Reply::tool_call("orders__extra", json!({})),
        Reply::text("extra ran"),
    ]);
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approver(ApproveAll)
        .register(worker(&["orders__*"]))
        .mcp(&orders)
        .build();
    let pids = || std::fs::read_to_string(&pidfile).unwrap_or_default().lines().count();
    // Built, not used: nothing is started.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((pids(), orders.pid().await), (0, None));

    let answer: String = rt.ctx().call("desk", json!({"input": "x"})).await.unwrap();
    assert_eq!(answer, "added");
    assert_eq!(pids(), 1, "the first use starts the server");
    let offered = |i: usize| -> Vec<String> {
        model.requests()[i].tools.iter().map(|t| t.name.clone()).collect()
    };
    assert!(offered(0).contains(&"orders__add_tool".to_owned()), "{:?}", offered(0));
    assert!(!offered(0).contains(&"orders__extra".to_owned()), "{:?}", offered(0));

    // `add_tool` made the server send `tools/list_changed`: `extra` joins this runtime's name
    // space, for calls by name and for the worker's `orders__*`.
    let mut by_name = None;
    for _ in 0..100 {
        match rt.ctx().call_value("orders__extra", json!({})).await {
            Ok(v) => {
                by_name = Some(v);
                break;
            }
            Err(e) => {
                assert!(matches!(e, llm_do_core::Error::UnknownCallable { .. }), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    assert_eq!(by_name, Some(json!("extra ran")));
    let answer: String = rt.ctx().call("desk", json!({"input": "y"})).await.unwrap();
    assert_eq!(answer, "extra ran");
    assert!(offered(2).contains(&"orders__extra".to_owned()), "{:?}", offered(2));
    let results = tool_results(&model);
    assert_eq!(results[0], ("orders__extra".into(), "extra ran".into(), false));
    assert_eq!(pids(), 1, "one connection per runtime");
    let pid = orders.pid().await.unwrap();
    drop((rt, orders));
    assert!(wait_gone(pid).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_on_first_use_is_a_clear_error_of_that_use() {
    let orders = McpToolset::new("orders", McpServer::stdio(DEMO, ["--exit"])).unwrap();
    let rt = Runtime::builder()
        .model_override(ScriptedModel::queue([Reply::text("unused")]))
        .register(worker(&["orders__*"]))
        .mcp(&orders)
        .build();
    let err = rt.ctx().call_value("desk", json!({"input": "x"})).await.unwrap_err();
    let llm_do_core::Error::Other(inner) = &err else { panic!("{err:?}") };
    let mcp = inner.downcast_ref::<McpError>();
    assert!(matches!(mcp, Some(McpError::Start { .. })), "{err:?}");
    assert!(err.to_string().contains("refusing to start"), "{err}");
}

/// Not a test of its own: the process that `a_server_dies_with_llm_do_even_on_sigkill` starts
/// and kills. It holds a server that outlives its stdin (`LLM_DO_MCP_DEMO_LINGER`), so only the
/// kernel's parent-death signal can end it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_of_a_lingering_server() {
    let Ok(pidfile) = std::env::var("LLM_DO_MCP_TEST_HOLDER_PIDFILE") else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = demo(&dir.path().join("c"))
        .env("LLM_DO_MCP_DEMO_LINGER", "1")
        .env("LLM_DO_MCP_DEMO_PIDFILE", pidfile);
    let orders = McpToolset::new("orders", server).unwrap();
    orders.call("echo", json!({"text": "x"})).await.unwrap().unwrap();
    println!("holding");
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dies_with_llm_do_even_on_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let mut holder = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["holder_of_a_lingering_server", "--exact", "--nocapture", "--test-threads=1"])
        .env("LLM_DO_MCP_TEST_HOLDER_PIDFILE", &pidfile)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = None;
    for _ in 0..600 {
        if let Some(pid) =
            std::fs::read_to_string(&pidfile).ok().and_then(|s| s.trim().parse().ok())
        {
            server = Some(pid);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server: u32 = server.expect("the holder started no server within 30 s");
    // Give the holder time to finish `initialize` and the call (the server is up either way).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(running(server));
    holder.kill().unwrap(); // SIGKILL: no destructor of the holder runs
    holder.wait().unwrap();
    assert!(
        wait_gone(server).await,
        "server {server} outlived the SIGKILLed process that started it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_server_is_restarted_at_most_once_per_call_then_a_typed_error_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    // Crashes once: the restarted server answers the retried call (`crash` is marked
    // idempotent here: see the next test for a tool that is not).
    let once = demo(&record)
        .env("LLM_DO_MCP_DEMO_IDEMPOTENT_CRASH", "1")
        .env("LLM_DO_MCP_DEMO_CRASH_ONCE", dir.path().join("marker").display().to_string());
    let orders = McpToolset::connect("orders", once).await.unwrap();
    let first = orders.pid().await.unwrap();
    assert_eq!(orders.call("crash", json!({})).await.unwrap().unwrap(), json!("survived"));
    let second = orders.pid().await.unwrap();
    assert_ne!(first, second);
    assert!(wait_gone(first).await);
    // The restarted server answered: a later death is restarted again (a long-lived server
    // process is not left with a dead server after one crash).
    std::fs::remove_file(dir.path().join("marker")).unwrap();
    assert_eq!(orders.call("crash", json!({})).await.unwrap().unwrap(), json!("survived"));
    let third = orders.pid().await.unwrap();
    assert_ne!(third, second);
    assert!(wait_gone(second).await);

    // Without the marker the server dies on the call and again on the retry: final.
    let always = demo(&record).env("LLM_DO_MCP_DEMO_IDEMPOTENT_CRASH", "1");
    let orders = McpToolset::connect("orders", always).await.unwrap();
    let err = orders.call("crash", json!({})).await.unwrap_err();
    let McpError::ServerDied { server, tool, stderr, .. } = &err else { panic!("{err}") };
    assert_eq!((server.as_str(), tool.as_str()), ("orders", "crash"));
    assert!(stderr.contains("crashing on purpose"), "{stderr}");
    assert!(err.to_string().contains("its stderr ends with"), "{err}");
    assert_eq!(orders.pid().await, None, "the dead server is buried");
    // The poisonous call does not disable the server: the next call starts it anew.
    let again = orders.call("echo", json!({"text": "x"})).await.unwrap().unwrap();
    assert_eq!(again, json!("x"));
    assert!(orders.pid().await.is_some());
    // And each call restarts it at most once: the crash is final again, not a loop.
    let err = orders.call("crash", json!({})).await.unwrap_err();
    assert!(matches!(err, McpError::ServerDied { .. }), "{err}");
    assert!(err.to_string().contains("again after a restart"), "{err}");
}

/// A call the server died during is not made again when the server does not say that
/// repeating it changes nothing: it may have acted before it died (a refund made twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_of_an_unmarked_tool_the_server_died_during_is_made_once_only() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    let marker = dir.path().join("marker");
    let once = demo(&record).env("LLM_DO_MCP_DEMO_CRASH_ONCE", marker.display().to_string());
    let orders = McpToolset::connect("orders", once).await.unwrap();
    let crash = orders.tools().into_iter().find(|t| t.remote_name == "crash").unwrap();
    assert!(!crash.replayable);
    let first = orders.pid().await.unwrap();
    let err = orders.call("crash", json!({})).await.unwrap_err();
    let McpError::DiedDuringCall { server, tool, stderr, .. } = &err else { panic!("{err}") };
    assert_eq!((server.as_str(), tool.as_str()), ("orders", "crash"));
    assert!(stderr.contains("crashing on purpose"), "{stderr}");
    assert!(err.to_string().contains("not made again"), "{err}");
    // It reached the server once; the server is buried, not restarted for a second try.
    let calls: Vec<Value> =
        recorded(&record).into_iter().filter(|c| c["tool"] == "crash").collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(orders.pid().await, None);
    assert!(wait_gone(first).await);
    // The next call starts the server anew (and, the marker there, the tool survives).
    assert_eq!(orders.call("crash", json!({})).await.unwrap().unwrap(), json!("survived"));
    assert!(orders.pid().await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_is_an_error_result_for_the_model_not_a_crash_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let orders = McpToolset::connect("orders", demo(&dir.path().join("c"))).await.unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__crash", json!({})),
        Reply::text("the server is down"),
    ]);
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approver(ApproveAll)
        .register(worker(&["orders__crash"]))
        .mcp(&orders)
        .build();
    let answer: String = rt.ctx().call("desk", json!({"input": "x"})).await.unwrap();
    assert_eq!(answer, "the server is down");
    let results = tool_results(&model);
    assert!(results[0].2 && results[0].1.contains("crashing on purpose"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_changed_refreshes_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let orders = McpToolset::connect("orders", demo(&dir.path().join("c"))).await.unwrap();
    assert!(!orders.tools().iter().any(|t| t.remote_name == "extra"));
    assert_eq!(orders.call("add_tool", json!({})).await.unwrap().unwrap(), json!("added"));
    // The notification marks the list stale; the next call lists again.
    let mut listed = false;
    for _ in 0..50 {
        let _ = orders.call("echo", json!({"text": "x"})).await.unwrap();
        if orders.tools().iter().any(|t| t.name == "orders__extra") {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed, "{:?}", orders.tools());
    orders.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_timeout_and_unknown_tools_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("c");
    let server = demo(&record).call_timeout(Duration::from_millis(500));
    let orders = McpToolset::connect("orders", server).await.unwrap();
    let err = orders.call("slow", json!({"seconds": 30})).await.unwrap_err();
    let McpError::Timeout { tool, after, .. } = &err else { panic!("{err}") };
    assert_eq!((tool.as_str(), *after), ("slow", Duration::from_millis(500)));
    // The late call was cancelled (`notifications/cancelled` reached the server)...
    let cancelled = || recorded(&record).into_iter().any(|r| r["tool"] == "cancelled");
    for _ in 0..100 {
        if cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reasons: Vec<Value> = recorded(&record)
        .into_iter()
        .filter(|r| r["tool"] == "cancelled")
        .map(|r| r["arguments"]["reason"].clone())
        .collect();
    assert_eq!(reasons, [json!("the call was abandoned by llm-do")]);
    // ...and the server goes on answering.
    assert_eq!(
        orders.call("slow", json!({"seconds": 0})).await.unwrap().unwrap(),
        json!("waited 0s")
    );
    let err = orders.call("nope", json!({})).await.unwrap_err();
    assert!(matches!(err, McpError::UnknownTool { .. }), "{err}");
    let err = orders.call("echo", json!([1])).await.unwrap_err();
    assert!(matches!(err, McpError::Call { .. }), "{err}");
    orders.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_servers_are_clear_errors_not_hangs() {
    let quick = |arg: &str| McpServer::stdio(DEMO, [arg]).start_timeout(Duration::from_secs(3));
    let err = McpToolset::connect("s", quick("--exit")).await.unwrap_err();
    assert!(matches!(err, McpError::Start { .. }), "{err}");
    assert!(err.to_string().contains("refusing to start (--exit)"), "{err}");

    let err = McpToolset::connect("s", quick("--silent")).await.unwrap_err();
    assert!(matches!(err, McpError::StartTimeout { .. }), "{err}");
    assert!(err.to_string().contains("never answering (--silent)"), "{err}");

    // A server that never answers is stopped with whatever it started (before, a process
    // it had started outlived the failed start).
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("child");
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    let silent =
        McpServer::stdio("sh", ["-c", script.as_str()]).start_timeout(Duration::from_secs(1));
    let err = McpToolset::connect("s", silent).await.unwrap_err();
    assert!(matches!(err, McpError::StartTimeout { .. }), "{err}");
    let child: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(wait_gone(child).await, "the server's child {child} outlived the failed start");

    // `--garbage`: tests/stdout_noise.rs.

    let err = McpToolset::connect("s", McpServer::stdio("/no/such/server", Vec::<String>::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::Start { .. }), "{err}");

    let err = McpToolset::connect("bad__name", quick("--exit")).await.unwrap_err();
    assert!(matches!(err, McpError::Config { .. }), "{err}");

    // An invalid schema leaves that one tool out, with the reason.
    let s = McpToolset::connect("s", quick("--bad-schema")).await.unwrap();
    let skipped = s.skipped();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].remote_name, "broken");
    assert!(skipped[0].reason.contains("not a valid JSON Schema"), "{}", skipped[0].reason);
    assert!(s.tools().iter().any(|t| t.remote_name == "echo"));
    s.close().await;
}

/// Every protocol revision llm-do knows can be pinned, and a call works on each: by
/// `initialize` before 2026-07-28, by `server/discover` from then on. An unknown revision is a
/// configuration error, before anything is started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_known_protocol_revision_can_be_pinned_and_an_unknown_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let versions: Vec<&str> = llm_do_mcp::protocol_versions().collect();
    assert!(versions.contains(&"2025-11-25") && versions.contains(&"2026-07-28"), "{versions:?}");
    for version in versions {
        let orders = McpToolset::connect("orders", demo(&record).protocol(version)).await.unwrap();
        let echoed = orders.call("echo", json!({"text": version})).await.unwrap().unwrap();
        assert_eq!(echoed, json!(version));
        orders.close().await;
    }
    let pidfile = dir.path().join("pids");
    let unknown = demo(&record)
        .env("LLM_DO_MCP_DEMO_PIDFILE", pidfile.display().to_string())
        .protocol("2099-01-01\x1b[2J");
    let Err(e) = McpToolset::connect("orders", unknown).await else { panic!("connected") };
    assert!(matches!(&e, McpError::Config { server, .. } if server == "orders"), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("unknown MCP protocol revision `2099-01-01\\x1b[2J`"), "{text}");
    assert!(text.contains("2026-07-28"), "{text}");
    assert!(!pidfile.exists(), "the server was started");
}

/// A server that stops before 2026-07-28 answers `server/discover` with revisions llm-do does
/// not ask for there: by default llm-do starts it again with `initialize`, and it works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_before_2026_07_28_is_initialized() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let pidfile = dir.path().join("pids");
    let old = demo(&record)
        .env("LLM_DO_MCP_DEMO_MAX_PROTOCOL", "2025-11-25")
        .env("LLM_DO_MCP_DEMO_PIDFILE", pidfile.display().to_string());
    let orders = McpToolset::connect("orders", old.clone()).await.unwrap();
    let said = orders.call("refund", json!({"id": "A-1"})).await.unwrap().unwrap();
    assert_eq!(said, json!("the user declined"));
    assert_eq!(recorded(&record)[0]["arguments"]["protocol"], "2025-11-25");
    orders.close().await;
    // The process asked first was stopped: no server outlives the start.
    let pids: Vec<u32> =
        std::fs::read_to_string(&pidfile).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(pids.len(), 2, "asked once, then initialized: {pids:?}");
    for pid in pids {
        assert!(wait_gone(pid).await, "process {pid} still running");
    }
    // Pinned to 2026-07-28, it is refused with the revisions it speaks.
    let Err(e) = McpToolset::connect("orders", old.protocol("2026-07-28")).await else {
        panic!("connected")
    };
    assert!(matches!(&e, McpError::Start { .. }), "{e:?}");
    assert!(e.to_string().contains("2025-11-25"), "{e}");
}

/// A server's progress on a call is that call's: the demo's `slow` reports at its start, and the
/// run's events show it as a `progress` of `orders__slow` (on both revisions). Its text stays as
/// sent in the event; printers escape it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_progress_is_reported_by_the_call_it_belongs_to() {
    for protocol in ["2025-11-25", "2026-07-28"] {
        let dir = tempfile::tempdir().unwrap();
        let orders =
            McpToolset::connect("orders", demo(&dir.path().join("calls.jsonl")).protocol(protocol))
                .await
                .unwrap();
        let log = EventLog::new();
        let rt = Runtime::builder().mcp(&orders).subscribe(log.clone()).build();
        let said: String = rt.ctx().call("orders__slow", json!({"seconds": 1})).await.unwrap();
        assert_eq!(said, "waited 1s");
        let progress: Vec<_> = log
            .events()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::Progress { progress, total, message } => {
                    Some((e.call.name.to_string(), progress, total, message))
                }
                _ => None,
            })
            .collect();
        // The report at the end may race the call's own end; the first one may not.
        let first = ("orders__slow".to_owned(), 1.0, Some(2.0), Some("waiting \x1b[2J".to_owned()));
        assert_eq!(progress.first(), Some(&first), "{protocol}: {progress:?}");
        let printed = llm_do_core::EventPrinter::to_buffer();
        let line = log.events().iter().find_map(|e| {
            matches!(e.kind, EventKind::Progress { .. }).then(|| printed.line(e)).flatten()
        });
        assert_eq!(line.as_deref(), Some("  … orders__slow 1/2 waiting \\x1b[2J"));
        orders.close().await;
    }
}
