//! [`RunOptions`]: how one run differs from its runtime's defaults.

use crate::approval::Approver;
use crate::effects::Effects;
use crate::event::EventSubscriber;
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
    pub(super) subscribers: Vec<Arc<dyn EventSubscriber>>,
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
    /// and `on_denied` stay the runtime's. Its approvals for the session hold for this run
    /// only, and the runtime approver's do not hold for it (each person is asked for
    /// themselves).
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

    /// Adds a subscriber that hears this run's events only, beside the runtime's
    /// [subscribers](crate::RuntimeBuilder::subscribe): a server that passes a run's progress
    /// on to the client that started it (`llm-do mcp` does), a log per request. Dropped when
    /// the run's last context is.
    ///
    /// ```
    /// use llm_do_core::{EventKind, EventLog, Runtime, ToolSpecBuilder, runtime::RunOptions};
    /// use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let index = ToolSpecBuilder::new("index")
    ///     .handler(|ctx, args| async move {
    ///         ctx.report_progress(1.0, Some(1.0), args["dir"].as_str());
    ///         Ok(json!("indexed"))
    ///     })
    ///     .build();
    /// let rt = Runtime::builder().register(index).build();
    /// let (docs, src) = (EventLog::new(), EventLog::new());
    /// rt.ctx_with(RunOptions::new().subscribe(docs.clone())).call_value("index", json!({"dir": "docs"})).await?;
    /// rt.ctx_with(RunOptions::new().subscribe(src.clone())).call_value("index", json!({"dir": "src"})).await?;
    /// // Each log heard its own run, and no other.
    /// let heard = |log: &EventLog| log.events().iter().find_map(|e| match &e.kind {
    ///     EventKind::Progress { message, .. } => message.clone(),
    ///     _ => None,
    /// });
    /// assert_eq!((heard(&docs).as_deref(), heard(&src).as_deref()), (Some("docs"), Some("src")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe(mut self, subscriber: impl EventSubscriber) -> Self {
        self.subscribers.push(Arc::new(subscriber));
        self
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("effects", &self.effects.as_ref().map(|_| "..."))
            .field("limits", &self.limits)
            .field("approver", &self.approver.as_ref().map(|_| "..."))
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}
