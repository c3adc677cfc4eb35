//! For the tests of the served side: a tool that needs approval and a worker that calls it, a
//! client whose user answers approval questions, an rmcp client connected to a service over an
//! in-memory pipe, the pieces of a call and its result, a service on loopback HTTP, and the
//! official Python client run against it.

#![allow(dead_code)]

#[path = "python.rs"]
mod python;
pub use python::Sdk;

use llm_do_core::approval::Verdict;
use llm_do_core::{
    CallableSpec, Message, ModelError, ModelRequest, Runtime, RuntimeBuilder, ToolSpecBuilder,
    WorkerSpecBuilder,
};
use llm_do_mcp::serve::McpService;
use llm_do_testing::scripted::{Reply, ScriptedModel};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, Implementation, ProgressNotificationParam,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt as _};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `greet`: asks the person behind the run for their name (`Ctx::ask`) and greets them;
/// `pay`: asks them to open a payment page (`Ctx::ask_to_open`) and says what they answered.
pub fn greeter() -> llm_do_core::Runtime {
    let greet = llm_do_core::ToolSpecBuilder::new("greet")
        .handler(|ctx, _| async move {
            let form = json!({"type": "object", "required": ["name"],
                "properties": {"name": {"type": "string", "title": "Your name"}}});
            Ok(match ctx.ask("Who are you? (token sk-abcdefghijklmnopqrstuvwxyz)", form).await? {
                llm_do_core::approval::Answer::Accept { content } => {
                    json!(format!("Hello, {}!", content["name"].as_str().unwrap_or("?")))
                }
                _ => json!("Hello, stranger!"),
            })
        })
        .build();
    let pay = llm_do_core::ToolSpecBuilder::new("pay")
        .handler(|ctx, _| async move {
            let answer = ctx.ask_to_open("Pay invoice 7", "https://pay.example.com/i/7").await?;
            Ok(json!(answer.action()))
        })
        .build();
    llm_do_core::Runtime::builder().register(greet).register(pay).build()
}

/// `index`: reports three steps of its own; `research`: a worker whose model calls `index`;
/// `survey`: reports, asks the person behind the run for their name, reports again.
pub fn indexer() -> Runtime {
    indexer_with(None)
}

/// [`indexer`], whose `index` waits after its first report until `seen` (the reports its
/// caller has seen) grows, at most 10 s: that report reaches the caller before the answer does
/// (a client that hands each notification to a task of its own may otherwise see it after).
pub fn indexer_seen_by(seen: Arc<AtomicUsize>) -> Runtime {
    indexer_with(Some(seen))
}

fn indexer_with(seen: Option<Arc<AtomicUsize>>) -> Runtime {
    let index = ToolSpecBuilder::new("index")
        .handler(move |ctx, _| {
            let seen = seen.clone();
            async move {
                let before = seen.as_ref().map(|s| s.load(Ordering::SeqCst));
                for n in 1..=3 {
                    ctx.report_progress(f64::from(n), Some(3.0), Some(&format!("file {n}")));
                    if let (1, Some(seen), Some(before)) = (n, &seen, before) {
                        for _ in 0..1000 {
                            if seen.load(Ordering::SeqCst) > before {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                Ok(json!("indexed"))
            }
        })
        .build();
    let survey = ToolSpecBuilder::new("survey")
        .handler(|ctx, _| async move {
            ctx.report_progress(1.0, Some(2.0), Some("asking"));
            let form = json!({"type": "object", "properties": {"name": {"type": "string"}}});
            let answer = ctx.ask("Who are you?", form).await?;
            ctx.report_progress(2.0, Some(2.0), Some("answered"));
            Ok(json!(answer.action()))
        })
        .build();
    let research = WorkerSpecBuilder::new("research")
        .prompt("Research.")
        .tool_name("index")
        .model("scripted:any")
        .build()
        .unwrap();
    let model = ScriptedModel::new(|req: &ModelRequest| {
        let answered = req.messages.iter().any(|m| matches!(m, Message::Tool(_)));
        Ok::<_, ModelError>(if answered {
            Reply::text("found it")
        } else {
            Reply::tool_call("index", json!({}))
        })
    });
    Runtime::builder()
        .model_override(model)
        .register(index)
        .register(survey)
        .register(research)
        .build()
}

/// `remove(path)`: needs approval (`Ask`), answers "removed" and counts its runs in `removed`.
pub fn remove_tool(removed: &Arc<AtomicUsize>) -> Arc<CallableSpec> {
    let counter = removed.clone();
    ToolSpecBuilder::new("remove")
        .description("Deletes a file.")
        .input_schema(json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}))
        .approval(Verdict::Ask)
        .handler(move |_, _| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(json!("removed"))
            }
        })
        .build()
}

