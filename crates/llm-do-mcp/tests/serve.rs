//! The served side: a runtime's workers and tools as MCP tools, driven by rmcp's client (over
//! an in-memory stdio-like pipe and over streamable HTTP on loopback) and by the official
//! Python `mcp` package.

#[path = "support/person.rs"]
mod person;
#[path = "support/served.rs"]
mod served;

use llm_do_core::approval::{ApprovalPolicy, ApproveAll, Pattern, Rule, Verdict};
use llm_do_core::{
    CallableSpec, EventKind, EventLog, ModelError, ModelRequest, Runtime, ToolSpecBuilder,
    WorkerSpecBuilder,
};
use llm_do_mcp::serve::McpService;
use llm_do_testing::scripted::{Reply, ScriptedModel};
use rmcp::ServiceExt as _;
use rmcp::service::ServiceError;
use serde_json::{Value, json};
use served::{HttpServer, Sdk, call, connect, greeter, python_client, remove_tool, text_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

struct Fixture {
    rt: Runtime,
    log: EventLog,
    removed: Arc<AtomicUsize>,
}

fn classify() -> Arc<CallableSpec> {
    WorkerSpecBuilder::new("classify")
        .description("Classifies a support ticket.")
        .prompt("Classify: {input}")
        .input_schema(json!({
            "type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {"label": {"enum": ["bug", "feature"]}},
            "required": ["label"]
        }))
        .model("scripted:any")
        .build()
        .unwrap()
}

fn fixture() -> Fixture {
    let removed = Arc::new(AtomicUsize::new(0));
    let remove = remove_tool(&removed);
    let shout = ToolSpecBuilder::new("shout")
        .description("Upper-cases text.")
        .input_schema(json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}))
        .output_schema(json!({"type": "string"}))
        .handler(|_, a| async move { Ok(json!(a["text"].as_str().unwrap_or("").to_uppercase())) })
        .build();
    let wait = ToolSpecBuilder::new("wait")
        .description("Waits an hour.")
        .handler(|_, _| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(json!("late"))
        })
        .build();
    let model = ScriptedModel::new(|req: &ModelRequest| {
        let text = serde_json::to_string(&req.messages).unwrap_or_default();
        Ok::<_, ModelError>(Reply::json(if text.contains("crash") {
            json!({"label": "bug"})
        } else {
            json!({"label": "feature"})
        }))
    });
    let log = EventLog::new();
    let rt = Runtime::builder()
        .model_override(model)
        .subscribe(log.clone())
        .register(classify())
        .register(remove)
        .register(shout)
        .register(wait)
        .build();
    Fixture { rt, log, removed }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_workers_and_tools_with_schemas() {
    let f = fixture();
    let client = connect(McpService::new(f.rt.clone()), ()).await;
    let tools = client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["classify", "remove", "shout", "wait"]);
    let classify = &tools[0];
    assert_eq!(
        classify.description.as_deref(),
        Some("Classifies a support ticket. (an LLM worker: its answers may vary)")
    );
    assert_eq!(classify.input_schema["required"], json!(["input"]));
    let out = classify.output_schema.as_ref().expect("object outputs have an output schema");
    assert_eq!(out["properties"]["label"]["enum"], json!(["bug", "feature"]));
    assert!(tools[2].output_schema.is_none(), "MCP output schemas are objects; text has none");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_through_the_runtime_structured_and_text() {
    let f = fixture();
    let client = connect(McpService::new(f.rt.clone()), ()).await;
    let r = client
        .peer()
        .call_tool(call("classify", json!({"input": "the app crashes"})))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"label": "bug"})));
    assert_eq!(text_of(&r), "{\"label\":\"bug\"}");
    let r = client.peer().call_tool(call("shout", json!({"text": "hi"}))).await.unwrap();
    assert_eq!((text_of(&r).as_str(), r.structured_content.is_none()), ("HI", true));
    // The runtime's events saw the worker's call, marked stochastic.
    let started: Vec<(String, bool)> = f
        .log
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
        .map(|e| (e.call.name.to_string(), e.call.kind.is_stochastic()))
        .collect();
    assert_eq!(started, [("classify".to_owned(), true), ("shout".to_owned(), false)]);
    client.cancel().await.unwrap();
}

