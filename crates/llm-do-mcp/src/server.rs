//! [`McpServer`]: how to reach one MCP server — a command run as a child process speaking
//! MCP over its stdio, or a streamable HTTP endpoint — and the limits that apply to it.

use llm_do_core::approval::Verdict;
use llm_do_core::secrets::Redactor;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Default time for a server to start and answer `initialize` and `tools/list`.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(20);
/// Default per-call timeout.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// When `timeout` from now is up ([`llm_do_core::bounds::instant_after`]: a timeout of
/// [`Duration::MAX`], "never", made an `Instant` overflow, a panic).
pub(crate) fn deadline(timeout: Duration) -> std::time::Instant {
    llm_do_core::bounds::instant_after(std::time::Instant::now(), timeout)
}

/// The MCP protocol revisions llm-do speaks, oldest first (those of [`rmcp`]);
/// [`McpServer::protocol`] takes one.
///
/// ```
/// assert!(llm_do_mcp::protocol_versions().any(|v| v == "2026-07-28"));
/// ```
pub fn protocol_versions() -> impl Iterator<Item = &'static str> {
    rmcp::model::ProtocolVersion::KNOWN_VERSIONS.iter().map(|v| v.as_str())
}

/// Where an MCP server is and how to talk to it.
///
/// Its `Debug` form shows the names of the environment variables and headers, never their
/// values (an `Authorization` header, an API key given to a server), and the URL with the
/// secrets [`Redactor`] knows redacted.
///
/// ```
/// let s = llm_do_mcp::McpServer::http("http://127.0.0.1:1/mcp").header("Authorization", "Bearer t0p-s3cret");
/// let shown = format!("{:?}", s.transport());
/// assert!(shown.contains("Authorization") && !shown.contains("t0p-s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A command run as a child process; MCP over its stdin and stdout, stderr kept.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment variables, set as given.
        env: BTreeMap<String, String>,
        /// Variables of llm-do's environment passed on although their names look like secrets
        /// (see [`McpServer::pass_env`]).
        pass_env: Vec<String>,
        /// Its working directory (default: the current one).
        cwd: Option<PathBuf>,
    },
    /// A streamable HTTP endpoint.
    Http {
        /// The endpoint, e.g. `http://127.0.0.1:8000/mcp`.
        url: String,
        /// Extra request headers (e.g. `Authorization`).
        headers: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Stdio { command, args, env, pass_env, cwd } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .field("pass_env", pass_env)
                .field("cwd", cwd)
                .finish(),
            Transport::Http { url, headers } => {
                let redactor = Redactor::new().with_values(headers.values().cloned());
                f.debug_struct("Http")
                    .field("url", &redactor.redact(url))
                    .field("headers", &headers.keys().collect::<Vec<_>>())
                    .finish()
            }
        }
    }
}

/// One MCP server's configuration.
///
/// ```
/// use llm_do_mcp::McpServer;
/// use std::time::Duration;
/// let s = McpServer::stdio("orders-server", ["--db", "orders.db"])
///     .env("LOG", "debug")
///     .call_timeout(Duration::from_secs(5));
/// assert_eq!(s.timeouts().1, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct McpServer {
    pub(crate) transport: Transport,
    pub(crate) start_timeout: Duration,
    pub(crate) call_timeout: Duration,
    pub(crate) approval: Verdict,
    /// `None`: the newest both sides speak.
    pub(crate) protocol: Option<String>,
}