/// Which questions a [`User::deciding`] approves, by their message.
type Approves = dyn Fn(&str) -> bool + Send + Sync;

/// A client whose user answers approval questions from a script (or by a rule on the
/// question), and keeps what was asked.
#[derive(Clone, Default)]
pub struct User {
    answers: Arc<Mutex<VecDeque<ElicitResult>>>,
    rule: Option<Arc<Approves>>,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl User {
    /// Answers the questions with `answers`, in order, and dismisses any more.
    pub fn answering(answers: impl IntoIterator<Item = ElicitResult>) -> Self {
        Self { answers: Arc::new(Mutex::new(answers.into_iter().collect())), ..Self::default() }
    }

    /// Approves the questions whose message `approves`, and declines the others.
    pub fn deciding(approves: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self { rule: Some(Arc::new(approves)), ..Self::default() }
    }

    /// The questions asked so far: their messages and forms.
    pub fn asked(&self) -> Vec<(String, Value)> {
        self.asked.lock().unwrap().clone()
    }

    /// The progress notifications received, once there are `n` (waiting at most 10 s: rmcp
    /// hands each to a task of its own, which may run after the call's answer is in), in the
    /// order of their progress; and forgets them.
    pub async fn progress(&self, n: usize) -> Vec<ProgressNotificationParam> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.progress.lock().unwrap().len() < n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut got = std::mem::take(&mut *self.progress.lock().unwrap());
        got.sort_by(|a, b| a.progress.total_cmp(&b.progress));
        got
    }
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        ClientConfig::new(capabilities, Implementation::new("elicit-test", "0"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = request
        else {
            return Err(ErrorData::invalid_params("only forms are expected", None));
        };
        let form = serde_json::to_value(&requested_schema).unwrap();
        let answer = match &self.rule {
            Some(approves) if approves(&message) => Some(approve(true)),
            Some(_) => Some(ElicitResult::new(ElicitationAction::Decline)),
            None => self.answers.lock().unwrap().pop_front(),
        };
        self.asked.lock().unwrap().push((message, form));
        Ok(answer.unwrap_or_else(|| ElicitResult::new(ElicitationAction::Cancel)))
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

pub fn approve(yes: bool) -> ElicitResult {
    ElicitResult::new(ElicitationAction::Accept).with_content(json!({ "approve": yes }))
}

/// `remove` (needs approval, counts its runs) and `cleaner`, a worker whose model asks for
/// `remove` once and then answers with what the call gave.
pub fn runtime(removed: &Arc<AtomicUsize>) -> Runtime {
    runtime_and_model(removed).0
}

/// [`runtime`], and its model (which keeps the requests made to it).
pub fn runtime_and_model(removed: &Arc<AtomicUsize>) -> (Runtime, ScriptedModel) {
    let (builder, model) = builder_and_model(removed);
    (builder.build(), model)
}

/// The builder of [`runtime`] (to add to it), and its model.
pub fn builder_and_model(removed: &Arc<AtomicUsize>) -> (RuntimeBuilder, ScriptedModel) {
    let remove = remove_tool(removed);
    let cleaner = WorkerSpecBuilder::new("cleaner")
        .description("Cleans up.")
        .prompt("Clean {input}")
        .tool_name("remove")
        .model("scripted:any")
        .build()
        .unwrap();
    let model = ScriptedModel::new(|req: &ModelRequest| {
        let result = req.messages.iter().find_map(|m| match m {
            Message::Tool(r) => Some(r.content.clone()),
            _ => None,
        });
        Ok::<_, ModelError>(match result {
            Some(result) => Reply::text(format!("the tool said: {result}")),
            None => Reply::tool_call("remove", json!({"path": "/tmp/old"})),
        })
    });
    let builder =
        Runtime::builder().model_override(model.clone()).register(remove).register(cleaner);
    (builder, model)
}

/// The service on one end of an in-memory pipe, rmcp's client with `handler` (`()`: one
/// that declares no capability) on the other.
pub async fn connect<H: rmcp::ClientHandler>(
    service: McpService,
    handler: H,
) -> RunningService<RoleClient, H> {
    handler.serve(serving(service)).await.unwrap()
}

/// As [`connect`], with a client on protocol 2026-07-28: no handshake (`server/discover`, then
/// every request carries its own metadata), and no requests from the server.
pub async fn connect_2026<H: rmcp::ClientHandler>(
    service: McpService,
    handler: H,
) -> RunningService<RoleClient, H> {
    use rmcp::ClientServiceExt as _;
    let lifecycle = rmcp::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    };
    handler.serve_with_lifecycle(serving(service), lifecycle).await.unwrap()
}

/// The client's end of an in-memory pipe whose other end `service` serves.
fn serving(service: McpService) -> tokio::io::DuplexStream {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = service.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    client_io
}

/// A `tools/call` of `name` with `args` (an object).
pub fn call(name: &str, args: Value) -> CallToolRequestParams {
    let mut p = CallToolRequestParams::new(name.to_owned());
    p.arguments = args.as_object().cloned();
    p
}

/// A result's text blocks, one per line.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A service on streamable HTTP on a free loopback port, until [`HttpServer::stop`].
pub struct HttpServer {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    pub async fn start(service: McpService) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(service.serve_http(listener, async {
            let _ = stopped.await;
        }));
        Self { addr, stop, server }
    }

    /// Stops the server; it must end cleanly and soon.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.server).await.unwrap().unwrap().unwrap();
    }
}

