//! Token and request accounting, and the limits a runtime enforces per run.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Requests and tokens used by one model response, one call (including its nested calls), or a
/// whole run.
///
/// ```
/// use llm_do_core::Usage;
/// let total = Usage::tokens(100, 20) + Usage::tokens(50, 5);
/// assert_eq!(total.total_tokens(), 175);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// Model requests made, failed ones included (as the run's request budget counts them).
    #[serde(default)]
    pub requests: u64,
    /// Prompt tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub output_tokens: u64,
}

impl Usage {
    /// Usage of a single response with these token counts (`requests` stays 0; the runtime
    /// counts requests itself).
    ///
    /// ```
    /// # use llm_do_core::Usage;
    /// assert_eq!(Usage::tokens(3, 4).requests, 0);
    /// ```
    pub fn tokens(input_tokens: u64, output_tokens: u64) -> Self {
        Self { requests: 0, input_tokens, output_tokens }
    }

    /// Input plus output tokens.
    ///
    /// ```
    /// # use llm_do_core::Usage;
    /// assert_eq!(Usage::tokens(3, 4).total_tokens(), 7);
    /// ```
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// `true` when nothing was used.
    ///
    /// ```
    /// # use llm_do_core::Usage;
    /// assert!(Usage::default().is_zero());
    /// ```
    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests.saturating_add(rhs.requests),
            input_tokens: self.input_tokens.saturating_add(rhs.input_tokens),
            output_tokens: self.output_tokens.saturating_add(rhs.output_tokens),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

/// Limits enforced by the runtime. Depth is checked on every call; requests and tokens are
/// budgets shared by every call of one run (one [`Runtime::ctx`](crate::Runtime::ctx)).
///
/// ```
/// use llm_do_core::Limits;
/// let limits = Limits::default();
/// assert_eq!(limits.max_depth, 5);
/// assert_eq!(limits.max_requests, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest allowed call (calls from the root context run at depth 1). Default 5.
    pub max_depth: u32,
    /// Most model requests one run may make. Default: unlimited.
    pub max_requests: Option<u64>,
    /// Most input + output tokens one run may use; a response whose provider reports no token
    /// counts is counted with its [estimate](crate::estimate). Default: unlimited. Checked
    /// before each request (none starts once it is spent) and after each response (the first
    /// over it ends the run): a run goes over by at most the responses in flight at once.
    pub max_total_tokens: Option<u64>,
    /// Most tool calls the models of one run may request (each call a model asks for counts,
    /// whether it is allowed, denied or fails). Default: unlimited.
    #[serde(default)]
    pub max_tool_calls: Option<u64>,
    /// Whether a tool (a call that is not a worker) may run one level past `max_depth`, so that
    /// the limit counts nested *worker* calls and a worker at `max_depth` can still use its
    /// tools — the Python llm-do's `max_depth`, which counts agent calls only. Default `false`:
    /// every call counts.
    #[serde(default)]
    pub tools_past_max_depth: bool,
    /// Whether a call past `max_depth` that a model requested ends the run with
    /// [`Error::DepthExceeded`](crate::Error::DepthExceeded), as the Python llm-do's does.
    /// Default `false`: the calling model is told, as the tool's error, and can answer without it.
    #[serde(default)]
    pub max_depth_ends_run: bool,
    /// Most tool calls of one model answer that run at the same time; the others wait their
    /// turn (their results keep the answer's order). A model can ask for thousands in one
    /// answer, and each may start a process. Default 16; 0 counts as 1.
    #[serde(default = "default_parallel_tool_calls")]
    pub max_parallel_tool_calls: u32,
}

fn default_parallel_tool_calls() -> u32 {
    16
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 5,
            max_requests: None,
            max_total_tokens: None,
            max_tool_calls: None,
            tools_past_max_depth: false,
            max_depth_ends_run: false,
            max_parallel_tool_calls: default_parallel_tool_calls(),
        }
    }
}

/// Which budget a run exceeded.
///
/// ```
/// # use llm_do_core::usage::BudgetKind;
/// assert_eq!(BudgetKind::Requests.to_string(), "model requests");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetKind {
    /// [`Limits::max_requests`].
    Requests,
    /// [`Limits::max_total_tokens`].
    TotalTokens,
    /// [`Limits::max_tool_calls`].
    ToolCalls,
}

impl std::fmt::Display for BudgetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BudgetKind::Requests => "model requests",
            BudgetKind::TotalTokens => "total tokens",
            BudgetKind::ToolCalls => "tool calls",
        })
    }
}
