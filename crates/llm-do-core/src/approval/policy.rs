//! Approval rules: which calls are allowed, asked about, or denied.

use super::{ApprovalReason, GatedArgs};
use crate::CallableSpec;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// What the policy says about a call.
///
/// ```
/// use llm_do_core::approval::Verdict;
/// assert_eq!("ask".parse::<Verdict>().unwrap(), Verdict::Ask);
/// assert!("maybe".parse::<Verdict>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run without asking.
    Allow,
    /// Ask the [`Approver`](super::Approver).
    Ask,
    /// Never run.
    Deny,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Allow => "allow",
            Verdict::Ask => "ask",
            Verdict::Deny => "deny",
        })
    }
}

impl std::str::FromStr for Verdict {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "allow" => Ok(Verdict::Allow),
            "ask" => Ok(Verdict::Ask),
            "deny" => Ok(Verdict::Deny),
            other => Err(Error::InvalidConfig {
                message: format!(
                    "`{other}` is not an approval verdict; expected `allow`, `ask` or `deny`"
                ),
            }),
        }
    }
}

/// A matcher for one string (or number, compared as its JSON text).
///
/// ```
/// use llm_do_core::approval::Pattern;
/// let notes = Pattern::glob("notes/**").unwrap();
/// assert!(notes.matches(&serde_json::json!("notes/2024/a.md")));
/// assert!(!notes.matches(&serde_json::json!("secrets/a.md")));
/// assert!(Pattern::prefix("git log").matches(&serde_json::json!("git log --oneline")));
/// assert!(Pattern::regex(r"^\d+$").unwrap().matches(&serde_json::json!(42)));
/// ```
#[derive(Debug, Clone)]
pub enum Pattern {
    /// A glob: `*` and `?` stay within one `/`-separated segment, `**` crosses segments.
    Glob(globset::GlobMatcher, String),
    /// A regular expression (unanchored unless it says `^…$`).
    Regex(regex::Regex),
    /// The text starts with this prefix.
    Prefix(String),
    /// The value equals this JSON value exactly.
    Exact(Value),
}

impl Pattern {
    /// A glob pattern; fails on malformed globs and on globs beyond the
    /// [bounds](crate::bounds::check_glob).
    ///
    /// ```
    /// # use llm_do_core::approval::Pattern;
    /// assert!(Pattern::glob("a/[").is_err());
    /// ```
    pub fn glob(pattern: &str) -> Result<Self> {
        let invalid = |e: &dyn fmt::Display| Error::InvalidConfig {
            message: format!("invalid glob `{}`: {e}", crate::bounds::excerpt(pattern)),
        };
        crate::bounds::check_glob(pattern).map_err(|e| invalid(&e))?;
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| invalid(&e))?;
        Ok(Pattern::Glob(glob.compile_matcher(), pattern.to_owned()))
    }

    /// A regular expression; fails on malformed ones and on ones beyond the
    /// [bounds](crate::bounds::regex).
    ///
    /// ```
    /// # use llm_do_core::approval::Pattern;
    /// assert!(Pattern::regex("(").is_err());
    /// ```
    pub fn regex(pattern: &str) -> Result<Self> {
        crate::bounds::regex(pattern).map(Pattern::Regex).map_err(|e| Error::InvalidConfig {
            message: format!("invalid regex `{}`: {e}", crate::bounds::excerpt(pattern)),
        })
    }

    /// A prefix.
    ///
    /// ```
    /// # use llm_do_core::approval::Pattern;
    /// assert!(!Pattern::prefix("git").matches(&serde_json::json!("rm -rf git")));
    /// ```
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Pattern::Prefix(prefix.into())
    }

    /// An exact JSON value.
    ///
    /// ```
    /// # use llm_do_core::approval::Pattern;
    /// assert!(Pattern::exact(serde_json::json!(true)).matches(&serde_json::json!(true)));
    /// ```
    pub fn exact(value: Value) -> Self {
        Pattern::Exact(value)
    }

    /// Whether a value matches.
    ///
    /// ```
    /// # use llm_do_core::approval::Pattern;
    /// assert!(Pattern::glob("*.md").unwrap().matches(&serde_json::json!("a.md")));
    /// assert!(!Pattern::glob("*.md").unwrap().matches(&serde_json::json!("dir/a.md")));
    /// ```
    pub fn matches(&self, value: &Value) -> bool {
        if let Pattern::Exact(expected) = self {
            return expected == value;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => return false,
        };
        match self {
            Pattern::Glob(m, _) => m.is_match(&text),
            Pattern::Regex(r) => r.is_match(&text),
            Pattern::Prefix(p) => text.starts_with(p.as_str()),
            Pattern::Exact(_) => false,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Glob(_, g) => write!(f, "glob {g:?}"),
            Pattern::Regex(r) => write!(f, "regex {:?}", r.as_str()),
            Pattern::Prefix(p) => write!(f, "prefix {p:?}"),
            Pattern::Exact(v) => write!(f, "= {v}"),
        }
    }
}