/// A served tool's value and error reach the client with secrets redacted, as everything else
/// llm-do writes does: a tool that reads a token file, or an error quoting a provider's
/// answer, does not hand the key to whoever called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_results_and_errors_are_redacted_on_the_way_to_the_client() {
    const KEY: &str = "sk-abcdefghijklmnopqrstuvwxyz012345";
    let leak = ToolSpecBuilder::new("leak")
        .output_schema(json!({"type": "object"}))
        .handler(|_, _| async { Ok(json!({"config": format!("token={KEY}"), "n": 1})) })
        .build();
    let fail = ToolSpecBuilder::new("fail")
        .handler(|_, _| async {
            Err(llm_do_core::Error::msg(format!("upstream said: bad key {KEY}")))
        })
        .build();
    let rt = Runtime::builder().register(leak).register(fail).build();
    let client = connect(McpService::new(rt), ()).await;
    let r = client.peer().call_tool(call("leak", json!({}))).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"config": "token=[redacted]", "n": 1})));
    assert!(!text_of(&r).contains(KEY) && text_of(&r).contains("[redacted]"), "{}", text_of(&r));
    let r = client.peer().call_tool(call("fail", json!({}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains("upstream said: bad key [redacted]") && !text.contains(KEY), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_needing_approval_are_refused_unless_allowed() {
    let f = fixture();
    let client = connect(McpService::new(f.rt.clone()), ()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "x"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("needs approval"), "{}", text_of(&r));
    assert!(text_of(&r).contains("--approve-all"), "{}", text_of(&r));
    assert_eq!(f.removed.load(Ordering::SeqCst), 0, "a refused call never runs");
    client.cancel().await.unwrap();

    // A rule allowing it, then --approve-all; a deny rule wins over --approve-all.
    let allow = ApprovalPolicy::new().rule(Rule::new("remove", Verdict::Allow).unwrap());
    let client = connect(McpService::new(f.rt.clone()).policy(allow), ()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "x"}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "removed"));
    client.cancel().await.unwrap();
    let client = connect(McpService::new(f.rt.clone()).approve_all(true), ()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "y"}))).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    client.cancel().await.unwrap();
    let deny = ApprovalPolicy::new().rule(Rule::new("rem*", Verdict::Deny).unwrap());
    let client = connect(McpService::new(f.rt.clone()).policy(deny).approve_all(true), ()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "z"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).starts_with("permission denied"), "{}", text_of(&r));
    assert_eq!(f.removed.load(Ordering::SeqCst), 2);
    client.cancel().await.unwrap();
}

