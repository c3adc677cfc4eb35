//! Malformed client messages, answered before they reach rmcp. rmcp drops a stdio line that is
//! not JSON without a word, and answers an HTTP body that is not JSON with `415` and a
//! plain-text body; a well-formed JSON line that is not a JSON-RPC message makes its stdio
//! codec fail; and a request of an MCP method whose params do not parse becomes a custom
//! request, answered "method not found" (`-32601`). JSON-RPC 2.0 says: not JSON is `-32700`
//! with a `null` id, not a request is `-32600` (with the message's id when it has a usable
//! one), wrong params are `-32602` with the request's id; MCP's streamable HTTP transport that
//! a message the server cannot accept gets an HTTP error status (`400`) carrying the answer.
//! Both transports pass through here on their way to rmcp, which sees only messages it parses.
//!
//! Every read of the client's data is bounded ([`MAX_MESSAGE`]): a longer line or body is
//! answered with an error and skipped. Over stdio the answers wait in a queue of at most
//! [`QUEUED_ANSWERS`] for the output, each at most [`MAX_ANSWER_CHARS`] characters of message:
//! a client that writes malformed lines and never reads its answers stops being read (as rmcp
//! stops reading a client that does not read its answers), instead of growing the queue.
//!
//! (About 470 lines: over a third are the unit tests of each malformed shape and of the
//! answer queue's bound.)

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The largest JSON-RPC message accepted from a client: 16 MiB.
pub(crate) const MAX_MESSAGE: usize = 16 << 20;

/// Buffer of the in-process pipes between the filter and rmcp.
const PIPE: usize = 64 << 10;

/// Most answers to malformed lines waiting for the output at once: the filter reads no more of
/// the client's input until one is written.
const QUEUED_ANSWERS: usize = 16;

/// Most characters of an answer's message (it may quote what the client sent: a method name,
/// a parser's complaint), so that a queued answer is small whatever the line was.
const MAX_ANSWER_CHARS: usize = 1_000;

/// JSON-RPC 2.0's error codes for messages that cannot be served.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// The request methods rmcp parses into typed requests (`ClientRequest`'s variants other than
/// the custom request), by rmcp's own names for them.
const MCP_METHODS: [&str; 21] = {
    use rmcp::model::*;
    [
        PingRequestMethod::VALUE,
        InitializeResultMethod::VALUE,
        DiscoverRequestMethod::VALUE,
        CompleteRequestMethod::VALUE,
        SetLevelRequestMethod::VALUE,
        GetPromptRequestMethod::VALUE,
        ListPromptsRequestMethod::VALUE,
        ListResourcesRequestMethod::VALUE,
        ListResourceTemplatesRequestMethod::VALUE,
        ReadResourceRequestMethod::VALUE,
        SubscriptionsListenRequestMethod::VALUE,
        SubscribeRequestMethod::VALUE,
        UnsubscribeRequestMethod::VALUE,
        CallToolRequestMethod::VALUE,
        ListToolsRequestMethod::VALUE,
        GetTaskMethod::VALUE,
        UpdateTaskMethod::VALUE,
        CancelTaskMethod::VALUE,
        ListSkillsRequestMethod::VALUE,
        GetSkillRequestMethod::VALUE,
        ReadResourceDirectoryRequestMethod::VALUE,
    ]
};

/// A JSON-RPC error answer.
fn error_answer(id: &Value, code: i64, message: &str) -> String {
    let message = llm_do_core::bounds::cut(message, MAX_ANSWER_CHARS);
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
}

/// The parse-error answer, for a message that is not JSON (or is too long to read).
fn parse_error(why: &str) -> String {
    error_answer(&Value::Null, PARSE_ERROR, &format!("Parse error: {why}"))
}

/// A message answered here instead of reaching rmcp.
struct Rejection {
    /// The JSON-RPC error answer.
    answer: String,
    /// The message is a notification (no id, a method name): over stdio it is dropped without
    /// an answer (JSON-RPC never answers a notification), over HTTP refused with the answer.
    notification: bool,
}

/// The answer to a request of `method` whose params do not have that method's shape.
fn invalid_params(id: &Value, method: &str, notification: bool) -> Rejection {
    let why = format!(
        "Invalid params: the params of `{method}` do not have the shape MCP defines for it"
    );
    Rejection { answer: error_answer(id, INVALID_PARAMS, &why), notification }
}

