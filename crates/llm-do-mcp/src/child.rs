//! A stdio server's child process as an rmcp transport, its stdout read through a filter
//! (`child/filter.rs`).
//!
//! rmcp's own child-process transport drops a stdout line that is not JSON without a word, so
//! a server that writes something else there (a banner, logs, another protocol) and never
//! answers was reported only when the start timeout ran out, as "did not answer
//! `initialize`". Here every line of the child's stdout is looked at before rmcp sees it: a
//! JSON object with a `jsonrpc` member goes on; anything else (not JSON, not an object, no
//! `jsonrpc` member, a line over [`MAX_LINE`](filter::MAX_LINE)) is *noise*. Until the first
//! noise, a JSON-RPC line must also be an MCP message a server may send (rmcp's own parse,
//! which skips notifications it does not know): rmcp answers any other with "Invalid Request"
//! and waits on, so a server whose first words are malformed messages would again be reported
//! only at the start timeout. The first noise is reported on
//! [`Spawned::noise`], which [`crate::connection`] awaits during the start: a server that
//! writes noise before it has answered `initialize` fails to start at once
//! ([`crate::McpError::NotJsonRpc`]). MCP's stdio transport allows nothing but MCP messages on
//! a server's stdout, and a server that writes noise first is rarely one that would answer
//! later (another program, another protocol, a server that logs to the wrong stream). Noise
//! after a successful start is logged (`tracing` warnings, escaped and cut short; the first
//! [`LOGGED`](filter::LOGGED) lines) and dropped: the session goes on, and a call whose
//! answer never comes ends with its per-call timeout.
//!
//! The end of the child's stdout is not the only sign that the server is gone: a server that
//! started a process of its own (a helper, a launcher's real server) may exit while that
//! process keeps the stdout pipe open, and no end of stdout ever comes. So the transport waits
//! for the child (the group's leader) too: once it has exited, what it wrote before still
//! reaches rmcp (until stdout is quiet for [`DRAIN_QUIET`], at most [`DRAIN_MAX`]), then rmcp
//! sees the end of its input, as at the end of stdout — pending and later calls fail as with
//! any dead server, and the connection's end kills what the child left in its process group.
//! Its exit status is kept ([`Exit`]) for the error.
//!
//! Closing follows MCP's stdio shutdown sequence, as rmcp's transport does: stdin closed, then
//! `SIGTERM` after [`GRACE`], then `SIGKILL` after another [`GRACE`]; when stdin cannot be
//! closed within [`GRACE`] (a write the child does not read holds it), `SIGTERM` at once. Dropping the transport
//! kills the child (`kill_on_drop`); its process group is killed by the connection.

use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::DuplexStream;
use tokio::process::{Child, ChildStderr, ChildStdin};
use tokio::sync::oneshot;

mod filter;
use filter::filter;

/// How long a closing child gets to exit, after its stdin closes and again after `SIGTERM`.
const GRACE: Duration = Duration::from_secs(3);

/// Buffer of the in-process pipe between the filter and rmcp.
const PIPE: usize = 64 << 10;

/// After the child exited, how long stdout may stay quiet before rmcp is told the server is
/// gone (what the child wrote before its exit is still read and passed on)...
const DRAIN_QUIET: Duration = Duration::from_secs(1);

/// ...and how long at most, however much what the child left behind writes there.
const DRAIN_MAX: Duration = Duration::from_secs(5);

/// A stdio server's exit status, once the transport has seen its process end.
#[derive(Clone)]
pub(crate) struct Exit(tokio::sync::watch::Sender<Option<ExitStatus>>);

impl Exit {
    fn new() -> Self {
        Exit(tokio::sync::watch::Sender::new(None))
    }

    fn record(&self, status: ExitStatus) {
        self.0.send_replace(Some(status));
    }

    /// The exit status, waited for at most `max` (`None` when it is not known by then).
    pub(crate) async fn status(&self, max: Duration) -> Option<ExitStatus> {
        let mut rx = self.0.subscribe();
        let _ = tokio::time::timeout(max, rx.wait_for(Option::is_some)).await;
        *rx.borrow()
    }
}

