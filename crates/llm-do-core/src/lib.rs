//! Core runtime of [llm-do](https://crates.io/crates/llm-do): the pieces every worker and tool call
//! goes through.
//!
//! Most users depend on the `llm-do` facade crate instead of this one; everything here is
//! re-exported there. The modules, one concept each:
//!
//! - [`ctx`]: [`Ctx`], the handle every call receives (depth, budget, events, dispatch by name).
//! - [`runtime`]: [`Runtime`] and its builder (registry, providers, limits, subscribers, the
//!   program state tools read with [`Ctx::state`]).
//! - [`spec`]: [`CallableSpec`], the description of one worker or tool, and its builders.
//! - [`agent`]: the agent loop that runs a worker against a [`Model`].
//! - [`model`]: the [`Model`] trait providers implement, with its request and response types.
//! - [`message`]: the conversation a worker has with its model.
//! - [`conversation`]: [`Conversation`], the message history a chat with workers continues
//!   ([`Ctx::chat`]), and [`history`], the processors that trim it before each turn.
//! - [`estimate`]: the token estimate used where a provider reports no usage.
//! - [`file`](mod@file): reading a file named by a project or a user: a regular file, bounded, UTF-8.
//! - [`attachment`]: files, images and PDFs in that conversation, and their text fallback.
//! - [`effects`]: the seam every effect of a run passes through (direct by default,
//!   journaled by a durable executor).
//! - [`event`]: typed events describing every call, model request and tool result.
//! - [`usage`]: token and request accounting, and the budgets enforced per run.
//! - [`error`]: the typed [`Error`] every fallible operation returns.
#![warn(missing_docs)]

pub mod agent;
pub mod approval;
pub mod attachment;
pub mod bounds;
pub mod call;
pub mod cancel;
pub mod canonical;
mod chat;
pub mod controls;
pub mod conversation;
pub mod ctx;
pub mod effects;
pub mod error;
pub mod estimate;
pub mod event;
pub mod file;
pub mod history;
pub mod message;
pub mod model;
pub mod model_ref;
pub mod prompt;
pub mod registry;
mod resolve;
pub mod runtime;
mod runtime_cache;
pub mod schema;
pub mod secrets;
pub mod spec;
mod state;
mod telemetry;
mod tool_files;
pub mod usage;
mod user_message;

#[doc(hidden)]
pub mod __private;

pub use attachment::Attachment;
pub use call::{CallId, CallInfo, CallKind};
pub use conversation::{Conversation, ConversationError, Entry};
pub use ctx::Ctx;
pub use error::{Error, Result};
pub use event::{Event, EventKind, EventLog, EventPrinter, EventSubscriber};
pub use message::{ContentPart, Message, ToolCall, ToolResult};
pub use model::{
    DeltaSink, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse, ModelSettings,
    OutputMode, StopError, StreamDelta, ToolDefinition,
};
pub use model_ref::ModelRef;
pub use registry::{CallableSource, Registry};
pub use resolve::ResolvedModel;
pub use runtime::{RunOptions, Runtime, RuntimeBuilder};
pub use spec::{
    CallableSpec, CanonicalArgs, ForbiddenArgs, IntoSpec, SpecRef, ToolSpecBuilder, WorkerConfig,
    WorkerSpecBuilder,
};
pub use usage::{Limits, Usage};
