//! Identity of one call: who called whom, at what depth, and which side of the stochastic
//! boundary it runs on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Which side of the distribution boundary a call runs on.
///
/// Workers are backed by a language model and return a *distribution* over outputs; tools are
/// ordinary code. The distinction is carried by every [`CallInfo`], every
/// [`Event`](crate::Event) and every tracing span so that logs never hide a stochastic step.
///
/// ```
/// use llm_do_core::CallKind;
/// assert!(CallKind::Stochastic.is_stochastic());
/// assert_eq!(CallKind::Deterministic.to_string(), "deterministic");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// An LLM-backed worker: same input, possibly different output.
    Stochastic,
    /// A Rust tool: same input, same output (unless it does I/O).
    Deterministic,
}

impl CallKind {
    /// `true` for [`CallKind::Stochastic`].
    ///
    /// ```
    /// # use llm_do_core::CallKind;
    /// assert!(!CallKind::Deterministic.is_stochastic());
    /// ```
    pub fn is_stochastic(self) -> bool {
        matches!(self, CallKind::Stochastic)
    }
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallKind::Stochastic => "stochastic",
            CallKind::Deterministic => "deterministic",
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
/// let info = CallInfo::new(CallId(2), Some(CallId(1)), 2, "lookup", CallKind::Deterministic);
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
    /// let info = CallInfo::new(CallId(1), None, 1, "classify", CallKind::Stochastic);
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
