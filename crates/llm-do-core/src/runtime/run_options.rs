//! [`RunOptions`]: how one run differs from its runtime's defaults.

use crate::approval::Approver;
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
    pub(super) approver: Option<Arc<dyn Approver>>,
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

    /// Who decides the run's calls that need approval, in place of the runtime's
    /// [approver](crate::RuntimeBuilder::approver): a server that asks the person behind the
    /// request that started the run (`llm-do mcp` asks its MCP client). The policy, its rules
    /// and `on_denied` stay the runtime's.
    ///
    /// ```
    /// use llm_do_core::approval::{Decision, DenyAll, Verdict};
    /// use llm_do_core::{Message, Model, ModelError, ModelRequest, ModelResponse, Runtime, ToolCall};
    /// use llm_do_core::{ToolSpecBuilder, WorkerSpecBuilder, runtime::RunOptions};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// /// Asks for `wipe`, then answers with what the call gave.
    /// struct Wiping;
    /// impl Model for Wiping {
    ///     fn request<'a>(&'a self, req: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    ///         let result = req.messages.iter().find_map(|m| match m {
    ///             Message::Tool(r) => Some(r.content.clone()),
    ///             _ => None,
    ///         });
    ///         Box::pin(async move {
    ///             Ok(match result {
    ///                 Some(result) => ModelResponse::text(result),
    ///                 None => ModelResponse::tool_calls(vec![ToolCall::raw("1", "wipe", "{}")]),
    ///             })
    ///         })
    ///     }
    /// }
    /// let wipe = ToolSpecBuilder::new("wipe").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok("wiped".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("wipe").build()?;
    /// let rt = Runtime::builder().provider("m", Wiping).default_model("m:any")
    ///     .register(wipe).register(main).approver(DenyAll).build();
    /// // The runtime's approver denies the call; this run's approves it.
    /// let denied = rt.ctx().call_value("main", serde_json::json!({})).await?;
    /// assert!(denied.as_str().unwrap().starts_with("permission denied"));
    /// let asked = rt.ctx_with(RunOptions::new().approver(|_: &_| Decision::ApproveOnce));
    /// assert_eq!(asked.call_value("main", serde_json::json!({})).await?, "wiped");
    /// # Ok(()) }
    /// ```
    pub fn approver(mut self, approver: impl Approver) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("effects", &self.effects.as_ref().map(|_| "..."))
            .field("limits", &self.limits)
            .field("approver", &self.approver.as_ref().map(|_| "..."))
            .finish()
    }
}
