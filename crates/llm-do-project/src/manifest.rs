//! `project.json`: the manifest of a project written for the Python llm-do (version 1), read
//! into the same [`ProjectConfig`] as `llm-do.toml`.
//!
//! ```json
//! {
//!   "version": 1,
//!   "runtime": { "approval_mode": "prompt", "max_depth": 5 },
//!   "entry": { "agent": "main", "args": { "input": "Hello" } },
//!   "agent_files": ["main.agent"],
//!   "python_files": []
//! }
//! ```
//!
//! Every key version 1 defines is either honoured or refused by name, at its position; see
//! `docs/migrating-from-python.md` for the table.
//!
//! (Just over 400 lines: one reader for every key of version 1, kept together.)

use crate::config::{ApprovalMode, ProjectConfig};
use crate::diagnostic::{Diagnostic, Pos};
use crate::json;
use crate::project::MAX_PROJECT_BYTES;
use crate::yaml::{Kind, Node};
use llm_do_core::approval::{OnDenied, Verdict};
use std::path::{Path, PathBuf};

/// The name of the Python llm-do's manifest.
pub const MANIFEST_FILE: &str = "project.json";

const TOP_KEYS: &[&str] = &[
    "version",
    "runtime",
    "allow_cli_input",
    "entry",
    "generated_agents_dir",
    "agent_files",
    "python_files",
];
const RUNTIME_KEYS: &[&str] = &[
    "approval_mode",
    "auth_mode",
    "max_depth",
    "return_permission_errors",
    "agent_calls_require_approval",
    "agent_attachments_require_approval",
    "agent_approval_overrides",
];
const ENTRY_KEYS: &[&str] = &["agent", "function", "args"];
/// Why a listed file that stays inside as written is outside all the same, and what it must be.
const LINKED_OUT: &str = "(a symbolic link leads out of it)";
const INSIDE_RESOLVED: &str =
    "a path relative to the project directory, inside it once links are resolved";
const OVERRIDE_KEYS: &[&str] = &["calls_require_approval", "attachments_require_approval"];

/// What `project.json` adds to a [`ProjectConfig`] beyond `llm-do.toml`'s keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct Manifest {
    /// `agent_files`, resolved against the project directory, with their positions.
    pub(crate) agent_files: Vec<(PathBuf, Pos)>,
    /// `python_files`, as written, with their positions.
    pub(crate) python_files: Vec<(String, Pos)>,
    /// `runtime.agent_calls_require_approval` (`Ask`) and `agent_approval_overrides`.
    pub(crate) agent_calls: Option<Verdict>,
    pub(crate) agent_overrides: Vec<(String, Verdict, Pos)>,
    /// `runtime.agent_attachments_require_approval`, and the overrides'
    /// `attachments_require_approval`.
    pub(crate) agent_attachments: bool,
    pub(crate) attachment_overrides: Vec<(String, bool, Pos)>,
    /// The file could not be read, or is not JSON (reported): its lists are unknown, not empty.
    pub(crate) unread: bool,
}

/// `entries` without the keys of `optional` set to `null`: upstream's `X | None` fields, where
/// `null` means "not given".
fn given<'n>(entries: Vec<(&'n str, &'n Node)>, optional: &[&str]) -> Vec<(&'n str, &'n Node)> {
    entries.into_iter().filter(|(k, v)| !(v.kind == Kind::Null && optional.contains(k))).collect()
}

/// A whole number: an integer, or a float without a fractional part (`5.0`, which upstream's
/// pydantic accepts for an integer field).
fn whole(node: &Node) -> Option<i64> {
    match node.kind {
        Kind::Int(i) => Some(i),
        // `as` saturates; the bound keeps the value exact.
        Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        _ => None,
    }
}

