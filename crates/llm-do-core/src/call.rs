//! Identity of one call: who called whom, at what depth, and which side of the stochastic
//! boundary it runs on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What a call runs: a worker or a tool, i.e. which side of the distribution boundary it is on.
///
/// Workers are backed by a language model and return a *distribution* over outputs (they are
/// *stochastic*); tools are ordinary code (*deterministic*). The distinction is carried by every
/// [`CallInfo`], every [`Event`](crate::Event) and every tracing span so that logs never hide a
/// stochastic step. Events, run logs and spans spell it `"stochastic"` / `"deterministic"`.
///
/// ```
/// use llm_do_core::CallKind;
/// assert!(CallKind::Worker.is_stochastic());
/// assert_eq!(CallKind::Tool.to_string(), "deterministic");
/// assert_eq!(serde_json::to_value(CallKind::Worker).unwrap(), "stochastic");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallKind {
    /// An LLM-backed worker (stochastic): same input, possibly different output.
    #[serde(rename = "stochastic")]
    Worker,
    /// A Rust tool (deterministic): same input, same output (unless it does I/O).
    #[serde(rename = "deterministic")]
    Tool,
}

impl CallKind {
    /// `true` for [`CallKind::Worker`], the stochastic side.
    ///
    /// ```
    /// # use llm_do_core::CallKind;
    /// assert!(!CallKind::Tool.is_stochastic());
    /// ```
    pub fn is_stochastic(self) -> bool {
        matches!(self, CallKind::Worker)
    }
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallKind::Worker => "stochastic",
            CallKind::Tool => "deterministic",
        })
    }
}

/// Identifier of one call, unique within a run (numbered from 1 in the order calls start).
///
/// ```
/// # use llm_do_core::CallId;
/// assert_eq!(CallId(3).to_string(), "#3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Everything that identifies a call: id, parent, depth, name and kind.
///
/// The root context of a run has depth 0; a call made from it runs at depth 1, a tool called by
/// that worker at depth 2, and so on.
///
/// ```
/// # use llm_do_core::{CallId, CallInfo, CallKind};
/// let info = CallInfo::new(CallId(2), Some(CallId(1)), 2, "lookup", CallKind::Tool);
/// assert_eq!(info.parent, Some(CallId(1)));
/// assert_eq!(&*info.name, "lookup");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallInfo {
    /// This call's id.
    pub id: CallId,
    /// The id of the call that made this one, `None` for calls made from a run's root context.
    pub parent: Option<CallId>,
    /// Nesting depth, 1 for calls made from the root context.
    pub depth: u32,
    /// Name of the worker or tool.
    pub name: Arc<str>,
    /// Worker (stochastic) or tool (deterministic).
    pub kind: CallKind,
}

impl CallInfo {
    /// Builds a call description.
    ///
    /// ```
    /// # use llm_do_core::{CallId, CallInfo, CallKind};
    /// let info = CallInfo::new(CallId(1), None, 1, "classify", CallKind::Worker);
    /// assert_eq!(info.depth, 1);
    /// ```
    pub fn new(
        id: CallId,
        parent: Option<CallId>,
        depth: u32,
        name: impl Into<Arc<str>>,
        kind: CallKind,
    ) -> Self {
        Self { id, parent, depth, name: name.into(), kind }
    }
}