/// Matches the argument at a JSON pointer (e.g. `/path`) against a [`Pattern`]. A missing
/// argument does not match.
///
/// ```
/// use llm_do_core::approval::{ArgMatcher, Pattern};
/// let m = ArgMatcher::new("/path", Pattern::glob("notes/**").unwrap());
/// assert!(m.matches(&serde_json::json!({"path": "notes/a.md"})));
/// assert!(!m.matches(&serde_json::json!({})));
/// ```
#[derive(Debug, Clone)]
pub struct ArgMatcher {
    pointer: String,
    pattern: Pattern,
}

impl ArgMatcher {
    /// Builds a matcher; `pointer` is a JSON pointer into the arguments object.
    ///
    /// ```
    /// # use llm_do_core::approval::{ArgMatcher, Pattern};
    /// let m = ArgMatcher::new("/options/force", Pattern::exact(serde_json::json!(true)));
    /// assert!(m.matches(&serde_json::json!({"options": {"force": true}})));
    /// ```
    pub fn new(pointer: impl Into<String>, pattern: Pattern) -> Self {
        Self { pointer: pointer.into(), pattern }
    }

    /// Whether the arguments match.
    ///
    /// ```
    /// # use llm_do_core::approval::{ArgMatcher, Pattern};
    /// assert!(!ArgMatcher::new("/x", Pattern::prefix("a")).matches(&serde_json::json!({"x": "b"})));
    /// ```
    pub fn matches(&self, args: &Value) -> bool {
        args.pointer(&self.pointer).is_some_and(|v| self.pattern.matches(v))
    }
}

/// One rule: a tool-name glob, optional argument matchers (all must match), and a verdict.
///
/// ```
/// use llm_do_core::approval::{Pattern, Rule, Verdict};
/// let rule = Rule::new("shell", Verdict::Allow).unwrap()
///     .arg("/command", Pattern::prefix("git log"));
/// assert!(rule.matches("shell", &serde_json::json!({"command": "git log -3"})));
/// assert!(!rule.matches("shell", &serde_json::json!({"command": "rm -rf /"})));
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    tool: globset::GlobMatcher,
    tool_pattern: String,
    args: Vec<ArgMatcher>,
    verdict: Verdict,
    reason: Option<String>,
}

impl Rule {
    /// A rule for tools whose name matches the glob `tool` (e.g. `"write_*"`, `"*"`).
    ///
    /// ```
    /// # use llm_do_core::approval::{Rule, Verdict};
    /// assert!(Rule::new("fs_*", Verdict::Ask).unwrap().matches("fs_write", &serde_json::json!({})));
    /// ```
    pub fn new(tool: &str, verdict: Verdict) -> Result<Self> {
        let invalid = |e: &dyn fmt::Display| Error::InvalidConfig {
            message: format!("invalid tool-name glob `{}`: {e}", crate::bounds::excerpt(tool)),
        };
        crate::bounds::check_glob(tool).map_err(|e| invalid(&e))?;
        let glob = globset::Glob::new(tool).map_err(|e| invalid(&e))?;
        Ok(Self {
            tool: glob.compile_matcher(),
            tool_pattern: tool.to_owned(),
            args: Vec::new(),
            verdict,
            reason: None,
        })
    }