struct Reader<'a> {
    file: &'a Path,
    diagnostics: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>, expected: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at(self.file, pos, message).expected(expected));
    }

    /// The entries of an object, reporting unknown and duplicate keys.
    fn object<'n>(
        &mut self,
        what: &str,
        node: &'n Node,
        keys: &[&str],
    ) -> Vec<(&'n str, &'n Node)> {
        let Kind::Map(entries) = &node.kind else {
            self.error(node.pos, format!("{what} is {}", node.describe()), "a JSON object");
            return Vec::new();
        };
        let mut out: Vec<(&str, &Node)> = Vec::new();
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            if out.iter().any(|(seen, _)| *seen == key) {
                self.error(k.pos, format!("duplicate key `{key}`"), "each key once");
            } else if keys.is_empty() || keys.contains(&key) {
                out.push((key, v));
            } else {
                self.diagnostics.push(Diagnostic::unknown_key(
                    self.file,
                    k.pos,
                    format!("unknown key `{key}` in {what}"),
                    key,
                    keys,
                    || format!("{} (version 1 of project.json)", crate::worker_file::list(keys)),
                ));
            }
        }
        out
    }

    fn bool(&mut self, key: &str, node: &Node) -> Option<bool> {
        match node.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.error(node.pos, format!("`{key}` is {}", node.describe()), "true or false");
                None
            }
        }
    }

    fn string<'n>(&mut self, key: &str, node: &'n Node) -> Option<&'n str> {
        match node.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s),
            _ => {
                self.error(
                    node.pos,
                    format!("`{key}` is {}", node.describe()),
                    "a non-empty string",
                );
                None
            }
        }
    }

    fn files(&mut self, key: &str, node: &Node) -> Vec<(String, Pos)> {
        let Kind::Seq(items) = &node.kind else {
            self.error(node.pos, format!("`{key}` is {}", node.describe()), "a list of paths");
            return Vec::new();
        };
        let mut out: Vec<(String, Pos)> = Vec::new();
        for item in items {
            let Some(path) = self.string(key, item) else { continue };
            if out.iter().any(|(p, _)| p == path) {
                self.error(item.pos, format!("`{path}` is listed twice"), "each file once");
            } else {
                out.push((path.to_owned(), item.pos));
            }
        }
        out
    }
}

