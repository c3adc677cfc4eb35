//! [`RuntimeBuilder`]: how a [`Runtime`] is configured — workers and tools, providers, limits,
//! approvals, subscribers, state and effects — and checked when built.
//!
//! (Over 400 lines: one type — a setter per setting, each with its doc example, and `build` —
//! kept in one file so that the whole configuration surface reads in one place.)

use crate::approval::{ApprovalPolicy, Approver, Gate, OnDenied};
use crate::attachment::{AttachmentLimits, AttachmentLoader};
use crate::effects::{Direct, Effects};
use crate::error::{Error, Result};
use crate::event::EventSubscriber;
use crate::model::Model;
use crate::registry::Registry;
use crate::resolve::Fallback;
use crate::spec::{CallableSpec, IntoSpec, SpecRef, ToolSource};
use crate::state::StateMap;
use crate::usage::Limits;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Runtime, RuntimeInner};

/// Configures a [`Runtime`].
///
/// ```
/// use llm_do_core::{EventLog, Runtime};
/// let log = EventLog::new();
/// let rt = Runtime::builder()
///     .max_depth(8)
///     .max_requests(50)
///     .max_total_tokens(100_000)
///     .default_model("openai:gpt-4o-mini")
///     .subscribe(log.clone())
///     .build();
/// assert_eq!(rt.limits().max_requests, Some(50));
/// ```
#[must_use]
pub struct RuntimeBuilder {
    explicit: Vec<Arc<CallableSpec>>,
    sources: Vec<Arc<dyn crate::registry::CallableSource>>,
    providers: BTreeMap<String, Arc<dyn Model>>,
    unavailable: BTreeMap<String, String>,
    model_override: Option<Arc<dyn Model>>,
    default_model: Option<String>,
    env_model: Option<String>,
    limits: Limits,
    subscribers: Vec<Arc<dyn EventSubscriber>>,
    policy: ApprovalPolicy,
    approver: Option<Arc<dyn Approver>>,
    on_denied: OnDenied,
    attachment_loader: Option<Arc<dyn AttachmentLoader>>,
    attachment_limits: AttachmentLimits,
    states: StateMap,
    effects: Option<Arc<dyn Effects>>,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self {
            explicit: Vec::new(),
            sources: Vec::new(),
            providers: BTreeMap::new(),
            unavailable: BTreeMap::new(),
            model_override: None,
            default_model: None,
            env_model: None,
            limits: Limits::default(),
            subscribers: Vec::new(),
            policy: ApprovalPolicy::new(),
            approver: None,
            on_denied: OnDenied::default(),
            attachment_loader: None,
            attachment_limits: AttachmentLimits::default(),
            states: StateMap::default(),
            effects: None,
        }
    }
}

impl RuntimeBuilder {
    /// Registers a worker or tool under its name, for calls by name.
    ///
    /// The tools a registered worker lists are registered too, unless a spec of the same name
    /// is registered explicitly (explicit registrations always win, so a hardened replacement
    /// can take over a name).
    ///
    /// Takes a spec or the function that makes one ([`IntoSpec`]): with the macros,
    /// `register(my_tool::spec)` and `register(my_tool::spec())` do the same.
    ///
    /// ```
    /// # use llm_do_core::{Runtime, ToolSpecBuilder};
    /// let t = || ToolSpecBuilder::new("t").handler(|_, _| async { Ok(serde_json::json!(1)) }).build();
    /// let u = || ToolSpecBuilder::new("u").handler(|_, _| async { Ok(serde_json::json!(2)) }).build();
    /// let rt = Runtime::builder().register(t()).register(u).build();
    /// assert!(rt.registry().contains("t") && rt.registry().contains("u"));
    /// ```
    pub fn register(mut self, spec: impl IntoSpec) -> Self {
        self.explicit.push(spec.into_spec());
        self
    }

