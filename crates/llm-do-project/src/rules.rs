//! Approval rules as written in worker files and `llm-do.toml`, turned into
//! [`llm_do_core::approval::Rule`]s.
//!
//! ```yaml
//! approval:
//!   - { tool: "write_*", verdict: ask }
//!   - { tool: read_file, verdict: allow, args: { /path: { glob: "docs/**" } }, reason: "docs are public" }
//! ```
//!
//! `tool` is a glob on the tool name; `args` maps JSON pointers into the arguments to one of
//! `glob`, `regex`, `prefix` or `equals`; `verdict` is `allow`, `ask` or `deny`.

use llm_do_core::approval::{Pattern, Rule, Verdict};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a rule in a file says, before it is compiled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    tool: String,
    verdict: Verdict,
    #[serde(default)]
    args: BTreeMap<String, PatternSpec>,
    #[serde(default)]
    reason: Option<String>,
}

/// How one argument is matched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum PatternSpec {
    Glob(String),
    Regex(String),
    Prefix(String),
    Equals(Value),
}

/// The keys a rule may have, for messages.
pub(crate) const RULE_KEYS: &str =
    "`tool`, `verdict` (`allow`, `ask` or `deny`), and optionally `args` and `reason`";

impl RuleSpec {
    /// Compiles the rule; the error says what is wrong with a glob, regex or pointer.
    pub(crate) fn compile(&self) -> Result<Rule, String> {
        let mut rule = Rule::new(&self.tool, self.verdict).map_err(|e| e.to_string())?;
        for (pointer, pattern) in &self.args {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!(
                    "`{pointer}` is not a JSON pointer into the arguments (for example `/path`)"
                ));
            }
            if pointer == "/path"
                && let Some(problem) = self.path_spelling(pattern)
            {
                return Err(problem);
            }
            let pattern = match pattern {
                PatternSpec::Glob(g) => Pattern::glob(g).map_err(|e| e.to_string())?,
                PatternSpec::Regex(r) => Pattern::regex(r).map_err(|e| e.to_string())?,
                PatternSpec::Prefix(p) => Pattern::prefix(p.clone()),
                PatternSpec::Equals(v) => Pattern::exact(v.clone()),
            };
            rule = rule.arg(pointer.clone(), pattern);
        }
        if let Some(reason) = &self.reason {
            rule = rule.reason(reason.clone());
        }
        Ok(rule)
    }
}

impl RuleSpec {
    /// Why a `/path` pattern of a rule for the filesystem tools could never match: they are
    /// matched against the resolved path relative to the root (`secret/b.txt`), so a rule
    /// spelled `./secret/**`, `secret//**` or with an absolute path would silently let every
    /// call through (a deny rule) or never allow one.
    fn path_spelling(&self, pattern: &PatternSpec) -> Option<String> {
        let text = match pattern {
            PatternSpec::Glob(s) | PatternSpec::Prefix(s) => s.as_str(),
            PatternSpec::Equals(Value::String(s)) => s.as_str(),
            _ => return None,
        };
        let tool_only = Rule::new(&self.tool, self.verdict).ok()?;
        let tool = llm_do_tools::fs::PATH_TOOLS
            .into_iter()
            .find(|name| tool_only.matches(name, &Value::Null))?;
        let how = "the filesystem tools' paths are matched resolved and relative to their root \
                   (for example `secret/b.txt`)";
        if text.starts_with('/') {
            return Some(format!(
                "`{text}` is an absolute path, which `{tool}`'s `/path` never is: {how}; write \
                 the path relative to the project root"
            ));
        }
        let normal = lexically_normal(text);
        (normal != text).then(|| {
            format!(
                "`{text}` is spelled differently from `{tool}`'s `/path`: {how}; write `{normal}`"
            )
        })
    }
}

/// `text` without leading `./`, repeated `/` and `/./` (what the filesystem tools' resolution
/// does to a spelling).
fn lexically_normal(text: &str) -> String {
    let mut parts: Vec<&str> = text.split('/').collect();
    let trailing = text.ends_with('/') && text.len() > 1;
    parts.retain(|p| !p.is_empty() && *p != ".");
    let mut normal = parts.join("/");
    if trailing {
        normal.push('/');
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> Result<RuleSpec, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn compiles_rules_with_argument_matchers() {
        let rule = spec(
            json!({"tool": "write_*", "verdict": "deny", "args": {"/path": {"glob": "secret/**"}}}),
        )
        .unwrap()
        .compile()
        .unwrap();
        assert!(rule.matches("write_file", &json!({"path": "secret/a"})));
        assert!(!rule.matches("write_file", &json!({"path": "notes/a"})));
        assert_eq!(rule.verdict(), Verdict::Deny);
    }

    /// A `/path` rule for the filesystem tools spelled as no resolved path is would never match
    /// (a deny rule would let every call through): refused, with the spelling that works.
    #[test]
    fn refuses_path_rules_spelled_as_no_resolved_path_is() {
        let rule = |tool: &str, glob: &str| {
            spec(json!({"tool": tool, "verdict": "deny", "args": {"/path": {"glob": glob}}}))
                .unwrap()
                .compile()
        };
        let err = rule("write_file", "./secret/**").unwrap_err();
        assert!(err.contains("write `secret/**`"), "{err}");
        let err = rule("*_file", "secret//a/./b").unwrap_err();
        assert!(err.contains("write `secret/a/b`"), "{err}");
        let err = rule("read_file", "/tmp/p/secret/**").unwrap_err();
        assert!(err.contains("is an absolute path"), "{err}");
        assert!(rule("write_file", "secret/**").is_ok());
        // Other tools' arguments are matched as given.
        assert!(rule("my_tool", "./x/**").is_ok());
        let prefix = spec(
            json!({"tool": "read_file", "verdict": "allow", "args": {"/path": {"prefix": "./docs"}}}),
        );
        assert!(prefix.unwrap().compile().unwrap_err().contains("write `docs`"));
    }

    #[test]
    fn rejects_bad_rules() {
        assert!(spec(json!({"tool": "x", "verdict": "maybe"})).is_err());
        assert!(spec(json!({"tool": "x", "verdict": "ask", "when": 1})).is_err());
        let bad_pointer =
            spec(json!({"tool": "x", "verdict": "ask", "args": {"path": {"prefix": "a"}}}));
        assert!(bad_pointer.unwrap().compile().unwrap_err().contains("JSON pointer"));
        let bad_regex =
            spec(json!({"tool": "x", "verdict": "ask", "args": {"/a": {"regex": "("}}}));
        assert!(bad_regex.unwrap().compile().is_err());
    }
}