/// `expose`: clients see and call only the matching names, while a served worker's own calls
/// still reach the whole name space.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_exposed_workers_and_tools_are_served() {
    let removed = Arc::new(AtomicUsize::new(0));
    let rt = served::builder_and_model(&removed).0.approver(ApproveAll).build();
    let service = McpService::new(rt).expose([Pattern::glob("clean*").unwrap()]);
    let client = connect(service, ()).await;
    let tools = client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["cleaner"]);
    let err = client.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap_err();
    let ServiceError::McpError(e) = &err else { panic!("{err}") };
    assert_eq!(e.code.0, -32602);
    assert_eq!(e.message, "unknown tool `remove`; the tools are: cleaner");
    assert_eq!(removed.load(Ordering::SeqCst), 0);
    let r = client.peer().call_tool(call("cleaner", json!({"input": "tmp"}))).await.unwrap();
    assert_eq!(text_of(&r), "the tool said: removed");
    assert_eq!(removed.load(Ordering::SeqCst), 1, "the worker's own call reached `remove`");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tools_and_bad_arguments_are_json_rpc_errors() {
    let f = fixture();
    let client = connect(McpService::new(f.rt.clone()), ()).await;
    let err = client.peer().call_tool(call("nope", json!({}))).await.unwrap_err();
    let ServiceError::McpError(e) = &err else { panic!("{err}") };
    assert_eq!(e.code.0, -32602);
    assert!(e.message.contains("unknown tool `nope`"), "{}", e.message);
    let err = client.peer().call_tool(call("shout", json!({"text": 3}))).await.unwrap_err();
    let ServiceError::McpError(e) = &err else { panic!("{err}") };
    assert_eq!(e.code.0, -32602);
    assert!(e.message.contains("invalid arguments for `shout`"), "{}", e.message);
    // The session is still usable.
    let r = client.peer().call_tool(call("shout", json!({"text": "ok"}))).await.unwrap();
    assert_eq!(text_of(&r), "OK");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cancellation_stops_the_call() {
    let f = fixture();
    let client = connect(McpService::new(f.rt.clone()), ()).await;
    // Dropping the request future sends notifications/cancelled.
    let late = tokio::time::timeout(
        Duration::from_millis(300),
        client.peer().call_tool(call("wait", json!({}))),
    )
    .await;
    assert!(late.is_err());
    let mut cancelled = false;
    for _ in 0..100 {
        cancelled =
            f.log.events().iter().any(|e| {
                &*e.call.name == "wait" && matches!(e.kind, EventKind::CallCancelled { .. })
            });
        if cancelled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cancelled, "the runtime saw no cancellation of `wait`");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc_gets_an_error_and_the_server_goes_on() {
    let f = fixture();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let service = McpService::new(f.rt.clone());
    let (server_read, server_write) = tokio::io::split(server_io);
    tokio::spawn(service.serve_lines(server_read, server_write));
    let (read, mut write) = tokio::io::split(client_io);
    let mut lines = BufReader::new(read).lines();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    write.write_all(format!("{init}\n").as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap();
    let answer: Value = serde_json::from_str(&answer.unwrap().unwrap()).unwrap();
    assert_eq!(answer["id"], 1);
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .unwrap();
    write.write_all(b"{this is not json\n").await.unwrap();
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no/such/method\"}\n")
        .await
        .unwrap();
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    write.write_all(format!("{ping}\n").as_bytes()).await.unwrap();
    let bad = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": "shout"});
    write.write_all(format!("{bad}\n").as_bytes()).await.unwrap();
    let mut by_id = std::collections::BTreeMap::new();
    let mut others = Vec::new();
    while by_id.len() < 3 || others.is_empty() {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the server answers")
            .unwrap()
            .expect("the server is still there");
        let v: Value = serde_json::from_str(&line).unwrap();
        match v["id"].as_i64() {
            Some(id @ (2..=4)) => {
                by_id.insert(id, v);
            }
            _ => others.push(v),
        }
    }
    assert_eq!(by_id[&2]["error"]["code"], -32601, "{:?}", by_id[&2]);
    assert_eq!(by_id[&3]["result"]["tools"].as_array().map(Vec::len), Some(4));
    // A tools/call whose params are not an object is invalid params, with its id (before,
    // rmcp took it for a custom method and answered -32601, method not found).
    assert_eq!(by_id[&4]["error"]["code"], -32602, "{:?}", by_id[&4]);
    // The line that is not JSON gets JSON-RPC's parse error (before, rmcp dropped it
    // without an answer).
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!((&others[0]["id"], &others[0]["error"]["code"]), (&Value::Null, &json!(-32700)));
}

/// Over streamable HTTP, a JSON body that does not parse is answered `400` with JSON-RPC's
/// parse error, one that is no JSON-RPC message with `-32600`, wrong params of an MCP method
/// with `-32602` and the request's id (before: `415` and a plain-text body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_answers_malformed_json_with_a_json_rpc_error() {
    let f = fixture();
    let server = HttpServer::start(McpService::new(f.rt.clone())).await;
    let bodies = [
        ("{this is not json", json!(null), -32700),
        (r#"{"jsonrpc":"2.0","id":5,"result":"#, json!(null), -32700),
        (r#"{"id":6,"method":"tools/list"}"#, json!(6), -32600),
        (r#"{"jsonrpc":"2.0","id":"7","method":"tools/call","params":[1]}"#, json!("7"), -32602),
    ];
    for (body, id, code) in bodies {
        let answer = post_raw(server.addr, body).await;
        assert_eq!((&answer["id"], &answer["error"]["code"]), (&id, &json!(code)), "{body}");
    }
    server.stop().await;
}

/// `body` POSTed to `/mcp` with a JSON content type and no session: the `400` answer's JSON.
async fn post_raw(addr: std::net::SocketAddr, body: &str) -> Value {
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let (_, answer) = response.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(answer).unwrap()
}

/// The client's `GET` opens the session's stream and its `DELETE` ends the session (answered
/// `204`, which the Python SDK expects), also when the client sends its JSON content type on
/// them, as the Python SDK does: the parse-error filter above once answered both `400` (no
/// stream for the server's own messages, and the session lived on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_and_a_delete_with_a_json_content_type_open_a_stream_and_end_the_session() {
    use reqwest::header::{ACCEPT, CONTENT_TYPE};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let f = fixture();
    let server = HttpServer::start(McpService::new(f.rt.clone())).await;
    let url = format!("http://{}/mcp", server.addr);
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(&url)
            .header(ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body)
    };
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "python-like", "version": "1"}}});
    let started = post(initialize).send().await.unwrap();
    assert!(started.status().is_success(), "{}", started.status());
    let session = started.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    drop(started);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let sent = post(initialized).header("mcp-session-id", &session).send().await.unwrap();
    assert!(sent.status().is_success(), "{}", sent.status());

    let stream = http
        .get(&url)
        .header(ACCEPT, "text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), reqwest::StatusCode::OK);
    assert_eq!(stream.headers()[CONTENT_TYPE], "text/event-stream");
    drop(stream);

    let ended = http
        .delete(&url)
        .header("mcp-session-id", &session)
        .header(CONTENT_TYPE, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), reqwest::StatusCode::NO_CONTENT, "{:?}", ended.text().await);

    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let after = post(list).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(after.status(), reqwest::StatusCode::NOT_FOUND, "the session lived on");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_with_rmcp_client() {
    let f = fixture();
    let server = HttpServer::start(McpService::new(f.rt.clone())).await;
    let addr = server.addr;
    let transport =
        rmcp::transport::StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let client = ().serve(transport).await.unwrap();
    let tools = client.peer().list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 4);
    let r =
        client.peer().call_tool(call("classify", json!({"input": "add dark mode"}))).await.unwrap();
    assert_eq!(r.structured_content, Some(json!({"label": "feature"})));
    client.cancel().await.unwrap();
    server.stop().await;
}