/// A spawned stdio server.
pub(crate) struct Spawned {
    /// The transport to hand to rmcp.
    pub(crate) transport: ChildTransport,
    /// The child's process id.
    pub(crate) pid: Option<u32>,
    /// The child's stderr.
    pub(crate) stderr: Option<ChildStderr>,
    /// The first noise on the child's stdout (an escaped excerpt); closed without a value
    /// when stdout ends first.
    pub(crate) noise: oneshot::Receiver<String>,
    /// The child's exit status, once the transport has seen it.
    pub(crate) exit: Exit,
}

/// Spawns `cmd` (stdin, stdout and stderr piped; killed on drop) for the server `server`.
pub(crate) fn spawn(mut cmd: tokio::process::Command, server: &str) -> std::io::Result<Spawned> {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("the child's stdin or stdout is not piped"));
    };
    let stderr = child.stderr.take();
    let (reader, to_rmcp) = tokio::io::duplex(PIPE);
    let (noise_tx, noise) = oneshot::channel();
    tokio::spawn(filter(stdout, to_rmcp, noise_tx, server.to_owned()));
    let pid = child.id();
    let exit = Exit::new();
    let transport = ChildTransport {
        child: Some(child),
        inner: AsyncRwTransport::new_client(reader, stdin),
        exit: exit.clone(),
        watching: true,
        draining: None,
    };
    Ok(Spawned { transport, pid, stderr, noise, exit })
}

/// The child and rmcp's line transport over its stdin and its filtered stdout.
pub(crate) struct ChildTransport {
    /// `None` once it has exited.
    child: Option<Child>,
    inner: AsyncRwTransport<RoleClient, DuplexStream, ChildStdin>,
    exit: Exit,
    /// Whether `receive` waits for the child's exit too (not after waiting failed).
    watching: bool,
    /// Once the child has exited: until when what it wrote is still passed on.
    draining: Option<tokio::time::Instant>,
}

impl Transport<RoleClient> for ChildTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        // Cancel-safe, as rmcp needs (it drops this future for its other events): so are
        // `Child::wait` and the inner transport's `receive`.
        let Self { child, inner, exit, watching, draining } = self;
        async move {
            if draining.is_none() {
                let Some(leader) = child.as_mut().filter(|_| *watching) else {
                    return inner.receive().await;
                };
                let woke = tokio::select! {
                    biased;
                    message = inner.receive() => Ok(message),
                    status = leader.wait() => Err(status),
                };
                match woke {
                    Ok(message) => return message,
                    Err(Ok(status)) => {
                        exit.record(status);
                        *draining = Some(tokio::time::Instant::now() + DRAIN_MAX);
                    }
                    Err(Err(_)) => {
                        *watching = false;
                        return inner.receive().await;
                    }
                }
            }
            // The leader is gone: what it wrote before is passed on while stdout goes on, then
            // rmcp sees the end of its input (whatever keeps stdout open).
            let until = draining.map_or(tokio::time::Instant::now(), |until| {
                until.min(tokio::time::Instant::now() + DRAIN_QUIET)
            });
            tokio::time::timeout_at(until, inner.receive()).await.ok().flatten()
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Closing stdin waits for the writer, which a write the child does not read (a full
        // pipe) holds without end: after GRACE the child is stopped without it (its death ends
        // that write).
        let stdin_closed = tokio::time::timeout(GRACE, self.inner.close()).await;
        let Some(child) = self.child.as_mut() else { return Ok(()) };
        if stdin_closed.is_ok()
            && let Ok(waited) = tokio::time::timeout(GRACE, child.wait()).await
        {
            if let Ok(status) = waited {
                self.exit.record(status);
            }
            self.child = None;
            return Ok(());
        }
        #[cfg(unix)]
        if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
                self.child = None;
                return Ok(());
            }
        }
        let killed = child.kill().await;
        self.child = None;
        killed
    }
}