/// Why `message` cannot go on to rmcp, if it cannot.
fn rejection(message: &[u8]) -> Option<Rejection> {
    // rmcp's stdio codec skips a byte-order mark; so does this check.
    let message = message.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(message);
    // A message rmcp reads (nearly every one) is parsed here once, into rmcp's own type.
    let error = match serde_json::from_slice::<ClientJsonRpcMessage>(message) {
        Ok(JsonRpcMessage::Request(request)) => {
            // Params rmcp's typed request refused, taken for a custom method's.
            let method = request.request.method();
            if matches!(request.request, ClientRequest::CustomRequest(_))
                && MCP_METHODS.contains(&method)
            {
                let id = serde_json::to_value(&request.id).unwrap_or(Value::Null);
                return Some(invalid_params(&id, method, false));
            }
            return None;
        }
        Ok(_) => return None,
        Err(e) => e,
    };
    // Not JSON at all; else JSON that is no message rmcp reads: what the answer needs is read
    // from it as a plain value.
    let value: Value = match serde_json::from_slice(message) {
        Ok(value) if error.is_data() => value,
        _ => {
            return Some(Rejection {
                answer: parse_error(&error.to_string()),
                notification: false,
            });
        }
    };
    let id = match value.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    let method = value.get("method").and_then(Value::as_str);
    let notification = value.get("id").is_none() && method.is_some();
    // A request as JSON-RPC frames one (version, a usable id, a method name) that does not
    // parse: its params are at fault.
    if value.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
        && !id.is_null()
        && let Some(method) = method
    {
        return Some(invalid_params(&id, method, notification));
    }
    let why = format!("Invalid Request: not a JSON-RPC 2.0 message of MCP: {error}");
    Some(Rejection { answer: error_answer(&id, INVALID_REQUEST, &why), notification })
}

/// Puts the filter between a line-delimited client (`input`, `output`: stdin and
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
    let (errors, error_lines) = mpsc::channel(QUEUED_ANSWERS);
    tokio::spawn(filter_input(input, to_rmcp, errors));
    let out = tokio::spawn(merge_output(from_rmcp, error_lines, output));
    (rmcp_reader, rmcp_writer, out)
}

