//! [`Ctx`]: the handle every call receives. It knows where in the call tree it is (depth,
//! parent, call path), which run it belongs to (budgets, usage), and how to call any worker or
//! tool by name (the calls themselves are in `ctx/call.rs`).
//!
//! (Over 400 lines: most of it is the doc examples of `Ctx`'s public methods; the calls
//! themselves are already apart.)

use crate::approval::{Approver, GateOutcome};
use crate::attachment::{AttachmentLimits, AttachmentLoader};
use crate::call::{CallId, CallInfo};
use crate::cancel::Cancellation;
use crate::effects::Effects;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind, EventSubscriber};
use crate::model::ModelSettings;
use crate::model_ref::ModelRef;
use crate::registry::Registry;
use crate::resolve::ResolvedModel;
use crate::runtime::{Runtime, RuntimeInner};
use crate::spec::CallableSpec;
use crate::usage::{BudgetKind, Limits, Usage};
use serde_json::Value;
use std::future::Future as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

mod ask;
mod call;
mod progress;

pub(crate) use call::{convert_result, wrap_bare_argument};

/// The context of a call: pass `&Ctx` to workers, tools and [`Ctx::call`].
///
/// A root context comes from [`Runtime::ctx`] and starts a *run*; each call gets a child
/// context one level deeper. Cloning is cheap.
///
/// ```
/// use llm_do_core::{Runtime, ToolSpecBuilder};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let depth = ToolSpecBuilder::new("depth")
///     .handler(|ctx, _| async move { Ok(serde_json::json!(ctx.depth())) })
///     .build();
/// let ctx = Runtime::builder().register(depth).build().ctx();
/// let d: u32 = ctx.call("depth", serde_json::json!({})).await?;
/// assert_eq!(d, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Ctx {
    rt: Arc<RuntimeInner>,
    run: Arc<RunState>,
    frame: Option<Arc<Frame>>,
    settings: Option<Arc<ModelSettings>>,
    cancel: Cancellation,
}

struct RunState {
    next_call: AtomicU64,
    next_seq: AtomicU64,
    requests_started: AtomicU64,
    tool_calls_started: AtomicU64,
    usage: Mutex<Usage>,
    /// The tokens counted against the run's token budget: each response's reported tokens, or
    /// its [estimate](crate::estimate) when the provider reported none (so that a provider
    /// without token counts does not make the budget unlimited).
    budget_tokens: AtomicU64,
    /// The run's depth limit and budgets (the runtime's unless the run was started with its
    /// own, see [`RunOptions`](crate::runtime::RunOptions)).
    limits: Limits,
    effects: Arc<dyn Effects>,
    /// `effects.records_events()`, asked once.
    records_events: bool,
    /// The run's own approver, in place of the runtime's (see
    /// [`RunOptions::approver`](crate::runtime::RunOptions::approver)).
    approver: Option<Arc<dyn Approver>>,
    /// What the run's own approver approved for the session (tool, canonical arguments): it
    /// holds for this run only, as the runtime's session approvals do not hold for it.
    session: crate::approval::SessionApprovals,
    /// The run's own subscribers, beside the runtime's (see
    /// [`RunOptions::subscribe`](crate::runtime::RunOptions::subscribe)).
    subscribers: Vec<Arc<dyn EventSubscriber>>,
    /// Whether anyone hears the run's events (a subscriber of the runtime or of the run, or
    /// effects that record them), decided once.
    listening: bool,
}

struct Frame {
    info: CallInfo,
    parent: Option<Arc<Frame>>,
    usage: Mutex<Usage>,
    /// How many progress reports the call may still make at once (packed, see
    /// `progress.rs`).
    progress: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("call", &self.call_info())
            .field("depth", &self.depth())
            .field("usage", &self.usage())
            .finish_non_exhaustive()
    }
}

impl Ctx {
    pub(crate) fn root(
        rt: Arc<RuntimeInner>,
        effects: Arc<dyn Effects>,
        limits: Limits,
        approver: Option<Arc<dyn Approver>>,
        subscribers: Vec<Arc<dyn EventSubscriber>>,
    ) -> Self {
        let records_events = effects.records_events();
        let listening = records_events || rt.has_subscribers() || !subscribers.is_empty();
        let run = Arc::new(RunState {
            limits,
            next_call: AtomicU64::new(0),
            next_seq: AtomicU64::new(0),
            requests_started: AtomicU64::new(0),
            tool_calls_started: AtomicU64::new(0),
            usage: Mutex::new(Usage::default()),
            budget_tokens: AtomicU64::new(0),
            records_events,
            effects,
            approver,
            session: Default::default(),
            subscribers,
            listening,
        });
        Self { rt, run, frame: None, settings: None, cancel: Cancellation::new() }
    }