    /// Adds a source of callables known only at run time, such as the tools of an MCP server
    /// (see [`CallableSource`](crate::CallableSource)): names with its prefix that are not
    /// registered are looked up in it when they are called.
    ///
    /// ```
    /// # use llm_do_core::Runtime;
    /// assert_eq!(Runtime::builder().build().registry().sources().count(), 0);
    /// ```
    pub fn source(mut self, source: Arc<dyn crate::registry::CallableSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Makes a model backend available under a provider name: workers whose model is
    /// `"{name}:…"` use it. Several providers (e.g. `openai` and a local `ollama`) can coexist.
    ///
    /// ```
    /// # use llm_do_core::{Model, ModelError, ModelRequest, ModelResponse, Runtime, WorkerSpecBuilder};
    /// # /// Answers every request with its text.
    /// # struct Fixed(&'static str);
    /// # impl Model for Fixed {
    /// #     fn request<'a>(&'a self, _: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    /// #         Box::pin(async { Ok(ModelResponse::text(self.0)) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let w = WorkerSpecBuilder::new("w").prompt("Hi").model("b:any").build()?;
    /// let rt = Runtime::builder()
    ///     .provider("a", Fixed("from a"))
    ///     .provider("b", Fixed("from b"))
    ///     .register(w)
    ///     .build();
    /// assert_eq!(rt.ctx().call_value("w", serde_json::json!({})).await?, "from b");
    /// # Ok(())
    /// # }
    /// ```
    pub fn provider(mut self, name: impl Into<String>, model: impl Model) -> Self {
        let name = name.into();
        self.unavailable.remove(&name);
        self.providers.insert(name, Arc::new(model));
        self
    }

    /// Records that the provider `name` exists but could not be set up, and why (a bad
    /// configuration: a malformed base URL, a key that cannot be sent): a worker whose model
    /// names it then fails with [`Error::ProviderUnavailable`] carrying `reason`, instead of
    /// "unknown provider". A later [`provider`](Self::provider) of the same name wins.
    ///
    /// ```
    /// # use llm_do_core::{Error, Runtime, WorkerSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let w = WorkerSpecBuilder::new("w").prompt("Hi").model("openai:gpt-4o").build().unwrap();
    /// let rt = Runtime::builder()
    ///     .unavailable_provider("openai", "OPENAI_BASE_URL is not a URL")
    ///     .register(w)
    ///     .build();
    /// let err = rt.ctx().call_value("w", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::ProviderUnavailable { ref reason, .. } if reason.contains("OPENAI_BASE_URL")));
    /// # }
    /// ```
    pub fn unavailable_provider(
        mut self,
        name: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let name = name.into();
        if !self.providers.contains_key(&name) {
            self.unavailable.insert(name, reason.into());
        }
        self
    }

    /// Forces every worker onto this model, whatever its `model` string says (for tests and
    /// demos). The model name sent is still the part of the worker's model string after `:`.
    ///
    /// ```
    /// # use llm_do_core::{Model, ModelError, ModelRequest, ModelResponse, Runtime, WorkerSpecBuilder};
    /// # /// Answers with the model name it was sent.
    /// # struct WhichModel;
    /// # impl Model for WhichModel {
    /// #     fn request<'a>(&'a self, req: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    /// #         Box::pin(async move { Ok(ModelResponse::text(req.model.clone())) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let w = WorkerSpecBuilder::new("w").prompt("Hi").model("openai:gpt-4o").build()?;
    /// // No `openai` provider is registered: the override answers, asked for `gpt-4o`.
    /// let rt = Runtime::builder().model_override(WhichModel).register(w).build();
    /// assert_eq!(rt.ctx().call_value("w", serde_json::json!({})).await?, "gpt-4o");
    /// # Ok(())
    /// # }
    /// ```
    pub fn model_override(mut self, model: impl Model) -> Self {
        self.model_override = Some(Arc::new(model));
        self
    }

    /// The model of workers that name none, unless [`env_model`](Self::env_model) gives one.
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().default_model("openai:gpt-4o-mini").build();
    /// assert_eq!(rt.default_model(), Some("openai:gpt-4o-mini"));
    /// ```
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = Some(model.into());
        self
    }

