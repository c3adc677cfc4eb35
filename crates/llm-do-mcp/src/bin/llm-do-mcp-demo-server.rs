//! A small MCP server over stdio, built with rmcp's server side: an "orders" desk used by
//! llm-do-mcp's tests and by `examples/projects/mcp_orders`.
//!
//! Tools: `lookup_order` (structured result, `isError` for unknown orders), `echo` (text),
//! `photo` (an image), `refund` (asks the client's user to confirm, by elicitation: a request
//! before protocol 2026-07-28, a round of the call from then on; for an order `card-...`, asks
//! them to open a payment page instead, by URL-mode elicitation), `slow` (answers after a while), `crash` (the process exits mid-call), `add_tool` (adds `extra` and sends
//! `notifications/tools/list_changed`).
//!
//! When `LLM_DO_MCP_DEMO_RECORD` names a file, every call is appended to it as one JSON line
//! `{"tool": ..., "arguments": ...}` before it runs, so that tests can see what reached the
//! server (for `refund`, each round, with whether it brought an answer and the protocol
//! revision). `LLM_DO_MCP_DEMO_CRASH_ONCE` names a marker file: `crash` exits only when the marker
//! does not exist yet (and creates it), so a restarted server survives the retried call.
//! `LLM_DO_MCP_DEMO_IDEMPOTENT_CRASH` lists `crash` marked idempotent (`idempotentHint`), so
//! that a call it dies during is made again (unmarked, it is not).
//! `LLM_DO_MCP_DEMO_PIDFILE` names a file the process id is appended to;
//! `LLM_DO_MCP_DEMO_LINGER` makes the server stay alive after its stdin closes (as a badly
//! behaved server would), for the test that it dies with llm-do anyway.
//! `LLM_DO_MCP_DEMO_MAX_PROTOCOL` (e.g. `2025-11-25`) limits the protocol revisions it speaks.
//!
//! When `LLM_DO_MCP_DEMO_PIDFILE` names a file, the server appends its process id to it at
//! start, so that tests can check that no server process outlives its client.
//!
//! Misbehaviour for tests, chosen by the first argument: `--garbage` (writes a line on stderr,
//! then lines that are not JSON-RPC on stdout, and never answers), `--silent` (never answers
//! `initialize`), `--exit` (exits at once with a message on stderr), `--bad-schema` (lists one
//! tool whose input schema is not a valid JSON Schema). `LLM_DO_MCP_DEMO_NOISE` makes `echo`
//! write a line that is not JSON-RPC on stdout before it answers (noise after the start).
//!
//! `--list-error`, `--list-invalid`, `--list-endless`, `--list-fat` and `--huge` run a hand-written JSON-RPC loop instead of
//! rmcp's server (rmcp cannot send a malformed result): `initialize` is answered, and
//! `tools/list` with a JSON-RPC error (whose message holds an escape sequence) or with a result
//! that is not a `tools/list` result, or (`--list-endless`) with page after page of one tool
//! each, every page pointing to a next (`--list-fat`: two tools with a 1 MiB description
//! each); with `--huge`, it lists `structured` and `rpc_error`,
//! which answer a million characters: as structured content, and as a JSON-RPC error's message
//! (after an escape sequence). With `--deaf`, it lists `echo` and then never reads its stdin
//! again (a server wedged with its input unread), staying alive. `--mute`, `--orphan` and
//! `--long-description` list `echo` too: `--mute` writes a line on stderr at its start and
//! never answers a `tools/call` (reading on); `--orphan`, at the first `tools/call`,
//! starts `sleep 600` (which keeps the server's stdout and stderr open), appends its process
//! id to `LLM_DO_MCP_DEMO_PIDFILE`, writes a line on stderr and exits with code 4;
//! `--long-description` gives `echo` a description, and its property `text` one, of 1 MiB each.
//!
//! (Over 400 lines: one server with every behaviour and misbehaviour the tests need, so that
//! each test starts the same binary with a mode rather than a server of its own.)

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::InputResponses;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    CallToolResponse, CallToolResult, CancelledNotificationParam, ContentBlock, ElicitRequest,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, InputRequest,
    InputRequiredResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProtocolVersion, Tool,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Deserialize, schemars::JsonSchema)]
