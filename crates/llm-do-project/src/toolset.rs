//! The entries of a worker's `tools` list: a name (another worker, a Rust tool of the host
//! program, or a built-in tool), or a built-in toolset with its options.
//!
//! ```yaml
//! tools:
//!   - summarize_chunk                                  # a name
//!   - filesystem: { root: ./docs, read_only: true }    # read_file, list_files (+ write_file)
//!   - shell: { rules: [ { allow: "git log" }, { ask: "find", args: ["-delete"] } ] }
//! ```
//!
//! Built-in tools join the runtime's single name space under fixed names (`read_file`,
//! `list_files`, `write_file`, `shell`), so every worker of a project that uses a toolset must
//! give it the same options (`read_only` excepted: a read-only worker is simply not offered
//! `write_file`).

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
}

impl ToolEntry {
    /// The tool names this entry offers the worker's model.
    ///
    /// ```
    /// use llm_do_project::ToolEntry;
    /// assert_eq!(ToolEntry::Name("search".into()).tool_names(), ["search"]);
    /// ```
    pub fn tool_names(&self) -> Vec<String> {
        match self {
            ToolEntry::Name(n) => vec![n.clone()],
            ToolEntry::Filesystem(fs) if fs.read_only => {
                vec!["read_file".into(), "list_files".into()]
            }
            ToolEntry::Filesystem(_) => {
                vec!["read_file".into(), "list_files".into(), "write_file".into()]
            }
            ToolEntry::Shell(_) => vec!["shell".into()],
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
    /// Most characters per `read_file` call (`max_read_chars:`).
    pub max_read_chars: Option<usize>,
    /// Most entries per `list_files` call (`max_list_entries:`).
    pub max_list_entries: Option<usize>,
}

impl FilesystemOptions {
    /// `true` when both configure the same shared toolset (everything but `read_only`).
    pub(crate) fn same_toolset(&self, other: &Self) -> bool {
        self.root == other.root
            && self.max_read_chars == other.max_read_chars
            && self.max_list_entries == other.max_list_entries
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
}

/// The keys of a `filesystem` entry.
pub(crate) const FILESYSTEM_KEYS: &[&str] =
    &["root", "read_only", "max_read_chars", "max_list_entries"];
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
    pub(crate) max_read_chars: Option<usize>,
    #[serde(default)]
    pub(crate) max_list_entries: Option<usize>,
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
            max_read_chars: None,
            max_list_entries: None,
        };
        assert_eq!(ToolEntry::Filesystem(fs).tool_names(), ["read_file", "list_files"]);
    }
}
