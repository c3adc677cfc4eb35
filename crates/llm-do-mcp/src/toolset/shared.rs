//! The connection behind a toolset: started on first use, its tools listed (and listed again
//! when the server says they changed), restarted when it dies (at most once per call), and
//! closed on drop.

use super::{STDERR_SETTLE, Shared, State, lock, request, rounds};
use crate::connection::Connection;
use crate::error::{McpError, transport_failure};
use crate::listener::Asking;
use crate::listener::Listener;
use crate::result;
use crate::stderr_tail::StderrTail;
use rmcp::model::{CallToolRequestParams, CallToolResponse};
use rmcp::service::ServiceError;
use rmcp::{Peer, RoleClient};
use serde_json::Value;
use std::sync::atomic::Ordering;

impl Drop for Shared {
    fn drop(&mut self) {
        // rmcp kills a child process from a spawned task: give it a runtime when the last
        // handle is dropped outside one (kill_on_drop is the backstop).
        let conn = self.state.get_mut().conn.take();
        if let Some(conn) = conn {
            if tokio::runtime::Handle::try_current().is_ok() {
                drop(conn);
            } else if let Ok(rt) =
                tokio::runtime::Builder::new_current_thread().enable_all().build()
            {
                rt.block_on(async move { conn.close().await });
            }
        }
    }
}

/// Starts of a dead server one call (or one listing) may make. A call that crashes the server
/// is retried once on a new one; when that dies too, the call fails, and the next call starts
/// the server again: one poisonous input does not disable a long-lived server, and no call
/// restarts it in a loop.
const RESTARTS_PER_CALL: u32 = 1;

enum Failure {
    /// The connection is gone (the transport closed) before the call's request was sent.
    Died(String),
    /// The connection went while the call's request was out: the server may have acted on it.
    DiedDuring(String),
    Other(McpError),
}

impl Shared {
    /// The handler of what the server sends unasked, for a new connection.
    fn listener(&self) -> Listener {
        Listener {
            stale: self.stale.clone(),
            askers: self.askers.clone(),
            server: self.name.as_str().into(),
            handshake: rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE,
        }
    }

    /// Starts the server and lists its tools, when that has not happened yet. `true` when it
    /// started it now.
    pub(super) async fn ensure_started(&self) -> Result<bool, McpError> {
        let mut state = self.state.lock().await;
        if state.started || state.conn.is_some() {
            return Ok(false);
        }
        if state.closed {
            return Err(McpError::Closed { server: self.name.clone() });
        }
        self.start(&mut state).await?;
        Ok(true)
    }

    /// The first start: opens the connection and lists the tools, within the start timeout
    /// (a listing failure closes the connection).
    async fn start(&self, state: &mut State) -> Result<(), McpError> {
        let conn = Connection::open(&self.name, &self.server, self.listener()).await?;
        let listed = match conn.list_tools(&self.name, self.server.start_timeout).await {
            Ok(tools) => tools,
            Err(e) => {
                conn.close().await;
                return Err(e);
            }
        };
        self.stale.store(false, Ordering::SeqCst);
        self.store_tools(listed);
        state.conn = Some(conn);
        state.generation += 1;
        state.started = true;
        Ok(())
    }

    /// Starts the server on first use, and lists its tools again when it said they changed.
    pub(super) async fn ensure_listed(&self) -> Result<(), McpError> {
        if !self.ensure_started().await? && self.stale.load(Ordering::SeqCst) {
            self.refresh(&mut 0).await?;
        }
        Ok(())
    }

    /// Lists the tools again, restarting a dead server (counted in `restarts`, the starts the
    /// caller has made).
    pub(super) async fn refresh(&self, restarts: &mut u32) -> Result<(), McpError> {
        let peer = self.peer(restarts).await.map_err(|f| match f {
            Failure::Died(message) | Failure::DiedDuring(message) => {
                McpError::ListTools { server: self.name.clone(), message, stderr: String::new() }
            }
            Failure::Other(e) => e,
        })?;
        self.stale.store(false, Ordering::SeqCst);
        let listed = match tokio::time::timeout(
            self.server.start_timeout,
            crate::listing::all_tools(&peer.1),
        )
        .await
        {
            Ok(Ok(tools)) => tools,
            Ok(Err(message)) => {
                return Err(McpError::ListTools {
                    server: self.name.clone(),
                    message,
                    stderr: peer.2.text(),
                });
            }
            Err(_) => {
                return Err(McpError::ListTools {
                    server: self.name.clone(),
                    message: format!("no answer within {:?}", self.server.start_timeout),
                    stderr: peer.2.text(),
                });
            }
        };
        self.store_tools(listed);
        Ok(())
    }

