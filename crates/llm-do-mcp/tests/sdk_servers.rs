//! The client side against servers llm-do did not write, and what a start meets.
//!
//! - The official Python SDK's server (`tests/python/server.py`, unchanged SDK code; most MCP
//!   servers in use are built on it), in its current release (2.x, protocol 2026-07-28: started
//!   by `server/discover`, questions in rounds of the call) and its last 1.x release (the
//!   generation before: it does not know `server/discover` and answers it over streamable HTTP
//!   with HTTP 400 and a JSON-RPC error, over stdio with a JSON-RPC error; rmcp falls back to
//!   `initialize` on either). Over HTTP and stdio, with a question during a call.
//! - A gateway in front of a server, which passes on only the methods it knows, answers
//!   `server/discover` with a plain HTTP error (no JSON-RPC). On a 404 (any 4xx but 401 and 403)
//!   rmcp falls back by itself; on a 500 the start fails, and llm-do starts again with
//!   `initialize` (`Connection::open`).
//! - A server that is not there: a start error that says why.

#[path = "support/person.rs"]
mod person;
#[path = "support/process.rs"]
mod process;
#[path = "support/python.rs"]
mod python;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse as _;
use llm_do_core::approval::Answer;
use llm_do_core::{Runtime, ToolSpecBuilder};
use llm_do_mcp::McpBuilderExt as _;
use llm_do_mcp::serve::McpService;
use llm_do_mcp::{McpError, McpServer, McpToolset};
use person::Person;
use python::Sdk;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

/// Both releases of the Python SDK, each with the revision llm-do agrees with its server by
/// default.
const SDKS: [(Sdk, &str); 2] = [(Sdk::Current, "2026-07-28"), (Sdk::V1, "2025-11-25")];

/// `tests/python/server.py`.
fn script() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/server.py");
    path.display().to_string()
}

/// The Python SDK's server on streamable HTTP, killed when dropped.
struct HttpPython {
    _child: tokio::process::Child,
    url: String,
}

/// Starts the server with a Python that has `sdk`; `None` when `test` is skipped for it (see
/// [`python::python`]). Its stderr (its log) is read all along, so that the server never
/// blocks on a full pipe, and shown if it does not start.
async fn http_server(sdk: Sdk, test: &str) -> Option<HttpPython> {
    let python = python::python(sdk, test)?;
    let mut child = tokio::process::Command::new(python)
        .arg(script())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    let mut stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all).await;
        String::from_utf8_lossy(&all).into_owned()
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), stdout.next_line()).await;
    let first = first.ok().and_then(Result::ok).flatten().unwrap_or_default();
    let Ok(port) = first.trim().parse::<u16>() else {
        let _ = child.kill().await;
        panic!(
            "the {sdk:?} server printed {first:?}, not its port; stderr: {}",
            log.await.unwrap()
        );
    };
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    Some(HttpPython { _child: child, url: format!("http://127.0.0.1:{port}/mcp") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_servers_over_http_start_list_and_call_at_their_revision() {
    let test = "the_python_sdks_servers_over_http_start_list_and_call_at_their_revision";
    for (sdk, revision) in SDKS {
        let Some(server) = http_server(sdk, test).await else {
            continue;
        };
        let reach = || McpServer::http(&server.url).start_timeout(Duration::from_secs(30));

        // By default: the newest revision both speak (1.x: `server/discover` is refused with
        // HTTP 400, then `initialize` works).
        let py = McpToolset::connect("py", reach()).await.unwrap();
        assert_eq!(py.protocol_version().await.as_deref(), Some(revision), "{sdk:?}");
        let names: Vec<String> = py.tools().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["py__echo", "py__refund"], "{sdk:?}");
        let echoed = py.call("echo", json!({"text": "hello"})).await.unwrap().unwrap();
        assert_eq!(echoed, json!({"result": "hello"}), "{sdk:?}");
        py.close().await;
        assert_eq!(py.protocol_version().await, None, "{sdk:?}: closed");

        // Pinned to an older revision it speaks, it is initialized at once.
        let pinned = McpToolset::connect("py", reach().protocol("2025-06-18")).await.unwrap();
        assert_eq!(pinned.protocol_version().await.as_deref(), Some("2025-06-18"), "{sdk:?}");
        let echoed = pinned.call("echo", json!({"text": "again"})).await.unwrap().unwrap();
        assert_eq!(echoed, json!({"result": "again"}), "{sdk:?}");
        pinned.close().await;

        // Pinned to 2026-07-28, which starts with `server/discover` only: the 1.x server fails
        // the start, which says what it answered.
        let newest = McpToolset::connect("py", reach().protocol("2026-07-28")).await;
        match sdk {
            Sdk::Current => newest.unwrap().close().await,
            Sdk::V1 => {
                let Err(e) = newest else { panic!("connected") };
                assert!(matches!(&e, McpError::Start { server, .. } if server == "py"), "{e:?}");
                assert!(e.to_string().contains("Bad Request: Missing session ID"), "{e}");
            }
        }
    }
}

/// A question during a call reaches the run's approver, and the server acts on the answer:
/// accepted, then declined. On 2026-07-28 it comes back in a round of the call, before it by
/// `elicitation/create` on the call's stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_sdk_servers_question_is_answered_by_the_run() {
    let test = "a_python_sdk_servers_question_is_answered_by_the_run";
    for (sdk, revision) in SDKS {
        let Some(server) = http_server(sdk, test).await else {
            continue;
        };
        let py = McpToolset::connect("py", McpServer::http(&server.url)).await.unwrap();
        assert_eq!(py.protocol_version().await.as_deref(), Some(revision), "{sdk:?}");
        for (answer, said) in [
            (Answer::accept(json!({"confirm": true})), "refunded A-1"),
            (Answer::Decline, "not refunded: decline"),
        ] {
            let person = Person::answering(answer);
            let rt = Runtime::builder().approver(person.clone()).mcp(&py).build();
            let result: Value = rt.ctx().call("py__refund", json!({"id": "A-1"})).await.unwrap();
            assert_eq!(result, json!({"result": said}), "{sdk:?}");
            let asked = person.asked();
            assert_eq!(asked.len(), 1, "{sdk:?}: {asked:?}");
            assert_eq!(asked[0].asker, "py__refund");
            assert_eq!(asked[0].message, "Refund order A-1?");
            assert_eq!(asked[0].schema["properties"]["confirm"]["type"], "boolean");
        }
        py.close().await;
    }
}