/// Parses the text of `project.json` in `dir`: the configuration, the manifest's own parts,
/// and every problem (with defaults where a value was wrong, so later checks still run).
pub(crate) fn parse(
    file: &Path,
    dir: &Path,
    text: &str,
) -> (ProjectConfig, Manifest, Vec<Diagnostic>) {
    // Upstream, a denied call raises a permission error that ends the run, unless
    // `return_permission_errors` turns it into the tool's result.
    let mut config = ProjectConfig {
        source: Some(file.to_owned()),
        on_denied: Some(OnDenied::Abort),
        // Upstream's `max_depth` (default 5) counts nested agent calls, not tool calls.
        tools_past_max_depth: true,
        // And a call past it is an error that ends the run there.
        max_depth_ends_run: true,
        ..ProjectConfig::default()
    };
    let mut manifest = Manifest::default();
    let mut r = Reader { file, diagnostics: Vec::new() };
    let root = match json::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let mut d = Diagnostic::at(file, e.pos, e.message);
            d.expected = e.expected;
            manifest.unread = true;
            return (config, manifest, vec![d]);
        }
    };
    let top = given(r.object("project.json", &root, TOP_KEYS), &["generated_agents_dir"]);
    for required in ["version", "runtime", "entry"] {
        if !top.iter().any(|(k, _)| *k == required) {
            r.error(
                root.pos,
                format!("project.json has no `{required}`"),
                format!("a `{required}` key (version 1 of project.json requires it)"),
            );
        }
    }
    for (key, value) in top {
        match key {
            "version" if whole(value) != Some(1) => {
                let found = value.to_json().map(|v| v.to_string()).unwrap_or_default();
                r.error(value.pos, format!("unsupported manifest version {found}"), "`\"version\": 1`");
            }
            "runtime" => runtime(&mut r, value, &mut config, &mut manifest),
            "allow_cli_input" => {
                if let Some(b) = r.bool(key, value) {
                    config.allow_cli_input = b;
                }
            }
            "entry" => entry(&mut r, value, &mut config),
            "generated_agents_dir" => r.error(
                value.pos,
                "`generated_agents_dir` stores dynamic agents, which are not supported",
                "no `generated_agents_dir`: write each agent as a `.agent` or `.worker` file of the project",
            ),
            "agent_files" => {
                for (path, pos) in r.files(key, value) {
                    let resolved = dir.join(&path);
                    if crate::source::leaves_dir(dir, &path) {
                        r.error(pos, format!("the agent file `{path}` is outside the project directory"), "a path relative to the project directory, inside it");
                    } else if crate::source::links_out_of(dir, &path) {
                        r.error(pos, format!("the agent file `{path}` is outside the project directory {LINKED_OUT}"), INSIDE_RESOLVED);
                    } else if let Some(why) = not_a_file(&resolved) {
                        r.error(pos, format!("the agent file `{path}` {why}"), "a path relative to the project directory");
                    } else if resolved.extension().is_none_or(|e| e != "agent") {
                        r.error(pos, format!("`{path}` is not a `.agent` file"), "a `NAME.agent` file (`.worker` files are found without being listed)");
                    } else {
                        manifest.agent_files.push((resolved, pos));
                    }
                }
            }
            "python_files" => {
                // Each is read whole when a name is looked for: bounded together, as the
                // worker and agent files are.
                let mut bytes = 0u64;
                let listed = r.files(key, value);
                let count = listed.len();
                for (i, (path, pos)) in listed.into_iter().enumerate() {
                    if crate::source::leaves_dir(dir, &path) {
                        r.error(pos, format!("the Python file `{path}` is outside the project directory"), "a path relative to the project directory, inside it");
                    } else if crate::source::links_out_of(dir, &path) {
                        r.error(pos, format!("the Python file `{path}` is outside the project directory {LINKED_OUT}"), INSIDE_RESOLVED);
                    } else if let Some(why) = not_a_file(&dir.join(&path)) {
                        r.error(pos, format!("the Python file `{path}` {why}"), "a path relative to the project directory");
                    } else {
                        let size = std::fs::metadata(dir.join(&path)).map_or(0, |m| m.len());
                        bytes = bytes.saturating_add(size);
                        if bytes > MAX_PROJECT_BYTES {
                            let unread = match count - i - 1 {
                                0 => format!("`{path}` is not searched"),
                                rest => format!("`{path}` and the {rest} after it are not searched"),
                            };
                            r.error(pos, format!("the Python files listed are larger than {MAX_PROJECT_BYTES} bytes together: {unread}"), "at most 32 MiB of `python_files` (each at most 1 MiB)");
                            break;
                        }
                        manifest.python_files.push((path, pos));
                    }
                }
            }
            _ => {}
        }
    }
    (config, manifest, r.diagnostics)
}