    /// This context with sampling settings that override the workers' own for every model
    /// request made under it (nested calls included). Fields left `None` keep the worker's
    /// value; a second call overlays the first. Statistical tests use it to give each sample
    /// its own seed and temperature.
    ///
    /// ```
    /// # use llm_do_core::{ModelSettings, Runtime};
    /// let ctx = Runtime::builder().build().ctx();
    /// let hot = ctx.with_settings(ModelSettings { temperature: Some(0.8), ..Default::default() });
    /// let seeded = hot.with_settings(ModelSettings { seed: Some(3), ..Default::default() });
    /// let s = seeded.settings_override().unwrap();
    /// assert_eq!((s.temperature, s.seed), (Some(0.8), Some(3)));
    /// assert!(ctx.settings_override().is_none());
    /// ```
    pub fn with_settings(&self, settings: ModelSettings) -> Ctx {
        let merged = match &self.settings {
            Some(current) => current.overlaid_with(&settings),
            None => settings,
        };
        Ctx { settings: Some(Arc::new(merged)), ..self.clone() }
    }

    /// The settings set with [`with_settings`](Self::with_settings), if any.
    ///
    /// ```
    /// assert!(llm_do_core::Runtime::builder().build().ctx().settings_override().is_none());
    /// ```
    pub fn settings_override(&self) -> Option<&ModelSettings> {
        self.settings.as_deref()
    }

    /// Cancels the run this context belongs to: every call of the run still in flight, at any
    /// depth and siblings included, ends with [`Error::Cancelled`] (the run's caller gets it,
    /// or the error that made the run stop), and later calls fail at once. The first reason is
    /// kept.
    ///
    /// ```
    /// use llm_do_core::{Error, Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let stop = ToolSpecBuilder::new("stop")
    ///     .handler(|ctx, _| async move {
    ///         ctx.cancel("enough");
    ///         std::future::pending().await   // never finishes by itself
    ///     })
    ///     .build();
    /// let ctx = Runtime::builder().register(stop).build().ctx();
    /// let err = ctx.call_value("stop", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::Cancelled { ref reason } if reason == "enough"));
    /// assert!(ctx.cancellation().is_cancelled());
    /// # }
    /// ```
    pub fn cancel(&self, reason: impl Into<String>) {
        self.cancel.cancel(reason);
    }