    /// Adds an argument matcher.
    ///
    /// ```
    /// # use llm_do_core::approval::{Pattern, Rule, Verdict};
    /// let r = Rule::new("write_file", Verdict::Allow).unwrap().arg("/path", Pattern::glob("notes/**").unwrap());
    /// assert!(!r.matches("write_file", &serde_json::json!({"path": "../etc/passwd"})));
    /// ```
    pub fn arg(mut self, pointer: impl Into<String>, pattern: Pattern) -> Self {
        self.args.push(ArgMatcher::new(pointer, pattern));
        self
    }

    /// Sets a reason, shown to approvers and in denial messages.
    ///
    /// ```
    /// # use llm_do_core::approval::{Rule, Verdict};
    /// let r = Rule::new("rm", Verdict::Deny).unwrap().reason("deleting is never allowed");
    /// assert_eq!(r.describe(), "rm → deny (deleting is never allowed)");
    /// ```
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Whether the rule applies to this call.
    ///
    /// ```
    /// # use llm_do_core::approval::{Rule, Verdict};
    /// assert!(!Rule::new("a", Verdict::Ask).unwrap().matches("b", &serde_json::json!({})));
    /// ```
    pub fn matches(&self, tool: &str, args: &Value) -> bool {
        self.tool.is_match(tool) && self.args.iter().all(|m| m.matches(args))
    }

    /// The verdict.
    ///
    /// ```
    /// # use llm_do_core::approval::{Rule, Verdict};
    /// assert_eq!(Rule::new("a", Verdict::Ask).unwrap().verdict(), Verdict::Ask);
    /// ```
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// A one-line description: `tool [pointer pattern, …] → verdict (reason)`.
    ///
    /// ```
    /// # use llm_do_core::approval::{Pattern, Rule, Verdict};
    /// let r = Rule::new("shell", Verdict::Allow).unwrap().arg("/command", Pattern::prefix("ls"));
    /// assert_eq!(r.describe(), "shell [/command prefix \"ls\"] → allow");
    /// ```
    pub fn describe(&self) -> String {
        let mut s = self.tool_pattern.clone();
        if !self.args.is_empty() {
            let args: Vec<String> =
                self.args.iter().map(|m| format!("{} {}", m.pointer, m.pattern)).collect();
            s.push_str(&format!(" [{}]", args.join(", ")));
        }
        s.push_str(&format!(" → {}", self.verdict));
        if let Some(r) = &self.reason {
            s.push_str(&format!(" ({r})"));
        }
        s
    }
}

/// Ordered approval rules; the first matching rule decides.
///
/// ```
/// use llm_do_core::approval::{ApprovalPolicy, Pattern, Rule, Verdict};
/// let policy = ApprovalPolicy::new()
///     .rule(Rule::new("write_file", Verdict::Allow).unwrap().arg("/path", Pattern::glob("notes/**").unwrap()))
///     .rule(Rule::new("write_file", Verdict::Ask).unwrap());
/// let (verdict, _) = policy.evaluate("write_file", &serde_json::json!({"path": "notes/a.md"}), None);
/// assert_eq!(verdict, Verdict::Allow);
/// let (verdict, _) = policy.evaluate("write_file", &serde_json::json!({"path": "src/main.rs"}), None);
/// assert_eq!(verdict, Verdict::Ask);
/// let (verdict, _) = policy.evaluate("read_file", &serde_json::json!({}), Some(Verdict::Deny));
/// assert_eq!(verdict, Verdict::Deny, "no rule matched: the tool's own default applies");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ApprovalPolicy {
    rules: Vec<Rule>,
}

