//! [`Ctx`]: the handle every call receives. It knows where in the call tree it is (depth,
//! parent, call path), which run it belongs to (budgets, usage), and how to call any worker or
//! tool by name.

use crate::approval::GateOutcome;
use crate::attachment::{AttachmentLimits, AttachmentLoader};
use crate::call::{CallId, CallInfo};
use crate::cancel::Cancellation;
use crate::chat::ChatTurn;
use crate::effects::Effects;
use crate::error::{Error, ErrorInfo, Result};
use crate::event::{Event, EventKind};
use crate::model::ModelSettings;
use crate::model_ref::ModelRef;
use crate::registry::Registry;
use crate::resolve::ResolvedModel;
use crate::runtime::{Runtime, RuntimeInner};
use crate::spec::{Body, CallableSpec};
use crate::telemetry;
use crate::usage::{BudgetKind, Limits, Usage};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future as _;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Instant;
use tracing::Instrument as _;

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
    effects: Arc<dyn Effects>,
    /// `effects.records_events()`, asked once.
    records_events: bool,
}

struct Frame {
    info: CallInfo,
    parent: Option<Arc<Frame>>,
    usage: Mutex<Usage>,
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
    pub(crate) fn root(rt: Arc<RuntimeInner>, effects: Arc<dyn Effects>) -> Self {
        let run = Arc::new(RunState {
            next_call: AtomicU64::new(0),
            next_seq: AtomicU64::new(0),
            requests_started: AtomicU64::new(0),
            tool_calls_started: AtomicU64::new(0),
            usage: Mutex::new(Usage::default()),
            records_events: effects.records_events(),
            effects,
        });
        Self { rt, run, frame: None, settings: None, cancel: Cancellation::new() }
    }

