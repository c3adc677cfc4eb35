//! A stdio server's child process as an rmcp transport, its stdout read through a filter.
//!
//! rmcp's own child-process transport drops a stdout line that is not JSON without a word, so
//! a server that writes something else there (a banner, logs, another protocol) and never
//! answers was reported only when the start timeout ran out, as "did not answer
//! `initialize`". Here every line of the child's stdout is looked at before rmcp sees it: a
//! JSON object with a `jsonrpc` member goes on; anything else (not JSON, not an object, no
//! `jsonrpc` member, a line over [`MAX_LINE`]) is *noise*. Until the first noise, a JSON-RPC
//! line must also be an MCP message a server may send (rmcp's own parse, which skips
//! notifications it does not know): rmcp answers any other with "Invalid Request" and waits
//! on, so a server whose first words are malformed messages would again be reported only at
//! the start timeout. The first noise is reported on
//! [`Spawned::noise`], which [`crate::connection`] awaits during the start: a server that
//! writes noise before it has answered `initialize` fails to start at once
//! ([`crate::McpError::NotJsonRpc`]). MCP's stdio transport allows nothing but MCP messages on
//! a server's stdout, and a server that writes noise first is rarely one that would answer
//! later (another program, another protocol, a server that logs to the wrong stream). Noise
//! after a successful start is logged (`tracing` warnings, escaped and cut short; the first
//! [`LOGGED`] lines) and dropped: the session goes on, and a call whose answer never comes
//! ends with its per-call timeout.
//!
//! Closing follows MCP's stdio shutdown sequence, as rmcp's transport does: stdin closed, then
//! `SIGTERM` after [`GRACE`], then `SIGKILL` after another [`GRACE`]; when stdin cannot be
//! closed within [`GRACE`] (a write the child does not read holds it), `SIGTERM` at once. Dropping the transport
//! kills the child (`kill_on_drop`); its process group is killed by the connection.

use crate::serve::malformed::skip_line;
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use serde::de::IgnoredAny;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, BufReader,
};
use tokio::io::{AsyncWrite, DuplexStream};
use tokio::process::{Child, ChildStderr, ChildStdin};
use tokio::sync::oneshot;

/// The longest stdout line passed on (rmcp's own limit): 16 MiB.
pub(crate) const MAX_LINE: usize = crate::serve::malformed::MAX_MESSAGE;

/// How many noise lines after the start are logged (the others are dropped silently).
const LOGGED: usize = 10;

/// How long a closing child gets to exit, after its stdin closes and again after `SIGTERM`.
const GRACE: Duration = Duration::from_secs(3);

/// Characters of a noise line kept for an error message or a log line.
const EXCERPT: usize = 200;

/// Buffer of the in-process pipe between the filter and rmcp.
const PIPE: usize = 64 << 10;

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
    let transport =
        ChildTransport { child: Some(child), inner: AsyncRwTransport::new_client(reader, stdin) };
    Ok(Spawned { transport, pid, stderr, noise })
}

/// The child and rmcp's line transport over its stdin and its filtered stdout.
pub(crate) struct ChildTransport {
    /// `None` once it has exited.
    child: Option<Child>,
    inner: AsyncRwTransport<RoleClient, DuplexStream, ChildStdin>,
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
        self.inner.receive()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Closing stdin waits for the writer, which a write the child does not read (a full
        // pipe) holds without end: after GRACE the child is stopped without it (its death ends
        // that write).
        let stdin_closed = tokio::time::timeout(GRACE, self.inner.close()).await;
        let Some(child) = self.child.as_mut() else { return Ok(()) };
        if stdin_closed.is_ok() && tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
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

/// Whether `line` (without its end of line) is a JSON-RPC message: a JSON object with a
/// `jsonrpc` member (what the message says beyond that is rmcp's to judge).
fn is_json_rpc(line: &[u8]) -> bool {
    // rmcp accepts a byte-order mark at the start of a line.
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    // A map, not a derived struct: those deserialize from arrays too.
    serde_json::from_slice::<std::collections::HashMap<String, IgnoredAny>>(line)
        .is_ok_and(|members| members.contains_key("jsonrpc"))
}

/// Why `line`, a JSON-RPC line, is not a message a server may send to a client, as rmcp
/// judges it (rmcp skips notifications with methods it does not know; so does this).
fn not_mcp(line: &[u8]) -> Option<String> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let err = serde_json::from_slice::<RxJsonRpcMessage<RoleClient>>(line).err()?;
    let notification = serde_json::from_slice::<serde_json::Value>(line)
        .is_ok_and(|v| v.get("id").is_none() && v.get("method").is_some_and(|m| m.is_string()));
    (!notification).then(|| format!("JSON-RPC, but not an MCP message: {err}"))
}

/// The start of `line`, at most [`EXCERPT`] characters, quoted, with control characters
/// escaped: safe to print on a terminal.
pub(crate) fn excerpt(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    match text.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("\"{}\"…", text[..cut].escape_debug()),
        None => format!("\"{}\"", text.escape_debug()),
    }
}

