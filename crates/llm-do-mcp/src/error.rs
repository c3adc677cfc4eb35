//! [`McpError`]: what can go wrong talking to an MCP server.

use std::time::Duration;

/// An MCP server could not be started, listed or called.
///
/// Every variant names the server; those about a child process carry the tail of its stderr
/// (escaped: control characters cannot reach a terminal).
///
/// ```
/// let e = llm_do_mcp::McpError::Timeout {
///     server: "orders".into(),
///     tool: "lookup_order".into(),
///     after: std::time::Duration::from_secs(2),
///     stderr: "orders: database locked, retrying\n".into(),
/// };
/// assert_eq!(
///     e.to_string(),
///     "MCP server `orders` did not answer the call of `lookup_order` within 2s; its stderr ends \
///      with:\norders: database locked, retrying"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server's configuration is wrong (name, command, URL, header).
    #[error("MCP server `{server}`: {message}")]
    Config {
        /// The server.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// The server process could not be spawned, or the connection could not be made.
    #[error("MCP server `{server}` could not be started: {message}{}", tail(stderr))]
    Start {
        /// The server.
        server: String,
        /// Why.
        message: String,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// The server did not complete `initialize` within the start timeout.
    #[error("MCP server `{server}` did not answer `initialize` within {after:?}{}", tail(stderr))]
    StartTimeout {
        /// The server.
        server: String,
        /// The start timeout.
        after: Duration,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// A stdio server wrote something that is not a JSON-RPC message on its stdout before it
    /// answered `initialize` (MCP's stdio transport allows only MCP messages there; logs
    /// belong on stderr). The server is stopped at once rather than waited for until the start
    /// timeout. What a server writes there after a successful start is logged and ignored.
    #[error(
        "MCP server `{server}` wrote something that is not an MCP message on its stdout: {line} (a stdio MCP server may write only MCP messages there; logs belong on stderr){}",
        tail(stderr)
    )]
    NotJsonRpc {
        /// The server.
        server: String,
        /// The start of the first such line, quoted and escaped (or a note that the line was
        /// too long).
        line: String,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// `tools/list` failed or returned something unusable.
    #[error("MCP server `{server}` could not list its tools: {message}{}", tail(stderr))]
    ListTools {
        /// The server.
        server: String,
        /// Why.
        message: String,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// The server stopped during the call, and again on the server the call started anew
    /// (the next call starts it again). A call is made anew only when its request had not
    /// gone out or the server marks the tool read-only or idempotent; otherwise the first
    /// death is [`DiedDuringCall`](Self::DiedDuringCall).
    #[error(
        "MCP server `{server}` stopped while calling `{tool}`, again after a restart: {message}{}",
        tail(stderr)
    )]
    ServerDied {
        /// The server.
        server: String,
        /// The tool being called.
        tool: String,
        /// What the transport reported.
        message: String,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// The server stopped while a call of a tool it does not mark read-only or idempotent was
    /// out: the call is not made again, since the server may have acted on it before it died
    /// (a payment made twice). The next call starts the server anew.
    #[error(
        "MCP server `{server}` stopped while calling `{tool}`: {message}; the call is not made \
         again, as the server does not mark `{tool}` read-only or idempotent and it may have \
         had effects (the next call starts the server anew){}",
        tail(stderr)
    )]
    DiedDuringCall {
        /// The server.
        server: String,
        /// The tool being called.
        tool: String,
        /// What the transport reported.
        message: String,
        /// The end of the server's stderr.
        stderr: String,
    },
    /// A call took longer than the per-call timeout (the request was cancelled).
    #[error(
        "MCP server `{server}` did not answer the call of `{tool}` within {}s{}",
        after.as_secs_f64(),
        tail(stderr)
    )]
    Timeout {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// The per-call timeout.
        after: Duration,
        /// The end of the server's stderr (a stdio server's; empty for an HTTP server).
        stderr: String,
    },
    /// The server answered the call with a JSON-RPC error (unknown tool, invalid arguments...).
    #[error("MCP server `{server}` refused the call of `{tool}`: {message}")]
    Call {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// The server's error message (control characters escaped, at most
        /// [`MAX_RESULT_CHARS`](crate::MAX_RESULT_CHARS) characters), or what else went wrong.
        message: String,
    },
    /// A question the server asked during the call (in a round of the call, protocol
    /// 2026-07-28) could not be answered: a form llm-do cannot ask, an answer that does not fit
    /// it, a cancelled run; or the server asked for what llm-do does not offer (sampling,
    /// roots), or for too much (too many questions, too many rounds).
    #[error("MCP server `{server}`, call of `{tool}`: {source}")]
    Question {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// Why, with the kind of the failure ([`llm_do_core::Error::kind`]).
        source: Box<llm_do_core::Error>,
    },
    /// The tool is not (or no longer) offered by the server.
    #[error("MCP server `{server}` offers no tool `{tool}`")]
    UnknownTool {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
    },
    /// The server has been closed.
    #[error("MCP server `{server}` has been closed")]
    Closed {
        /// The server.
        server: String,
    },
}

