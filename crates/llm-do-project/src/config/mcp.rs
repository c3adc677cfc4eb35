//! The `[mcp.NAME]` tables of `llm-do.toml`: [`McpServerSettings`] and their checks.

use crate::diagnostic::{Diagnostic, Pos};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// How to reach an MCP server declared in `llm-do.toml` (`[mcp.NAME]`): a `command` run as a
/// child process, or a streamable HTTP `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum McpServerConfig {
    /// `command`, `args`, `env`, `pass_env`, `cwd`.
    Stdio {
        /// The program: a name looked up on `PATH`, or a path (a relative path with a `/` is
        /// resolved against the project directory, made absolute).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment variables.
        env: BTreeMap<String, String>,
        /// Variables of llm-do's environment passed on although their names look like
        /// secrets (the others are passed on; those are not unless named here).
        pass_env: Vec<String>,
        /// The working directory, resolved against the project directory (default: it), made
        /// absolute.
        cwd: PathBuf,
    },
    /// `url`, `headers`.
    Http {
        /// The endpoint.
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
    },
}

/// One `[mcp.NAME]` table of `llm-do.toml`: how to reach the server, and its timeouts (llm-do-mcp's
/// defaults where not given: 20 s to start, 60 s per call).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpServerSettings {
    /// How to reach it: a child process or a streamable HTTP endpoint.
    pub reach: McpServerConfig,
    /// `start_timeout`: how long it has to start and answer `initialize`.
    pub start_timeout: Option<Duration>,
    /// `call_timeout`: how long one tool call may take.
    pub call_timeout: Option<Duration>,
    /// `protocol`: the MCP protocol revision pinned (`YYYY-MM-DD`; whether llm-do knows it is
    /// checked when the server starts); none for the newest both sides speak.
    pub protocol: Option<String>,
}

