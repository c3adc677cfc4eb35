//! [`Runtime`]: the registry of workers and tools, the model providers, the limits and the event
//! subscribers. Cheap to clone; every run starts from [`Runtime::ctx`].

use crate::approval::{ArgsRefused, Gate, GatedArgs};
use crate::attachment::{AttachmentLimits, AttachmentLoader};
use crate::ctx::Ctx;
use crate::effects::Effects;
use crate::event::EventSubscriber;
use crate::model::Model;
use crate::registry::Registry;
use crate::resolve::Fallback;
use crate::spec::CallableSpec;
use crate::state::StateMap;
use crate::usage::Limits;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

mod builder;
mod run_options;
pub use builder::RuntimeBuilder;
pub use run_options::RunOptions;

/// The llm-do runtime.
///
/// ```
/// use llm_do_core::{Ctx, Error, Runtime, ToolSpecBuilder};
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Text { text: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let shout = ToolSpecBuilder::new("shout")
///     .typed_handler(|_: Ctx, args: Text| async move { Ok::<_, Error>(args.text.to_uppercase()) })
///     .build();
/// let rt = Runtime::builder().register(shout).build();
/// let loud: String = rt.ctx().call("shout", serde_json::json!({"text": "hi"})).await?;
/// assert_eq!(loud, "HI");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    /// Unique per built runtime: keys what specs cache about it (a worker's resolved tools).
    pub(crate) id: u64,
    pub(crate) registry: Registry,
    pub(crate) providers: BTreeMap<String, Arc<dyn Model>>,
    /// Providers that could not be set up, with why (see
    /// [`RuntimeBuilder::unavailable_provider`]).
    pub(crate) unavailable: BTreeMap<String, String>,
    pub(crate) model_override: Option<Arc<dyn Model>>,
    pub(crate) fallback_model: Option<Fallback>,
    pub(crate) limits: Limits,
    pub(crate) subscribers: Vec<Arc<dyn EventSubscriber>>,
    pub(crate) gate: Gate,
    pub(crate) attachment_loader: Option<Arc<dyn AttachmentLoader>>,
    pub(crate) attachment_limits: AttachmentLimits,
    pub(crate) states: StateMap,
    /// How runs perform their effects unless one is given (see [`crate::effects`]).
    pub(crate) effects: Arc<dyn Effects>,
}

impl Runtime {
    /// Starts configuring a runtime.
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().max_depth(3).build();
    /// assert_eq!(rt.limits().max_depth, 3);
    /// ```
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// A fresh root context: the start of one *run*. Budgets (requests, tokens) and usage
    /// totals are per run; calls made from this context run at depth 1.
    ///
    /// ```
    /// let ctx = llm_do_core::Runtime::builder().build().ctx();
    /// assert_eq!(ctx.depth(), 0);
    /// ```
    pub fn ctx(&self) -> Ctx {
        Ctx::root(
            self.inner.clone(),
            self.inner.effects.clone(),
            self.inner.limits,
            None,
            Vec::new(),
        )
    }

    /// A fresh root context whose run differs from the runtime's defaults as `options` say:
    /// its own limits (a server that gives each entry worker its own budget), its own effects
    /// (a durable executor's journal), its own approver (a server that asks its client).
    ///
    /// ```
    /// use llm_do_core::{Error, Runtime, ToolSpecBuilder, runtime::RunOptions, usage::BudgetKind};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let nest = ToolSpecBuilder::new("nest")
    ///     .handler(|ctx, _| async move { ctx.call_value("nest", serde_json::json!({})).await })
    ///     .build();
    /// let rt = Runtime::builder().register(nest).max_depth(8).build();
    /// let mut shallow = rt.limits();
    /// shallow.max_depth = 2;
    /// let err = rt.ctx_with(RunOptions::new().limits(shallow))
    ///     .call_value("nest", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::DepthExceeded { depth: 3, max_depth: 2, .. }));
    /// let err = rt.ctx().call_value("nest", serde_json::json!({})).await.unwrap_err();
    /// assert!(matches!(err, Error::DepthExceeded { depth: 9, max_depth: 8, .. }));
    /// # }
    /// ```
    pub fn ctx_with(&self, options: RunOptions) -> Ctx {
        Ctx::root(
            self.inner.clone(),
            options.effects.unwrap_or_else(|| self.inner.effects.clone()),
            options.limits.unwrap_or(self.inner.limits),
            options.approver,
            options.subscribers,
        )
    }