/// The official Python SDK as a third-party client (see [`python_client`]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_mcp_client_lists_and_calls() {
    python_lists_and_calls("python_mcp_client_lists_and_calls", Sdk::Current).await;
}

/// The same with the SDK's last 1.x release, a client of the generation before 2026-07-28 (as
/// most MCP clients in use are): it starts by `initialize`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_mcp_1x_client_lists_and_calls() {
    python_lists_and_calls("python_mcp_1x_client_lists_and_calls", Sdk::V1).await;
}

/// `tests/python/client.py`, run by a Python with `sdk`, lists the served tools, calls two and
/// an unknown one.
async fn python_lists_and_calls(test: &str, sdk: Sdk) {
    let f = fixture();
    let server = HttpServer::start(McpService::new(f.rt.clone())).await;
    let Some(v) = python_client(test, sdk, &["client.py"], server.addr).await else {
        return;
    };
    let names: Vec<&str> =
        v["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["classify", "remove", "shout", "wait"]);
    assert_eq!(v["tools"][0]["outputSchema"]["required"], json!(["label"]));
    assert_eq!(v["classify"]["structuredContent"], json!({"label": "bug"}));
    assert_ne!(v["classify"]["isError"], json!(true));
    assert_eq!(v["remove"]["isError"], json!(true));
    assert!(v["remove"]["content"][0]["text"].as_str().unwrap().contains("needs approval"));
    assert!(
        v["unknown"].as_str().unwrap().contains("unknown tool `no_such_tool`"),
        "{}",
        v["unknown"]
    );
    assert_eq!(f.removed.load(Ordering::SeqCst), 0);
    server.stop().await;
}

/// Both directions at once: an llm-do runtime served over streamable HTTP is an MCP toolset of
/// another runtime, whose model calls the served worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_runtime_is_an_http_toolset_of_another() {
    use llm_do_core::Message;
    use llm_do_core::approval::ApproveAll;
    use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
    let f = fixture();
    let server = HttpServer::start(McpService::new(f.rt.clone())).await;
    let addr = server.addr;
    let url = format!("http://{addr}/mcp");
    let desk =
        McpToolset::connect("desk", McpServer::http(url).header("X-Team", "ops")).await.unwrap();
    let names: Vec<String> = desk.tools().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["desk__classify", "desk__remove", "desk__shout", "desk__wait"]);
    assert_eq!(desk.pid().await, None);

    let model = ScriptedModel::queue([
        Reply::tool_call("desk__classify", json!({"input": "it crashes"})),
        Reply::text("a bug"),
    ]);
    let front = WorkerSpecBuilder::new("front")
        .prompt("Triage {input}.")
        .tool_name("desk__classify")
        .build()
        .unwrap();
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approver(ApproveAll)
        .register(front)
        .mcp(&desk)
        .build();
    let answer: String = rt.ctx().call("front", json!({"input": "ticket 7"})).await.unwrap();
    assert_eq!(answer, "a bug");
    let last = model.last_request().unwrap();
    let result = last.messages.iter().find_map(|m| match m {
        Message::Tool(r) => Some(r.clone()),
        _ => None,
    });
    let result = result.unwrap();
    assert!(!result.is_error, "{}", result.content);
    assert_eq!(serde_json::from_str::<Value>(&result.content).unwrap(), json!({"label": "bug"}));
    desk.close().await;
    server.stop().await;
}