impl McpServerSettings {
    /// These settings with the `${VAR}` references in `args`, `env` values, `url` and
    /// `headers` values resolved by `lookup` (see [`crate::env_refs`]); `Err` names the key and
    /// the variable that is not set (never a value).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_project::McpServerConfig;
    /// let dir = tempfile::tempdir()?;
    /// let toml = "[mcp.gh]\nurl = \"https://example.com/mcp\"\nheaders = { Authorization = \"Bearer ${GH_TOKEN}\" }\n";
    /// std::fs::write(dir.path().join("llm-do.toml"), toml)?;
    /// let config = llm_do_project::Project::read_config(dir.path())?;
    /// let env = |name: &str| (name == "GH_TOKEN").then(|| "t0k".to_owned());
    /// let McpServerConfig::Http { headers, .. } = config.mcp["gh"].resolved(&env)?.reach else { panic!() };
    /// assert_eq!(headers["Authorization"], "Bearer t0k");
    /// let unset = config.mcp["gh"].resolved(&|_| None).unwrap_err();
    /// assert_eq!(unset, "`headers.Authorization`: the environment variable `GH_TOKEN` is not set");
    /// # Ok(())
    /// # }
    /// ```
    pub fn resolved(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<McpServerSettings, String> {
        let expand = |key: String, value: &str| {
            crate::env_refs::expand(value, lookup).map_err(|e| format!("`{key}`: {e}"))
        };
        let map = |table: &str, values: &BTreeMap<String, String>| {
            values
                .iter()
                .map(|(k, v)| Ok((k.clone(), expand(format!("{table}.{k}"), v)?)))
                .collect::<Result<BTreeMap<_, _>, String>>()
        };
        let reach = match &self.reach {
            McpServerConfig::Stdio { command, args, env, pass_env, cwd } => {
                McpServerConfig::Stdio {
                    command: command.clone(),
                    args: args
                        .iter()
                        .enumerate()
                        .map(|(i, arg)| expand(format!("args[{i}]"), arg))
                        .collect::<Result<_, _>>()?,
                    env: map("env", env)?,
                    pass_env: pass_env.clone(),
                    cwd: cwd.clone(),
                }
            }
            McpServerConfig::Http { url, headers } => McpServerConfig::Http {
                url: expand("url".to_owned(), url)?,
                headers: map("headers", headers)?,
            },
        };
        Ok(McpServerSettings { reach, ..self.clone() })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMcp {
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    pass_env: Vec<String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    start_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    call_timeout: Option<Spanned<f64>>,
    #[serde(default)]
    protocol: Option<Spanned<String>>,
}

/// `true` for the shape of an MCP protocol revision, a date `YYYY-MM-DD`.
fn is_revision(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter()
            .enumerate()
            .all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// `true` for a valid MCP server name: a tool-name part without `__` (which separates the server
/// from the tool in `server__tool`) and not ending with `_`.
pub(crate) fn is_valid_server_name(name: &str) -> bool {
    crate::worker_file::is_valid_name(name)
        && name.len() <= 32
        && !name.contains("__")
        && !name.ends_with('_')
}

/// The servers of `[mcp.*]` (`file` holds `text`), each checked; a server with a problem is left
/// out and its problems added to `diagnostics`.
pub(super) fn parse(
    raw: BTreeMap<String, Spanned<RawMcp>>,
    file: &Path,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, McpServerSettings> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let at = |offset: usize| Pos::of_offset(text, offset, Pos::START);
    let mut servers = BTreeMap::new();
    for (name, raw) in raw {
        let pos = at(raw.span().start);
        let raw = raw.into_inner();
        let table = format!("mcp.{name}");
        // A pinned protocol revision: its shape here, whether llm-do knows it at start.
        let protocol = raw.protocol.and_then(|version| {
            let pos = at(version.span().start);
            let version = version.into_inner();
            if is_revision(&version) {
                return Some(version);
            }
            diagnostics.push(
                Diagnostic::at(file, pos, format!("`[{table}] protocol` is `{version}`"))
                    .expected("an MCP protocol revision, e.g. \"2025-11-25\" or \"2026-07-28\""),
            );
            None
        });
        let mut seconds = |key, value| super::seconds(file, text, diagnostics, &table, key, value);
        let start_timeout = seconds("start_timeout", raw.start_timeout);
        let call_timeout = seconds("call_timeout", raw.call_timeout);
        let mut problem = |message: String, expected: &str| {
            diagnostics.push(Diagnostic::at(file, pos, message).expected(expected));
        };
        if !is_valid_server_name(&name) {
            problem(
                format!("invalid MCP server name `{}`", name.escape_debug()),
                "1 to 32 ASCII letters, digits, `_` or `-`, without `__` and not ending with `_`",
            );
            continue;
        }
        let server = match (raw.command, raw.url) {
            (Some(command), None) if raw.headers.is_empty() => {
                // Absolute, so that neither depends on the directory llm-do runs in nor on the
                // child's working directory.
                let root = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
                let command = if command.contains('/') && Path::new(&command).is_relative() {
                    root.join(&command).display().to_string()
                } else {
                    command
                };
                let cwd = raw.cwd.map_or_else(|| root.clone(), |c| root.join(c));
                let (args, env, pass_env) = (raw.args, raw.env, raw.pass_env);
                McpServerConfig::Stdio { command, args, env, pass_env, cwd }
            }
            (None, Some(url))
                if raw.args.is_empty()
                    && raw.env.is_empty()
                    && raw.pass_env.is_empty()
                    && raw.cwd.is_none() =>
            {
                McpServerConfig::Http { url, headers: raw.headers }
            }
            _ => {
                problem(
                    format!("the MCP server `{name}` needs either `command` or `url`"),
                    "`command` (with `args`, `env`, `pass_env`, `cwd`) for a child process, or `url` (with `headers`) for streamable HTTP",
                );
                continue;
            }
        };
        let settings = McpServerSettings { reach: server, start_timeout, call_timeout, protocol };
        // The references' syntax now (every variable taken as set); their values at start.
        if let Err(e) = settings.resolved(&|_| Some("set".to_owned())) {
            problem(
                format!("`[mcp.{name}]` {e}"),
                "`${VAR}` or `${VAR:-default}` (VAR: ASCII letters, digits and `_`); `$${` for a literal `${`",
            );
            continue;
        }
        if let McpServerConfig::Stdio { command, cwd, .. } = &settings.reach
            && (command.contains("${") || cwd.to_string_lossy().contains("${"))
        {
            problem(
                format!("`[mcp.{name}]`: `${{…}}` is not expanded in `command` or `cwd`"),
                "a command and directory as they are; references in `args`, `env`, `url` or `headers`",
            );
            continue;
        }
        servers.insert(name, settings);
    }
    servers
}
