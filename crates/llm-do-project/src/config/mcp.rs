//! The `[mcp.NAME]` tables of `llm-do.toml`: [`McpServerSettings`] and their checks.

use crate::diagnostic::{Diagnostic, Pos};
use llm_do_core::secrets::is_secret_name;
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
        /// secrets (the others are passed on; those are not unless named here), and that
        /// `${VAR}` may fill in to `args` and `env`.
        pass_env: Vec<String>,
        /// The working directory, resolved against the project directory (default: it), made
        /// absolute.
        cwd: PathBuf,
    },
    /// `url`, `headers`, `pass_env`.
    Http {
        /// The endpoint, taken as written (no `${VAR}`).
        url: String,
        /// Extra request headers.
        headers: BTreeMap<String, String>,
        /// The variables of llm-do's environment whose names look like secrets that `${VAR}`
        /// may fill in to `headers` (the others may be filled in without it).
        pass_env: Vec<String>,
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
    /// These settings with the `${VAR}` references in `args`, `env` values and `headers` values
    /// resolved by `lookup` (see [`crate::env_refs`]); `Err` names the key and the variable
    /// that is not set (never a value). A variable whose name looks like a secret
    /// ([`is_secret_name`]) is refused unless the server's `pass_env` names it, and so is any
    /// `${` in `url` (taken as written, like `command` and `cwd`): `lookup` is then never
    /// asked.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use llm_do_project::McpServerConfig;
    /// let dir = tempfile::tempdir()?;
    /// let toml = "[mcp.gh]\nurl = \"https://example.com/mcp\"\npass_env = [\"GH_TOKEN\"]\nheaders = { Authorization = \"Bearer ${GH_TOKEN}\" }\n";
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
        if let Some(refused) = self.refused_reference() {
            return Err(format!("{} (expected {})", refused.message, refused.remedy));
        }
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
            McpServerConfig::Http { url, headers, pass_env } => McpServerConfig::Http {
                url: url.clone(),
                headers: map("headers", headers)?,
                pass_env: pass_env.clone(),
            },
        };
        Ok(McpServerSettings { reach, ..self.clone() })
    }

    /// The values that may hold references, each with its key (`args[0]`, `env.X`,
    /// `headers.X`), and the server's `pass_env`.
    fn referring_values(&self) -> (Vec<(String, &str)>, &[String]) {
        fn map<'a>(table: &str, values: &'a BTreeMap<String, String>) -> Vec<(String, &'a str)> {
            values.iter().map(|(k, v)| (format!("{table}.{k}"), v.as_str())).collect()
        }
        match &self.reach {
            McpServerConfig::Stdio { args, env, pass_env, .. } => {
                let mut values: Vec<(String, &str)> = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("args[{i}]"), a.as_str()))
                    .collect();
                values.extend(map("env", env));
                (values, pass_env)
            }
            McpServerConfig::Http { headers, pass_env, .. } => (map("headers", headers), pass_env),
        }
    }

    /// The first reference these settings may not have: `${` in `url`, a malformed reference,
    /// or a secret-looking variable that `pass_env` does not name.
    fn refused_reference(&self) -> Option<Refused> {
        if let McpServerConfig::Http { url, .. } = &self.reach
            && url.contains("${")
        {
            return Some(Refused {
                key: "url".to_owned(),
                message: "`url`: `${…}` is not expanded in `url`, which is taken as written \
                          (a value in it would be sent to wherever it points)"
                    .to_owned(),
                remedy: "a URL as it is; a credential goes in a header (e.g. `Authorization = \
                         \"Bearer ${TOKEN}\"`, with `pass_env = [\"TOKEN\"]`)"
                    .to_owned(),
            });
        }
        let (values, pass_env) = self.referring_values();
        for (key, value) in values {
            let names = match crate::env_refs::references(value) {
                Ok(names) => names,
                Err(e) => {
                    return Some(Refused {
                        message: format!("`{key}`: {e}"),
                        remedy: "`${VAR}` or `${VAR:-default}` (VAR: ASCII letters, digits and \
                                 `_`); `$${` for a literal `${`"
                            .to_owned(),
                        key,
                    });
                }
            };
            if let Some(name) =
                names.into_iter().find(|n| is_secret_name(n) && !pass_env.iter().any(|p| p == n))
            {
                return Some(Refused {
                    message: format!(
                        "`{key}`: `${{{name}}}` looks like a secret, and this server's \
                         `pass_env` does not name it"
                    ),
                    remedy: format!(
                        "`pass_env = [\"{name}\"]` in the server's table, to let it receive the \
                         variable (a secret-looking variable is filled in only for the servers \
                         that name it)"
                    ),
                    key,
                });
            }
        }
        None
    }
}