    /// The model of workers that name none as the environment chose it: it wins over
    /// [`default_model`](Self::default_model), whether that is set before or after, so that a
    /// program's or project's default never hides what the user asked for. The runtime never
    /// reads the environment itself: `llm_do::setup` passes `LLM_DO_MODEL` here; `None` (or a
    /// blank string) clears it.
    ///
    /// ```
    /// use llm_do_core::Runtime;
    /// let rt = Runtime::builder()
    ///     .env_model(Some("openai:gpt-4o".into()))
    ///     .default_model("local:smollm2")
    ///     .build();
    /// assert_eq!(rt.default_model(), Some("openai:gpt-4o"));
    /// ```
    pub fn env_model(mut self, model: Option<String>) -> Self {
        self.env_model = model.filter(|m| !m.trim().is_empty());
        self
    }

    /// The model workers that name none will run on, as configured so far: the
    /// [`env_model`](Self::env_model), else the [`default_model`](Self::default_model) — what
    /// [`Runtime::default_model`](crate::Runtime::default_model) says once built. For checks
    /// that must see the model before the runtime exists (a project's `compatible_models`).
    ///
    /// ```
    /// let b = llm_do_core::Runtime::builder().default_model("b:y");
    /// assert_eq!(b.chosen_model(), Some("b:y"));
    /// let b = b.env_model(Some("a:x".into()));
    /// assert_eq!(b.chosen_model(), Some("a:x"));
    /// assert_eq!(b.build().default_model(), Some("a:x"));
    /// ```
    pub fn chosen_model(&self) -> Option<&str> {
        self.env_model.as_deref().or(self.default_model.as_deref())
    }

    /// Forgets the [`env_model`](Self::env_model), so that only the program decides (tests
    /// that must not depend on the user's `LLM_DO_MODEL`).
    ///
    /// ```
    /// use llm_do_core::Runtime;
    /// let rt = Runtime::builder().env_model(Some("a:x".into())).default_model("b:y").ignore_env().build();
    /// assert_eq!(rt.default_model(), Some("b:y"));
    /// ```
    pub fn ignore_env(self) -> Self {
        self.env_model(None)
    }