    /// A fresh root context whose run performs its effects through `effects` (a durable
    /// executor's journal, see [`crate::effects`]) instead of the runtime's.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let rt = llm_do_core::Runtime::builder().build();
    /// let ctx = rt.ctx_with_effects(Arc::new(llm_do_core::effects::Direct));
    /// assert_eq!(ctx.depth(), 0);
    /// ```
    pub fn ctx_with_effects(&self, effects: Arc<dyn Effects>) -> Ctx {
        self.ctx_with(RunOptions::new().effects(effects))
    }

    /// A call's arguments as the approval gate of a model's call sees them, for a gate of
    /// calls from elsewhere (`llm-do mcp`'s, for its clients' calls): [`gated_args`] (the
    /// callee's forbidden arguments refused, then its canonical form), and, for a worker, each
    /// attachment path resolved by this runtime's
    /// [`AttachmentLoader`] as the call will read it. Rules
    /// are matched against [`GatedArgs::for_rules`], and the call runs with
    /// [`GatedArgs::into_run`]; a path the loader refuses is
    /// [`ArgsRefused::NotCanonical`].
    ///
    /// [`gated_args`]: crate::approval::gated_args
    ///
    /// ```
    /// use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
    /// use llm_do_core::{Runtime, WorkerSpecBuilder};
    /// use serde_json::json;
    /// struct Trimmed;
    /// impl AttachmentLoader for Trimmed {
    ///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
    ///         Attachment::from_bytes(b"x".to_vec(), Some(path))
    ///     }
    ///     fn resolve(&self, path: &str) -> Result<String, AttachmentError> {
    ///         Ok(path.trim_start_matches("./").to_owned())
    ///     }
    /// }
    /// let schema = json!({"type": "object", "properties": {
    ///     "doc": {"type": "string", "format": "attachment"}
    /// }});
    /// let summarize =
    ///     WorkerSpecBuilder::new("summarize").prompt("Summarize.").input_schema(schema).build().unwrap();
    /// let rt = Runtime::builder().attachment_loader(Trimmed).register(summarize.clone()).build();
    /// let gated = rt.gated_args(&summarize, json!({"doc": "./secret/x.png"})).unwrap();
    /// assert_eq!(gated.for_rules(), &json!({"doc": "secret/x.png"}));
    /// ```
    pub fn gated_args(&self, spec: &CallableSpec, args: Value) -> Result<GatedArgs, ArgsRefused> {
        let gated = crate::approval::gated_args(spec, args)?;
        let loader = self.inner.attachment_loader.as_deref();
        crate::approval::with_attachments_resolved(loader, spec, gated)
    }

    /// The registered workers and tools.
    ///
    /// ```
    /// assert!(llm_do_core::Runtime::builder().build().registry().is_empty());
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The limits of its runs, unless a run is started with its own ([`Runtime::ctx_with`]).
    ///
    /// ```
    /// assert_eq!(llm_do_core::Runtime::builder().build().limits().max_depth, 5);
    /// ```
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The model of workers that name none: the builder's
    /// [`env_model`](RuntimeBuilder::env_model), else its
    /// [`default_model`](RuntimeBuilder::default_model).
    ///
    /// ```
    /// let rt = llm_do_core::Runtime::builder().default_model("local:smollm2").build();
    /// assert_eq!(rt.default_model(), Some("local:smollm2"));
    /// ```
    pub fn default_model(&self) -> Option<&str> {
        self.inner.fallback_model.as_ref().map(Fallback::as_str)
    }

    pub(crate) fn from_inner(inner: Arc<RuntimeInner>) -> Self {
        Self { inner }
    }
}

impl RuntimeInner {
    pub(crate) fn has_subscribers(&self) -> bool {
        !self.subscribers.is_empty()
    }
}