/// A question crosses two llm-do hops: a tool of a served run asks (`Ctx::ask`), the service
/// passes it on to its client — an llm-do `McpToolset` — which puts it to the person behind
/// the run that made the call. In rounds on both hops by default (2026-07-28); by
/// `elicitation/create` on a pinned 2025-11-25.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_tools_question_reaches_the_person_behind_the_calling_run() {
    use llm_do_core::approval::Answer;
    use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
    for protocol in [None, Some("2025-11-25")] {
        let server = HttpServer::start(McpService::new(greeter()).elicit_approvals(true)).await;
        let reach = McpServer::http(format!("http://{}/mcp", server.addr));
        let reach = match protocol {
            Some(version) => reach.protocol(version),
            None => reach,
        };
        let desk = McpToolset::connect("desk", reach).await.unwrap();
        let person = person::Person::answering(Answer::accept(json!({"name": "Ada"})));
        let rt = Runtime::builder().approver(person.clone()).mcp(&desk).build();
        let hello: String = rt.ctx().call("desk__greet", json!({})).await.unwrap();
        assert_eq!(hello, "Hello, Ada!", "{protocol:?}");
        let asked = person.asked();
        assert_eq!(asked.len(), 1, "{protocol:?}");
        assert_eq!(asked[0].asker, "desk__greet");
        assert!(asked[0].message.starts_with("`greet` asks: Who are you?"), "{}", asked[0].message);
        assert!(!asked[0].message.contains("sk-abcdefghijklmnopqrstuvwxyz"), "redacted on the way");
        assert_eq!(asked[0].schema["required"], json!(["name"]));
        // A page to open crosses both hops as a page (URL mode), its site shown at the end.
        let person = person::Person::answering(Answer::accept(json!({})));
        let rt = Runtime::builder().approver(person.clone()).mcp(&desk).build();
        let paid: String = rt.ctx().call("desk__pay", json!({})).await.unwrap();
        assert_eq!(paid, "accept", "{protocol:?}");
        let page = person.asked()[0].page.clone().expect("a page");
        assert_eq!(
            (page.url.as_str(), page.site.as_str()),
            ("https://pay.example.com/i/7", "pay.example.com")
        );
        assert_eq!(person.asked()[0].message, "`pay` asks: Pay invoice 7");
        desk.close().await;
        server.stop().await;
    }
}

/// A client that cannot open pages (form elicitation only) is not sent one: the question of a
/// page is dismissed, and its user never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_not_passed_on_to_a_client_that_cannot_open_pages() {
    let user = served::User::answering([]);
    let client = connect(McpService::new(greeter()).elicit_approvals(true), user.clone()).await;
    let r = client.peer().call_tool(call("pay", json!({}))).await.unwrap();
    assert_eq!(text_of(&r), "cancel");
    assert!(user.asked().is_empty());
    client.cancel().await.unwrap();
}
