//! [`McpToolset`]: one MCP server's tools in llm-do's name space, and the connection that
//! serves them (started once, restarted when it dies, at most once per call, and closed on
//! drop; the connection's life is in `toolset/shared.rs`).

use crate::connection::Connection;
use crate::error::McpError;
use crate::listener::Askers;
use crate::names;
use crate::server::McpServer;
use futures::future::BoxFuture;
use llm_do_core::{CallableSpec, Error, ToolSpecBuilder};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod offered;
mod request;

pub use offered::MAX_DESCRIPTION_CHARS;
mod rounds;
mod shared;

/// At most this many requests (questions) in one round of a call, and at most
/// [`MAX_ROUNDS`] rounds (see `toolset/rounds.rs`).
pub(crate) const MAX_REQUESTS_PER_ROUND: usize = rounds::MAX_REQUESTS;
/// At most this many rounds of one call.
pub(crate) const MAX_ROUNDS: usize = rounds::MAX_ROUNDS;

/// How long a dead server's stderr is waited for, so that its last words reach the error.
const STDERR_SETTLE: Duration = Duration::from_secs(2);

/// A tool of the server, as listed.
#[derive(Debug, Clone)]
pub struct McpTool {
    /// The name in llm-do's name space (`server__tool`, see [`crate::names`]).
    pub name: String,
    /// The name the server knows it by.
    pub remote_name: String,
    /// The server's description, cut to [`MAX_DESCRIPTION_CHARS`] (with a note) when longer.
    pub description: String,
    /// The input schema, unchanged but for the descriptions of its top-level properties, cut
    /// as the tool's is ([`MAX_DESCRIPTION_CHARS`]).
    pub input_schema: Value,
    /// The output schema, when the server gives one.
    pub output_schema: Option<Value>,
    /// Whether the server marks the tool read-only or idempotent (`readOnlyHint`,
    /// `idempotentHint`): a call the server dies during is then made again on the restarted
    /// server; otherwise it fails with [`McpError::DiedDuringCall`], as it may have had effects.
    pub replayable: bool,
}

/// A tool the server lists that cannot be offered, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedTool {
    /// The name the server gave (cut to its first 100 characters, with `…`, when longer).
    pub remote_name: String,
    /// Why it is left out.
    pub reason: String,
}