/// Runs `tests/python/SCRIPT ARGS... URL` (`script_and_args`) with a Python that has `sdk`
/// against the server at `addr` and returns the JSON it prints; `None` (the test `test` is
/// skipped, saying so) when there is none outside CI, a failure in CI (.ci/run installs both).
pub async fn python_client(
    test: &str,
    sdk: Sdk,
    script_and_args: &[&str],
    addr: std::net::SocketAddr,
) -> Option<Value> {
    let python = python::python(sdk, test)?;
    let (script, args) = script_and_args.split_first().expect("a script");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python)
            .arg(script)
            .args(args)
            .arg(format!("http://{addr}/mcp"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the python client finishes")
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed: {stderr}");
    // The client ends its session with a `DELETE`, which must succeed.
    assert!(!stderr.contains("Session termination failed"), "{stderr}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The test `test`: `tests/python/elicit.py ARGS`, run by a Python with `sdk`, against a
/// service on loopback HTTP that asks
/// for approvals; its user approves the call on `a.txt` and declines the one on `b.txt`, and
/// only the approved call runs.
pub async fn python_user_approves_one_call(test: &str, sdk: Sdk, args: &[&str]) {
    let removed = Arc::new(AtomicUsize::new(0));
    let server = HttpServer::start(McpService::new(runtime(&removed)).elicit_approvals(true)).await;
    let script_and_args: Vec<&str> =
        std::iter::once("elicit.py").chain(args.iter().copied()).collect();
    let Some(v) = python_client(test, sdk, &script_and_args, server.addr).await else {
        return;
    };
    assert_eq!(v["approved"]["content"][0]["text"], "removed", "{v}");
    assert_ne!(v["approved"]["isError"], json!(true), "{v}");
    assert_eq!(v["declined"]["isError"], json!(true), "{v}");
    let refusal = v["declined"]["content"][0]["text"].as_str().unwrap();
    assert!(refusal.contains("declined by the MCP client's user"), "{refusal}");
    let asked = v["asked"].as_array().unwrap();
    assert_eq!(asked.len(), 2, "{v}");
    assert!(asked[0]["message"].as_str().unwrap().contains("`remove` needs approval"), "{v}");
    assert_eq!(asked[0]["schema"]["properties"]["approve"]["type"], "boolean", "{v}");
    assert_eq!(removed.load(Ordering::SeqCst), 1, "only the approved call ran");
    server.stop().await;
}

/// An elicitation result as the value of a round's answer.
pub fn answer(result: ElicitResult) -> Value {
    serde_json::to_value(result).unwrap()
}

/// The keys of an `InputRequiredResult`'s questions and its handle.
pub fn input_required(response: CallToolResponse) -> (Vec<String>, String) {
    match response {
        CallToolResponse::InputRequired(r) => {
            let keys = r.input_requests.unwrap_or_default().into_keys().collect();
            (keys, r.request_state.expect("a handle"))
        }
        other => panic!("expected an InputRequiredResult, got {other:?}"),
    }
}

/// The result of a call that finished (not one that asks for more).
pub fn complete(response: CallToolResponse) -> CallToolResult {
    match response {
        CallToolResponse::Complete(r) => r,
        other => panic!("expected a result, got {other:?}"),
    }
}