    /// The current connection's generation, peer and stderr tail, restarting a dead server
    /// when the caller has made fewer than [`RESTARTS_PER_CALL`] starts (`restarts`, counted
    /// here).
    async fn peer(
        &self,
        restarts: &mut u32,
    ) -> Result<(u64, rmcp::Peer<rmcp::RoleClient>, StderrTail), Failure> {
        let mut state = self.state.lock().await;
        if state.closed {
            return Err(Failure::Other(McpError::Closed { server: self.name.clone() }));
        }
        if !state.started {
            self.start(&mut state).await.map_err(Failure::Other)?;
        }
        if let Some(conn) = &state.conn {
            return Ok((state.generation, conn.peer(), conn.tail.clone()));
        }
        // The connection died: start it again, once per call.
        if *restarts >= RESTARTS_PER_CALL {
            return Err(Failure::Died("it stopped again after this call had restarted it".into()));
        }
        *restarts += 1;
        let conn = Connection::open(&self.name, &self.server, self.listener())
            .await
            .map_err(Failure::Other)?;
        state.generation += 1;
        let (peer, tail) = (conn.peer(), conn.tail.clone());
        state.conn = Some(conn);
        Ok((state.generation, peer, tail))
    }

    /// Marks connection `generation` dead (when it still is the current one), keeping the tail
    /// of its stderr and how its process ended, and returns the latter in words (` (its
    /// process ended: exit status: 3)`; empty when not known, or for an HTTP server).
    async fn bury(&self, generation: u64) -> String {
        let mut state = self.state.lock().await;
        if state.generation == generation
            && let Some(conn) = state.conn.take()
        {
            let exit = async {
                match &conn.exit {
                    Some(exit) => exit.status(STDERR_SETTLE).await,
                    None => None,
                }
            };
            let ((), exit) = tokio::join!(conn.tail.settle(STDERR_SETTLE), exit);
            state.last_stderr = conn.tail.text();
            state.last_exit = exit;
            // Ends what the server left in its process group, too.
            drop(conn);
        }
        match state.last_exit {
            Some(status) => format!(" (its process ended: {status})"),
            None => String::new(),
        }
    }

    /// Calls `tool` (the server's name) with `args`, for a run's call `asker` (`None`: a call
    /// made outside any run, whose questions are declined and whose progress is not asked
    /// for); a server that died (before or during the call) is started again and the call
    /// made again, once.
    pub(super) async fn call(
        &self,
        tool: &str,
        args: Value,
        asker: Option<&Asking>,
    ) -> Result<Result<Value, String>, McpError> {
        let mut attempt = 0;
        let mut restarts = 0;
        loop {
            attempt += 1;
            match self.call_once(tool, args.clone(), asker, &mut restarts).await {
                Ok(result) => return Ok(result),
                Err(Failure::Other(e)) => return Err(e),
                // The server may have acted on the request before it died: made again only when
                // it says that repeating the call changes nothing.
                Err(Failure::DiedDuring(message)) if !self.replayable(tool) => {
                    let stderr = self.state.lock().await.last_stderr.clone();
                    return Err(McpError::DiedDuringCall {
                        server: self.name.clone(),
                        tool: tool.to_owned(),
                        message,
                        stderr,
                    });
                }
                Err(Failure::Died(message) | Failure::DiedDuring(message)) => {
                    if attempt >= 2 || restarts >= RESTARTS_PER_CALL {
                        let stderr = self.state.lock().await.last_stderr.clone();
                        return Err(McpError::ServerDied {
                            server: self.name.clone(),
                            tool: tool.to_owned(),
                            message,
                            stderr,
                        });
                    }
                }
            }
        }
    }