/// A reference the settings may not have: the value's key (`url`, `args[0]`, `env.X`,
/// `headers.X`), what is wrong, and what is expected instead.
struct Refused {
    key: String,
    message: String,
    remedy: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMcp {
    #[serde(default)]
    command: Option<Spanned<String>>,
    #[serde(default)]
    args: Vec<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pass_env: Vec<String>,
    #[serde(default)]
    cwd: Option<Spanned<PathBuf>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
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
        // Where each value is written, by the key a problem names: a problem in a value is
        // located at the value, one of the whole table at its header.
        let mut values = BTreeMap::new();
        let mut value = |key: String, spanned: Spanned<String>| {
            values.insert(key, at(spanned.span().start));
            spanned.into_inner()
        };
        let command = raw.command.map(|c| value("command".to_owned(), c));
        let url = raw.url.map(|u| value("url".to_owned(), u));
        let args: Vec<String> =
            raw.args.into_iter().enumerate().map(|(i, a)| value(format!("args[{i}]"), a)).collect();
        let env: BTreeMap<String, String> =
            raw.env.into_iter().map(|(k, v)| (k.clone(), value(format!("env.{k}"), v))).collect();
        let headers: BTreeMap<String, String> = raw
            .headers
            .into_iter()
            .map(|(k, v)| (k.clone(), value(format!("headers.{k}"), v)))
            .collect();
        let cwd = raw.cwd.map(|c| {
            values.insert("cwd".to_owned(), at(c.span().start));
            c.into_inner()
        });
        let mut problem = |key: Option<&str>, message: String, expected: &str| {
            let pos = key.and_then(|k| values.get(k)).copied().unwrap_or(pos);
            diagnostics.push(Diagnostic::at(file, pos, message).expected(expected));
        };
        if !is_valid_server_name(&name) {
            problem(
                None,
                format!("invalid MCP server name `{}`", name.escape_debug()),
                "1 to 32 ASCII letters, digits, `_` or `-`, without `__` and not ending with `_`",
            );
            continue;
        }
        let server = match (command, url) {
            (Some(command), None) if headers.is_empty() => {
                // Absolute, so that neither depends on the directory llm-do runs in nor on the
                // child's working directory.
                let root = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
                let command = if command.contains('/') && Path::new(&command).is_relative() {
                    root.join(&command).display().to_string()
                } else {
                    command
                };
                let cwd = cwd.map_or_else(|| root.clone(), |c| root.join(c));
                McpServerConfig::Stdio { command, args, env, pass_env: raw.pass_env, cwd }
            }
            (None, Some(url)) if args.is_empty() && env.is_empty() && cwd.is_none() => {
                McpServerConfig::Http { url, headers, pass_env: raw.pass_env }
            }
            _ => {
                problem(
                    None,
                    format!("the MCP server `{name}` needs either `command` or `url`"),
                    "`command` (with `args`, `env`, `pass_env`, `cwd`) for a child process, or `url` (with `headers`, `pass_env`) for streamable HTTP",
                );
                continue;
            }
        };
        let settings = McpServerSettings { reach: server, start_timeout, call_timeout, protocol };
        let as_written = match &settings.reach {
            McpServerConfig::Stdio { command, cwd, .. } => {
                [("command", command.contains("${")), ("cwd", cwd.to_string_lossy().contains("${"))]
                    .into_iter()
                    .find_map(|(key, refers)| refers.then_some(key))
            }
            McpServerConfig::Http { url, .. } => url.contains("${").then_some("url"),
        };
        if let Some(key) = as_written {
            problem(
                Some(key),
                format!("`[mcp.{name}]`: `${{…}}` is not expanded in `command`, `cwd` or `url`"),
                "a command, directory and URL as they are; references in `args`, `env` or `headers` (a credential goes in a header)",
            );
            continue;
        }
        // The references' syntax and the secret-looking variables now; their values at start.
        if let Some(refused) = settings.refused_reference() {
            let message = format!("`[mcp.{name}]` {}", refused.message);
            problem(Some(&refused.key), message, &refused.remedy);
            continue;
        }
        servers.insert(name, settings);
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `resolved` refuses what the file check refuses, for settings made without it, and never
    /// asks for the refused variable.
    #[test]
    fn resolved_never_looks_up_a_refused_variable() {
        let settings = |reach| McpServerSettings {
            reach,
            start_timeout: None,
            call_timeout: None,
            protocol: None,
        };
        let asked = std::cell::RefCell::new(Vec::new());
        let lookup = |name: &str| {
            asked.borrow_mut().push(name.to_owned());
            Some("v".to_owned())
        };
        let url = settings(McpServerConfig::Http {
            url: "http://h/?k=${HOME}".into(),
            headers: BTreeMap::new(),
            pass_env: vec!["HOME".into()],
        });
        let e = url.resolved(&lookup).unwrap_err();
        assert!(e.starts_with("`url`: `${…}` is not expanded in `url`"), "{e}");
        let header = settings(McpServerConfig::Http {
            url: "http://h/".into(),
            headers: BTreeMap::from([("A".into(), "${HOME} ${API_KEY}".into())]),
            pass_env: vec!["OTHER_KEY".into()],
        });
        let e = header.resolved(&lookup).unwrap_err();
        assert!(
            e.starts_with("`headers.A`: `${API_KEY}` looks like a secret, and this server's `pass_env` does not name it (expected `pass_env = [\"API_KEY\"]`"),
            "{e}"
        );
        assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());
    }
}
