//! # llm-do: LLM workers are ordinary async functions
//!
//! A *worker* is a prompt, model settings and tools, packaged so that calling it looks exactly
//! like calling a plain Rust `async fn`. Workers and deterministic *tools* share one calling
//! convention, so any step can move between "the LLM decides" and "code decides" without
//! touching its call sites.
//!
//! ```
//! use llm_do::prelude::*;
//! use llm_do::testing::{Reply, ScriptedModel};
//!
//! #[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
//! enum Category { Bug, Billing, Feature }
//!
//! /// Classify a customer support ticket.
//! #[worker(model = "openai:gpt-4o-mini", prompt = "Classify this ticket: {ticket}")]
//! async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! // Tests (and this example) replace the real model by a scripted one.
//! let model = ScriptedModel::queue([Reply::json(json!("Billing"))]);
//! let rt = Runtime::builder().register(classify::spec()).model_override(model).build();
//! let ctx = rt.ctx();
//! assert_eq!(classify(&ctx, "I was charged twice".into()).await?, Category::Billing);
//! # Ok(())
//! # }
//! ```
//!
//! Hardening `classify` into Rust means replacing its definition by a `#[tool] async fn` with
//! the same signature; every call site, the registration line, and the schema other models see
//! stay the same. See `docs/architecture.md` in the repository for the design.
//!
//! What a `#[worker]` or `#[tool]` function may be: `async`, not generic, parameters of owned
//! types (decoded from JSON), a result `Result<T>` (llm-do's `Error`) with an owned `T`. Besides
//! the function, the macros define a hidden struct of the same name (`classify::spec()`): it
//! lives in the type namespace, so it does not clash with the function, but a module, type or
//! `use` import of that name in the same scope does (`the name `classify` is defined multiple
//! times`) — rename one, or give the worker its model-facing name with `name = "…"` on a
//! differently named function.
//!
//! # Features
//!
//! This crate is the facade: core, the macros and `prelude` always; the rest behind cargo
//! features, so that a program compiles only what it uses.
//!
//! | feature | gives | crate |
//! |---|---|---|
//! | `openai` (default) | [`providers::openai`](providers): any OpenAI-compatible server over HTTP | `llm-do-openai` |
//! | `local` | `providers::local`: the embedded model, GGUF files in-process (pure Rust) | `llm-do-local` |
//! | `tools` | `tools`: the filesystem and shell toolsets | `llm-do-tools` |
//! | `project` | `project`: worker files and `llm-do.toml` projects (implies `tools`) | `llm-do-project` |
//! | `testing` | `testing`: scripted and test models, cassettes, sampler, hardening evidence | `llm-do-testing` |
//!
//! [`builder`] (or [`setup::RuntimeBuilderExt::with_default_providers`]) registers the
//! providers the build includes, configured from the environment; `Runtime::builder()` itself
//! registers nothing.
#![warn(missing_docs)]

pub use llm_do_core::EventPrinter;
pub use llm_do_core::canonical;
pub use llm_do_core::{
    Attachment, CallId, CallInfo, CallKind, CallableSpec, Conversation, ConversationError, Ctx,
    DeltaSink, Error, Event, EventKind, EventLog, EventSubscriber, IntoSpec, Limits, Message,
    Model, ModelError, ModelErrorKind, ModelRef, ModelRequest, ModelResponse, ModelSettings,
    OutputMode, Registry, ResolvedModel, Result, RunOptions, Runtime, RuntimeBuilder, SpecRef,
    StreamDelta, ToolCall, ToolDefinition, ToolResult, ToolSpecBuilder, Usage, WorkerConfig,
    WorkerSpecBuilder,
};
pub use llm_do_core::{
    agent, approval, attachment, bounds, call, cancel, controls, conversation, ctx, error,
    estimate, event, history, message, model, model_ref, prompt, registry, runtime, schema,
    secrets, spec, usage,
};

/// Marks an `async fn` without a body as an LLM-backed worker.
///
/// See the crate documentation for an example.
pub use llm_do_macros::worker;