    /// Calls a worker or tool by name and converts its result to `T`.
    ///
    /// The name is resolved in the runtime's registry when the call is made (late binding).
    /// `args` is normally an object of named arguments; for a callee with exactly one parameter
    /// a bare value is accepted too.
    ///
    /// ```
    /// # use llm_do_core::{Ctx, Error, Runtime, ToolSpecBuilder};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Text { text: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let len = ToolSpecBuilder::new("len")
    ///     .typed_handler(|_: Ctx, args: Text| async move { Ok::<_, Error>(args.text.len()) })
    ///     .build();
    /// let ctx = Runtime::builder().register(len).build().ctx();
    /// let n: usize = ctx.call("len", serde_json::json!({"text": "four"})).await?;
    /// let m: usize = ctx.call("len", "three").await?;   // one parameter: bare value
    /// assert_eq!((n, m), (4, 5));
    /// assert!(ctx.call::<usize>("nope", serde_json::json!({})).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call<T: DeserializeOwned>(&self, name: &str, args: impl Serialize) -> Result<T> {
        let args = serde_json::to_value(args).map_err(|e| Error::InvalidArguments {
            name: name.to_owned(),
            message: format!("the arguments cannot be converted to JSON: {e}"),
        })?;
        let value = self.call_value(name, args).await?;
        convert_result(name, value)
    }

    /// Like [`call`](Self::call), with JSON in and out.
    ///
    /// ```
    /// # use llm_do_core::{Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let echo = ToolSpecBuilder::new("echo").handler(|_, a| async move { Ok(a) }).build();
    /// let ctx = Runtime::builder().register(echo).build().ctx();
    /// let v = ctx.call_value("echo", serde_json::json!({"x": 1})).await?;
    /// assert_eq!(v["x"], 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call_value(&self, name: &str, args: Value) -> Result<Value> {
        let Some(spec) = self.rt.registry.resolve(name).await? else {
            return Err(Error::UnknownCallable {
                name: name.to_owned(),
                known: self.rt.registry.names().map(str::to_owned).collect(),
            });
        };
        let args = wrap_bare_argument(&spec, args);
        self.call_spec(&spec, args).await
    }

    /// Calls a given spec (not looked up by name). Typed calls generated by the macros use
    /// this, so typed calls and calls by name behave identically.
    ///
    /// ```
    /// # use llm_do_core::{Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let one = ToolSpecBuilder::new("one").handler(|_, _| async { Ok(serde_json::json!(1)) }).build();
    /// let ctx = Runtime::builder().build().ctx();   // not registered: still callable directly
    /// assert_eq!(ctx.call_spec(&one, serde_json::json!({})).await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn call_spec<'a>(
        &'a self,
        spec: &'a Arc<CallableSpec>,
        args: Value,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(self.call_spec_inner(spec, args, None))
    }

    /// [`call_spec`](Self::call_spec) of a worker continuing a conversation: `turn` holds the
    /// history and receives the turn's new messages.
    pub(crate) fn call_spec_turn<'a>(
        &'a self,
        spec: &'a Arc<CallableSpec>,
        args: Value,
        turn: &'a mut ChatTurn,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(self.call_spec_inner(spec, args, Some(turn)))
    }

    async fn call_spec_inner(
        &self,
        spec: &Arc<CallableSpec>,
        args: Value,
        mut turn: Option<&mut ChatTurn>,
    ) -> Result<Value> {
        let (child, frame) = self.enter(spec)?;
        child.emit(|| {
            let mut input = args.clone();
            crate::attachment::digest_data_urls(&mut input);
            EventKind::CallStarted { input }
        });
        let mut guard = CancelGuard { ctx: &child, armed: true };
        // Read the clock only for an event someone receives.
        let started = child.listening().then(Instant::now);
        let result = match self.cancel.reason() {
            Some(reason) => Err(Error::Cancelled { reason }),
            None => child.run_body(spec, &frame.info, args, turn.as_deref_mut()).await,
        };
        guard.armed = false;
        if let Some(turn) = turn {
            turn.call_id = child.call_id();
            turn.usage = child.usage();
        }
        child.emit(|| {
            let (output, error) = match &result {
                Ok(v) => {
                    let mut output = v.clone();
                    crate::attachment::digest_data_urls(&mut output);
                    (Some(output), None)
                }
                Err(e) => (None, Some(ErrorInfo::from(e))),
            };
            EventKind::CallFinished {
                output,
                error,
                usage: child.usage(),
                elapsed: started.map(|s| s.elapsed()).unwrap_or_default(),
            }
        });
        result
    }

    /// Creates the child context for a call of `spec`, enforcing the depth limit.
    fn enter(&self, spec: &Arc<CallableSpec>) -> Result<(Ctx, Arc<Frame>)> {
        let depth = self.depth() + 1;
        let max_depth = self.rt.limits.max_depth;
        if depth > max_depth {
            let mut path = self.call_path();
            path.push(spec.name_arc());
            return Err(Error::DepthExceeded {
                name: spec.name().to_owned(),
                depth,
                max_depth,
                path: path.join(" > "),
            });
        }
        let id = CallId(self.run.next_call.fetch_add(1, Ordering::Relaxed) + 1);
        let info = CallInfo::new(id, self.call_id(), depth, spec.name_arc(), spec.kind());
        let frame = Arc::new(Frame {
            info,
            parent: self.frame.clone(),
            usage: Mutex::new(Usage::default()),
        });
        let child = Ctx {
            rt: self.rt.clone(),
            run: self.run.clone(),
            frame: Some(frame.clone()),
            settings: self.settings.clone(),
            cancel: self.cancel.clone(),
        };
        Ok((child, frame))
    }

    async fn run_body(
        &self,
        spec: &Arc<CallableSpec>,
        info: &CallInfo,
        args: Value,
        turn: Option<&mut ChatTurn>,
    ) -> Result<Value> {
        spec.validate_input(&args)?;
        match spec.body() {
            // A tool's body stops when the run is cancelled; a worker's loop stops at its
            // model requests, approvals and tool calls, so that it reports why the run stopped.
            Body::Tool(handler) => {
                let fut = AssertUnwindSafe(handler(self.clone(), args)).catch_unwind();
                let fut = self.unless_cancelled(async move {
                    match fut.instrument(telemetry::tool_span(info)).await {
                        Ok(result) => result,
                        Err(panic) => Err(Error::Panicked {
                            name: spec.name().to_owned(),
                            message: panic_message(&*panic),
                        }),
                    }
                });
                fut.await
            }
            Body::Worker(config) => {
                let fut: BoxFuture<'_, Result<Value>> =
                    Box::pin(crate::agent::run(self, spec, config, args, turn));
                fut.instrument(telemetry::agent_span(info)).await
            }
        }
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

    /// This context with its own cancellation token: calls made from it (and everything they
    /// call) stop when `token` is cancelled, and cancelling from inside them cancels `token`.
    /// Budgets and usage stay the run's. For a session whose turns can be cancelled one by one
    /// (`llm-do chat`).
    ///
    /// ```
    /// use llm_do_core::cancel::Cancellation;
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// let turn = ctx.with_cancellation(Cancellation::new());
    /// turn.cancel("this turn only");
    /// assert!(turn.cancellation().is_cancelled() && !ctx.cancellation().is_cancelled());
    /// ```
    pub fn with_cancellation(&self, token: Cancellation) -> Ctx {
        Ctx { cancel: token, ..self.clone() }
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

    /// The limits in force.
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().build().ctx().limits().max_depth, 5);
    /// ```
    pub fn limits(&self) -> Limits {
        self.rt.limits
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

    /// Reserves one model request in the run's budget.
    pub(crate) fn begin_request(&self) -> Result<()> {
        let limits = self.rt.limits;
        if let Some(limit) = limits.max_total_tokens {
            let used = self.run_usage().total_tokens();
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

    /// Reserves one model-requested tool call in the run's budget.
    pub(crate) fn begin_tool_call(&self) -> Result<()> {
        let started = self.run.tool_calls_started.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(limit) = self.rt.limits.max_tool_calls
            && started > limit
        {
            self.run.tool_calls_started.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::BudgetExceeded { kind: BudgetKind::ToolCalls, limit, used: limit });
        }
        Ok(())
    }

    /// Adds one response's usage to this call, its ancestors and the run; enforces the token
    /// budget.
    pub(crate) fn record_usage(&self, usage: Usage) -> Result<()> {
        let mut frame = self.frame.as_ref();
        while let Some(f) = frame {
            *lock(&f.usage) += usage;
            frame = f.parent.as_ref();
        }
        let total = {
            let mut run = lock(&self.run.usage);
            *run += usage;
            run.total_tokens()
        };
        match self.rt.limits.max_total_tokens {
            Some(limit) if total > limit => {
                Err(Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit, used: total })
            }
            _ => Ok(()),
        }
    }

    /// Whether the events of this context's run reach anyone (subscribers, or the run's
    /// effects).
    fn listening(&self) -> bool {
        self.rt.has_subscribers() || self.run.records_events
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
        for s in &self.rt.subscribers {
            s.on_event(&event);
        }
        if self.run.records_events {
            self.run.effects.event(&event);
        }
    }
}

/// Emits `CallCancelled` when a call's future is dropped before it finishes.
struct CancelGuard<'a> {
    ctx: &'a Ctx,
    armed: bool,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.ctx.emit(|| EventKind::CallCancelled { usage: self.ctx.usage() });
        }
    }
}

/// For a callee with exactly one parameter, `"x"` means `{"param": "x"}`.
pub(crate) fn wrap_bare_argument(spec: &CallableSpec, args: Value) -> Value {
    if args.is_object() {
        return args;
    }
    match spec.input_schema().get("properties").and_then(Value::as_object) {
        Some(props) if props.len() == 1 => {
            let key = props.keys().next().cloned().unwrap_or_default();
            Value::Object([(key, args)].into_iter().collect())
        }
        _ => args,
    }
}

/// Converts a call's JSON result to the caller's type.
pub(crate) fn convert_result<T: DeserializeOwned>(name: &str, value: Value) -> Result<T> {
    T::deserialize(value)
        .map_err(|e| Error::ResultType { name: name.to_owned(), message: e.to_string() })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}