/// The tools of one MCP server, connected.
///
/// [`new`](Self::new) makes a toolset whose server starts on first use; [`connect`](Self::connect)
/// starts the server (or opens the HTTP session), initializes and lists the tools at once. [`specs`](Self::specs) gives one [`CallableSpec`] per tool, to register on
/// a runtime ([`crate::McpBuilderExt::mcp`]): a model's call of one passes the approval gate
/// like any tool (the server's verdict, default `Ask`), then reaches the server.
///
/// The connection is shared by the toolset and its specs and closed when the last of them is
/// dropped (a child process is killed) or by [`close`](Self::close). A server that dies is
/// started again by the next call. A call it died on is made once more on the new server when
/// that cannot do harm — its request had not gone out, or the server marks the tool read-only
/// or idempotent ([`McpTool::replayable`]) — and otherwise fails with
/// [`McpError::DiedDuringCall`] (the server may have acted on it: a payment is not made twice);
/// a call that kills it twice fails with [`McpError::ServerDied`] and the tail of its stderr,
/// and the call after it starts the server anew (at most one restart per call: one poisonous
/// input does not disable the server, nor does a crashing server restart in a loop). `tools/list_changed` makes the
/// next use re-list the tools: a call of a tool that is gone fails clearly, a tool that
/// appeared can be called, and runtimes it is registered on see it (see
/// [`crate::McpBuilderExt`]).
#[derive(Clone)]
pub struct McpToolset {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for McpToolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpToolset")
            .field("server", &self.shared.name)
            .field("tools", &self.tools().iter().map(|t| t.name.clone()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

struct Shared {
    name: String,
    /// `name__`: every tool's name starts with it.
    prefix: String,
    server: McpServer,
    state: tokio::sync::Mutex<State>,
    tools: Mutex<Listed>,
    stale: Arc<AtomicBool>,
    /// The calls in flight, through whose contexts the server's questions are asked.
    askers: Arc<Askers>,
}

#[derive(Default)]
struct Listed {
    tools: BTreeMap<String, McpTool>,
    skipped: Vec<SkippedTool>,
}

struct State {
    conn: Option<Connection>,
    /// Bumped on every (re)start, so that a failure is attributed to the right connection.
    generation: u64,
    /// The server has been started once (later starts are restarts).
    started: bool,
    closed: bool,
    /// The stderr of the last connection, kept after it is gone.
    last_stderr: String,
    /// How the last connection's process ended, when known.
    last_exit: Option<std::process::ExitStatus>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl McpToolset {
    /// Starts the server named `name` (see [`crate::names`]), initializes the session and lists
    /// its tools, all within the server's start timeout.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), llm_do_mcp::McpError> {
    /// use llm_do_mcp::{McpServer, McpToolset};
    /// let orders = McpToolset::connect("orders", McpServer::stdio("orders-server", ["--stdio"])).await?;
    /// for tool in orders.tools() {
    ///     println!("{}: {}", tool.name, tool.description);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn connect(name: &str, server: McpServer) -> Result<McpToolset, McpError> {
        let toolset = McpToolset::new(name, server)?;
        toolset.shared.ensure_listed().await?;
        Ok(toolset)
    }

    /// The toolset of the server named `name` (see [`crate::names`]), not started yet: the
    /// server is started, initialized and its tools listed on first use — the first call, the
    /// first [`refresh`](Self::refresh), or the first time a runtime it is registered on
    /// ([`crate::McpBuilderExt::mcp`]) needs its tools. Only the name is checked here.
    ///
    /// ```
    /// use llm_do_mcp::{McpServer, McpToolset};
    /// let orders = McpToolset::new("orders", McpServer::stdio("orders-server", ["--stdio"])).unwrap();
    /// assert!(orders.tools().is_empty()); // nothing is started or listed yet
    /// assert!(McpToolset::new("bad name", McpServer::stdio("x", ["y"])).is_err());
    /// ```
    pub fn new(name: &str, server: McpServer) -> Result<McpToolset, McpError> {
        names::check_server_name(name)
            .map_err(|message| McpError::Config { server: name.to_owned(), message })?;
        Ok(McpToolset {
            shared: Arc::new(Shared {
                name: name.to_owned(),
                prefix: format!("{name}{}", names::SEPARATOR),
                server,
                state: tokio::sync::Mutex::new(State {
                    conn: None,
                    generation: 0,
                    started: false,
                    closed: false,
                    last_stderr: String::new(),
                    last_exit: None,
                }),
                tools: Mutex::new(Listed::default()),
                stale: Arc::new(AtomicBool::new(false)),
                askers: Arc::default(),
            }),
        })
    }

    /// The server's name.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { assert_eq!(t.name(), "orders"); }
    /// ```
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The tools offered, sorted by name.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { assert!(t.tools().iter().all(|x| x.name.starts_with("orders__"))); }
    /// ```
    pub fn tools(&self) -> Vec<McpTool> {
        lock(&self.shared.tools).tools.values().cloned().collect()
    }

    /// The tools the server lists that cannot be offered (a name a model API would refuse, an
    /// input schema that is not a valid JSON Schema, or not the schema of an object), with the
    /// reasons.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { for s in t.skipped() { eprintln!("{}: {}", s.remote_name, s.reason); } }
    /// ```
    pub fn skipped(&self) -> Vec<SkippedTool> {
        lock(&self.shared.tools).skipped.clone()
    }

    /// One spec per tool, for [`RuntimeBuilder::register`](llm_do_core::RuntimeBuilder::register).
    ///
    /// ```
    /// use llm_do_core::{Runtime, ToolSpecBuilder, approval::Verdict};
    /// use llm_do_mcp::{McpServer, McpToolset, serve::McpService};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let shout = ToolSpecBuilder::new("shout")
    /// #     .handler(|_, a| async move { Ok(serde_json::json!(a["text"].as_str().unwrap_or("").to_uppercase())) })
    /// #     .build();
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// # let served = McpService::new(Runtime::builder().register(shout).build());
    /// # tokio::spawn(served.serve_http(listener, std::future::pending()));
    /// // `url`: an MCP server (on loopback) with one tool, `shout`.
    /// let t = McpToolset::connect("words", McpServer::http(url).approval(Verdict::Allow)).await?;
    /// let rt = t.specs().into_iter().fold(Runtime::builder(), |b, s| b.register(s)).build();
    /// let spec = rt.registry().get("words__shout").unwrap();
    /// assert_eq!(spec.approval(), Some(Verdict::Allow)); // the server's verdict
    /// let loud: serde_json::Value = rt.ctx().call("words__shout", serde_json::json!({"text": "hi"})).await?;
    /// assert_eq!(loud, "HI");
    /// # Ok(())
    /// # }
    /// ```
    pub fn specs(&self) -> Vec<Arc<CallableSpec>> {
        self.tools().into_iter().map(|tool| self.spec(tool)).collect()
    }

    fn spec(&self, tool: McpTool) -> Arc<CallableSpec> {
        let shared = self.shared.clone();
        let remote = tool.remote_name.clone();
        let mut b = ToolSpecBuilder::new(tool.name.as_str())
            .description(tool.description.clone())
            .input_schema(tool.input_schema.clone())
            .approval(self.shared.server.approval);
        b = b.output_schema(match &tool.output_schema {
            Some(schema) => schema.clone(),
            // Text, or text and images (see `result::convert`).
            None => serde_json::json!({
                "anyOf": [{}, llm_do_core::attachment::text_with_attachments_schema()]
            }),
        });
        b.handler(move |ctx, args| {
            let shared = shared.clone();
            let remote = remote.clone();
            async move {
                // A question the server asks meanwhile goes to the person behind this call: in
                // a round of the call, or (before protocol 2026-07-28) as a request of its own.
                // Its progress notifications are this call's.
                let asking = shared.askers.enter(ctx);
                match shared.call(&remote, args, Some(&asking)).await {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(message)) => {
                        Err(Error::msg(format!("the tool reported an error: {message}")))
                    }
                    // Its kind kept: a cancelled run, an answer that does not fit the form.
                    Err(McpError::Question { source, .. }) => Err(*source),
                    Err(e) => Err(Error::other(e)),
                }
            }
        })
        .build()
    }

    /// Calls a tool by the server's name for it: `Ok(Ok(json))` for a success, `Ok(Err(text))`
    /// for a result with `isError`, `Err` when the call could not be made.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) -> Result<(), llm_do_mcp::McpError> {
    /// let order = t.call("lookup_order", serde_json::json!({"id": "A-1"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, tool: &str, args: Value) -> Result<Result<Value, String>, McpError> {
        self.shared.call(tool, args, None).await
    }

    /// Lists the tools again and returns them.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) -> Result<(), llm_do_mcp::McpError> {
    /// let now = t.refresh().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&self) -> Result<Vec<McpTool>, McpError> {
        if self.shared.ensure_started().await? {
            return Ok(self.tools());
        }
        self.shared.refresh(&mut 0).await?;
        Ok(self.tools())
    }