/// Marks an `async fn` as a deterministic tool that workers (and code) can call.
///
/// ```
/// use llm_do::prelude::*;
///
/// /// Add two integers.
/// #[tool]
/// async fn add(a: i64, b: i64) -> Result<i64> {
///     Ok(a + b)
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<()> {
/// assert_eq!(add(2, 3).await?, 5);                    // still a plain function
/// let ctx = Runtime::builder().register(add::spec()).build().ctx();
/// let sum: i64 = ctx.call("add", json!({"a": 2, "b": 3})).await?;   // and callable by name
/// assert_eq!(sum, 5);
/// # Ok(())
/// # }
/// ```
pub use llm_do_macros::tool;

pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
pub use serde_json::json;

pub mod prelude;
pub mod setup;

pub use setup::builder;

/// In-process models and test tools (feature `testing`, crate `llm-do-testing`): no network,
/// no API key. See `docs/testing.md` in the repository for the workflow.
#[cfg(feature = "testing")]
pub use llm_do_testing as testing;

/// Model providers, one per cargo feature; register one per server with
/// [`RuntimeBuilder::provider`] (or let [`builder`] register them from the environment).
///
/// - `providers::openai` (feature `openai`, default): any OpenAI-compatible chat-completions
///   server (OpenAI, Ollama, vLLM, llama.cpp's server, ...), via `OpenAiProvider`.
/// - `providers::local` (feature `local`): the embedded local model, `LocalModel`.
///
/// ```no_run
/// use llm_do::prelude::*;
/// use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
///
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let rt = Runtime::builder()
///     .provider("openai", OpenAiProvider::from_env()?)
///     .provider("ollama", OpenAiProvider::new(OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1")))
///     .build();
/// # let _ = rt;
/// # Ok(())
/// # }
/// ```
pub mod providers {
    /// The embedded local model (feature `local`, crate `llm-do-local`): GGUF models run
    /// in-process in pure Rust, `local:smollm2` by default. See also [`setup`](crate::setup).
    #[cfg(feature = "local")]
    pub use llm_do_local as local;
    /// Any OpenAI-compatible chat-completions server (feature `openai`, crate `llm-do-openai`).
    #[cfg(feature = "openai")]
    pub use llm_do_openai as openai;
}

/// Built-in tools (feature `tools`): a filesystem confined to a root directory
/// (`tools::fs::Filesystem`) and a rule-checked shell that runs programs without a shell
/// (`tools::shell::Shell`).
#[cfg(feature = "tools")]
pub use llm_do_tools as tools;

/// Worker files (`NAME.worker`: YAML frontmatter + prompt) and projects (a directory of them
/// with an optional `llm-do.toml`; feature `project`): load and check them with
/// file:line:column diagnostics, then register them into a runtime (crate `llm-do-project`).
#[cfg(feature = "project")]
pub use llm_do_project as project;

/// The Rust code blocks of the repository's README, compiled (and run, unless marked
/// `no_run`) as doc tests so that they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The Rust code blocks of the guides under `docs/`, compiled (and run, unless marked `no_run`)
/// as doc tests like the README's: one item per guide. Blocks that are fragments complete
/// themselves with hidden `# ` lines; the ones that need `llm_do_cli` or `llm_do_mcp` see
/// them through this crate's dev-dependencies.
#[cfg(doctest)]
pub mod docs_doctests {
    /// docs/approvals.md
    #[doc = include_str!("../../../docs/approvals.md")]
    pub struct Approvals;
    /// docs/architecture.md
    #[doc = include_str!("../../../docs/architecture.md")]
    pub struct Architecture;
    /// docs/attachments.md
    #[doc = include_str!("../../../docs/attachments.md")]
    pub struct Attachments;
    /// docs/chat.md
    #[doc = include_str!("../../../docs/chat.md")]
    pub struct Chat;
    /// docs/cli.md
    #[doc = include_str!("../../../docs/cli.md")]
    pub struct Cli;
    /// docs/hardening.md
    #[doc = include_str!("../../../docs/hardening.md")]
    pub struct Hardening;
    /// docs/local-model.md
    #[doc = include_str!("../../../docs/local-model.md")]
    pub struct LocalModel;
    /// docs/mcp.md
    #[doc = include_str!("../../../docs/mcp.md")]
    pub struct Mcp;
    /// docs/migrating-from-python.md
    #[doc = include_str!("../../../docs/migrating-from-python.md")]
    pub struct MigratingFromPython;
    /// docs/providers.md
    #[doc = include_str!("../../../docs/providers.md")]
    pub struct Providers;
    /// docs/testing.md
    #[doc = include_str!("../../../docs/testing.md")]
    pub struct Testing;
}

#[doc(hidden)]
pub mod __private {
    pub use llm_do_core::__private::*;
}
