//! JSON-RPC parse errors for the served transports. rmcp drops a stdio line that is not JSON
//! without a word, and answers an HTTP body that is not JSON with `415` and a plain-text body;
//! JSON-RPC 2.0 says such a request gets the error `-32700` with a `null` id, and MCP's
//! streamable HTTP transport that the answer is an HTTP error status (`400`) carrying it. Both
//! transports pass through here on their way to rmcp, which sees only well-formed JSON.
//!
//! Every read of the client's data is bounded ([`MAX_MESSAGE`]): a longer line or body is
//! answered with an error and skipped.

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::IgnoredAny;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The largest JSON-RPC message accepted from a client: 16 MiB.
pub(crate) const MAX_MESSAGE: usize = 16 << 20;

/// Buffer of the in-process pipes between the filter and rmcp.
const PIPE: usize = 64 << 10;

/// The JSON-RPC error answer to a message that could not be parsed.
fn parse_error(why: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("Parse error: {why}")},
    })
    .to_string()
}

/// Why `message` is not JSON, if it is not.
fn not_json(message: &[u8]) -> Option<String> {
    serde_json::from_slice::<IgnoredAny>(message).err().map(|e| e.to_string())
}

/// Puts the parse-error filter between a line-delimited client (`input`, `output`: stdin and
/// stdout) and rmcp: returns the reader and writer to hand to rmcp, and a task that ends once
/// rmcp's writer is dropped and everything it wrote has been flushed to `output`.
pub(crate) fn line_filter<R, W>(
    input: R,
    output: W,
) -> (tokio::io::DuplexStream, tokio::io::DuplexStream, tokio::task::JoinHandle<()>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (rmcp_reader, to_rmcp) = tokio::io::duplex(PIPE);
    let (from_rmcp, rmcp_writer) = tokio::io::duplex(PIPE);
    let (errors, error_lines) = mpsc::unbounded_channel();
    tokio::spawn(filter_input(input, to_rmcp, errors));
    let out = tokio::spawn(merge_output(from_rmcp, error_lines, output));
    (rmcp_reader, rmcp_writer, out)
}

/// Reads the client's lines: JSON goes on to rmcp, anything else is answered on `errors`.
async fn filter_input<R, W>(input: R, mut to_rmcp: W, errors: mpsc::UnboundedSender<String>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_MESSAGE as u64 + 1;
        match (&mut input).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > MAX_MESSAGE && line.last() != Some(&b'\n') {
            let _ = errors.send(parse_error(&format!(
                "the message is longer than {} MiB",
                MAX_MESSAGE >> 20
            )));
            if !skip_line(&mut input).await {
                break;
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match not_json(&line) {
            Some(why) => {
                let _ = errors.send(parse_error(&why));
            }
            None => {
                if line.last() != Some(&b'\n') {
                    line.push(b'\n');
                }
                if to_rmcp.write_all(&line).await.is_err() {
                    break;
                }
            }
        }
    }
    // The client is done: rmcp sees the end of its input.
    let _ = to_rmcp.shutdown().await;
}

/// Reads up to the end of the current line; `false` at the end of the input.
pub(crate) async fn skip_line<R: AsyncBufReadExt + Unpin>(input: &mut R) -> bool {
    loop {
        let chunk = match input.fill_buf().await {
            Ok([]) | Err(_) => return false,
            Ok(chunk) => chunk,
        };
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return true;
            }
            None => {
                let n = chunk.len();
                input.consume(n);
            }
        }
    }
}

