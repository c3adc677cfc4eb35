//! The filter between a stdio server's stdout and rmcp (see [`crate::child`]): JSON-RPC lines
//! go on, the first noise is reported, later noise is logged and dropped.

use crate::serve::malformed::skip_line;
use rmcp::RoleClient;
use rmcp::service::RxJsonRpcMessage;
use serde::de::IgnoredAny;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::sync::oneshot;

/// The longest stdout line passed on (rmcp's own limit): 16 MiB.
pub(crate) const MAX_LINE: usize = crate::serve::malformed::MAX_MESSAGE;

/// How many noise lines after the start are logged (the others are dropped silently).
pub(crate) const LOGGED: usize = 10;

/// Characters of a noise line kept for an error message or a log line.
const EXCERPT: usize = 200;

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
pub(super) async fn filter<R, W>(
    stdout: R,
    mut to_rmcp: W,
    first: oneshot::Sender<String>,
    server: String,
) where
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