impl McpServer {
    /// A server run as `command args...`, speaking MCP over its stdio.
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::stdio("python3", ["server.py"]);
    /// assert!(matches!(s.transport(), llm_do_mcp::Transport::Stdio { .. }));
    /// ```
    pub fn stdio<I, S>(command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Transport::Stdio {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            pass_env: Vec::new(),
            cwd: None,
        })
    }

    /// A server at a streamable HTTP endpoint.
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::http("http://127.0.0.1:8000/mcp").header("Authorization", "Bearer t");
    /// assert!(matches!(s.transport(), llm_do_mcp::Transport::Http { .. }));
    /// ```
    pub fn http(url: impl Into<String>) -> Self {
        Self::new(Transport::Http { url: url.into(), headers: BTreeMap::new() })
    }

    /// A server reached through `transport`.
    ///
    /// ```
    /// use llm_do_mcp::{DEFAULT_CALL_TIMEOUT, DEFAULT_START_TIMEOUT, McpServer, Transport};
    /// let t = Transport::Http { url: "http://127.0.0.1:1/mcp".into(), headers: Default::default() };
    /// let s = McpServer::new(t.clone());
    /// assert_eq!(s.transport(), &t);
    /// assert_eq!(s.timeouts(), (DEFAULT_START_TIMEOUT, DEFAULT_CALL_TIMEOUT));
    /// ```
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            start_timeout: DEFAULT_START_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            approval: Verdict::Ask,
            protocol: None,
        }
    }

    /// Sets an environment variable of the child process (stdio servers only).
    ///
    /// ```
    /// use llm_do_mcp::{McpServer, Transport};
    /// let s = McpServer::stdio("srv", Vec::<String>::new()).env("LOG", "debug");
    /// assert!(matches!(s.transport(), Transport::Stdio { env, .. } if env["LOG"] == "debug"));
    /// ```
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Stdio { env, .. } = &mut self.transport {
            env.insert(key.into(), value.into());
        }
        self
    }

    /// Passes the variable `name` of llm-do's environment on to the child process although its
    /// name looks like a secret (stdio servers only).
    ///
    /// A child process inherits llm-do's environment except the variables whose names look
    /// like secrets ([`is_secret_name`](llm_do_core::secrets::is_secret_name): `*_API_KEY`,
    /// `*_TOKEN`, `*PASSWORD*`, ...), so that a server does not receive the model providers'
    /// keys or any other credential it was not given. A server that needs one names it here.
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::stdio("github-mcp-server", ["stdio"])
    ///     .pass_env("GITHUB_PERSONAL_ACCESS_TOKEN");
    /// assert!(matches!(s.transport(),
    ///     llm_do_mcp::Transport::Stdio { pass_env, .. } if pass_env == &["GITHUB_PERSONAL_ACCESS_TOKEN"]));
    /// ```
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        if let Transport::Stdio { pass_env, .. } = &mut self.transport {
            pass_env.push(name.into());
        }
        self
    }

    /// Sets the working directory of the child process (stdio servers only).
    ///
    /// ```
    /// use llm_do_mcp::{McpServer, Transport};
    /// let s = McpServer::stdio("srv", Vec::<String>::new()).cwd("/srv/orders");
    /// assert!(matches!(s.transport(),
    ///     Transport::Stdio { cwd: Some(dir), .. } if dir == std::path::Path::new("/srv/orders")));
    /// ```
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        if let Transport::Stdio { cwd, .. } = &mut self.transport {
            *cwd = Some(dir.into());
        }
        self
    }

    /// Adds a request header (HTTP servers only).
    ///
    /// ```
    /// use llm_do_mcp::{McpServer, Transport};
    /// let s = McpServer::http("http://127.0.0.1:1/mcp").header("X-Team", "ops");
    /// assert!(matches!(s.transport(), Transport::Http { headers, .. } if headers["X-Team"] == "ops"));
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Http { headers, .. } = &mut self.transport {
            headers.insert(name.into(), value.into());
        }
        self
    }

    /// Sets how long the server may take to start, initialize and list its tools (default 20 s).
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::stdio("srv", Vec::<String>::new()).start_timeout(std::time::Duration::from_secs(1));
    /// assert_eq!(s.timeouts().0.as_secs(), 1);
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Sets how long one tool call may take (default 60 s); a late call is cancelled.
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::stdio("srv", Vec::<String>::new()).call_timeout(std::time::Duration::from_secs(3));
    /// assert_eq!(s.timeouts().1.as_secs(), 3);
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Sets the approval verdict of this server's tools when a model calls them and no rule
    /// matches (default [`Verdict::Ask`]: a server's tools can do anything).
    pub fn approval(mut self, verdict: Verdict) -> Self {
        self.approval = verdict;
        self
    }

    /// Pins the MCP protocol revision spoken with this server, e.g. `"2025-11-25"` (see
    /// [`protocol_versions`]); a revision the server does not speak fails the start.
    ///
    /// By default llm-do speaks the newest revision both sides know: it asks the server with
    /// `server/discover` (revision 2026-07-28, where a server's questions come back as rounds
    /// of the call they belong to), and starts with `initialize` when the server answers that
    /// it does not know `server/discover`. Pin a revision before 2026-07-28 for a server that
    /// does not answer unknown requests at all (the probe would wait 10 s before falling back).
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::stdio("srv", Vec::<String>::new()).protocol("2025-11-25");
    /// assert_eq!(s.protocol_version(), Some("2025-11-25"));
    /// ```
    pub fn protocol(mut self, version: impl Into<String>) -> Self {
        self.protocol = Some(version.into());
        self
    }

    /// The pinned protocol revision, `None` for the newest both sides speak.
    ///
    /// ```
    /// assert_eq!(llm_do_mcp::McpServer::http("http://127.0.0.1:1/mcp").protocol_version(), None);
    /// ```
    pub fn protocol_version(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// How the server is reached.
    ///
    /// ```
    /// let s = llm_do_mcp::McpServer::http("http://127.0.0.1:1/mcp");
    /// assert!(matches!(s.transport(), llm_do_mcp::Transport::Http { url, .. } if url.ends_with("/mcp")));
    /// ```
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The start timeout and the per-call timeout.
    ///
    /// ```
    /// let (start, call) = llm_do_mcp::McpServer::http("http://127.0.0.1:1/mcp").timeouts();
    /// assert!(start < call);
    /// ```
    pub fn timeouts(&self) -> (Duration, Duration) {
        (self.start_timeout, self.call_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's configuration printed with `{:?}` (a log line, a panic message) shows its
    /// headers' and environment variables' names only: before, the derived form printed an
    /// `Authorization` header's token and every value given to a child in `env`.
    #[test]
    fn the_debug_form_shows_no_header_or_environment_value() {
        let http = McpServer::http("http://127.0.0.1:1/mcp?key=sk-abcdefghijklmnopqrstuvwxyz0123")
            .header("Authorization", "Bearer hdr-value-4f8e2a")
            .header("X-Team", "team-value-91c3");
        let stdio = McpServer::stdio("server", ["--stdio"])
            .env("ORDERS_DB_PASSWORD", "env-value-77d1b0")
            .env("LOG", "log-value-3a9f");
        let shown = format!("{http:?} {stdio:?}");
        for value in [
            "hdr-value-4f8e2a",
            "team-value-91c3",
            "env-value-77d1b0",
            "log-value-3a9f",
            "sk-abcdefghijklmnopqrstuvwxyz0123",
        ] {
            assert!(!shown.contains(value), "{value} in {shown}");
        }
        for name in ["Authorization", "X-Team", "ORDERS_DB_PASSWORD", "LOG", "--stdio"] {
            assert!(shown.contains(name), "{name} not in {shown}");
        }
    }
}
