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
