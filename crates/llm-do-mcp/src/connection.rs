//! One live connection to an MCP server: the rmcp client service, the child process (for
//! stdio servers) and the tail of its stderr.

use crate::child::Exit;
use crate::child_env;
use crate::error::McpError;
use crate::listener::Listener;
use crate::server::{McpServer, Transport};
use crate::stderr_tail::StderrTail;
use rmcp::model::{ProtocolVersion, Tool};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt as _, Peer, RoleClient};

/// A started, initialized server. Dropping it ends the server's process group (see
/// [`llm_do_process`]); a stdio server's transport is [`crate::child`]'s.
pub(crate) struct Connection {
    /// `None` once closed.
    service: Option<RunningService<RoleClient, Listener>>,
    pub(crate) pid: Option<u32>,
    pub(crate) tail: StderrTail,
    /// A stdio server's exit status, once its process has ended (`None` for HTTP).
    pub(crate) exit: Option<Exit>,
}

impl Connection {
    /// Starts the server and completes the protocol's start (`server/discover` or
    /// `initialize`), within the start timeout.
    pub(crate) async fn open(
        name: &str,
        server: &McpServer,
        mut listener: Listener,
    ) -> Result<Connection, McpError> {
        let (lifecycle, handshake) = lifecycle(name, server)?;
        listener.handshake = handshake;
        let deadline =
            tokio::time::Instant::from_std(crate::server::deadline(server.start_timeout));
        let auto = matches!(lifecycle, ClientLifecycleMode::Auto { .. });
        match Self::start(name, server, listener.clone(), lifecycle, deadline).await {
            // rmcp falls back to `initialize` itself when the server answers `server/discover`
            // with a JSON-RPC error, or over HTTP with a 4xx other than 401 and 403. A server
            // that answers it without a revision both speak (one that stops before
            // 2026-07-28), or over HTTP with a 5xx, fails the start instead: start it again (a
            // child process anew) with `initialize` (tests/sdk_servers.rs).
            Err(McpError::Start { .. }) if auto => {
                Self::start(name, server, listener, ClientLifecycleMode::Initialize, deadline).await
            }
            other => other,
        }
    }

    /// Starts the server and completes the start `lifecycle` says, by `deadline`.
    async fn start(
        name: &str,
        server: &McpServer,
        listener: Listener,
        lifecycle: ClientLifecycleMode,
        deadline: tokio::time::Instant,
    ) -> Result<Connection, McpError> {
        let tail = StderrTail::default();
        let start = |message: String, tail: &StderrTail| McpError::Start {
            server: name.to_owned(),
            message,
            stderr: tail.text(),
        };
        let (service, pid, exit) = match &server.transport {
            Transport::Stdio { command, args, env, pass_env, cwd } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).env_clear().envs(child_env::inherited(pass_env)).envs(env);
                cmd.kill_on_drop(true);
                llm_do_process::guard(cmd.as_std_mut());
                if let Some(dir) = cwd {
                    cmd.current_dir(dir);
                }
                let spawned = crate::child::spawn(cmd, name)
                    .map_err(|e| start(format!("`{command}` could not be run: {e}"), &tail))?;
                let (pid, mut noise, exit) = (spawned.pid, spawned.noise, spawned.exit);
                // From here until the connection owns the pid, whatever ends the start (an
                // error, or the start future dropped) kills the server's process group.
                let mut group = Group(pid);
                if let Some(stderr) = spawned.stderr {
                    tail.follow(stderr);
                }
                let serving = tokio::time::timeout_at(
                    deadline,
                    listener.serve_with_lifecycle(spawned.transport, lifecycle),
                );
                // Noise on stdout before `initialize` is answered ends the start at once.
                let result = tokio::select! {
                    biased;
                    served = serving => finish(name, server, served, &tail).await,
                    Ok(line) = &mut noise => {
                        // The transport (and the child with it) is dropped; what the child
                        // started goes too, then its last words are waited for.
                        group.kill();
                        tail.settle(std::time::Duration::from_secs(2)).await;
                        Err(McpError::NotJsonRpc {
                            server: name.to_owned(),
                            line,
                            stderr: tail.text(),
                        })
                    }
                };
                // On an error the leader dies with its transport, and what it started with
                // `group`.
                (result?, group.disarm(), Some(exit))
            }
            Transport::Http { url, headers } => {
                let mut custom = std::collections::HashMap::new();
                for (k, v) in headers {
                    let bad = |e: String| McpError::Config {
                        server: name.to_owned(),
                        message: format!("invalid header `{k}`: {e}"),
                    };
                    let key =
                        http::HeaderName::try_from(k.as_str()).map_err(|e| bad(e.to_string()))?;
                    let value =
                        http::HeaderValue::try_from(v.as_str()).map_err(|e| bad(e.to_string()))?;
                    custom.insert(key, value);
                }
                // The workspace's rustls has no default crypto provider (its default needs cmake):
                // install ring's, as llm_do_openai::http does (idempotent).
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                config.custom_headers = custom;
                let transport = rmcp::transport::StreamableHttpClientTransport::from_config(config);
                let served = tokio::time::timeout_at(
                    deadline,
                    listener.serve_with_lifecycle(transport, lifecycle),
                )
                .await;
                (finish(name, server, served, &tail).await?, None, None)
            }
        };
        Ok(Connection { service: Some(service), pid, tail, exit })
    }

    /// A handle to send requests with.
    pub(crate) fn peer(&self) -> Peer<RoleClient> {
        self.service().peer().clone()
    }

    /// The protocol revision agreed with the server at its start (as the server wrote it,
    /// control characters escaped).
    pub(crate) fn protocol_version(&self) -> Option<String> {
        let info = self.service().peer().peer_info()?;
        Some(crate::error::escaped(info.protocol_version.as_str()))
    }

    fn service(&self) -> &RunningService<RoleClient, Listener> {
        // Only `close` (which consumes the connection) takes the service.
        self.service.as_ref().expect("a connection's service is present until it is closed")
    }

    /// Lists every tool, within `timeout`.
    pub(crate) async fn list_tools(
        &self,
        name: &str,
        timeout: std::time::Duration,
    ) -> Result<Vec<Tool>, McpError> {
        let fail = |message: String| McpError::ListTools {
            server: name.to_owned(),
            message,
            stderr: self.tail.text(),
        };
        match tokio::time::timeout(timeout, crate::listing::all_tools(self.service().peer())).await
        {
            Ok(Ok(tools)) => Ok(tools),
            Ok(Err(message)) => Err(fail(message)),
            Err(_) => Err(fail(format!("no answer within {timeout:?}"))),
        }
    }

    /// Closes the connection; a child process is asked to exit (stdin closed, then SIGTERM)
    /// and killed when it does not.
    pub(crate) async fn close(mut self) {
        if let Some(service) = self.service.take() {
            let _ = service.cancel().await;
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The leader is killed by rmcp (or `kill_on_drop`); this reaches what it started.
        if let Some(pid) = self.pid {
            llm_do_process::kill_group(pid);
        }
    }
}