    /// Sets the deepest allowed call (default 5; calls from the root context run at depth 1).
    /// At most [`MAX_CALL_DEPTH`](crate::bounds::MAX_CALL_DEPTH) (32) holds: a larger value
    /// acts as that one, and a call past it is refused as past `max_depth`.
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().max_depth(2).build().limits().max_depth, 2);
    /// ```
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.limits.max_depth = depth;
        self
    }

    /// Sets the most model requests one run may make.
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().max_requests(3).build().limits().max_requests, Some(3));
    /// ```
    pub fn max_requests(mut self, requests: u64) -> Self {
        self.limits.max_requests = Some(requests);
        self
    }

    /// Sets the most input + output tokens one run may use.
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_total_tokens(1000).build();
    /// assert_eq!(rt.limits().max_total_tokens, Some(1000));
    /// ```
    pub fn max_total_tokens(mut self, tokens: u64) -> Self {
        self.limits.max_total_tokens = Some(tokens);
        self
    }

    /// Lets a tool run one level past [`max_depth`](Self::max_depth), so that the limit counts
    /// nested worker calls only ([`Limits::tools_past_max_depth`]): how the Python llm-do
    /// counts its `max_depth`.
    ///
    /// ```
    /// use llm_do_core::{Error, Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let now = ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::json!(12)) }).build();
    /// let w = WorkerSpecBuilder::new("w").prompt("Hi").build().unwrap();
    /// let rt = Runtime::builder().register(now).register(w).max_depth(0).tools_past_max_depth(true).build();
    /// assert_eq!(rt.ctx().call_value("now", serde_json::json!({})).await.unwrap(), 12);
    /// let err = rt.ctx().call_value("w", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::DepthExceeded { depth: 1, max_depth: 0, .. }));
    /// # }
    /// ```
    pub fn tools_past_max_depth(mut self, allowed: bool) -> Self {
        self.limits.tools_past_max_depth = allowed;
        self
    }

    /// Makes a model's call past [`max_depth`](Self::max_depth) end the run
    /// ([`Limits::max_depth_ends_run`]), as the Python llm-do does, instead of telling the
    /// calling model that the call is too deep.
    ///
    /// ```
    /// use llm_do_core::approval::Verdict;
    /// use llm_do_core::{Error, Model, ModelError, ModelRequest, ModelResponse, Runtime, ToolCall, WorkerSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// /// Asks for `helper` once, then answers.
    /// struct Delegating;
    /// impl Model for Delegating {
    ///     fn request<'a>(&'a self, req: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    ///         Box::pin(async move {
    ///             Ok(if req.has_tool_results() {
    ///                 ModelResponse::text("Done without it.")
    ///             } else {
    ///                 ModelResponse::tool_calls(vec![ToolCall::raw("1", "helper", r#"{"input": "x"}"#)])
    ///             })
    ///         })
    ///     }
    /// }
    /// let helper = WorkerSpecBuilder::new("helper").prompt("Help with {input}").approval(Verdict::Allow).build().unwrap();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("helper").build().unwrap();
    /// let builder = || Runtime::builder().provider("m", Delegating).default_model("m:any")
    ///     .register(helper.clone()).register(main.clone()).max_depth(1);
    /// // By default the model is told that `helper` is too deep, and answers.
    /// let told = builder().build().ctx().call_value("main", serde_json::json!({})).await.unwrap();
    /// assert_eq!(told, "Done without it.");
    /// let ended = builder().max_depth_ends_run(true).build()
    ///     .ctx().call_value("main", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(ended, Error::DepthExceeded { depth: 2, max_depth: 1, .. }));
    /// # }
    /// ```
    pub fn max_depth_ends_run(mut self, ends: bool) -> Self {
        self.limits.max_depth_ends_run = ends;
        self
    }

    /// Sets the run's tool-call budget: the most tool calls the models of one run may request.
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_tool_calls(40).build();
    /// assert_eq!(rt.limits().max_tool_calls, Some(40));
    /// ```
    pub fn max_tool_calls(mut self, calls: u64) -> Self {
        self.limits.max_tool_calls = Some(calls);
        self
    }

    /// Sets how many tool calls of one model answer run at the same time (default 16; the
    /// others wait their turn).
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_parallel_tool_calls(4).build();
    /// assert_eq!(rt.limits().max_parallel_tool_calls, 4);
    /// ```
    pub fn max_parallel_tool_calls(mut self, calls: u32) -> Self {
        self.limits.max_parallel_tool_calls = calls;
        self
    }

    /// Sets all limits at once.
    ///
    /// ```
    /// use llm_do_core::{Limits, Runtime};
    /// let mut limits = Limits::default();
    /// limits.max_depth = 2;
    /// let rt = Runtime::builder().max_requests(10).limits(limits).build();
    /// assert_eq!(rt.limits(), limits);
    /// // All of them: the `max_requests` set before is back to its default (unlimited).
    /// assert_eq!(rt.limits().max_requests, None);
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds an event subscriber (an [`EventLog`](crate::EventLog), a closure, ...).
    ///
    /// ```
    /// use llm_do_core::{Event, Runtime, ToolSpecBuilder};
    /// use std::sync::{Arc, Mutex};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let labels = Arc::new(Mutex::new(Vec::new()));
    /// let heard = labels.clone();
    /// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
    /// let rt = Runtime::builder()
    ///     .register(echo)
    ///     .subscribe(move |e: &Event| heard.lock().unwrap().push(e.kind.label()))
    ///     .build();
    /// rt.ctx().call_value("echo", serde_json::json!({})).await?;
    /// assert_eq!(*labels.lock().unwrap(), ["call_started", "call_finished"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe(mut self, subscriber: impl EventSubscriber) -> Self {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    /// Sets the approval policy for calls that models request (see [`crate::approval`]).
    ///
    /// ```
    /// use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
    /// use llm_do_core::{Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # /// Calls the first tool it is offered, then answers with what the call gave.
    /// # struct UsesTool;
    /// # impl llm_do_core::Model for UsesTool {
    /// #     fn request<'a>(&'a self, req: &'a llm_do_core::ModelRequest) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>> {
    /// #         use llm_do_core::{Message, ModelResponse, ToolCall};
    /// #         let result = req.messages.iter().find_map(|m| match m { Message::Tool(r) => Some(r.content.clone()), _ => None });
    /// #         let answer = match result {
    /// #             Some(result) => ModelResponse::text(result),
    /// #             None => ModelResponse::tool_calls(vec![ToolCall::raw("1", &req.tools[0].name, "{}")]),
    /// #         };
    /// #         Box::pin(async move { Ok(answer) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let delete = ToolSpecBuilder::new("delete_all").handler(|_, _| async { Ok("deleted".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("delete_all").build()?;
    /// let policy = ApprovalPolicy::new().rule(Rule::new("delete_*", Verdict::Deny)?);
    /// let rt = Runtime::builder().model_override(UsesTool).register(delete).register(main)
    ///     .approval_policy(policy).build();
    /// // `main`'s model calls `delete_all`: the rule denies it, and the model is told.
    /// let answer = rt.ctx().call_value("main", serde_json::json!({})).await?;
    /// assert!(answer.as_str().unwrap().starts_with("permission denied"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn approval_policy(mut self, policy: ApprovalPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets who decides calls the policy marks `Ask`. Without one, every `Ask` is denied with a
    /// message saying no approver is configured: nothing that needs approval runs unattended.
    ///
    /// ```
    /// use llm_do_core::approval::{ApproveAll, Verdict};
    /// use llm_do_core::{Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # /// Calls the first tool it is offered, then answers with what the call gave.
    /// # struct UsesTool;
    /// # impl llm_do_core::Model for UsesTool {
    /// #     fn request<'a>(&'a self, req: &'a llm_do_core::ModelRequest) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>> {
    /// #         use llm_do_core::{Message, ModelResponse, ToolCall};
    /// #         let result = req.messages.iter().find_map(|m| match m { Message::Tool(r) => Some(r.content.clone()), _ => None });
    /// #         let answer = match result {
    /// #             Some(result) => ModelResponse::text(result),
    /// #             None => ModelResponse::tool_calls(vec![ToolCall::raw("1", &req.tools[0].name, "{}")]),
    /// #         };
    /// #         Box::pin(async move { Ok(answer) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let wipe = ToolSpecBuilder::new("wipe").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok("wiped".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("wipe").build()?;
    /// let builder = || Runtime::builder().model_override(UsesTool).register(wipe.clone()).register(main.clone());
    /// // `main`'s model calls `wipe`, which asks: without an approver, the call is denied...
    /// let denied = builder().build().ctx().call_value("main", serde_json::json!({})).await?;
    /// assert!(denied.as_str().unwrap().contains("no approver is configured"));
    /// // ...with one, the approver decides.
    /// let rt = builder().approver(ApproveAll).build();
    /// assert_eq!(rt.ctx().call_value("main", serde_json::json!({})).await?, "wiped");
    /// # Ok(())
    /// # }
    /// ```
    pub fn approver(mut self, approver: impl Approver) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }

    /// Sets what a denial does: an error tool result for the model (default) or abort the run.
    ///
    /// ```
    /// use llm_do_core::approval::{OnDenied, Verdict};
    /// use llm_do_core::{Error, Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # /// Calls the first tool it is offered, then answers with what the call gave.
    /// # struct UsesTool;
    /// # impl llm_do_core::Model for UsesTool {
    /// #     fn request<'a>(&'a self, req: &'a llm_do_core::ModelRequest) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>> {
    /// #         use llm_do_core::{Message, ModelResponse, ToolCall};
    /// #         let result = req.messages.iter().find_map(|m| match m { Message::Tool(r) => Some(r.content.clone()), _ => None });
    /// #         let answer = match result {
    /// #             Some(result) => ModelResponse::text(result),
    /// #             None => ModelResponse::tool_calls(vec![ToolCall::raw("1", &req.tools[0].name, "{}")]),
    /// #         };
    /// #         Box::pin(async move { Ok(answer) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let wipe = ToolSpecBuilder::new("wipe").approval(Verdict::Deny)
    ///     .handler(|_, _| async { Ok("wiped".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("wipe").build()?;
    /// let rt = Runtime::builder().model_override(UsesTool).register(wipe).register(main)
    ///     .on_denied(OnDenied::Abort).build();
    /// // `main`'s model calls `wipe`: the denial ends the run.
    /// let err = rt.ctx().call_value("main", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::Denied { ref name, .. } if name == "wipe"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_denied(mut self, on_denied: OnDenied) -> Self {
        self.on_denied = on_denied;
        self
    }

    /// Reads attachment paths given to workers (by a calling model, a worker file's input, or
    /// `llm-do run --attach`) through `loader`, which confines them to its root. Without a
    /// loader, attachment paths are refused with an
    /// [`InvalidReference`](crate::attachment::AttachmentErrorKind::InvalidReference) error.
    ///
    /// ```
    /// use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
    /// struct Nothing;
    /// impl AttachmentLoader for Nothing {
    ///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
    ///         Err(AttachmentError::new(llm_do_core::attachment::AttachmentErrorKind::Io, path))
    ///     }
    /// }
    /// let rt = llm_do_core::Runtime::builder().attachment_loader(Nothing).build();
    /// # let _ = rt;
    /// ```
    pub fn attachment_loader(mut self, loader: impl AttachmentLoader) -> Self {
        self.attachment_loader = Some(Arc::new(loader));
        self
    }

    /// Sets the bounds on attachments (size, text length); see [`AttachmentLimits`].
    ///
    /// ```
    /// use llm_do_core::attachment::AttachmentLimits;
    /// let rt = llm_do_core::Runtime::builder()
    ///     .attachment_limits(AttachmentLimits { max_bytes: 1 << 20, ..Default::default() })
    ///     .build();
    /// # let _ = rt;
    /// ```
    pub fn attachment_limits(mut self, limits: AttachmentLimits) -> Self {
        self.attachment_limits = limits;
        self
    }

    /// Gives tools a value of type `T` (a database pool, a client, a configuration), which
    /// they read with [`Ctx::state`](crate::Ctx::state). One value per type: a second `state` of the same type
    /// replaces the first. Wrap what must change during a run in a `Mutex` or an atomic.
    ///
    /// ```
    /// # use llm_do_core::{Ctx, Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// struct Greeting(&'static str);
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Args { name: String }
    /// let greet = ToolSpecBuilder::new("greet")
    ///     .typed_handler(|ctx: Ctx, args: Args| async move {
    ///         Ok::<_, llm_do_core::Error>(format!("{}, {}", ctx.state::<Greeting>()?.0, args.name))
    ///     })
    ///     .build();
    /// let rt = Runtime::builder().state(Greeting("Hello")).register(greet).build();
    /// let text: String = rt.ctx().call("greet", "Ada").await?;
    /// assert_eq!(text, "Hello, Ada");
    /// # Ok(())
    /// # }
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// Sets how every run performs its effects (model requests, tool executions, approval
    /// decisions, time); [`Direct`] by default. See [`crate::effects`].
    ///
    /// ```
    /// use llm_do_core::{EventLog, Runtime, ToolSpecBuilder, effects::Effects};
    /// use std::time::{SystemTime, UNIX_EPOCH};
    ///
    /// /// Stamps every event with the same time (as a replay would, from its journal).
    /// struct Frozen;
    /// impl Effects for Frozen {
    ///     fn now(&self) -> SystemTime {
    ///         UNIX_EPOCH
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let log = EventLog::new();
    /// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
    /// let rt = Runtime::builder().register(echo).subscribe(log.clone()).effects(Frozen).build();
    /// rt.ctx().call_value("echo", serde_json::json!({})).await?;
    /// assert!(log.events().iter().all(|e| e.time == UNIX_EPOCH));
    /// # Ok(())
    /// # }
    /// ```
    pub fn effects(mut self, effects: impl Effects) -> Self {
        self.effects = Some(Arc::new(effects));
        self
    }

    /// Builds the runtime. Two explicit registrations of one name: the later one wins (use
    /// [`try_build`](Self::try_build) to make that an error).
    ///
    /// ```
    /// # use llm_do_core::{Runtime, ToolSpecBuilder};
    /// let t = |description: &str| ToolSpecBuilder::new("t").description(description).build();
    /// let rt = Runtime::builder().register(t("first")).register(t("second")).build();
    /// assert_eq!(rt.registry().get("t").unwrap().description(), "second");
    /// ```
    pub fn build(self) -> Runtime {
        self.assemble().0
    }

    /// Builds the runtime, failing on configuration errors instead of leaving them to the
    /// first call: two different specs registered under one name, a default model that is not
    /// `provider:name`, or a registered worker (or a worker it lists) whose model names a
    /// provider that is not registered ([`Error::UnknownProvider`]) or could not be set up
    /// ([`Error::ProviderUnavailable`]). With a [`model_override`](Self::model_override), every
    /// worker runs on the override and providers are not checked.
    ///
    /// ```
    /// # use llm_do_core::{Error, Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// let t = || ToolSpecBuilder::new("t").handler(|_, _| async { Ok(serde_json::json!(1)) }).build();
    /// assert!(Runtime::builder().register(t()).register(t()).try_build().is_err());
    /// let w = WorkerSpecBuilder::new("w").prompt("Hi").model("nowhere:m").build().unwrap();
    /// let err = Runtime::builder().register(w).try_build().err().unwrap();
    /// assert!(matches!(err, Error::UnknownProvider { ref provider, .. } if provider == "nowhere"));
    /// ```
    pub fn try_build(self) -> Result<Runtime> {
        let (rt, duplicates) = self.assemble();
        if let Some(name) = duplicates.first() {
            return Err(Error::InvalidSpec {
                name: name.clone(),
                message: "two different definitions have this name (registered twice, or listed \
                          by workers as two different tools); rename one (`#[tool(name = \"…\")]`) \
                          or register the one every caller should get"
                    .into(),
            });
        }
        rt.check_models()?;
        Ok(rt)
    }

    fn assemble(self) -> (Runtime, Vec<String>) {
        let fallback_model = self.chosen_model().map(Fallback::parse);
        let mut registry = Registry::default();
        let mut duplicates = Vec::new();
        for spec in &self.explicit {
            if let Some(previous) = registry.insert(spec.clone())
                && !Arc::ptr_eq(&previous, spec)
            {
                duplicates.push(spec.name().to_owned());
            }
        }
        for source in self.sources {
            registry.insert_source(source);
        }
        // Tools listed by registered workers fill in the names nobody registered explicitly.
        // Two workers that list two different specs of one name (`a::search`, `b::search`)
        // each call their own, but the name space has one `search`: a duplicate.
        let mut listed: HashMap<Arc<str>, (SpecRef, Arc<CallableSpec>)> = HashMap::new();
        let mut pending: Vec<Arc<CallableSpec>> = self.explicit.clone();
        while let Some(spec) = pending.pop() {
            let Some(worker) = spec.worker() else { continue };
            for source in &worker.tools {
                if let ToolSource::Spec(f) = source {
                    let tool = f();
                    if !registry.contains(tool.name()) {
                        registry.insert_listed(tool.clone());
                        listed.insert(tool.name_arc(), (*f, tool.clone()));
                        pending.push(tool);
                    } else if let Some((first, first_spec)) = listed.get(tool.name())
                        && !std::ptr::fn_addr_eq(*first, *f)
                        && !Arc::ptr_eq(first_spec, &tool)
                        && !duplicates.iter().any(|d| d == tool.name())
                    {
                        duplicates.push(tool.name().to_owned());
                    }
                }
            }
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let inner = RuntimeInner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            providers: self.providers,
            unavailable: self.unavailable,
            model_override: self.model_override,
            fallback_model,
            limits: self.limits,
            subscribers: self.subscribers,
            gate: Gate::new(
                self.policy,
                self.approver.unwrap_or_else(|| {
                    Arc::new(|_: &crate::approval::ApprovalRequest| {
                        crate::approval::Decision::deny(
                            "no approver is configured (Runtime::builder().approver(..)), so calls \
                             that need approval are denied",
                        )
                    })
                }),
                self.on_denied,
            ),
            attachment_loader: self.attachment_loader,
            attachment_limits: self.attachment_limits,
            states: self.states,
            effects: self.effects.unwrap_or_else(|| Arc::new(Direct)),
        };
        (Runtime::from_inner(Arc::new(inner)), duplicates)
    }
}
