//! Durable runs against a real Restate server (the npm package's binary, named by
//! `LLM_DO_TEST_RESTATE_SERVER`; `.ci/run` installs it) and the loopback OpenAI test server.
//!
//! The service runs in a child process (this test binary, re-run as `service_process`), so that
//! it can be killed with SIGKILL mid-run and started again. Every wait is bounded.

use llm_do_core::approval::{ApprovalReason, Verdict};
use llm_do_core::error::ErrorKind;
use llm_do_core::{Error, Runtime, ToolSpecBuilder, WorkerSpecBuilder};
use llm_do_openai::{OpenAiConfig, OpenAiProvider};
use llm_do_restate::{ApprovalAnswer, DurableError, DurableService, LocalServer};
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const CHILD_ENV: &str = "LLM_DO_RESTATE_TEST_CHILD";
const WAIT: Duration = Duration::from_secs(60);

/// The Restate server binary, or `None` (with a note) outside CI; under CI a missing server
/// fails the test.
fn server_binary() -> Option<PathBuf> {
    match LocalServer::find_binary() {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => panic!(
            "{} is not set and no restate-server is installed: .ci/run installs \
             @restatedev/restate-server from npm",
            llm_do_restate::SERVER_ENV
        ),
        None => {
            eprintln!(
                "note: skipped: no Restate server (set {} or run `npm install --prefix \
                 ~/.cache/llm-do/restate @restatedev/restate-server`)",
                llm_do_restate::SERVER_ENV
            );
            None
        }
    }
}

/// The service process: serves the test workers when started by a test (`CHILD_ENV` set to
/// `PORT MODEL_URL DIR`); a no-op otherwise. Exits after two minutes at the latest.
#[test]
fn service_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let mut parts = spec.splitn(3, ' ');
    let (port, model_url, dir) = (
        parts.next().unwrap().parse::<u16>().unwrap(),
        parts.next().unwrap().to_owned(),
        PathBuf::from(parts.next().unwrap()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let service = DurableService::new(test_runtime(&model_url, &dir))
            .log_dir(dir.join("logs"))
            .retention(Duration::from_secs(7 * 86_400));
        eprintln!("service listening on {port}");
        service.serve(listener, tokio::time::sleep(Duration::from_secs(120))).await;
    });
}

/// `three_steps` (model → record → model → record → model), `guarded` (asks before
/// `delete`), `delegate` (a Rust tool that calls `guarded`) and `outer` (calls `delegate`). `record` appends its `n` to DIR/tool-runs; with DIR/hold present, step 2 marks
/// DIR/reached and waits until DIR/hold is gone (at most 60 s).
fn test_runtime(model_url: &str, dir: &Path) -> Runtime {
    let runs = dir.join("tool-runs");
    let (hold, reached) = (dir.join("hold"), dir.join("reached"));
    let record = ToolSpecBuilder::new("record")
        .description("Records a step.")
        .input_schema(
            json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
        )
        .handler(move |_, args| {
            let (runs, hold, reached) = (runs.clone(), hold.clone(), reached.clone());
            async move {
                let n = args["n"].as_u64().unwrap_or(0);
                append(&runs, &format!("record {n}"));
                if n == 2 && hold.exists() {
                    std::fs::write(&reached, "").map_err(Error::from)?;
                    let started = Instant::now();
                    while hold.exists() && started.elapsed() < WAIT {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                Ok(json!(format!("step {n} recorded")))
            }
        })
        .build();
    let deleted = dir.join("tool-runs");
    let delete = ToolSpecBuilder::new("delete")
        .description("Deletes a file.")
        .input_schema(json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}))
        .approval(Verdict::Ask)
        .handler(move |_, args| {
            let deleted = deleted.clone();
            async move {
                append(&deleted, &format!("delete {}", args["path"].as_str().unwrap_or("")));
                Ok(json!("deleted"))
            }
        })
        .build();
    // A Rust tool that calls a worker: all of it is one step.
    let delegate = ToolSpecBuilder::new("delegate")
        .description("Has `guarded` do it.")
        .input_schema(json!({"type": "object", "properties": {}}))
        .handler(|ctx, _| async move { ctx.call_value("guarded", json!({})).await })
        .build();
    let outer = WorkerSpecBuilder::new("outer")
        .prompt("Delegate.")
        .model("openai:test")
        .tool_name("delegate")
        .build()
        .unwrap();
    let three = WorkerSpecBuilder::new("three_steps")
        .prompt("Record two steps.")
        .model("openai:test")
        .tool_name("record")
        .build()
        .unwrap();
    let guarded = WorkerSpecBuilder::new("guarded")
        .prompt("Delete a.txt.")
        .model("openai:test")
        .tool_name("delete")
        .build()
        .unwrap();
    Runtime::builder()
        .ignore_env()
        .provider(
            "openai",
            OpenAiProvider::new(OpenAiConfig::new().base_url(model_url).api_key("k")),
        )
        .register(record)
        .register(delete)
        .register(delegate)
        .register(outer)
        .register(three)
        .register(guarded)
        .build()
}

