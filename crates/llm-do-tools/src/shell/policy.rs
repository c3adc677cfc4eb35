//! Shell rules as approval-policy rules, so that the runtime's gate asks before an `Ask`
//! command runs.
//!
//! The gate matches the call's raw arguments (`/command`, a string) before the tool runs; the
//! shell rules match the parsed argument vector. For a *plain* command — one without quotes,
//! backslashes or `#` — splitting is exactly splitting on spaces and tabs, so each shell rule
//! becomes one regular-expression rule that matches exactly the plain commands whose argument
//! vector the shell rule matches. Rules therefore decide plain commands identically in both
//! places, in the same order.
//!
//! Other commands cannot be matched exactly on their text (`find . "-delete"` is
//! `find . -delete`), so the policy never allows them silently: they are asked about. After
//! the gate, the tool applies its own rules to the parsed arguments and refuses what they deny,
//! whatever the gate said.

use super::rules::{ArgMatch, ShellRule};
use crate::error::ToolError;
use llm_do_core::approval::{Pattern, Rule, Verdict};

/// Matches the commands the policy can decide exactly.
const PLAIN: &str = r#"^[^'"\\#]*$"#;

/// Matches the commands it cannot.
const NOT_PLAIN: &str = r#"['"\\#]"#;

/// The policy rules for the shell tool named `tool` with `rules`: one per shell rule that can
/// match a plain command, then `Ask` for commands that are not plain (when some rule can run
/// anything), then `Deny` for the rest.
pub(crate) fn approval_rules(tool: &str, rules: &[ShellRule]) -> Result<Vec<Rule>, ToolError> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| can_match_plain(r)) {
        let invalid = |e: llm_do_core::Error| ToolError::InvalidRule {
            rule: rule.to_string(),
            reason: e.to_string(),
        };
        let mut policy_rule = Rule::new(tool, rule.verdict())
            .map_err(invalid)?
            .arg("/command", Pattern::regex(PLAIN).map_err(invalid)?)
            .reason(format!("shell rule {rule}"));
        if !rule.prefix().is_empty() {
            let re = format!("^[ \\t]*{}(?:[ \\t].*)?$", prefix_regex(rule));
            policy_rule = policy_rule.arg("/command", Pattern::regex(&re).map_err(invalid)?);
        }
        for arg in rule.args() {
            let head = if rule.prefix().is_empty() {
                String::new()
            } else {
                format!("{}[ \\t]+", prefix_regex(rule))
            };
            let word = match arg {
                ArgMatch::Exact(a) => regex::escape(a),
                ArgMatch::Prefix(p) if p.is_empty() => "[^ \\t]+".to_owned(),
                ArgMatch::Prefix(p) => format!("{}[^ \\t]*", regex::escape(p)),
                // `-` then a character other than `-`, the letter somewhere after the `-`.
                ArgMatch::ShortOption('-') => "-[^- \\t][^ \\t]*-[^ \\t]*".to_owned(),
                ArgMatch::ShortOption(c) => {
                    let c = regex::escape(&c.to_string());
                    format!("-(?:{c}|[^- \\t][^ \\t]*{c})[^ \\t]*")
                }
            };
            let re = format!("^[ \\t]*{head}(?:[^ \\t]+[ \\t]+)*{word}(?:[ \\t].*)?$");
            policy_rule = policy_rule.arg("/command", Pattern::regex(&re).map_err(invalid)?);
        }
        out.push(policy_rule);
    }
    let internal = |e: llm_do_core::Error| ToolError::Internal(e.to_string());
    if rules.iter().any(|r| r.verdict() != Verdict::Deny) {
        out.push(
            Rule::new(tool, Verdict::Ask)
                .map_err(internal)?
                .arg("/command", Pattern::regex(NOT_PLAIN).map_err(internal)?)
                .reason(
                    "the command has quotes, backslashes or `#`, which the policy cannot match \
                     exactly; the shell tool still applies its rules to the parsed arguments",
                ),
        );
    }
    out.push(
        Rule::new(tool, Verdict::Deny)
            .map_err(internal)?
            .reason("no shell rule allows this command (default deny)"),
    );
    Ok(out)
}

/// The rule's prefix words, as a regular expression.
fn prefix_regex(rule: &ShellRule) -> String {
    rule.prefix().iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("[ \\t]+")
}