/// A stdio server's process group (its leader's pid), killed when this is dropped: from the
/// spawn until [`disarm`](Self::disarm), when the [`Connection`] owns the pid. A start that
/// fails, times out or is dropped (a cancelled run, a caller's own timeout) so leaves nothing
/// running: `kill_on_drop` reaches only the leader, and a launcher's server (`npx`, `uv run`)
/// is its child.
struct Group(Option<u32>);

impl Group {
    /// Kills the group now (and not again on drop).
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            llm_do_process::kill_group(pid);
        }
    }

    /// The pid, for the connection that now owns it (and kills the group on its own drop).
    fn disarm(mut self) -> Option<u32> {
        self.0.take()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a connection to `server` starts, and the revision `initialize` asks for when it does:
/// by default `server/discover` for the newest revisions, falling back to `initialize` when the
/// server does not know it; a pinned revision by `server/discover` or `initialize`, as it has.
fn lifecycle(
    name: &str,
    server: &McpServer,
) -> Result<(ClientLifecycleMode, ProtocolVersion), McpError> {
    let known = ProtocolVersion::KNOWN_VERSIONS;
    let Some(pinned) = &server.protocol else {
        let newest_first = known.iter().rev().filter(|v| !v.has_initialize()).cloned().collect();
        let legacy = ProtocolVersion::LATEST_WITH_INITIALIZE;
        let auto = ClientLifecycleMode::Auto {
            preferred_versions: newest_first,
            legacy_version: Some(legacy.clone()),
        };
        return Ok((auto, legacy));
    };
    let Some(version) = known.iter().find(|v| v.as_str() == pinned) else {
        return Err(McpError::Config {
            server: name.to_owned(),
            message: format!(
                "unknown MCP protocol revision `{}` (known: {})",
                crate::error::escaped(pinned),
                crate::protocol_versions().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    Ok(if version.has_initialize() {
        (ClientLifecycleMode::Initialize, version.clone())
    } else {
        let discover = ClientLifecycleMode::Discover { preferred_versions: vec![version.clone()] };
        (discover, ProtocolVersion::LATEST_WITH_INITIALIZE)
    })
}

async fn finish(
    name: &str,
    server: &McpServer,
    served: Result<
        Result<RunningService<RoleClient, Listener>, rmcp::service::ClientInitializeError>,
        tokio::time::error::Elapsed,
    >,
    tail: &StderrTail,
) -> Result<RunningService<RoleClient, Listener>, McpError> {
    match served {
        Ok(Ok(service)) => Ok(service),
        Ok(Err(e)) => {
            // The process is gone or going: wait for its last words.
            tail.settle(std::time::Duration::from_secs(2)).await;
            Err(McpError::Start {
                server: name.to_owned(),
                message: format!("the session did not start: {}", crate::error::start_failure(&e)),
                stderr: tail.text(),
            })
        }
        Err(_) => Err(McpError::StartTimeout {
            server: name.to_owned(),
            after: server.start_timeout,
            stderr: tail.text(),
        }),
    }
}