fn tail(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with:\n{}", stderr.trim_end())
    }
}

/// `text` from a server with every character a terminal acts on escaped (newlines and the
/// bidirectional overrides included): safe to show on a terminal as part of one line
/// ([`llm_do_core::controls::escape_controls_one_line`], the one home of that rule).
pub(crate) fn escaped(text: &str) -> String {
    llm_do_core::controls::escape_controls_one_line(text).into_owned()
}

/// The message of a JSON-RPC error a server answered with, as llm-do passes it on: control
/// characters escaped ([`escaped`]) and cut to [`MAX_RESULT_CHARS`](crate::MAX_RESULT_CHARS)
/// characters ([`llm_do_core::bounds::cut`]), as a result's text is.
pub(crate) fn server_message(message: &str) -> String {
    escaped_cut(message, crate::MAX_RESULT_CHARS)
}

/// `text` from a server [`escaped`] and cut to `max_chars` characters
/// ([`llm_do_core::bounds::cut`]).
pub(crate) fn escaped_cut(text: &str, max_chars: usize) -> String {
    use llm_do_core::bounds::cut;
    // Cut before escaping too: escaped whole, 16 MiB of control characters would grow sixfold.
    cut(&escaped(&cut(text, max_chars)), max_chars)
}

/// Why a server's start (`server/discover` or `initialize`) failed, in words: the transport's
/// own failure and what it was doing, without rmcp's transport type names (the server's text
/// escaped).
pub(crate) fn start_failure(e: &rmcp::service::ClientInitializeError) -> String {
    use rmcp::service::ClientInitializeError as E;
    match e {
        E::TransportError { error, context } => format!("{} ({context})", transport_failure(error)),
        E::JsonRpcError(e) => {
            format!("it answered with the error {}: {}", e.code.0, server_message(&e.message))
        }
        E::LegacyFallbackFailed { discover, fallback } => format!(
            "`server/discover` failed: {}; then `initialize` failed: {}",
            start_failure(discover),
            start_failure(fallback)
        ),
        other => escaped(&other.to_string()),
    }
}

/// What a transport (a child's pipes, an HTTP connection) reported, in words: the failure and
/// its causes, without rmcp's transport type names (the server's text escaped).
pub(crate) fn transport_failure(error: &rmcp::transport::DynamicTransportError) -> String {
    // rmcp's HTTP client keeps the HTTP library's error without naming it its source.
    use rmcp::transport::streamable_http_client::StreamableHttpError;
    let why = match error.error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(StreamableHttpError::Client(e)) => llm_do_core::error::chain(e),
        _ => llm_do_core::error::chain(error.error.as_ref()),
    };
    escaped(&why)
}

/// Why a `tools/list` request failed, in words (the server's text escaped).
pub(crate) fn list_failure(e: &rmcp::service::ServiceError) -> String {
    use rmcp::service::ServiceError;
    match e {
        ServiceError::McpError(e) => {
            let message = server_message(&e.message);
            format!("it answered `tools/list` with the error {}: {message}", e.code.0)
        }
        ServiceError::UnexpectedResponse => {
            "its answer to `tools/list` is not a list of tools".to_owned()
        }
        other => escaped(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's text reaches a terminal with nothing a terminal acts on: before, only `char`'s
    /// control characters were escaped, so a bidirectional override (`U+202E`, which shows
    /// `invoice\u{202e}fdp.exe` as `invoiceexe.pdf`) or isolate passed through.
    #[test]
    fn a_servers_text_has_its_bidirectional_overrides_escaped_too() {
        let from_server = "ok\u{202e}fdp.exe\u{2066}\x1b[2J\nnext";
        let shown = server_message(from_server);
        assert_eq!(shown, "ok\\u{202e}fdp.exe\\u{2066}\\x1b[2J\\nnext");
        assert!(!shown.chars().any(llm_do_core::controls::is_unsafe), "{shown:?}");
    }
}
