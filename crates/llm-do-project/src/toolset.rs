//! The entries of a worker's `tools` list: a name (another worker, a Rust tool of the host
//! program, or a built-in tool), or a built-in toolset with its options.
//!
//! ```yaml
//! tools:
//!   - summarize_chunk                                  # a name
//!   - filesystem: { root: ./docs, read_only: true }    # read_file, list_files (+ write_file)
//!   - filesystem: { root: ./docs, only: [write_file] } # just the tools named
//!   - shell: { rules: [ { allow: "git log" }, { ask: "find", args: ["-delete"] } ] }
//! ```
//!
//! Built-in tools join the runtime's single name space under fixed names (`read_file`,
//! `list_files`, `write_file`, `shell`), so every worker of a project that uses a toolset must
//! give it the same options (`read_only` and `only` excepted: they choose which of the toolset's
//! tools this worker is offered). Offering a small model fewer tools is often what keeps it on
//! task.

use llm_do_core::approval::Verdict;
use llm_do_tools::shell::ShellRule;
use serde::Deserialize;
use std::path::PathBuf;

/// One entry of a worker's `tools`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolEntry {
    /// A worker or tool called by name: another file worker, a Rust tool or worker of the host
    /// program, or a built-in tool such as `read_file`.
    Name(String),
    /// The built-in filesystem toolset.
    Filesystem(FilesystemOptions),
    /// The built-in shell.
    Shell(ShellOptions),
    /// A toolset named in a `.agent` file's `toolsets:` that is neither built in nor another
    /// agent: resolved against the host program — the tools of its
    /// [`Registry::toolset`](llm_do_core::Registry::toolset) of that name, else its callable
    /// of that name.
    Toolset(String),
    /// Tools of an MCP server declared in `llm-do.toml` (`[mcp.NAME]`): `orders.lookup_order`
    /// (one tool, named `orders__lookup_order` in the name space) or `orders.*` (all of them).
    Mcp {
        /// The server's name.
        server: String,
        /// The tool, `None` for `*`.
        tool: Option<String>,
    },
}

/// Separates an MCP server's name from its tool's in the name space (`orders__lookup_order`);
/// the scheme is documented in `llm_do_mcp::names`.
pub const MCP_SEPARATOR: &str = "__";

impl ToolEntry {
    /// The tool names this entry offers the worker's model.
    ///
    /// ```
    /// use llm_do_project::ToolEntry;
    /// assert_eq!(ToolEntry::Name("search".into()).tool_names(), ["search"]);
    /// ```
    pub fn tool_names(&self) -> Vec<String> {
        match self {
            ToolEntry::Name(n) | ToolEntry::Toolset(n) => vec![n.clone()],
            ToolEntry::Filesystem(fs) => FILESYSTEM_TOOLS
                .iter()
                .filter(|tool| !(fs.read_only && **tool == "write_file"))
                .filter(|tool| fs.only.as_ref().is_none_or(|only| only.iter().any(|o| o == *tool)))
                .map(|tool| (*tool).to_owned())
                .collect(),
            ToolEntry::Shell(_) => vec!["shell".into()],
            ToolEntry::Mcp { server, tool: Some(tool) } => {
                vec![format!("{server}{MCP_SEPARATOR}{tool}")]
            }
            // Known once the server has listed its tools: see `Project::check`.
            ToolEntry::Mcp { tool: None, .. } => Vec::new(),
        }
    }
}

/// Options of the `filesystem` toolset ([`llm_do_tools::fs::Filesystem`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilesystemOptions {
    /// The directory the tools are confined to, resolved against the project directory
    /// (`root:`, default: the project directory).
    pub root: PathBuf,
    /// Leaves `write_file` out of this worker's tools (`read_only:`, default `false`).
    pub read_only: bool,
    /// Offers this worker only these of the toolset's tools (`only:`, e.g. `[write_file]`;
    /// default: all of them). Each is one of `read_file`, `list_files`, `write_file`.
    pub only: Option<Vec<String>>,
    /// Most characters per `read_file` call (`max_read_chars:`).
    pub max_read_chars: Option<usize>,
    /// Most entries per `list_files` call (`max_list_entries:`).
    pub max_list_entries: Option<usize>,
    /// Most characters of content per `write_file` call (`max_write_chars:`), in the tool's
    /// schema: a grammar-constrained local model cannot write past it.
    pub max_write_chars: Option<usize>,
    /// Most characters of a path given to `read_file` or `write_file` (`max_path_chars:`).
    pub max_path_chars: Option<usize>,
}

impl FilesystemOptions {
    /// `true` when both configure the same shared toolset (everything but `read_only`).
    pub(crate) fn same_toolset(&self, other: &Self) -> bool {
        self.root == other.root
            && self.max_read_chars == other.max_read_chars
            && self.max_list_entries == other.max_list_entries
            && self.max_write_chars == other.max_write_chars
            && self.max_path_chars == other.max_path_chars
    }
}