/// Reads the child's stdout line by line (each bounded by [`MAX_LINE`]): JSON-RPC messages go
/// on to rmcp; the first noise is sent on `first`, later noise is logged and dropped.
async fn filter<R, W>(stdout: R, mut to_rmcp: W, first: oneshot::Sender<String>, server: String)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut stdout = BufReader::new(stdout);
    let mut first = Some(first);
    let mut noise_lines = 0usize;
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut stdout).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let noise = if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            // The rest of the line is dropped; at the end of stdout the loop ends next.
            skip_line(&mut stdout).await;
            format!("a line longer than {} MiB", MAX_LINE >> 20)
        } else if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        } else if is_json_rpc(&line) {
            // Still starting: the start is waiting on `first`.
            let starting = first.as_ref().is_some_and(|tx| !tx.is_closed());
            if let Some(why) = starting.then(|| not_mcp(&line)).flatten() {
                format!("{} ({})", excerpt(&line), why.escape_debug())
            } else {
                if line.last() != Some(&b'\n') {
                    line.push(b'\n');
                }
                if to_rmcp.write_all(&line).await.is_err() {
                    break;
                }
                continue;
            }
        } else {
            excerpt(&line)
        };
        // The start waits for the first noise; once it is over nobody does.
        let unheard = match first.take() {
            Some(tx) => tx.send(noise).err(),
            None => Some(noise),
        };
        if let Some(noise) = unheard {
            noise_lines += 1;
            if noise_lines <= LOGGED {
                tracing::warn!(
                    "MCP server `{server}` wrote a line that is not JSON-RPC on its stdout \
                     (ignored): {noise}"
                );
            }
        }
    }
    // The child's stdout is done: rmcp sees the end of its input.
    let _ = to_rmcp.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rpc_lines_are_told_from_noise() {
        for ok in [
            &br#"{"jsonrpc":"2.0","id":1,"result":{}}"#[..],
            b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n",
            br#"{"id":1,"jsonrpc":"1.0"}"#,
        ] {
            assert!(is_json_rpc(ok), "{}", String::from_utf8_lossy(ok));
        }
        for noise in [
            &b"Server started on stdio"[..],
            br#"{"level":"info","msg":"ready"}"#,
            br#"[{"jsonrpc":"2.0","id":1,"result":{}}]"#,
            b"Content-Length: 52",
            b"\xff\xfe",
        ] {
            assert!(!is_json_rpc(noise), "{}", String::from_utf8_lossy(noise));
        }
    }

    #[test]
    fn an_excerpt_is_escaped_and_bounded() {
        assert_eq!(excerpt(b"red \x1b[2J\"x\"\r\n"), r#""red \u{1b}[2J\"x\"""#);
        let long = excerpt(&[b'a'; 10_000]);
        assert!(long.ends_with("\"…") && long.chars().count() == EXCERPT + 3, "{long}");
    }

    #[tokio::test]
    async fn the_first_noise_is_reported_later_noise_dropped_messages_passed() {
        let (mut child_out, stdout) = tokio::io::duplex(1 << 10);
        let (to_rmcp, mut rmcp_in) = tokio::io::duplex(1 << 10);
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(filter(stdout, to_rmcp, tx, "s".into()));
        child_out
            .write_all(
                b"{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}\nhello\n\n{\"jsonrpc\":\"2.0\",\"id\":1}\nbye",
            )
            .await
            .unwrap();
        child_out.shutdown().await.unwrap();
        assert_eq!(rx.await.unwrap(), "\"hello\"");
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        assert_eq!(
            passed,
            "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}\n{\"jsonrpc\":\"2.0\",\"id\":1}\n"
        );
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_malformed_message_is_noise_while_starting_and_passed_on_afterwards() {
        let malformed = br#"{"jsonrpc":"2.0","id":1,"error":"no"}"#;
        let (mut child_out, stdout) = tokio::io::duplex(1 << 10);
        let (to_rmcp, mut rmcp_in) = tokio::io::duplex(1 << 10);
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(filter(stdout, to_rmcp, tx, "s".into()));
        // A notification rmcp does not know goes on (rmcp skips it), then the malformed line.
        child_out.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"x/y\"}\n").await.unwrap();
        child_out.write_all(malformed).await.unwrap();
        child_out.write_all(b"\n").await.unwrap();
        child_out.shutdown().await.unwrap();
        let noise = rx.await.expect("the malformed line is reported");
        assert!(noise.starts_with(r#""{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"no\"}" (JSON-RPC, but not an MCP message: "#), "{noise}");
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        assert_eq!(passed, "{\"jsonrpc\":\"2.0\",\"method\":\"x/y\"}\n");
        task.await.unwrap();

        // Once the start is over (nobody waits on the noise), the line goes on to rmcp, which
        // answers it with "Invalid Request".
        let (mut child_out, stdout) = tokio::io::duplex(1 << 10);
        let (to_rmcp, mut rmcp_in) = tokio::io::duplex(1 << 10);
        let (tx, rx) = oneshot::channel();
        drop(rx);
        let task = tokio::spawn(filter(stdout, to_rmcp, tx, "s".into()));
        child_out.write_all(malformed).await.unwrap();
        child_out.shutdown().await.unwrap();
        let mut passed = Vec::new();
        rmcp_in.read_to_end(&mut passed).await.unwrap();
        assert_eq!(passed, [&malformed[..], b"\n"].concat());
        task.await.unwrap();
    }

    #[tokio::test]
    async fn an_over_long_line_is_noise_and_the_next_line_passes() {
        let (mut child_out, stdout) = tokio::io::duplex(1 << 16);
        let (to_rmcp, mut rmcp_in) = tokio::io::duplex(1 << 10);
        let (tx, rx) = oneshot::channel();
        tokio::spawn(filter(stdout, to_rmcp, tx, "s".into()));
        tokio::spawn(async move {
            child_out.write_all(&vec![b'{'; MAX_LINE + 10]).await.unwrap();
            child_out.write_all(b"\n{\"jsonrpc\":\"2.0\"}\n").await.unwrap();
            child_out.shutdown().await.unwrap();
        });
        assert_eq!(rx.await.unwrap(), "a line longer than 16 MiB");
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        assert_eq!(passed, "{\"jsonrpc\":\"2.0\"}\n");
    }
}
