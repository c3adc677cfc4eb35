//! [`RunOptions`]: how one run differs from its runtime's defaults.

use crate::effects::Effects;
use crate::usage::Limits;
use std::sync::Arc;

/// How one run differs from its runtime's defaults; given to
/// [`Runtime::ctx_with`](crate::Runtime::ctx_with). What is not set is the runtime's.
///
/// ```
/// use llm_do_core::{Runtime, runtime::RunOptions};
/// let rt = Runtime::builder().max_tool_calls(100).build();
/// let mut limits = rt.limits();
/// limits.max_tool_calls = Some(5);
/// let ctx = rt.ctx_with(RunOptions::new().limits(limits));
/// assert_eq!(ctx.limits().max_tool_calls, Some(5));
/// assert_eq!(rt.ctx().limits().max_tool_calls, Some(100));
/// ```
#[derive(Clone, Default)]
pub struct RunOptions {
    pub(super) effects: Option<Arc<dyn Effects>>,
    pub(super) limits: Option<Limits>,
}

impl RunOptions {
    /// Nothing changed: a run like [`Runtime::ctx`](crate::Runtime::ctx)'s.
    pub fn new() -> Self {
        Self::default()
    }

    /// The run's depth limit and budgets, in place of the runtime's (all of them: start from
    /// [`Runtime::limits`](crate::Runtime::limits) to change one).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// How the run performs its effects, in place of the runtime's (see [`crate::effects`]).
    pub fn effects(mut self, effects: Arc<dyn Effects>) -> Self {
        self.effects = Some(effects);
        self
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("effects", &self.effects.as_ref().map(|_| "..."))
            .field("limits", &self.limits)
            .finish()
    }
}