/// Options of the `shell` toolset ([`llm_do_tools::shell::Shell`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ShellOptions {
    /// The working directory, resolved against the project directory (`root:`, default: the
    /// project directory).
    pub root: PathBuf,
    /// Ordered rules, first match wins, unmatched commands are denied (`rules:`).
    pub rules: Vec<ShellRule>,
    /// Time limit per command in seconds (`timeout_secs:`).
    pub timeout_secs: Option<u64>,
    /// Most bytes of output kept per stream (`max_output:`).
    pub max_output: Option<usize>,
    /// Whether a command with shell syntax is a denial rather than an error the model is told
    /// ([`Shell::deny_shell_syntax`](llm_do_tools::shell::Shell::deny_shell_syntax)): `true`
    /// for the shell toolsets of `.agent` files, as upstream.
    pub deny_shell_syntax: bool,
}

/// The keys of a `filesystem` entry.
pub(crate) const FILESYSTEM_KEYS: &[&str] = &[
    "root",
    "read_only",
    "only",
    "max_read_chars",
    "max_list_entries",
    "max_write_chars",
    "max_path_chars",
];
/// The tools of the filesystem toolset, in the order they are offered.
pub(crate) const FILESYSTEM_TOOLS: &[&str] = &["read_file", "list_files", "write_file"];
/// The keys of a `shell` entry.
pub(crate) const SHELL_KEYS: &[&str] = &["root", "rules", "timeout_secs", "max_output"];
/// The keys of one shell rule, for messages.
pub(crate) const SHELL_RULE_KEYS: &str = "exactly one of `allow`, `ask` or `deny` (a command prefix), and optionally `args`, `arg_prefixes` and `reason`";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesystemRaw {
    #[serde(default)]
    pub(crate) root: Option<String>,
    #[serde(default)]
    pub(crate) read_only: bool,
    #[serde(default)]
    pub(crate) only: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) max_read_chars: Option<usize>,
    #[serde(default)]
    pub(crate) max_list_entries: Option<usize>,
    #[serde(default)]
    pub(crate) max_write_chars: Option<usize>,
    #[serde(default)]
    pub(crate) max_path_chars: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellRaw {
    #[serde(default)]
    pub(crate) root: Option<String>,
    #[serde(default)]
    pub(crate) timeout_secs: Option<u64>,
    #[serde(default)]
    pub(crate) max_output: Option<usize>,
}

/// One shell rule as written: `{ allow: "git log" }`, `{ ask: "find", args: ["-delete"] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellRuleRaw {
    #[serde(default)]
    allow: Option<String>,
    #[serde(default)]
    ask: Option<String>,
    #[serde(default)]
    deny: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    arg_prefixes: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl ShellRuleRaw {
    /// The rule, or why it is not one.
    pub(crate) fn to_rule(&self) -> Result<ShellRule, String> {
        let (verdict, prefix) = match (&self.allow, &self.ask, &self.deny) {
            (Some(p), None, None) => (Verdict::Allow, p),
            (None, Some(p), None) => (Verdict::Ask, p),
            (None, None, Some(p)) => (Verdict::Deny, p),
            (None, None, None) => return Err("a shell rule needs a verdict".into()),
            _ => return Err("a shell rule has more than one verdict".into()),
        };
        if prefix.trim().is_empty() {
            return Err("the command prefix of a shell rule is empty".into());
        }
        let mut rule = ShellRule::new(verdict, prefix);
        for arg in &self.args {
            rule = rule.with_arg(arg.clone());
        }
        for prefix in &self.arg_prefixes {
            rule = rule.with_arg_prefix(prefix.clone());
        }
        if let Some(reason) = &self.reason {
            rule = rule.reason(reason.clone());
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shell_rules_need_exactly_one_verdict() {
        let rule: ShellRuleRaw =
            serde_json::from_value(json!({"ask": "find", "args": ["-delete"]})).unwrap();
        let rule = rule.to_rule().unwrap();
        assert_eq!(rule.verdict(), Verdict::Ask);
        assert!(rule.matches(&["find".into(), ".".into(), "-delete".into()]));
        let two: ShellRuleRaw = serde_json::from_value(json!({"allow": "a", "deny": "b"})).unwrap();
        assert!(two.to_rule().unwrap_err().contains("more than one"));
        let none: ShellRuleRaw = serde_json::from_value(json!({"args": ["x"]})).unwrap();
        assert!(none.to_rule().is_err());
        let empty: ShellRuleRaw = serde_json::from_value(json!({"allow": "  "})).unwrap();
        assert!(empty.to_rule().is_err());
    }

    #[test]
    fn read_only_filesystems_offer_no_write() {
        let fs = FilesystemOptions {
            root: ".".into(),
            read_only: true,
            only: None,
            max_read_chars: None,
            max_list_entries: None,
            max_write_chars: None,
            max_path_chars: None,
        };
        assert_eq!(ToolEntry::Filesystem(fs.clone()).tool_names(), ["read_file", "list_files"]);
        let narrowed = FilesystemOptions {
            read_only: false,
            only: Some(vec!["write_file".into()]),
            ..fs.clone()
        };
        assert_eq!(ToolEntry::Filesystem(narrowed).tool_names(), ["write_file"]);
        let both =
            FilesystemOptions { only: Some(vec!["list_files".into(), "read_file".into()]), ..fs };
        assert_eq!(ToolEntry::Filesystem(both).tool_names(), ["read_file", "list_files"]);
    }
}