    /// The process id of the running server (stdio servers), `None` for HTTP or when closed.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { println!("{:?}", t.pid().await); }
    /// ```
    pub async fn pid(&self) -> Option<u32> {
        self.shared.state.lock().await.conn.as_ref().and_then(|c| c.pid)
    }

    /// The MCP protocol revision agreed with the running server (e.g. `2026-07-28`, or
    /// `2025-11-25` for a server that stops there), `None` while no server is running (before
    /// the first use of a toolset made by [`McpToolset::new`], or after [`McpToolset::close`]).
    /// By default llm-do asks for the newest revision it knows and takes the newest the server
    /// speaks; [`McpServer::protocol`] pins one.
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) {
    /// if let Some(revision) = t.protocol_version().await {
    ///     eprintln!("`{}` speaks MCP {revision}", t.name());
    /// }
    /// # }
    /// ```
    pub async fn protocol_version(&self) -> Option<String> {
        self.shared.state.lock().await.conn.as_ref().and_then(|c| c.protocol_version())
    }

    /// The tail of the server's stderr so far (escaped).
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { eprintln!("{}", t.stderr_tail().await); }
    /// ```
    pub async fn stderr_tail(&self) -> String {
        let state = self.shared.state.lock().await;
        match &state.conn {
            Some(c) => c.tail.text(),
            None => state.last_stderr.clone(),
        }
    }

    /// Closes the connection now: a child process is asked to exit and killed when it does
    /// not. Later calls fail with [`McpError::Closed`].
    ///
    /// ```no_run
    /// # async fn f(t: llm_do_mcp::McpToolset) { t.close().await; }
    /// ```
    pub async fn close(&self) {
        let conn = {
            let mut state = self.shared.state.lock().await;
            state.closed = true;
            state.conn.take()
        };
        if let Some(conn) = conn {
            conn.close().await;
        }
    }
}

impl llm_do_core::CallableSource for McpToolset {
    fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The tools' specs, after starting the server on first use and listing its tools again
    /// when it said they changed.
    fn callables(&self) -> BoxFuture<'_, llm_do_core::Result<Vec<Arc<CallableSpec>>>> {
        Box::pin(async move {
            self.shared.ensure_listed().await.map_err(Error::other)?;
            Ok(self.specs())
        })
    }
}

#[cfg(test)]
mod tests;