    async fn call_once(
        &self,
        tool: &str,
        args: Value,
        asking: Option<&Asking>,
        restarts: &mut u32,
    ) -> Result<Result<Value, String>, Failure> {
        // First use starts the server and lists its tools.
        let (mut generation, mut peer, mut tail) = self.peer(restarts).await?;
        if self.stale.load(Ordering::SeqCst) {
            self.refresh(restarts).await.map_err(Failure::Other)?;
            (generation, peer, tail) = self.peer(restarts).await?;
        }
        let known = lock(&self.tools).tools.values().any(|t| t.remote_name == tool);
        if !known {
            return Err(Failure::Other(McpError::UnknownTool {
                server: self.name.clone(),
                tool: tool.to_owned(),
            }));
        }
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = match args {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(Failure::Other(McpError::Call {
                    server: self.name.clone(),
                    tool: tool.to_owned(),
                    message: format!("the arguments must be a JSON object, not {other}"),
                }));
            }
        };
        let asker = asking.map(Asking::ctx);
        let question = |source| {
            Failure::Other(McpError::Question {
                server: self.name.clone(),
                tool: tool.to_owned(),
                source: Box::new(source),
            })
        };
        // The timeout is the server's, per round: a person answering its questions is not timed.
        let timeout = self.server.call_timeout;
        let mut rounds_without_requests = 0;
        for _ in 0..rounds::MAX_ROUNDS {
            let response = match tokio::time::timeout(
                timeout,
                request::call_tool(&peer, params.clone(), asking),
            )
            .await
            {
                Err(_) => {
                    return Err(Failure::Other(McpError::Timeout {
                        server: self.name.clone(),
                        tool: tool.to_owned(),
                        after: timeout,
                        stderr: tail.text(),
                    }));
                }
                Ok(Ok(response)) => response,
                Ok(Err(e)) => return Err(self.failed(tool, generation, &peer, e).await),
            };
            let more = match response {
                CallToolResponse::Complete(result) => return Ok(result::convert(result)),
                CallToolResponse::InputRequired(more) => more,
                _ => {
                    return Err(Failure::Other(McpError::Call {
                        server: self.name.clone(),
                        tool: tool.to_owned(),
                        message: "it answered with a task, which llm-do does not ask for".into(),
                    }));
                }
            };
            let requests = more.input_requests.unwrap_or_default();
            if requests.is_empty() {
                tokio::time::sleep(rounds::pause(rounds_without_requests)).await;
                rounds_without_requests += 1;
            } else {
                rounds_without_requests = 0;
            }
            let answers = rounds::answer(&self.name, asker, requests).await.map_err(question)?;
            params.input_responses = (!answers.is_empty()).then_some(answers);
            params.request_state = more.request_state;
        }
        let message = format!("it still asked for more after {} rounds", rounds::MAX_ROUNDS);
        Err(question(rounds::refused(&self.name, message)))
    }

    /// Whether a call of `tool` (the server's name) the server died during may be made again:
    /// the server marks it read-only or idempotent (`readOnlyHint`, `idempotentHint`).
    fn replayable(&self, tool: &str) -> bool {
        lock(&self.tools).tools.values().any(|t| t.remote_name == tool && t.replayable)
    }

    /// What a failed request of connection `generation` means: a dead server (buried), or the
    /// server's error.
    async fn failed(
        &self,
        tool: &str,
        generation: u64,
        peer: &Peer<RoleClient>,
        e: ServiceError,
    ) -> Failure {
        match e {
            ServiceError::McpError(e) => Failure::Other(McpError::Call {
                server: self.name.clone(),
                tool: tool.to_owned(),
                message: crate::error::server_message(&e.message),
            }),
            ServiceError::TransportClosed => {
                let ended = self.bury(generation).await;
                Failure::DiedDuring(format!("{}{ended}", ServiceError::TransportClosed))
            }
            ServiceError::TransportSend(e) => {
                let ended = self.bury(generation).await;
                Failure::DiedDuring(format!(
                    "its transport failed: {}{ended}",
                    transport_failure(&e)
                ))
            }
            e => {
                if peer.is_transport_closed() {
                    let ended = self.bury(generation).await;
                    return Failure::DiedDuring(format!("{e}{ended}"));
                }
                Failure::Other(McpError::Call {
                    server: self.name.clone(),
                    tool: tool.to_owned(),
                    message: e.to_string(),
                })
            }
        }
    }
}