fn append(path: &Path, line: &str) {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(f, "{line}").unwrap();
}

fn tool_runs(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("tool-runs"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the service process on `port` and waits until it accepts connections.
async fn start_service(port: u16, model_url: &str, dir: &Path) -> Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "service_process", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{port} {model_url} {}", dir.display()))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < WAIT, "the service process did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// SIGKILL, as a crash.
async fn kill_9(mut child: Child) {
    child.start_kill().unwrap();
    tokio::time::timeout(WAIT, child.wait()).await.unwrap().unwrap();
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_after_its_second_model_request_completes_without_repeating_it() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, dir.path()).await.unwrap();
    let models = TestServer::builder()
        .script([
            Reply::tool_call("record", json!({"n": 1})),
            Reply::tool_call("record", json!({"n": 2})),
            Reply::text("all steps recorded"),
        ])
        .start()
        .await
        .unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("hold"), "").unwrap();
    let service = start_service(port, &models.base_url(), dir.path()).await;
    let client = restate.client();
    client.register(&format!("http://127.0.0.1:{port}")).await.unwrap();
    // Finished runs (and their records) are kept for the service's retention.
    let services = format!("{}/services/{}", restate.admin_url(), llm_do_restate::SERVICE_NAME);
    let service_info: serde_json::Value =
        llm_do_openai::http::client().get(&services).send().await.unwrap().json().await.unwrap();
    assert_eq!(service_info["workflow_completion_retention"], "7d", "{service_info}");

    client.submit("crash-run", "three_steps", json!({})).await.unwrap();
    // Step 2 of the tool runs only once the second model answer is journaled.
    wait_for("the second tool step", || dir.path().join("reached").exists()).await;
    assert_eq!(models.request_count(), 2);
    kill_9(service).await;

    std::fs::remove_file(dir.path().join("hold")).unwrap();
    let service = start_service(port, &models.base_url(), dir.path()).await;
    let out = client.output("crash-run", WAIT).await.unwrap();
    assert_eq!(out.output, json!("all steps recorded"));
    // Each model request was sent exactly once: the first two were replayed from the journal.
    assert_eq!(models.request_count(), 3);
    assert_eq!(out.usage.requests, 3);
    // Step 1 was journaled: not run again. Step 2 was under way at the crash: it ran again
    // (at least once per step, as docs/durable.md says).
    assert_eq!(tool_runs(dir.path()), ["record 1", "record 2", "record 2"]);

    // The same run id is the same run: no new request, same output.
    client.submit("crash-run", "three_steps", json!({})).await.unwrap();
    let again = client.output("crash-run", WAIT).await.unwrap();
    assert_eq!(again.output, out.output);
    assert_eq!(models.request_count(), 3);

    // Its record survives the crash, and another one after the run: every event once, in
    // order, numbered as in a run that never crashed.
    kill_9(service).await;
    let service = start_service(port, &models.base_url(), dir.path()).await;
    let record = client.record("crash-run").await.unwrap();
    assert_eq!(
        (record.status.as_str(), record.usage, &record.failure),
        ("succeeded", out.usage, &None)
    );
    let labels: Vec<&str> =
        record.events.iter().map(|e| e["kind"]["type"].as_str().unwrap()).collect();
    let turn = [
        "model_request",
        "model_response",
        "tool_call",
        "call_started",
        "call_finished",
        "tool_result",
    ];
    let expected: Vec<&str> = [
        &["call_started"][..],
        &turn,
        &turn,
        &["model_request", "model_response", "call_finished"],
    ]
    .concat();
    assert_eq!(labels, expected);
    let seqs: Vec<u64> = record.events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=expected.len() as u64).collect::<Vec<_>>());
    let calls: Vec<(u64, Option<u64>, &str)> = record
        .events
        .iter()
        .filter(|e| e["kind"]["type"] == "call_started")
        .map(|e| {
            (
                e["call"]["id"].as_u64().unwrap(),
                e["call"]["parent"].as_u64(),
                e["call"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls, [(1, None, "three_steps"), (2, Some(1), "record"), (3, Some(1), "record")]);
    let finished = record.events.iter().filter(|e| e["kind"]["type"] == "call_finished");
    let finished: Vec<u64> = finished.map(|e| e["call"]["id"].as_u64().unwrap()).collect();
    assert_eq!(finished, [2, 3, 1]);
    assert_eq!(record.events.last().unwrap()["kind"]["usage"]["requests"], 3);
    // The run log holds the same records, one per line (rewritten whole by the replay).
    let log = std::fs::read_to_string(dir.path().join("logs/crash-run.jsonl")).unwrap();
    let logged: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(logged, record.events);
    // A run id never submitted.
    let err = client.record("no-such-run").await.unwrap_err();
    assert!(matches!(err, DurableError::UnknownRun { .. }), "{err}");
    kill_9(service).await;
    restate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_wait_across_restarts_and_errors_are_clear() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, dir.path()).await.unwrap();
    let models = TestServer::builder()
        .script([
            Reply::tool_call("delete", json!({"path": "a.txt", "token": "hunter2-never-shown"})),
            Reply::text("a.txt is gone"),
            Reply::tool_call("delete", json!({"path": "b.txt"})),
            Reply::tool_call("delegate", json!({})),
            Reply::tool_call("delete", json!({"path": "c.txt"})),
            Reply::text("c.txt was not deleted"),
            Reply::text("delegated: c.txt stays"),
        ])
        .start()
        .await
        .unwrap();
    let client = restate.client();

    // Nothing listening: unreachable.
    let nobody = llm_do_restate::Client::new(format!("http://127.0.0.1:{}", free_port()));
    let err = nobody.submit("r1", "guarded", json!({})).await.unwrap_err();
    assert!(matches!(err, DurableError::Unreachable { .. }), "{err}");
    // The server runs, the service is not registered yet.
    let err = client.submit("r1", "guarded", json!({})).await.unwrap_err();
    assert!(matches!(err, DurableError::NotRegistered { .. }), "{err}");
    // Ids that cannot go into a URL.
    let err = client.submit("../admin", "guarded", json!({})).await.unwrap_err();
    assert!(matches!(err, DurableError::InvalidId { .. }), "{err}");

    let port = free_port();
    let service = start_service(port, &models.base_url(), dir.path()).await;
    client.register(&format!("http://127.0.0.1:{port}")).await.unwrap();

    // A worker the service does not have: the run fails with the kind of the error.
    client.submit("unknown-run", "no_such_worker", json!({})).await.unwrap();
    let err = client.output("unknown-run", WAIT).await.unwrap_err();
    assert_run_failed(err, ErrorKind::UnknownCallable, "no_such_worker");

    // An approval wait survives a restart of the service and resumes when approved.
    client.submit("approve-run", "guarded", json!({})).await.unwrap();
    let pending = wait_pending(&client, "approve-run").await;
    assert_eq!(pending.len(), 1);
    // A secret among the arguments is not kept in Restate's state nor shown to whoever answers.
    let shown = json!({"path": "a.txt", "token": "[redacted]"});
    assert_eq!((pending[0].tool.as_str(), &pending[0].args), ("delete", &shown));
    // Why it waits, typed: the tool's declared verdict.
    assert_eq!(pending[0].reason, ApprovalReason::Declared { verdict: Verdict::Ask });
    kill_9(service).await;
    let service = start_service(port, &models.base_url(), dir.path()).await;
    assert!(tool_runs(dir.path()).is_empty());
    client.approve(&pending[0].id, &ApprovalAnswer { approve: true, reason: None }).await.unwrap();
    let out = client.output("approve-run", WAIT).await.unwrap();
    assert_eq!(out.output, json!("a.txt is gone"));
    assert_eq!(tool_runs(dir.path()), ["delete a.txt"]);
    assert_eq!(models.request_count(), 2);
    assert!(client.pending("approve-run").await.unwrap().is_empty());
    // Answered approvals cannot be answered again.
    let again = ApprovalAnswer { approve: true, reason: None };
    let err = client.approve(&pending[0].id, &again).await;
    assert!(err.is_ok() || matches!(err, Err(DurableError::UnknownApproval { .. })), "{err:?}");

    // A denial ends the run with the typed denial error; the tool does not run.
    client.submit("deny-run", "guarded", json!({})).await.unwrap();
    let pending = wait_pending(&client, "deny-run").await;
    let no = ApprovalAnswer { approve: false, reason: Some("not b.txt".into()) };
    client.approve(&pending[0].id, &no).await.unwrap();
    assert_run_failed(
        client.output("deny-run", WAIT).await.unwrap_err(),
        ErrorKind::Denied,
        "not b.txt",
    );
    assert_eq!(tool_runs(dir.path()), ["delete a.txt"]);
    // The records keep the failure's kind, and the approval asked across the restart.
    let denied = client.record("deny-run").await.unwrap();
    assert_eq!(denied.status, "failed");
    assert_eq!(denied.failure.as_ref().map(|f| f.kind), Some(ErrorKind::Denied));
    assert_eq!(denied.usage.requests, 1);
    let approved = client.record("approve-run").await.unwrap();
    let labels: Vec<&str> =
        approved.events.iter().map(|e| e["kind"]["type"].as_str().unwrap()).collect();
    assert_eq!(labels.iter().filter(|l| **l == "approval_requested").count(), 1, "{labels:?}");
    assert_eq!((approved.status.as_str(), approved.usage), ("succeeded", out.usage));
    // An approval asked inside a step (`outer`'s model calls the Rust tool `delegate`, one
    // step, which calls `guarded`, whose model asks for `delete`) cannot be a durable wait:
    // the runtime's approver (here the default, which denies) decides and the run goes on.
    client.submit("nested-run", "outer", json!({})).await.unwrap();
    let out = client.output("nested-run", WAIT).await.unwrap();
    assert_eq!(out.output, json!("delegated: c.txt stays"));
    assert_eq!(tool_runs(dir.path()), ["delete a.txt"]);
    assert!(client.pending("nested-run").await.unwrap().is_empty());
    assert_eq!(models.request_count(), 7);
    kill_9(service).await;
    restate.stop().await;
}

async fn wait_pending(
    client: &llm_do_restate::Client,
    run_id: &str,
) -> Vec<llm_do_restate::PendingApproval> {
    let started = Instant::now();
    loop {
        let pending = client.pending(run_id).await.unwrap();
        if !pending.is_empty() {
            return pending;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for an approval of {run_id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_ends_at_its_next_step_with_its_reason() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, dir.path()).await.unwrap();
    let models = TestServer::builder()
        .script([
            Reply::tool_call("delete", json!({"path": "a.txt"})),
            Reply::tool_call("record", json!({"n": 1})),
            Reply::tool_call("record", json!({"n": 2})),
            Reply::text("never sent: the run was cancelled"),
        ])
        .start()
        .await
        .unwrap();
    let port = free_port();
    let service = start_service(port, &models.base_url(), dir.path()).await;
    let client = restate.client();
    client.register(&format!("http://127.0.0.1:{port}")).await.unwrap();
    let cancelled = |err, reason| assert_run_failed(err, ErrorKind::Cancelled, reason);

    // Cancelled while it waits for an approval: the wait ends, the call is not made, and the
    // run fails with the reason given.
    client.submit("cancel-wait", "guarded", json!({})).await.unwrap();
    wait_pending(&client, "cancel-wait").await;
    assert!(client.cancel("cancel-wait", Some("wrong customer")).await.unwrap());
    cancelled(client.output("cancel-wait", WAIT).await.unwrap_err(), "wrong customer");
    assert!(tool_runs(dir.path()).is_empty());
    assert!(client.pending("cancel-wait").await.unwrap().is_empty());
    let record = client.record("cancel-wait").await.unwrap();
    assert_eq!(record.status, "failed");
    let failure = record.failure.unwrap();
    assert_eq!(failure.kind, ErrorKind::Cancelled);
    assert!(failure.message.contains("wrong customer"), "{}", failure.message);
    assert_eq!(record.usage.requests, 1);
    // An ended run stays as it ended.
    assert!(!client.cancel("cancel-wait", Some("again")).await.unwrap());
    cancelled(client.output("cancel-wait", WAIT).await.unwrap_err(), "wrong customer");

    // Cancelled while a tool step runs: the step runs to its end, the next model request is
    // never sent. Without a reason, the error says through what it was cancelled.
    std::fs::write(dir.path().join("hold"), "").unwrap();
    client.submit("cancel-step", "three_steps", json!({})).await.unwrap();
    wait_for("the second tool step", || dir.path().join("reached").exists()).await;
    assert!(client.cancel("cancel-step", None).await.unwrap());
    std::fs::remove_file(dir.path().join("hold")).unwrap();
    cancelled(client.output("cancel-step", WAIT).await.unwrap_err(), "cancelled through Restate");
    assert_eq!(tool_runs(dir.path()), ["record 1", "record 2"]);
    assert_eq!(models.request_count(), 3);
    let record = client.record("cancel-step").await.unwrap();
    assert_eq!(record.failure.map(|f| f.kind), Some(ErrorKind::Cancelled));
    assert_eq!(record.usage.requests, 2);
    // The run log ends as the record does.
    let log = std::fs::read_to_string(dir.path().join("logs/cancel-step.jsonl")).unwrap();
    assert_eq!(log.lines().count(), record.events.len());

    // A run that ended before: not cancelled. A run never submitted, and a bad id.
    client.submit("ended", "no_such_worker", json!({})).await.unwrap();
    let err = client.output("ended", WAIT).await.unwrap_err();
    assert!(matches!(err, DurableError::Run { kind: ErrorKind::UnknownCallable, .. }), "{err}");
    assert!(!client.cancel("ended", None).await.unwrap());
    let err = client.cancel("no-such-run", None).await.unwrap_err();
    assert!(matches!(err, DurableError::UnknownRun { .. }), "{err}");
    let err = client.cancel("../x", None).await.unwrap_err();
    assert!(matches!(err, DurableError::InvalidId { .. }), "{err}");
    kill_9(service).await;
    restate.stop().await;
}

/// Asserts that `err` is a run's failure of `kind` whose message holds `text`.
fn assert_run_failed(err: DurableError, kind: ErrorKind, text: &str) {
    match err {
        DurableError::Run { kind: got, message } => {
            assert_eq!(got, kind, "{message}");
            assert!(message.contains(text), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
}