/// Whether the words of a rule can all occur in a plain command (a word that needs quoting
/// can only be matched by a command that is not plain, which the policy asks about anyway).
fn can_match_plain(rule: &ShellRule) -> bool {
    let plain = |w: &str| {
        !w.chars().any(|c| matches!(c, ' ' | '\t' | '\'' | '"' | '\\' | '#') || c.is_control())
    };
    rule.prefix().iter().all(|w| !w.is_empty() && plain(w))
        && rule.args().iter().all(|a| match a {
            ArgMatch::Exact(a) => !a.is_empty() && plain(a),
            ArgMatch::Prefix(p) => plain(p),
            ArgMatch::ShortOption(c) => plain(&c.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{evaluate, parse_command, read_only_rules};
    use llm_do_core::approval::ApprovalPolicy;

    fn policy(rules: &[ShellRule]) -> ApprovalPolicy {
        approval_rules("shell", rules)
            .unwrap()
            .into_iter()
            .fold(ApprovalPolicy::new(), ApprovalPolicy::rule)
    }

    fn gate(policy: &ApprovalPolicy, command: &str) -> Verdict {
        policy.evaluate("shell", &serde_json::json!({ "command": command }), Some(Verdict::Ask)).0
    }

    fn rules() -> Vec<ShellRule> {
        let mut rules = vec![
            ShellRule::deny("git").with_arg_prefix("--output"),
            ShellRule::allow("git log"),
            ShellRule::ask("git"),
            ShellRule::ask("rm").with_arg("-r").with_arg("-f"),
            ShellRule::allow("rm"),
            ShellRule::deny("").with_arg("--evil"),
            ShellRule::allow("echo a.b"),
            ShellRule::deny("sort").with_short_option('o'),
            ShellRule::allow("sort"),
        ];
        rules.extend(read_only_rules());
        rules
    }

    /// A small deterministic generator of commands over words that exercise the rules.
    fn commands() -> Vec<String> {
        let words = [
            "git",
            "log",
            "logs",
            "-3",
            "--output=x",
            "--output",
            "rm",
            "-r",
            "-f",
            "-rf",
            "find",
            ".",
            "-delete",
            "-deleted",
            "-exec",
            "grep",
            "-ri",
            "echo",
            "a.b",
            "axb",
            "--evil",
            "ls",
            "'-delete'",
            "\"git\"",
            "\\-f",
            "#",
            "x#y",
            "$HOME",
            "*",
            "sort",
            "-o",
            "-ro",
            "-oout",
            "-",
            "--o",
            "--so",
        ];
        let seps = [" ", "  ", "\t", " \t "];
        let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        let mut next = move |n: usize| rng.usize(..n);
        (0..20_000)
            .map(|_| {
                let len = 1 + next(5);
                let mut c = String::new();
                if next(4) == 0 {
                    c.push(' ');
                }
                for i in 0..len {
                    if i > 0 {
                        c.push_str(seps[next(seps.len())]);
                    }
                    c.push_str(words[next(words.len())]);
                }
                if next(4) == 0 {
                    c.push('\t');
                }
                c
            })
            .collect()
    }

    #[test]
    fn the_policy_decides_plain_commands_exactly_like_the_tool() {
        let rules = rules();
        let policy = policy(&rules);
        for command in commands() {
            let Ok(argv) = parse_command(&command) else { continue };
            let tool = evaluate(&rules, &argv).0;
            let gate = gate(&policy, &command);
            if command.contains(['\'', '"', '\\', '#']) {
                assert!(
                    gate != Verdict::Allow || tool == Verdict::Allow,
                    "{command:?}: the policy allows what the tool would ask about"
                );
            } else {
                assert_eq!(gate, tool, "{command:?} (argv {argv:?})");
            }
        }
    }

    #[test]
    fn commands_that_are_not_plain_are_asked_about() {
        let policy = policy(&rules());
        assert_eq!(gate(&policy, "find . '-delete'"), Verdict::Ask);
        assert_eq!(gate(&policy, r"find . \-delete"), Verdict::Ask);
        assert_eq!(gate(&policy, "grep -ri 'two words' ."), Verdict::Ask);
        assert_eq!(gate(&policy, "grep -ri todo ."), Verdict::Allow);
        assert_eq!(gate(&policy, "find . -delete"), Verdict::Ask);
        assert_eq!(gate(&policy, "curl http://x"), Verdict::Deny);
        assert_eq!(gate(&policy, "git log --output=x"), Verdict::Deny);
    }

    #[test]
    fn rules_that_need_quoting_are_left_to_the_tool() {
        let rules = [ShellRule::allow("echo").with_arg("a b"), ShellRule::allow("ls")];
        let policy_rules = approval_rules("shell", &rules).unwrap();
        assert_eq!(policy_rules.len(), 3, "`ls`, then not-plain → ask, then deny");
        let only_deny = approval_rules("shell", &[ShellRule::deny("rm")]).unwrap();
        let described: Vec<String> = only_deny.iter().map(Rule::describe).collect();
        assert_eq!(described.len(), 2);
        assert!(
            described[1].ends_with("→ deny (no shell rule allows this command (default deny))")
        );
    }
}