fn runtime(r: &mut Reader<'_>, node: &Node, config: &mut ProjectConfig, manifest: &mut Manifest) {
    for (key, value) in r.object("`runtime`", node, RUNTIME_KEYS) {
        match key {
            "approval_mode" => match value.as_str() {
                Some("prompt") => config.approval_mode = ApprovalMode::Prompt,
                Some("approve_all") => config.approval_mode = ApprovalMode::ApproveAll,
                Some("reject_all") => config.approval_mode = ApprovalMode::DenyAll,
                _ => r.error(
                    value.pos,
                    format!("`approval_mode` is {}", describe(value)),
                    "`prompt`, `approve_all` or `reject_all`",
                ),
            },
            "auth_mode" => match value.as_str() {
                Some("oauth_off") => {}
                Some(mode @ ("oauth_auto" | "oauth_required")) => r.error(
                    value.pos,
                    format!("`auth_mode: {mode}` uses OAuth model credentials, which are not supported"),
                    "`oauth_off` (or no `auth_mode`): give providers API keys in the environment, e.g. OPENAI_API_KEY",
                ),
                _ => r.error(
                    value.pos,
                    format!("`auth_mode` is {}", describe(value)),
                    "`oauth_off`",
                ),
            },
            "max_depth" => match whole(value) {
                Some(i) if i >= 1 => config.max_depth = Some(u32::try_from(i).unwrap_or(u32::MAX)),
                _ => r.error(
                    value.pos,
                    format!("`max_depth` is {}", describe(value)),
                    "a whole number of at least 1",
                ),
            },
            "return_permission_errors" => {
                if let Some(b) = r.bool(key, value) {
                    config.return_permission_errors = b;
                    config.on_denied =
                        Some(if b { OnDenied::ToolResult } else { OnDenied::Abort });
                }
            }
            "agent_calls_require_approval" => {
                if let Some(true) = r.bool(key, value) {
                    manifest.agent_calls = Some(Verdict::Ask);
                }
            }
            "agent_attachments_require_approval" => {
                if let Some(b) = r.bool(key, value) {
                    manifest.agent_attachments = b;
                }
            }
            "agent_approval_overrides" => {
                for (agent, settings) in r.object("`agent_approval_overrides`", value, &[]) {
                    let settings = r.object(&format!("the override of `{agent}`"), settings, OVERRIDE_KEYS);
                    for (k, v) in given(settings, OVERRIDE_KEYS) {
                        let Some(b) = r.bool(k, v) else { continue };
                        if k == "calls_require_approval" {
                            let verdict = if b { Verdict::Ask } else { Verdict::Allow };
                            manifest.agent_overrides.push((agent.to_owned(), verdict, v.pos));
                        } else {
                            manifest.attachment_overrides.push((agent.to_owned(), b, v.pos));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn entry(r: &mut Reader<'_>, node: &Node, config: &mut ProjectConfig) {
    let entries = given(r.object("`entry`", node, ENTRY_KEYS), &["function", "args"]);
    let targets = entries.iter().filter(|(k, _)| *k != "args").count();
    if targets != 1 && matches!(node.kind, Kind::Map(_)) {
        r.error(
            node.pos,
            "`entry` must name exactly one of `agent` or `function`",
            "`\"entry\": {\"agent\": \"main\"}`",
        );
    }
    for (key, value) in entries {
        match key {
            "agent" => {
                if let Some(name) = r.string(key, value) {
                    config.entry = Some(name.to_owned());
                    config.entry_pos = value.pos;
                }
            }
            "function" => {
                let name = value.as_str().unwrap_or_default();
                r.error(
                    value.pos,
                    format!("the entry function `{name}` is Python code, which cannot run here"),
                    "`entry.agent` naming an agent; to orchestrate in code, write the function as a Rust tool or worker of a host program (llm_do_cli::main_with) and name it in `entry.agent`",
                );
            }
            "args" => match value.to_json() {
                Ok(args @ serde_json::Value::Object(_)) => {
                    config.entry_args = Some(args);
                    config.entry_args_pos = value.pos;
                }
                Ok(_) => r.error(
                    value.pos,
                    format!("`args` is {}", value.describe()),
                    "a JSON object, e.g. {\"input\": \"Hello\"}",
                ),
                Err(e) => r.error(e.pos, e.message, "JSON"),
            },
            _ => {}
        }
    }
}

fn describe(node: &Node) -> String {
    match &node.kind {
        Kind::Str(s) if s.chars().count() <= 40 => format!("the string `{s}`"),
        Kind::Int(i) => format!("`{i}`"),
        _ => node.describe().to_owned(),
    }
}

/// Why a listed file cannot be one (`does not exist`, `is a FIFO, not a regular file`, ...),
/// or `None` for a regular file. Opened as project files are read: nothing waits on a FIFO.
fn not_a_file(path: &Path) -> Option<String> {
    match crate::file::open_regular(path) {
        Ok(_) => None,
        Err(crate::file::ReadError::NotFound) => Some("does not exist".into()),
        Err(crate::file::ReadError::NotRegular { kind }) => {
            Some(format!("is {kind}, not a regular file"))
        }
        Err(e) => Some(format!("cannot be opened: {e}")),
    }
}
