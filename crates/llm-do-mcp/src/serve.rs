//! The server side: a runtime's workers and tools served as MCP tools ([`McpService`]), over
//! stdio ([`McpService::serve_stdio`]) or streamable HTTP ([`McpService::serve_http`]).
//!
//! Each registered worker or tool is one MCP tool: its name, description and input schema;
//! its output schema when it is an object schema (MCP only allows those), and then the result
//! comes back as `structuredContent` (and as JSON text for older clients). A text result is a
//! text block; other JSON results are their JSON text.
//!
//! Each call is one run of the runtime ([`Runtime::ctx`]; with the limits given for its tool
//! by [`run_limits`](McpService::run_limits), if any), so its limits, event subscribers
//! (a run log) and approval settings for nested calls apply. The MCP client stands where a
//! model stands, so a call passes the gate a model's call would: its forbidden arguments
//! refused, then the policy's verdict for the name and the canonical form of the arguments
//! ([`Runtime::gated_args`]: for file tools, paths resolved in the sandbox; for a worker, its
//! attachment paths resolved by the runtime's loader), else the callee's own default. `Allow`
//! runs; `Deny` is refused with a tool error saying why; `Ask` runs with
//! [`approve_all`](McpService::approve_all), is asked of the client's user with
//! [`elicit_approvals`](McpService::elicit_approvals) when the client can be asked (and so are
//! the nested calls of the run that need approval), and is refused otherwise (there is no one
//! to ask). Unknown tools and arguments that violate the input schema are JSON-RPC errors
//! (`-32602`). Every error sent, JSON-RPC error or tool error, and every result has its secrets
//! redacted and is cut to [`MAX_RESULT_CHARS`](crate::MAX_RESULT_CHARS) characters, with a
//! note saying how much was cut (structured content too long is sent as a tool error). A client's
//! `notifications/cancelled` stops the call (the run's future is dropped: nested calls are
//! cancelled too).
//!
//! (Just over 400 lines: about half is this overview and the doc examples of `McpService`'s
//! setters, each run against a loopback client; a call's path is in `serve/call.rs`.)

use llm_do_core::approval::{ApprovalPolicy, Pattern};
use llm_do_core::secrets::Redactor;
use llm_do_core::{CallableSpec, Limits, Runtime};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt as _};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

mod access;
mod call;
mod http;

/// The redactor of everything the server sends its clients (results, errors, questions,
/// progress): the secret patterns plus the values of the server's secret-looking
/// environment variables, read once.
pub(crate) fn redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(|| Redactor::new().with_env(std::env::vars_os()))
}

/// What the server sends its clients of a failure (a tool error's text, a JSON-RPC error's
/// message): secrets redacted, then cut to [`MAX_RESULT_CHARS`](crate::MAX_RESULT_CHARS)
/// characters with a note, by the rule the client side applies to what servers send it. An
/// error may quote a model's whole answer, a provider's or a server's output.
pub(crate) fn outgoing_error(message: &str) -> String {
    crate::result::capped(redactor().redact(message), "error cut: longer than")
}

mod elicit;
pub(crate) mod malformed;
mod progress;
mod rounds;
mod session_end;

pub use access::{BUSY, DEFAULT_MAX_CALLS};
pub use elicit::ANSWER_TIMEOUT;
pub use rounds::MAX_PARKED;

/// A runtime's workers and tools as an MCP server.
///
/// ```
/// use llm_do_core::{Runtime, ToolSpecBuilder};
/// use llm_do_mcp::serve::McpService;
/// let shout = ToolSpecBuilder::new("shout").description("Upper-cases text.")
///     .input_schema(serde_json::json!({"type": "object", "properties": {"text": {"type": "string"}}}))
///     .handler(|_, a| async move { Ok(serde_json::json!(a["text"].as_str().unwrap_or("").to_uppercase())) })
///     .build();
/// let service = McpService::new(Runtime::builder().register(shout).build());
/// let tools = service.tools();
/// assert_eq!(tools[0].name, "shout");
/// assert_eq!(tools[0].description.as_deref(), Some("Upper-cases text."));
/// ```
#[derive(Clone)]
pub struct McpService {
    rt: Runtime,
    policy: Arc<ApprovalPolicy>,
    approve_all: bool,
    elicit_approvals: bool,
    answer_timeout: Duration,
    rounds: rounds::Rounds,
    name: String,
    run_limits: Arc<BTreeMap<String, Limits>>,
    /// Globs of the names served; empty: every name.
    exposed: Arc<Vec<Pattern>>,
    /// The places for calls in flight (`serve/access.rs`).
    calls: access::CallSlots,
    /// The token HTTP clients must send, if any.
    bearer: Option<llm_do_core::secrets::BearerToken>,
}

