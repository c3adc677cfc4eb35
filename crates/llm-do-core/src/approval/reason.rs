//! Why the approval policy gave its verdict, as a value.

use super::Verdict;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why the policy gave its verdict: a rule matched, the callee declared one, or nothing did
/// (allowed by default). Displays as the sentence approvers and denial messages show.
///
/// ```
/// use llm_do_core::approval::{ApprovalPolicy, ApprovalReason, Rule, Verdict};
/// let policy = ApprovalPolicy::new().rule(Rule::new("rm", Verdict::Deny).unwrap());
/// let (_, why) = policy.evaluate("rm", &serde_json::json!({}), None);
/// assert_eq!(why, ApprovalReason::Rule { index: 0, rule: "rm → deny".into() });
/// assert_eq!(why.to_string(), "rule rm → deny");
/// assert!(!ApprovalReason::Default.is_explicit());
/// let json = serde_json::to_value(ApprovalReason::Declared { verdict: Verdict::Ask }).unwrap();
/// assert_eq!(json, serde_json::json!({"source": "declared", "verdict": "ask"}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ApprovalReason {
    /// A rule of the policy matched.
    Rule {
        /// Its position in [`ApprovalPolicy::rules`](super::ApprovalPolicy::rules).
        index: usize,
        /// Its [`Rule::describe`](super::Rule::describe) line.
        rule: String,
    },
    /// No rule matched; the callee declared this verdict (`#[tool(approval = "ask")]`).
    Declared {
        /// The declared verdict.
        verdict: Verdict,
    },
    /// No rule matched and the callee declares nothing: allowed.
    Default,
}

impl ApprovalReason {
    /// `true` when a rule or the callee's declaration decided (not the plain default).
    ///
    /// ```
    /// # use llm_do_core::approval::{ApprovalReason, Verdict};
    /// assert!(ApprovalReason::Declared { verdict: Verdict::Allow }.is_explicit());
    /// ```
    pub fn is_explicit(&self) -> bool {
        !matches!(self, ApprovalReason::Default)
    }
}

impl fmt::Display for ApprovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalReason::Rule { rule, .. } => write!(f, "rule {rule}"),
            ApprovalReason::Declared { verdict: v } => write!(f, "its declared approval (`{v}`)"),
            ApprovalReason::Default => f.write_str("no rule (allowed by default)"),
        }
    }
}