impl ApprovalPolicy {
    /// A policy with no rules: every callee's own default applies (`Allow` if it declares
    /// none).
    ///
    /// ```
    /// # use llm_do_core::approval::{ApprovalPolicy, Verdict};
    /// assert_eq!(ApprovalPolicy::new().evaluate("x", &serde_json::json!({}), None).0, Verdict::Allow);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a rule (later rules have lower priority).
    ///
    /// ```
    /// # use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
    /// let p = ApprovalPolicy::new().rule(Rule::new("*", Verdict::Ask).unwrap());
    /// assert_eq!(p.rules().len(), 1);
    /// ```
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The rules, in order.
    ///
    /// ```
    /// # use llm_do_core::approval::ApprovalPolicy;
    /// assert!(ApprovalPolicy::new().rules().is_empty());
    /// ```
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The verdict for a call and why: the first matching rule, else the callee's declared
    /// default, else `Allow`.
    ///
    /// ```
    /// # use llm_do_core::approval::{ApprovalPolicy, ApprovalReason, Verdict};
    /// let (v, why) = ApprovalPolicy::new().evaluate("t", &serde_json::json!({}), Some(Verdict::Ask));
    /// assert_eq!((v, &why), (Verdict::Ask, &ApprovalReason::Declared { verdict: Verdict::Ask }));
    /// assert_eq!(why.to_string(), "its declared approval (`ask`)");
    /// ```
    pub fn evaluate(
        &self,
        tool: &str,
        args: &Value,
        declared: Option<Verdict>,
    ) -> (Verdict, ApprovalReason) {
        if let Some((index, rule)) =
            self.rules.iter().enumerate().find(|(_, r)| r.matches(tool, args))
        {
            return (rule.verdict, ApprovalReason::Rule { index, rule: rule.describe() });
        }
        match declared {
            Some(v) => (v, ApprovalReason::Declared { verdict: v }),
            None => (Verdict::Allow, ApprovalReason::Default),
        }
    }

    /// The verdict for a call of `spec` with `gated` arguments, and why: [`evaluate`](Self::evaluate)
    /// on the canonical form, made stricter (`Deny` over `Ask` over `Allow`) by the first rule
    /// that matches each of its [reads](GatedArgs::reads) — so that a rule denying
    /// `read_file` on `secret/**` also denies a worker call whose attachment is `secret/key`.
    /// The read tool's own declared default does not apply: only rules written for it.
    ///
    /// ```
    /// use llm_do_core::approval::{ApprovalPolicy, Pattern, Rule, Verdict};
    /// use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
    /// use llm_do_core::{Runtime, WorkerSpecBuilder};
    /// use serde_json::json;
    /// struct Files;
    /// impl AttachmentLoader for Files {
    ///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
    ///         Attachment::from_bytes(b"x".to_vec(), Some(path))
    ///     }
    ///     fn read_rules(&self) -> Option<(&str, &str)> {
    ///         Some(("read_file", "path"))
    ///     }
    /// }
    /// let summarise = WorkerSpecBuilder::new("summarise").prompt("Summarise.")
    ///     .input_schema(json!({"type": "object", "properties": {
    ///         "doc": {"type": "string", "format": "attachment"}}}))
    ///     .build().unwrap();
    /// let rt = Runtime::builder().attachment_loader(Files).register(summarise.clone()).build();
    /// let policy = ApprovalPolicy::new().rule(
    ///     Rule::new("read_file", Verdict::Deny).unwrap().arg("/path", Pattern::glob("secret/**").unwrap()));
    /// let verdict = |doc: &str| {
    ///     let gated = rt.gated_args(&summarise, json!({"doc": doc})).unwrap();
    ///     policy.evaluate_gated(&summarise, &gated).0
    /// };
    /// assert_eq!(verdict("secret/key.md"), Verdict::Deny);
    /// assert_eq!(verdict("notes/plan.md"), Verdict::Allow);
    /// ```
    pub fn evaluate_gated(
        &self,
        spec: &CallableSpec,
        gated: &GatedArgs,
    ) -> (Verdict, ApprovalReason) {
        let strictness = |v: Verdict| match v {
            Verdict::Allow => 0,
            Verdict::Ask => 1,
            Verdict::Deny => 2,
        };
        let (mut verdict, mut reason) =
            self.evaluate(spec.name(), gated.for_rules(), spec.approval());
        for (tool, args) in gated.reads() {
            if verdict == Verdict::Deny {
                break;
            }
            let found = self.rules.iter().enumerate().find(|(_, r)| r.matches(tool, args));
            if let Some((index, rule)) = found
                && strictness(rule.verdict) > strictness(verdict)
            {
                verdict = rule.verdict;
                reason = ApprovalReason::Rule { index, rule: rule.describe() };
            }
        }
        (verdict, reason)
    }
}
