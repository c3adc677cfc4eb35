//! The effects seam: every effect of a run passes through one [`Effects`] value.
//!
//! A run's outcome depends on the world only through four things: the answers of model
//! requests, the results of tool executions, approval decisions, and the clock (event
//! timestamps; the loop's control flow reads no time and no randomness). The agent loop hands
//! each of them to the run's [`Effects`] as a future that *would* perform it; the effects value
//! decides how it is performed:
//!
//! - [`Direct`] (the default) awaits the future: exactly what the loop did without a seam.
//! - A durable executor (the `llm-do-restate` crate) journals each result, and on replay after
//!   a crash returns the journaled result instead of performing the effect again; an approval
//!   becomes a durable wait for a person.
//!
//! Effects are installed for every run of a runtime with
//! [`RuntimeBuilder::effects`](crate::RuntimeBuilder::effects), or for one run with
//! [`Runtime::ctx_with_effects`](crate::Runtime::ctx_with_effects).
//!
//! ```
//! use futures::future::BoxFuture;
//! use llm_do_core::effects::{Effects, ModelStep, ToolOutcome, ToolStep};
//! use llm_do_core::{ModelError, ModelResponse, Runtime};
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! /// Counts the model requests of the runs it is installed on.
//! #[derive(Default)]
//! struct Counting(AtomicU32);
//!
//! impl Effects for Counting {
//!     fn model_request<'a>(
//!         &'a self,
//!         _step: ModelStep<'a>,
//!         exec: BoxFuture<'a, Result<ModelResponse, ModelError>>,
//!     ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!         exec
//!     }
//! }
//!
//! let rt = Runtime::builder().effects(Counting::default()).build();
//! # let _ = rt;
//! ```

use crate::approval::{ApprovalRequest, Decision};
use crate::call::CallKind;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::event::Event;
use crate::message::ToolCall;
use crate::model::{ModelError, ModelResponse};
use futures::future::BoxFuture;
use serde_json::Value;
use std::time::SystemTime;

/// What a tool step produced: its value, or the error message its caller (a model) reads.
/// Errors that end the run are not outcomes and are never journaled: fatal errors
/// ([`Error::is_fatal`](crate::Error::is_fatal)), and a call past `max_depth` when
/// [`Limits::max_depth_ends_run`](crate::Limits::max_depth_ends_run) is set.
pub type ToolOutcome = std::result::Result<Value, String>;

/// One model request of a run, as the seam sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ModelStep<'a> {
    /// The context of the worker call that makes the request.
    pub ctx: &'a Ctx,
    /// The worker's name.
    pub worker: &'a str,
    /// The model's `provider:name` label.
    pub model: &'a str,
    /// The turn (1 for the first request of the call).
    pub turn: u32,
}

/// One model-requested tool (or worker) execution, after the approval gate let it run.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ToolStep<'a> {
    /// The context of the worker whose model asked for the call.
    pub ctx: &'a Ctx,
    /// The call as the model made it (id, name, arguments).
    pub call: &'a ToolCall,
    /// Whether the callee is a tool or a worker. A worker's own model requests and tool calls
    /// pass through the seam too, as steps of their own.
    pub kind: CallKind,
}

/// How a run performs its effects. Every method has the direct behaviour as its default.
///
/// An effect happens when its `exec` future is polled, never when it is created.
/// Implementations must await `exec` (or return a recorded result of an earlier execution of
/// the same step) and must not reorder steps: a run's steps happen in a deterministic order
/// when [`concurrent_tools`](Self::concurrent_tools) is `false`.
pub trait Effects: Send + Sync + 'static {
    /// Performs one model request: `exec` sends it.
    fn model_request<'a>(
        &'a self,
        step: ModelStep<'a>,
        exec: BoxFuture<'a, std::result::Result<ModelResponse, ModelError>>,
    ) -> BoxFuture<'a, std::result::Result<ModelResponse, ModelError>> {
        let _ = step;
        exec
    }

    /// Performs one tool execution: `exec` runs the callee. An `Err` of the outer result is a
    /// fatal error of the run.
    fn tool_call<'a>(
        &'a self,
        step: ToolStep<'a>,
        exec: BoxFuture<'a, Result<ToolOutcome>>,
    ) -> BoxFuture<'a, Result<ToolOutcome>> {
        let _ = step;
        exec
    }

    /// Obtains one approval decision for a call the policy marks `Ask`: `exec` asks the
    /// runtime's approver.
    fn approval<'a>(
        &'a self,
        ctx: &'a Ctx,
        request: &'a ApprovalRequest,
        exec: BoxFuture<'a, Decision>,
    ) -> BoxFuture<'a, Decision> {
        let _ = (ctx, request);
        exec
    }

    /// The time stamped on events.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Whether the run's events are handed to [`event`](Self::event) (`false` by default:
    /// asked once per run, so that runs without subscribers build no events).
    fn records_events(&self) -> bool {
        false
    }

    /// Receives every event of the run, after the runtime's subscribers, when
    /// [`records_events`](Self::records_events) is `true`: a durable executor keeps the run's
    /// record with its journal.
    ///
    /// ```
    /// use llm_do_core::effects::Effects;
    /// use llm_do_core::{Event, Runtime, ToolSpecBuilder};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Labels(Mutex<Vec<&'static str>>);
    ///
    /// impl Effects for Labels {
    ///     fn records_events(&self) -> bool {
    ///         true
    ///     }
    ///     fn event(&self, event: &Event) {
    ///         self.0.lock().unwrap().push(event.kind.label());
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let echo = ToolSpecBuilder::new("echo").handler(|_, a| async move { Ok(a) }).build();
    /// let rt = Runtime::builder().register(echo).build(); // no subscribers
    /// let labels = Arc::new(Labels::default());
    /// rt.ctx_with_effects(labels.clone()).call_value("echo", serde_json::json!({})).await?;
    /// assert_eq!(*labels.0.lock().unwrap(), ["call_started", "call_finished"]);
    /// # Ok(())
    /// # }
    /// ```
    fn event(&self, event: &Event) {
        let _ = event;
    }

    /// Whether the tool calls of one model answer may run concurrently (`true`, the default).
    /// A journal that replays steps by position needs them one after the other (`false`).
    fn concurrent_tools(&self) -> bool {
        true
    }
}

/// The default effects: every effect is performed directly, nothing is recorded.
///
/// ```
/// use llm_do_core::effects::{Direct, Effects};
/// // The trait's defaults: tool calls may run concurrently, and no event is recorded.
/// assert!(Direct.concurrent_tools());
/// assert!(!Direct.records_events());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Direct;

impl Effects for Direct {}