impl McpService {
    /// Serves every worker and tool registered on `rt`, with an empty policy (callees' own
    /// defaults decide) and no approvals.
    ///
    /// ```
    /// let s = llm_do_mcp::serve::McpService::new(llm_do_core::Runtime::builder().build());
    /// assert!(s.tools().is_empty());
    /// ```
    pub fn new(rt: Runtime) -> Self {
        Self {
            rt,
            policy: Arc::new(ApprovalPolicy::new()),
            approve_all: false,
            elicit_approvals: false,
            answer_timeout: ANSWER_TIMEOUT,
            rounds: rounds::Rounds::default(),
            name: "llm-do".into(),
            run_limits: Arc::default(),
            exposed: Arc::default(),
            calls: access::CallSlots::new(DEFAULT_MAX_CALLS),
            bearer: None,
        }
    }

    /// The policy calls from the MCP client are checked against (e.g. a project's rules).
    ///
    /// ```
    /// use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
    /// use llm_do_core::{Runtime, ToolSpecBuilder};
    /// use llm_do_mcp::{McpServer, McpToolset, serve::McpService};
    /// use serde_json::json;
    /// # async fn connect(service: McpService) -> Result<McpToolset, Box<dyn std::error::Error>> {
    /// #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// #     let url = format!("http://{}/mcp", listener.local_addr()?);
    /// #     tokio::spawn(service.serve_http(listener, std::future::pending()));
    /// #     Ok(McpToolset::connect("served", McpServer::http(url)).await?)
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let rm = ToolSpecBuilder::new("rm").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok(json!("removed")) })
    ///     .build();
    /// let policy = ApprovalPolicy::new().rule(Rule::new("rm", Verdict::Allow)?);
    /// // `connect`: serves on loopback and connects an `McpToolset` as the client.
    /// let client = connect(McpService::new(Runtime::builder().register(rm).build()).policy(policy)).await?;
    /// // The rule allows what the tool's own verdict (`Ask`) would have refused: no one to ask.
    /// assert_eq!(client.call("rm", json!({})).await?, Ok(json!("removed")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn policy(mut self, policy: ApprovalPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Approves every call that would need approval (`llm-do mcp --approve-all`). Calls a rule
    /// denies stay denied.
    ///
    /// ```
    /// use llm_do_core::{Runtime, ToolSpecBuilder, approval::Verdict};
    /// use llm_do_mcp::{McpServer, McpToolset, serve::McpService};
    /// use serde_json::json;
    /// # async fn connect(service: McpService) -> Result<McpToolset, Box<dyn std::error::Error>> {
    /// #     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// #     let url = format!("http://{}/mcp", listener.local_addr()?);
    /// #     tokio::spawn(service.serve_http(listener, std::future::pending()));
    /// #     Ok(McpToolset::connect("served", McpServer::http(url)).await?)
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let rm = ToolSpecBuilder::new("rm").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok(json!("removed")) })
    ///     .build();
    /// let rt = Runtime::builder().register(rm).build();
    /// // `connect`: serves on loopback and connects an `McpToolset` as the client.
    /// let refused = connect(McpService::new(rt.clone())).await?.call("rm", json!({})).await?;
    /// assert!(refused.unwrap_err().contains("needs approval")); // no one to ask
    /// let approved = connect(McpService::new(rt).approve_all(true)).await?.call("rm", json!({})).await?;
    /// assert_eq!(approved, Ok(json!("removed")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn approve_all(mut self, yes: bool) -> Self {
        self.approve_all = yes;
        self
    }

    /// Asks the client's user, by MCP elicitation, about every call that needs approval: a call
    /// of a served tool whose verdict is `Ask`, and each call that needs approval inside its run
    /// (in place of the runtime's approver, for that run). Only clients that declared form
    /// elicitation can be asked; the others' calls go on as without it. A client on a protocol
    /// before 2026-07-28 gets an `elicitation/create` request while the call waits; from
    /// 2026-07-28 on, the call is answered with an `InputRequiredResult` carrying the question,
    /// its run parked until the client repeats the call with the answer (at most [`MAX_PARKED`]
    /// calls wait at once). The question names the tool, who asked and why, and shows the
    /// arguments (secrets redacted); only an accepted `approve: true` runs the call, once. A
    /// declined or dismissed question denies it, and so does one not answered within the
    /// [`answer_timeout`](Self::answer_timeout) (a parked call is then cancelled). Off by default;
    /// `llm-do mcp` turns it on unless the project approves or denies everything.
    /// [`approve_all`](Self::approve_all) wins over it.
    pub fn elicit_approvals(mut self, yes: bool) -> Self {
        self.elicit_approvals = yes;
        self
    }

    /// How long an approval question waits for its answer ([`ANSWER_TIMEOUT`], 10 minutes, by
    /// default) before the call is denied, or, when it was asked across rounds, cancelled.
    pub fn answer_timeout(mut self, timeout: Duration) -> Self {
        self.answer_timeout = timeout;
        self
    }

    /// Serves only the workers and tools whose names match one of `globs` (`llm-do mcp
    /// --expose`); by default, and with no globs, every one. The others cannot be listed or
    /// called by clients (a call is an unknown tool), while the served workers' own calls still
    /// reach the whole name space.
    ///
    /// ```
    /// use llm_do_core::approval::Pattern;
    /// use llm_do_core::{Runtime, ToolSpecBuilder};
    /// let tool = |name: &str| ToolSpecBuilder::new(name).handler(|_, _| async { Ok(serde_json::json!(1)) }).build();
    /// let rt = Runtime::builder().register(tool("triage")).register(tool("delete_all")).build();
    /// let s = llm_do_mcp::serve::McpService::new(rt).expose([Pattern::glob("tri*").unwrap()]);
    /// let names: Vec<_> = s.tools().into_iter().map(|t| t.name).collect();
    /// assert_eq!(names, ["triage"]);
    /// ```
    pub fn expose(mut self, globs: impl IntoIterator<Item = Pattern>) -> Self {
        self.exposed = Arc::new(globs.into_iter().collect());
        self
    }

    /// Whether clients may see and call `name` (see [`expose`](Self::expose)).
    pub fn exposes(&self, name: &str) -> bool {
        let name = Value::String(name.to_owned());
        self.exposed.is_empty() || self.exposed.iter().any(|glob| glob.matches(&name))
    }

    /// The spec of the served worker or tool `name`, if it is served.
    fn served(&self, name: &str) -> Option<&Arc<CallableSpec>> {
        self.rt.registry().get(name).filter(|_| self.exposes(name))
    }

    /// The server name told to clients (default `llm-do`).
    ///
    /// ```
    /// use rmcp::ServiceExt as _;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = llm_do_mcp::serve::McpService::new(llm_do_core::Runtime::builder().build()).name("orders-desk");
    /// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    /// let (read, write) = tokio::io::split(server_io);
    /// tokio::spawn(s.serve_lines(read, write));
    /// let client = ().serve(client_io).await?; // rmcp's client
    /// let info = client.peer_info().unwrap();
    /// assert_eq!(info.server_info.as_ref().unwrap().name, "orders-desk");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The depth limit and budgets of a run that a call of `tool` starts, in place of the
    /// runtime's (a worker file's `budget:`; see [`Runtime::ctx_with`]).
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_requests(50).build();
    /// let mut limits = rt.limits();
    /// limits.max_requests = Some(3);
    /// let s = llm_do_mcp::serve::McpService::new(rt).run_limits("triage", limits);
    /// assert_eq!(s.limits_of("triage").max_requests, Some(3));
    /// assert_eq!(s.limits_of("other").max_requests, Some(50));
    /// ```
    pub fn run_limits(mut self, tool: impl Into<String>, limits: Limits) -> Self {
        Arc::make_mut(&mut self.run_limits).insert(tool.into(), limits);
        self
    }

    /// The limits of a run that a call of `tool` starts: those given by
    /// [`run_limits`](Self::run_limits), else the runtime's.
    pub fn limits_of(&self, tool: &str) -> Limits {
        self.run_limits.get(tool).copied().unwrap_or_else(|| self.rt.limits())
    }

    /// The MCP tools served, sorted by name.
    ///
    /// ```
    /// let s = llm_do_mcp::serve::McpService::new(llm_do_core::Runtime::builder().build());
    /// assert_eq!(s.tools().len(), 0);
    /// ```
    pub fn tools(&self) -> Vec<Tool> {
        self.rt
            .registry()
            .iter()
            .filter(|spec| self.exposes(spec.name()))
            .map(|s| tool_of(s))
            .collect()
    }

    /// Serves over this process's stdin and stdout until the client disconnects.
    ///
    /// ```no_run
    /// # async fn f(s: llm_do_mcp::serve::McpService) -> std::io::Result<()> {
    /// s.serve_stdio().await
    /// # }
    /// ```
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        self.serve_lines(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves newline-delimited JSON-RPC read from `input`, with the answers written to
    /// `output` (what [`serve_stdio`](Self::serve_stdio) does with stdin and stdout), until
    /// `input` ends and every answer is written. A line that is not JSON, or is longer than
    /// 16 MiB, is answered with the JSON-RPC parse error (`-32700`, id `null`), one that is not
    /// a JSON-RPC message with `-32600`, and a request of an MCP method whose params do not
    /// have that method's shape with `-32602` and its id; the session goes on.
    ///
    /// ```no_run
    /// # async fn f(s: llm_do_mcp::serve::McpService, socket: tokio::net::UnixStream) -> std::io::Result<()> {
    /// let (read, write) = socket.into_split();
    /// s.serve_lines(read, write).await
    /// # }
    /// ```
    pub async fn serve_lines<R, W>(self, input: R, output: W) -> std::io::Result<()>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (reader, writer, flushed) = malformed::line_filter(input, output);
        let running = self.serve((reader, writer)).await.map_err(std::io::Error::other)?;
        running.waiting().await.map_err(std::io::Error::other)?;
        // Everything rmcp wrote reaches `output` before the server is done.
        let _ = flushed.await;
        Ok(())
    }
}

/// The output schema when MCP can carry it: an object schema.
fn object_schema(schema: &Value) -> Option<Map<String, Value>> {
    match schema {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("object") => {
            Some(map.clone())
        }
        _ => None,
    }
}

/// How one spec is listed.
fn tool_of(spec: &CallableSpec) -> Tool {
    let input = match spec.input_schema() {
        Value::Object(map) => map.clone(),
        _ => serde_json::json!({"type": "object"}).as_object().cloned().unwrap_or_default(),
    };
    let description = match spec.kind() {
        k if k.is_stochastic() => {
            format!("{} (an LLM worker: its answers may vary)", spec.description())
                .trim()
                .to_owned()
        }
        _ => spec.description().to_owned(),
    };
    let mut tool = Tool::new(spec.name().to_owned(), description, Arc::new(input));
    tool.output_schema = object_schema(spec.output_schema()).map(Arc::new);
    tool
}

impl ServerHandler for McpService {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(self.name.clone(), env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _place = self.calls.take()?;
        // A JSON-RPC error may quote the client's arguments or a name it sent, whole.
        self.run(request, context).await.map_err(|mut e| {
            e.message = outgoing_error(&e.message).into();
            e
        })
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.served(name).map(|s| tool_of(s))
    }
}