/// Writes rmcp's messages and the parse errors to `output`, each line whole.
async fn merge_output<R, W>(
    from_rmcp: R,
    mut errors: mpsc::UnboundedReceiver<String>,
    mut output: W,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut from_rmcp = BufReader::new(from_rmcp);
    // What rmcp wrote of its current line: `read_until` is not cancel-safe, but what it read
    // before another branch won stays here and the next call goes on from it.
    let mut pending = Vec::new();
    let mut errors_open = true;
    loop {
        let line = tokio::select! {
            read = from_rmcp.read_until(b'\n', &mut pending) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => std::mem::take(&mut pending),
            },
            error = errors.recv(), if errors_open => match error {
                Some(error) => error.into_bytes(),
                None => {
                    errors_open = false;
                    continue;
                }
            },
        };
        if !write_line(&mut output, line).await {
            return;
        }
    }
    // rmcp stopped after the client's input ended: the answers to its last lines are queued.
    if !pending.is_empty() && !write_line(&mut output, pending).await {
        return;
    }
    while let Ok(error) = errors.try_recv() {
        if !write_line(&mut output, error.into_bytes()).await {
            return;
        }
    }
}

/// Writes `line` and a newline if it lacks one, flushed; `false` when `output` is gone.
async fn write_line<W: AsyncWrite + Unpin>(output: &mut W, mut line: Vec<u8>) -> bool {
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    output.write_all(&line).await.is_ok() && output.flush().await.is_ok()
}

/// Axum middleware for the streamable HTTP transport: a POST whose JSON body (by its content
/// type) does not parse is answered `400` with the JSON-RPC parse error, a body over
/// [`MAX_MESSAGE`] `413`; other requests go on to rmcp unchanged. Only a POST carries a
/// message: clients such as the Python SDK send their `content-type: application/json` on the
/// `DELETE` that ends a session and the `GET` that opens a stream too, with no body.
pub(crate) async fn http_filter(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if request.method() != Method::POST || !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_MESSAGE).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let why = format!("the message is longer than {} MiB", MAX_MESSAGE >> 20);
            return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, &why);
        }
    };
    if let Some(why) = not_json(&bytes) {
        return rpc_error(StatusCode::BAD_REQUEST, &why);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn rpc_error(status: StatusCode, why: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], parse_error(why)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_lines_are_answered_and_good_ones_pass_in_order() {
        let (mut client, input) = tokio::io::duplex(1 << 10);
        let (output, mut client_out) = tokio::io::duplex(1 << 10);
        let (mut rmcp_in, mut rmcp_out, done) = line_filter(input, output);
        client.write_all(b"{\"a\":1}\n{not json\n\n[2]").await.unwrap();
        client.shutdown().await.unwrap();
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        assert_eq!(passed, "{\"a\":1}\n[2]\n");
        rmcp_out.write_all(b"{\"answer\":1}\n").await.unwrap();
        drop(rmcp_out);
        done.await.unwrap();
        let mut written = String::new();
        client_out.read_to_string(&mut written).await.unwrap();
        let lines: Vec<serde_json::Value> =
            written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{written}");
        let error = lines.iter().find(|l| l.get("error").is_some()).unwrap();
        assert_eq!(
            (error["id"].is_null(), &error["error"]["code"]),
            (true, &serde_json::json!(-32700))
        );
        assert!(lines.contains(&serde_json::json!({"answer": 1})));
    }

    #[tokio::test]
    async fn an_over_long_line_is_answered_and_skipped() {
        let (mut client, input) = tokio::io::duplex(1 << 16);
        let (output, mut client_out) = tokio::io::duplex(1 << 10);
        let (mut rmcp_in, rmcp_out, done) = line_filter(input, output);
        let writer = tokio::spawn(async move {
            let long = vec![b'x'; MAX_MESSAGE + 10];
            client.write_all(&long).await.unwrap();
            client.write_all(b"\n{\"after\":true}\n").await.unwrap();
            client.shutdown().await.unwrap();
        });
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        writer.await.unwrap();
        assert_eq!(passed, "{\"after\":true}\n");
        drop(rmcp_out);
        done.await.unwrap();
        let mut written = String::new();
        client_out.read_to_string(&mut written).await.unwrap();
        assert!(written.contains("-32700") && written.contains("longer than 16 MiB"), "{written}");
    }
}