/// The same servers over stdio, as `uvx mcp-server-…` runs one (1.x answers `server/discover`
/// with the JSON-RPC error -32602, and a page of validation errors on its stderr).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_servers_over_stdio_start_and_call_at_their_revision() {
    let test = "the_python_sdks_servers_over_stdio_start_and_call_at_their_revision";
    for (sdk, revision) in SDKS {
        let Some(python) = python::python(sdk, test) else {
            continue;
        };
        let server = McpServer::stdio(python.to_string_lossy(), [script(), "stdio".into()])
            .start_timeout(Duration::from_secs(60));
        let py = McpToolset::connect("py", server).await.unwrap();
        assert_eq!(py.protocol_version().await.as_deref(), Some(revision), "{sdk:?}");
        let echoed = py.call("echo", json!({"text": "piped"})).await.unwrap().unwrap();
        assert_eq!(echoed, json!({"result": "piped"}), "{sdk:?}");
        let pid = py.pid().await.expect("a stdio server has a process");
        py.close().await;
        assert!(process::wait_gone(pid).await, "{sdk:?}: the server outlived close");
    }
}

/// What the gateway saw: the `server/discover` requests it refused, and every other request.
#[derive(Default)]
struct Seen {
    refused: AtomicUsize,
    passed: AtomicUsize,
}

/// llm-do's own MCP service (one tool, `echo`) behind a gateway that answers `server/discover`
/// with a plain-text `status` and passes everything else on, on a free loopback port.
async fn gateway(status: StatusCode, seen: Arc<Seen>) -> std::net::SocketAddr {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Echo {
        text: String,
    }
    let echo = ToolSpecBuilder::new("echo")
        .typed_handler(|_, Echo { text }| async move { Ok::<_, llm_do_core::Error>(text) })
        .build();
    let served = McpService::new(Runtime::builder().register(echo).build());
    let service = StreamableHttpService::new(
        move || Ok(served.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let route = move |request: Request<Body>, next: axum::middleware::Next| {
        let seen = seen.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let method = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned));
            if method.as_deref() == Some("server/discover") {
                seen.refused.fetch_add(1, Ordering::SeqCst);
                return (status, "no route for this method").into_response();
            }
            seen.passed.fetch_add(1, Ordering::SeqCst);
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
    };
    let router =
        axum::Router::new().nest_service("/mcp", service).layer(axum::middleware::from_fn(route));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_answers_discover_with_a_plain_http_error_is_initialized() {
    for status in [StatusCode::NOT_FOUND, StatusCode::INTERNAL_SERVER_ERROR] {
        let seen = Arc::new(Seen::default());
        let url = format!("http://{}/mcp", gateway(status, seen.clone()).await);
        let reach = || McpServer::http(&url).start_timeout(Duration::from_secs(30));

        let desk = McpToolset::connect("desk", reach()).await.unwrap();
        assert_eq!(seen.refused.load(Ordering::SeqCst), 1, "{status}: asked once by discover");
        assert!(seen.passed.load(Ordering::SeqCst) > 0, "{status}: then initialized");
        assert_eq!(desk.protocol_version().await.as_deref(), Some("2025-11-25"), "{status}");
        let echoed = desk.call("echo", json!({"text": "through"})).await.unwrap().unwrap();
        assert_eq!(echoed, json!("through"), "{status}");
        desk.close().await;

        // Pinned to 2026-07-28 there is nothing to fall back on: the start fails, saying what
        // the gateway answered.
        let Err(e) = McpToolset::connect("desk", reach().protocol("2026-07-28")).await else {
            panic!("{status}: connected")
        };
        assert!(matches!(&e, McpError::Start { server, .. } if server == "desk"), "{e:?}");
        assert!(e.to_string().contains(status.as_str()), "{status}: {e}");
        assert_eq!(seen.refused.load(Ordering::SeqCst), 2, "{status}");
    }
}

/// Nothing listens: the start fails at once (no wait for a stderr an HTTP server does not
/// have), saying why in words, without rmcp's transport type names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_start_error_that_says_why() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let Err(e) = McpToolset::connect("gone", McpServer::http(&url)).await else {
        panic!("connected")
    };
    assert!(matches!(&e, McpError::Start { server, .. } if server == "gone"), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&format!("error sending request for url ({url})")), "{text}");
    assert!(text.contains("Connection refused"), "the cause: {text}");
    assert!(!text.contains("rmcp::"), "{text}");
}

/// A start timeout of `Duration::MAX` ("wait as long as it takes") is a start like any other:
/// before, its deadline overflowed the clock and the start panicked.
#[tokio::test]
async fn a_start_timeout_of_duration_max_does_not_panic() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let server = McpServer::http(&url).start_timeout(std::time::Duration::MAX);
    let started = tokio::spawn(McpToolset::connect("forever", server)).await;
    let Ok(Err(e)) = started else { panic!("the start panicked or connected: {started:?}") };
    assert!(matches!(&e, McpError::Start { server, .. } if server == "forever"), "{e:?}");
}