    /// The run's cancellation token, to cancel the run from outside it (a signal handler, a
    /// server whose client went away) or to learn whether and why it was cancelled.
    ///
    /// ```
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// let token = ctx.cancellation();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn cancellation(&self) -> Cancellation {
        self.cancel.clone()
    }

    /// Runs `fut` unless the run is cancelled first: then `fut` is dropped and the result is
    /// [`Error::Cancelled`].
    pub(crate) async fn unless_cancelled<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        if let Some(reason) = self.cancel.reason() {
            return Err(Error::Cancelled { reason });
        }
        let mut fut = std::pin::pin!(fut);
        // Most effects of an in-process run finish at their first poll (a tool that does no
        // I/O): the cancellation's waiter is made only once `fut` has to wait. `fut` is
        // polled first, as before, so a result that is ready wins over a cancellation.
        let mut cancelled = std::pin::pin!(None);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = fut.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            if cancelled.is_none() {
                cancelled.set(Some(self.cancel.cancelled()));
            }
            match cancelled.as_mut().as_pin_mut().map(|waiter| waiter.poll(cx)) {
                Some(Poll::Ready(reason)) => Poll::Ready(Err(Error::Cancelled { reason })),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// This context with `token` in place of its own: calls made from it (and everything they
    /// call) stop when `token` is cancelled, and cancelling from inside them cancels `token`.
    /// Budgets and usage stay the run's. The token is *not* linked to this context's:
    /// cancelling the run does not stop calls made under the new context unless `token` is
    /// cancelled too; for that, use [`with_child_cancellation`](Self::with_child_cancellation)
    /// (or pass [`self.cancellation().child()`](Cancellation::child)).
    ///
    /// ```
    /// use llm_do_core::cancel::Cancellation;
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// let detached = ctx.with_cancellation(Cancellation::new());
    /// ctx.cancel("the run ends");
    /// assert!(!detached.cancellation().is_cancelled());
    /// ```
    pub fn with_cancellation(&self, token: Cancellation) -> Ctx {
        Ctx { cancel: token, ..self.clone() }
    }

    /// This context with a [child](Cancellation::child) of its cancellation token: cancelling
    /// from inside calls made under it (an approver's
    /// [`DenyAndAbort`](crate::approval::Decision::DenyAndAbort)) stops those calls only, while
    /// cancelling this context's token (the run) stops them too, with its reason. Budgets and
    /// usage stay the run's. For a session whose turns can be cancelled one by one
    /// (`llm-do chat` makes each turn's context so); a dropped child leaves nothing behind.
    ///
    /// ```
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// let turn = ctx.with_child_cancellation();
    /// turn.cancel("this turn only");
    /// assert!(turn.cancellation().is_cancelled() && !ctx.cancellation().is_cancelled());
    ///
    /// let next = ctx.with_child_cancellation();
    /// ctx.cancel("the session ends");
    /// assert_eq!(next.cancellation().reason().as_deref(), Some("the session ends"));
    /// ```
    pub fn with_child_cancellation(&self) -> Ctx {
        self.with_cancellation(self.cancel.child())
    }

    /// Depth of this context: 0 for a root context, 1 inside a call made from it, ...
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().build().ctx().depth(), 0);
    /// ```
    pub fn depth(&self) -> u32 {
        self.frame.as_ref().map_or(0, |f| f.info.depth)
    }

    /// The call this context belongs to, `None` for a root context.
    ///
    /// ```
    /// assert!(llm_do_core::Runtime::builder().build().ctx().call_info().is_none());
    /// ```
    pub fn call_info(&self) -> Option<&CallInfo> {
        self.frame.as_ref().map(|f| &f.info)
    }

    /// The id of the call this context belongs to.
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().build().ctx().call_id(), None);
    /// ```
    pub fn call_id(&self) -> Option<CallId> {
        self.call_info().map(|i| i.id)
    }

    /// Names of the calls from the outermost to this one.
    ///
    /// ```
    /// assert!(llm_do_core::Runtime::builder().build().ctx().call_path().is_empty());
    /// ```
    pub fn call_path(&self) -> Vec<Arc<str>> {
        let mut path = Vec::new();
        let mut frame = self.frame.as_ref();
        while let Some(f) = frame {
            path.push(f.info.name.clone());
            frame = f.parent.as_ref();
        }
        path.reverse();
        path
    }

    /// Usage so far of this call and everything it called; for a root context, of the whole
    /// run.
    ///
    /// ```
    /// assert!(llm_do_core::Runtime::builder().build().ctx().usage().is_zero());
    /// ```
    pub fn usage(&self) -> Usage {
        match &self.frame {
            Some(f) => *lock(&f.usage),
            None => self.run_usage(),
        }
    }

    /// Usage so far of the whole run this context belongs to.
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().build().ctx().run_usage().requests, 0);
    /// ```
    pub fn run_usage(&self) -> Usage {
        *lock(&self.run.usage)
    }

    /// The limits of this context's run: the runtime's, unless the run was started with its
    /// own ([`Runtime::ctx_with`]).
    ///
    /// ```
    /// use llm_do_core::{Runtime, runtime::RunOptions};
    /// let rt = Runtime::builder().max_requests(10).build();
    /// assert_eq!(rt.ctx().limits().max_requests, Some(10));
    /// let mut tight = rt.limits();
    /// tight.max_requests = Some(2);
    /// assert_eq!(rt.ctx_with(RunOptions::new().limits(tight)).limits().max_requests, Some(2));
    /// ```
    pub fn limits(&self) -> Limits {
        self.run.limits
    }

    /// The runtime this context belongs to.
    ///
    /// ```
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// assert!(ctx.runtime().registry().is_empty());
    /// ```
    pub fn runtime(&self) -> Runtime {
        Runtime::from_inner(self.rt.clone())
    }

    /// The id of the runtime this context belongs to.
    pub(crate) fn runtime_id(&self) -> u64 {
        self.rt.id
    }

    /// The registry calls by name resolve in.
    pub(crate) fn registry(&self) -> &Registry {
        &self.rt.registry
    }

    /// The model a worker runs on ([`Runtime::resolve_model`], with the runtime's default).
    pub(crate) fn resolve_model(
        &self,
        worker: &str,
        model: Option<&ModelRef>,
    ) -> Result<ResolvedModel> {
        self.rt.resolve_model(worker, model)
    }

    /// Where attachment paths are read, and the bounds on attachments.
    pub(crate) fn attachments(&self) -> (Option<&dyn AttachmentLoader>, &AttachmentLimits) {
        (self.rt.attachment_loader.as_deref(), &self.rt.attachment_limits)
    }

    /// Passes a call this context's model requested through the approval gate.
    pub(crate) async fn approve(&self, spec: &CallableSpec, args: Value) -> GateOutcome {
        self.rt.gate.check(self, spec, args).await
    }

    /// The program state of type `T` given to
    /// [`RuntimeBuilder::state`](crate::RuntimeBuilder::state); a missing one is
    /// [`Error::MissingState`], naming the type.
    ///
    /// ```
    /// # use llm_do_core::{Error, Runtime};
    /// struct Db { url: String }
    /// let ctx = Runtime::builder().state(Db { url: "sqlite::memory:".into() }).build().ctx();
    /// assert_eq!(ctx.state::<Db>()?.url, "sqlite::memory:");
    /// assert!(matches!(ctx.state::<u32>(), Err(Error::MissingState { type_name: "u32" })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<&T> {
        self.rt
            .states
            .get::<T>()
            .ok_or(Error::MissingState { type_name: std::any::type_name::<T>() })
    }

    /// How this context's run performs its effects (see [`crate::effects`]).
    pub(crate) fn effects(&self) -> &dyn Effects {
        &*self.run.effects
    }

    /// The run's own approver, if it was started with one.
    pub(crate) fn run_approver(&self) -> Option<&dyn Approver> {
        self.run.approver.as_deref()
    }

    /// The session approvals of the run's own approver, if it was started with one.
    pub(crate) fn run_session(&self) -> Option<&crate::approval::SessionApprovals> {
        self.run.approver.as_ref().map(|_| &self.run.session)
    }

    /// Reserves one model request in the run's budget; a request of a cancelled run is not
    /// made (nor counted, nor announced): the run ends as [`Error::Cancelled`], not with the
    /// budget the request would have exceeded.
    pub(crate) fn begin_request(&self) -> Result<()> {
        if let Some(reason) = self.cancel.reason() {
            return Err(Error::Cancelled { reason });
        }
        let limits = self.run.limits;
        if let Some(limit) = limits.max_total_tokens {
            let used = self.run.budget_tokens.load(Ordering::Relaxed);
            if used >= limit {
                return Err(Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit, used });
            }
        }
        let started = self.run.requests_started.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(limit) = limits.max_requests
            && started > limit
        {
            self.run.requests_started.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::BudgetExceeded { kind: BudgetKind::Requests, limit, used: limit });
        }
        Ok(())
    }

    /// Reserves one model-requested tool call in the run's budget; a call of a cancelled run
    /// (queued behind one that ended it: an aborting denial) does not start.
    pub(crate) fn begin_tool_call(&self) -> Result<()> {
        if let Some(reason) = self.cancel.reason() {
            return Err(Error::Cancelled { reason });
        }
        let started = self.run.tool_calls_started.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(limit) = self.run.limits.max_tool_calls
            && started > limit
        {
            self.run.tool_calls_started.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::BudgetExceeded { kind: BudgetKind::ToolCalls, limit, used: limit });
        }
        Ok(())
    }

    /// Adds one response's usage to this call, its ancestors and the run; enforces the token
    /// budget, counting `budget_tokens` against it (the usage's, or an estimate when the
    /// provider reported none).
    pub(crate) fn record_usage(&self, usage: Usage, budget_tokens: u64) -> Result<()> {
        let mut frame = self.frame.as_ref();
        while let Some(f) = frame {
            *lock(&f.usage) += usage;
            frame = f.parent.as_ref();
        }
        *lock(&self.run.usage) += usage;
        let counted = |used: u64| Some(used.saturating_add(budget_tokens));
        let total = match self.run.budget_tokens.fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            counted,
        ) {
            Ok(before) | Err(before) => before.saturating_add(budget_tokens),
        };
        match self.run.limits.max_total_tokens {
            Some(limit) if total > limit => {
                Err(Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit, used: total })
            }
            _ => Ok(()),
        }
    }

    /// Whether the events of this context's run reach anyone (subscribers, or the run's
    /// effects).
    fn listening(&self) -> bool {
        self.run.listening
    }

    /// Emits an event for this context's call (built only when someone listens).
    pub(crate) fn emit(&self, kind: impl FnOnce() -> EventKind) {
        if !self.listening() {
            return;
        }
        let Some(frame) = &self.frame else { return };
        let event = Event {
            seq: self.run.next_seq.fetch_add(1, Ordering::Relaxed) + 1,
            time: self.run.effects.now(),
            call: frame.info.clone(),
            kind: kind(),
        };
        for s in self.rt.subscribers.iter().chain(&self.run.subscribers) {
            s.on_event(&event);
        }
        if self.run.records_events {
            self.run.effects.event(&event);
        }
    }
}