/// Reads the client's lines: messages rmcp can serve go on to it, the others are answered on
/// `errors` ([`rejection`]), waiting while [`QUEUED_ANSWERS`] answers are queued there.
async fn filter_input<R, W>(input: R, mut to_rmcp: W, errors: mpsc::Sender<String>)
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
            let why = format!("the message is longer than {} MiB", MAX_MESSAGE >> 20);
            let _ = errors.send(parse_error(&why)).await;
            if !skip_line(&mut input).await {
                break;
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match rejection(&line) {
            Some(Rejection { notification: true, .. }) => {}
            Some(Rejection { answer, .. }) => {
                let _ = errors.send(answer).await;
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
async fn merge_output<R, W>(from_rmcp: R, mut errors: mpsc::Receiver<String>, mut output: W)
where
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
/// type) is rejected ([`rejection`]) is answered `400` with the JSON-RPC error, a body over
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
            return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, parse_error(&why));
        }
    };
    if let Some(Rejection { answer, .. }) = rejection(&bytes) {
        return rpc_error(StatusCode::BAD_REQUEST, answer);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn rpc_error(status: StatusCode, answer: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `input` through the line filter: what reached rmcp, and the answers written back.
    async fn filtered(input: &str) -> (String, Vec<serde_json::Value>) {
        let (mut client, to_filter) = tokio::io::duplex(1 << 12);
        let (output, mut client_out) = tokio::io::duplex(1 << 12);
        let (mut rmcp_in, mut rmcp_out, done) = line_filter(to_filter, output);
        client.write_all(input.as_bytes()).await.unwrap();
        client.shutdown().await.unwrap();
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        rmcp_out.write_all(b"{\"answer\":1}\n").await.unwrap();
        drop(rmcp_out);
        done.await.unwrap();
        let mut written = String::new();
        client_out.read_to_string(&mut written).await.unwrap();
        let answers = written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (passed, answers)
    }

    /// The error code and id of every error answer.
    fn errors(answers: &[serde_json::Value]) -> Vec<(i64, serde_json::Value)> {
        answers
            .iter()
            .filter(|a| a.get("error").is_some())
            .map(|a| (a["error"]["code"].as_i64().unwrap(), a["id"].clone()))
            .collect()
    }

    #[tokio::test]
    async fn bad_lines_are_answered_and_good_ones_pass_in_order() {
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let done = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let (passed, answers) = filtered(&format!("{ping}\n{{not json\n\n{done}")).await;
        assert_eq!(passed, format!("{ping}\n{done}\n"));
        assert_eq!(errors(&answers), [(-32700, serde_json::Value::Null)]);
        assert!(answers.contains(&serde_json::json!({"answer": 1})));
    }

    #[tokio::test]
    async fn json_that_is_no_request_is_invalid_and_wrong_params_are_invalid_params() {
        let lines = [
            r#"{"a":1}"#,
            "[2]",
            r#"{"jsonrpc":"1.0","id":7,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":{"no":"id"},"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"str"}"#,
            r#"{"jsonrpc":"2.0","id":"nine","method":"tools/call","params":{"name":"x","_meta":"bad"}}"#,
            r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"arguments":{}}}"#,
            // A malformed notification is not answered; an unknown method is rmcp's to answer.
            r#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":10,"method":"no/such/method"}"#,
        ];
        let (passed, answers) = filtered(&(lines.join("\n") + "\n")).await;
        assert_eq!(passed, format!("{}\n", lines[8]));
        use serde_json::json;
        assert_eq!(
            errors(&answers),
            [
                (-32600, json!(null)),
                (-32600, json!(null)),
                (-32600, json!(7)),
                (-32600, json!(null)),
                (-32602, json!(8)),
                (-32602, json!("nine")),
                (-32602, json!(11)),
            ]
        );
        let text = answers[4]["error"]["message"].as_str().unwrap();
        assert!(text.contains("`tools/call`"), "{text}");
    }

    #[tokio::test]
    async fn an_over_long_line_is_answered_and_skipped() {
        let (mut client, input) = tokio::io::duplex(1 << 16);
        let (output, mut client_out) = tokio::io::duplex(1 << 10);
        let (mut rmcp_in, rmcp_out, done) = line_filter(input, output);
        let writer = tokio::spawn(async move {
            let long = vec![b'x'; MAX_MESSAGE + 10];
            client.write_all(&long).await.unwrap();
            client
                .write_all(b"\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
                .await
                .unwrap();
            client.shutdown().await.unwrap();
        });
        let mut passed = String::new();
        rmcp_in.read_to_string(&mut passed).await.unwrap();
        writer.await.unwrap();
        assert_eq!(passed, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
        drop(rmcp_out);
        done.await.unwrap();
        let mut written = String::new();
        client_out.read_to_string(&mut written).await.unwrap();
        assert!(written.contains("-32700") && written.contains("longer than 16 MiB"), "{written}");
    }

    /// A client that writes malformed lines and never reads its answers is read no further
    /// once [`QUEUED_ANSWERS`] answers wait and the pipes are full: before, every answer was
    /// queued, without bound, and the whole input read. Once it reads, it gets every answer.
    #[tokio::test]
    async fn a_client_that_reads_no_answers_is_read_no_further() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;
        const LINES: usize = 2_000;
        const IN: usize = 64;
        const OUT: usize = 1 << 10;
        let line = format!("{}\n", "x".repeat(999));
        let (mut client, input) = tokio::io::duplex(IN);
        let (output, client_out) = tokio::io::duplex(OUT);
        let (_rmcp_in, rmcp_out, done) = line_filter(input, output);
        let written = Arc::new(AtomicUsize::new(0));
        let count = written.clone();
        let writer = tokio::spawn(async move {
            for _ in 0..LINES {
                client.write_all(line.as_bytes()).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
            }
            client.shutdown().await.unwrap();
        });
        // Until the writer stops getting anywhere.
        let mut seen = usize::MAX;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = written.load(Ordering::SeqCst);
            if now == seen {
                break;
            }
            seen = now;
        }
        // Lines read: the queued answers, one waiting to be queued and one being written, the
        // answers in the output pipe (each longer than 50 bytes), and what the reader's 8 KiB
        // buffer and the input pipe hold.
        let most = QUEUED_ANSWERS + 2 + OUT / 50 + (8 << 10) / 1_000 + IN / 1_000 + 2;
        assert!(seen <= most, "{seen} lines read while none of the answers was: at most {most}");
        assert!(!writer.is_finished());
        // The client reads: every line is answered, and the writer gets through.
        let mut answers = BufReader::new(client_out).lines();
        for n in 0..LINES {
            let answer = tokio::time::timeout(Duration::from_secs(10), answers.next_line()).await;
            let answer = answer.unwrap_or_else(|_| panic!("answer {n} not written"));
            let answer: Value = serde_json::from_str(&answer.unwrap().unwrap()).unwrap();
            assert_eq!(answer["error"]["code"], PARSE_ERROR, "{answer}");
        }
        writer.await.unwrap();
        drop(rmcp_out);
        done.await.unwrap();
        assert_eq!(answers.next_line().await.unwrap(), None);
    }
}