struct OrderId {
    /// The order number, e.g. `A-1`.
    id: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Order {
    id: String,
    status: String,
    total_cents: u64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Text {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Wait {
    /// How long to wait.
    seconds: u64,
}

#[derive(Clone)]
struct Orders {
    tool_router: ToolRouter<Self>,
    bad_schema: bool,
    extra: Arc<AtomicBool>,
}

fn record(tool: &str, arguments: Value) {
    let Ok(path) = std::env::var("LLM_DO_MCP_DEMO_RECORD") else { return };
    let line = json!({"tool": tool, "arguments": arguments}).to_string();
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}

#[tool_router]
impl Orders {
    fn new(bad_schema: bool) -> Self {
        Self { tool_router: Self::tool_router(), bad_schema, extra: Arc::default() }
    }

    /// Looks an order up by its number.
    #[tool]
    async fn lookup_order(
        &self,
        Parameters(OrderId { id }): Parameters<OrderId>,
    ) -> Result<Json<Order>, String> {
        record("lookup_order", json!({"id": id}));
        match id.as_str() {
            "A-1" => Ok(Json(Order { id, status: "shipped".into(), total_cents: 4200 })),
            "B-2" => Ok(Json(Order { id, status: "pending".into(), total_cents: 1999 })),
            _ => Err(format!("no order {id}; known orders are A-1 and B-2")),
        }
    }

    /// Sends the text back.
    #[tool]
    async fn echo(&self, Parameters(Text { text }): Parameters<Text>) -> String {
        record("echo", json!({"text": text}));
        if std::env::var_os("LLM_DO_MCP_DEMO_NOISE").is_some() {
            // Written whole before the answer (std's stdout flushes at the end of a line).
            println!("echo: about to answer \x1b[2J(noise)");
        }
        text
    }

    /// Returns a photo of the parcel.
    #[tool]
    async fn photo(&self) -> CallToolResult {
        record("photo", json!({}));
        CallToolResult::success(vec![
            ContentBlock::text("parcel photo:"),
            ContentBlock::image("iVBORw0KGgo=", "image/png"),
        ])
    }

    /// Answers after `seconds` seconds; reports its progress at the start and the end when the
    /// call asks for it (a progress token), the message of the first with an escape sequence.
    #[tool]
    async fn slow(
        &self,
        Parameters(Wait { seconds }): Parameters<Wait>,
        context: RequestContext<RoleServer>,
    ) -> String {
        record("slow", json!({"seconds": seconds}));
        let token = context.meta.get_progress_token();
        let report = |progress: f64, message: &str| {
            let token = token.clone();
            let peer = context.peer.clone();
            let message = message.to_owned();
            async move {
                if let Some(token) = token {
                    let mut params = ProgressNotificationParam::new(token, progress);
                    params.total = Some(2.0);
                    params.message = Some(message);
                    let _ = peer.notify_progress(params).await;
                }
            }
        };
        report(1.0, "waiting \x1b[2J").await;
        // A cancelled call stops waiting (and lets go of the session).
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(seconds)) => {}
            () = context.ct.cancelled() => return "cancelled".to_owned(),
        }
        report(2.0, "done").await;
        format!("waited {seconds}s")
    }

    /// Exits the server process in the middle of the call.
    #[tool]
    async fn crash(&self) -> String {
        record("crash", json!({}));
        if let Ok(marker) = std::env::var("LLM_DO_MCP_DEMO_CRASH_ONCE") {
            if std::path::Path::new(&marker).exists() {
                return "survived".into();
            }
            let _ = std::fs::write(&marker, "crashed");
        }
        eprintln!("demo server: crashing on purpose (tool `crash`)");
        std::process::exit(3)
    }

    /// Refunds an order once the client's user confirms it (asked by elicitation).
    #[tool]
    async fn refund(
        &self,
        Parameters(OrderId { id }): Parameters<OrderId>,
        InputResponses(answers): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, String> {
        let version = context.protocol_version().map(|v| v.to_string());
        record("refund", json!({"id": id, "answered": answers.is_some(), "protocol": version}));
        let form = json!({
            "type": "object",
            "required": ["confirm"],
            "properties": {
                "confirm": {"type": "boolean", "title": "Confirm", "description": "Refund it"},
                "reason": {"type": "string", "enum": ["damaged", "late", "other"]},
            },
        });
        let schema = form
            .as_object()
            .and_then(|f| ElicitationSchema::from_json_schema(f.clone()).ok())
            .ok_or("the form could not be built")?;
        // A card's details must not pass through the client: those go to a page (URL mode).
        let by_card = id.starts_with("card-");
        let params = if by_card {
            ElicitRequestParams::UrlElicitationParams {
                meta: None,
                message: format!("Enter the card for the refund of {id}"),
                url: format!("https://pay.example.com/refund/{id}"),
                elicitation_id: format!("refund-{id}"),
            }
        } else {
            ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: format!("Refund order {id}?"),
                requested_schema: schema,
            }
        };
        let in_rounds =
            context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let answer: ElicitResult = if in_rounds {
            // From 2026-07-28 on a server sends no requests: the question goes back in the
            // call's answer, and the answer comes with the call sent again.
            match answers.and_then(|mut a| a.remove("confirm")) {
                None => {
                    let ask = InputRequest::Elicitation(ElicitRequest::new(params));
                    let requests = [("confirm".to_owned(), ask)].into_iter().collect();
                    return Ok(InputRequiredResult::from_input_requests(requests).into());
                }
                Some(answer) => serde_json::from_value(answer)
                    .map_err(|e| format!("the answer could not be read: {e}"))?,
            }
        } else {
            context
                .peer
                .create_elicitation(params)
                .await
                .map_err(|e| format!("could not ask: {e}"))?
        };
        let content = answer.content.unwrap_or_default();
        let text = match answer.action {
            ElicitationAction::Accept if by_card => {
                format!("the refund of {id} goes on at the payment page")
            }
            ElicitationAction::Accept if content["confirm"] == json!(true) => {
                let reason = content["reason"].as_str().unwrap_or("no reason given");
                format!("refunded {id} ({reason})")
            }
            ElicitationAction::Accept => format!("{id} not refunded"),
            ElicitationAction::Decline => "the user declined".to_owned(),
            _ => "the user dismissed the question".to_owned(),
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }

    /// Adds the tool `extra` and tells the client its tool list changed.
    #[tool]
    async fn add_tool(&self, context: RequestContext<RoleServer>) -> String {
        record("add_tool", json!({}));
        self.extra.store(true, Ordering::SeqCst);
        let _ = context.peer.notify_tool_list_changed().await;
        "added".into()
    }

    /// Added at run time (listed only after `add_tool`).
    #[tool]
    async fn extra(&self) -> Result<String, String> {
        record("extra", json!({}));
        if self.extra.load(Ordering::SeqCst) {
            Ok("extra ran".into())
        } else {
            Err("`extra` has not been added".into())
        }
    }
}

#[tool_handler]
impl ServerHandler for Orders {
    /// Records the cancellation (its reason), for the tests that a late call is cancelled.
    async fn on_cancelled(
        &self,
        params: CancelledNotificationParam,
        _context: NotificationContext<RoleServer>,
    ) {
        record("cancelled", json!({"reason": params.reason}));
    }

    /// Every revision rmcp knows, or those up to `LLM_DO_MCP_DEMO_MAX_PROTOCOL` (a server that
    /// stops before 2026-07-28: it answers `server/discover`, but with no revision a newer
    /// client asks for).
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        let known = ProtocolVersion::KNOWN_VERSIONS;
        match std::env::var("LLM_DO_MCP_DEMO_MAX_PROTOCOL") {
            Ok(max) => std::borrow::Cow::Owned(
                known.iter().filter(|v| v.as_str() <= max.as_str()).cloned().collect(),
            ),
            Err(_) => std::borrow::Cow::Borrowed(known),
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.tool_router.list_all();
        tools.retain(|t| t.name != "extra" || self.extra.load(Ordering::SeqCst));
        if std::env::var_os("LLM_DO_MCP_DEMO_IDEMPOTENT_CRASH").is_some() {
            for tool in tools.iter_mut().filter(|t| t.name == "crash") {
                tool.annotations = Some(rmcp::model::ToolAnnotations::new().idempotent(true));
            }
        }
        if self.bad_schema {
            let schema = json!({"type": 12}).as_object().cloned().unwrap_or_default();
            tools.push(Tool::new("broken", "Has an invalid input schema.", schema));
        }
        Ok(ListToolsResult::with_all_items(tools))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "--exit" => {
            eprintln!("demo server: refusing to start (--exit)");
            std::process::exit(2);
        }
        "--garbage" | "--silent" => {
            // On stderr first: the client stops this server as soon as it sees the garbage.
            eprintln!("demo server: never answering ({mode})");
            if mode == "--garbage" {
                println!("this is not JSON-RPC \x1b[31m");
                println!("{{\"neither\": \"is this\"}}");
            }
            // Keep stdin open and never answer; the client's start timeout must end this.
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            return Ok(());
        }
        "--list-error" | "--list-invalid" | "--list-endless" | "--list-fat" | "--huge"
        | "--deaf" | "--mute" | "--orphan" | "--long-description" => {
            return raw(&mode).await;
        }
        _ => {}
    }
    if let Ok(path) = std::env::var("LLM_DO_MCP_DEMO_PIDFILE")
        && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path)
    {
        let _ = writeln!(f, "{}", std::process::id());
    }
    eprintln!("demo server: ready");
    let service = Orders::new(mode == "--bad-schema").serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    if std::env::var_os("LLM_DO_MCP_DEMO_LINGER").is_some() {
        // A badly behaved server: it outlives the end of its stdin (and writes nothing, since
        // `eprintln!` on a closed pipe would end it).
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    Ok(())
}

/// A hand-written JSON-RPC loop over stdio: answers `initialize`, and `tools/list` and
/// `tools/call` as `mode` says (see the module's documentation).
async fn raw(mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    if mode == "--mute" {
        eprintln!("demo server: up, and never answering a call (--mute)");
    }
    while let Some(line) = lines.next_line().await? {
        let Ok(request) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(id) = request.get("id").cloned() else { continue }; // a notification
        let answer = match request["method"].as_str().unwrap_or_default() {
            "initialize" => json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "raw-demo", "version": "0.0.0"},
            }}),
            "tools/list" if mode == "--list-error" => json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32603, "message": "the tool registry is down \u{1b}[2J",
            }}),
            "tools/list" if mode == "--list-endless" => {
                let page = request["params"]["cursor"].as_str().unwrap_or("0").to_owned();
                let tool = json!({"name": format!("t{page}"), "inputSchema": {"type": "object"}});
                let next = page.parse::<u64>().unwrap_or(0) + 1;
                json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [tool], "nextCursor": next.to_string()}})
            }
            "tools/list" if mode == "--list-fat" => {
                let page = request["params"]["cursor"].as_str().unwrap_or("0").to_owned();
                let fat = |i| json!({"name": format!("t{page}_{i}"), "description": "d".repeat(1 << 20), "inputSchema": {"type": "object"}});
                let next = page.parse::<u64>().unwrap_or(0) + 1;
                json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [fat(0), fat(1)], "nextCursor": next.to_string()}})
            }
            "tools/list" if mode == "--huge" => {
                let tool = |name| json!({"name": name, "inputSchema": {"type": "object"}});
                let tools = [tool("structured"), tool("rpc_error")];
                json!({"jsonrpc": "2.0", "id": id, "result": {"tools": tools}})
            }
            "tools/list" if mode == "--deaf" => {
                let tool = json!({"name": "echo", "inputSchema": {"type": "object"}});
                let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [tool]}});
                stdout.write_all(format!("{answer}\n").as_bytes()).await?;
                stdout.flush().await?;
                // Never reads again: what the client writes fills the pipe.
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                return Ok(());
            }
            "tools/list" if matches!(mode, "--mute" | "--orphan" | "--long-description") => {
                let long = "d".repeat(1 << 20);
                let (about, text) = match mode {
                    "--long-description" => (long.as_str(), long.as_str()),
                    _ => ("Sends the text back.", "The text."),
                };
                let schema = json!({"type": "object", "properties": {
                    "text": {"type": "string", "description": text}}});
                let tool = json!({"name": "echo", "description": about, "inputSchema": schema});
                json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [tool]}})
            }
            "tools/list" => json!({"jsonrpc": "2.0", "id": id, "result": {"tools": "none"}}),
            "tools/call" if mode == "--mute" => continue,
            "tools/call" if mode == "--orphan" => orphan(),
            "tools/call" if request["params"]["name"] == "structured" => {
                let huge = json!({"blob": "A".repeat(1_000_000)});
                json!({"jsonrpc": "2.0", "id": id, "result": {"content": [], "structuredContent": huge}})
            }
            "tools/call" => json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32000, "message": format!("\u{1b}[2J{}", "A".repeat(1_000_000)),
            }}),
            _ => json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32601, "message": "method not found",
            }}),
        };
        stdout.write_all(format!("{answer}\n").as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}

/// Starts `sleep 600` with the server's stdout and stderr (as a launcher's server or a helper
/// would), records its process id in `LLM_DO_MCP_DEMO_PIDFILE`, and exits: the client sees the
/// server's process end while its stdout stays open.
fn orphan() -> ! {
    let child =
        std::process::Command::new("sleep").arg("600").stdin(std::process::Stdio::null()).spawn();
    if let (Ok(child), Ok(path)) = (&child, std::env::var("LLM_DO_MCP_DEMO_PIDFILE"))
        && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path)
    {
        let _ = writeln!(f, "{}", child.id());
    }
    eprintln!("demo server: leaving `sleep` behind and exiting (--orphan)");
    std::process::exit(4)
}
