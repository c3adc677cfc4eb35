//! Typed events: every call, model request and tool result, as it happens.
//!
//! Subscribers registered on the [`RuntimeBuilder`](crate::RuntimeBuilder) receive every event of
//! every run, synchronously and in order per call. Each event carries the [`CallInfo`] of the
//! call it belongs to — id, parent, depth, name and kind — so that a stochastic step is always
//! visible as one.
//!
//! [`EventLog`] keeps them; [`EventPrinter`] shows them as they happen.

mod log;
mod printer;

pub use log::EventLog;
pub use printer::EventPrinter;

use crate::approval::{ApprovalRequest, Question, Verdict};
use crate::call::CallInfo;
use crate::error::ErrorInfo;
use crate::message::{Message, ToolCall, ToolResult};
use crate::model::StreamDelta;
use crate::usage::Usage;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// One thing that happened in a run.
///
/// ```
/// use llm_do_core::{EventKind, EventLog, Runtime, ToolSpecBuilder};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let log = EventLog::new();
/// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
/// let rt = Runtime::builder().register(echo).subscribe(log.clone()).build();
/// let _: serde_json::Value = rt.ctx().call("echo", serde_json::json!({})).await?;
/// let events = log.events();
/// assert!(matches!(events[0].kind, EventKind::CallStarted { .. }));
/// assert_eq!(&*events[0].call.name, "echo");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Position in the run, from 1.
    pub seq: u64,
    /// Wall-clock time of the event.
    pub time: SystemTime,
    /// The call the event belongs to.
    pub call: CallInfo,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] reports.
///
/// ```
/// # use llm_do_core::EventKind;
/// let kind = EventKind::CallStarted { input: serde_json::json!({}) };
/// assert_eq!(kind.label(), "call_started");
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A worker or tool call started with these arguments.
    CallStarted {
        /// The arguments object.
        input: Value,
    },
    /// A call ended.
    CallFinished {
        /// The result, when the call succeeded.
        #[serde(skip_serializing_if = "Option::is_none")]
        output: Option<Value>,
        /// The error (its kind, family and message), when it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<ErrorInfo>,
        /// Usage of this call including its nested calls.
        usage: Usage,
        /// How long it took.
        elapsed: Duration,
    },
    /// The caller dropped the call's future before it finished.
    CallCancelled {
        /// Usage until then.
        usage: Usage,
    },
    /// A worker sent a request to its model.
    ModelRequest {
        /// `provider:name`.
        model: String,
        /// 1 for the first request of the call.
        turn: u32,
        /// Messages in the conversation so far.
        messages: usize,
        /// The messages added since the previous request of this call (on turn 1: the system
        /// prompt and the rendered user prompt; later: the model's last answer and the tool
        /// results), so that a log of these events holds every request in full without
        /// repeating the conversation on each turn.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        new_messages: Vec<Message>,
        /// Names of the tools offered.
        tools: Vec<String>,
        /// `true` when a JSON answer is requested.
        structured: bool,
    },
    /// A piece of a streamed answer arrived (only from providers that stream).
    ModelDelta {
        /// The request's turn.
        turn: u32,
        /// The piece.
        delta: StreamDelta,
    },
    /// The model answered.
    ModelResponse {
        /// `provider:name`.
        model: String,
        /// The request's turn.
        turn: u32,
        /// Text of the answer.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// Tool calls requested.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
        /// Tokens of this request.
        usage: Usage,
    },
    /// The model asked for a tool call; it is about to be dispatched.
    ToolCall {
        /// The requested call.
        call: ToolCall,
    },
    /// The result of a tool call, as it is sent back to the model.
    ToolResult {
        /// The result (or error message) the model receives.
        result: ToolResult,
    },
    /// A call the model requested needs approval; the approver is being asked.
    ApprovalRequested {
        /// What is asked (tool, arguments, call path, depth, reason).
        request: ApprovalRequest,
    },
    /// The approval gate decided a call the model requested (emitted when a rule, the
    /// callee's default or an approver decided; plain default-allowed calls emit nothing).
    ApprovalDecided {
        /// The callee.
        tool: String,
        /// The policy's verdict.
        verdict: Verdict,
        /// Whether the call runs.
        approved: bool,
        /// How it was decided.
        decision: String,
    },
    /// A tool asked the person behind the run a question ([`Ctx::ask`](crate::Ctx::ask)); the
    /// approver is being asked.
    QuestionAsked {
        /// The question (asker, message, form, call path, depth).
        question: Question,
    },
    /// The question was answered. Carries what was done and which fields were filled in, never
    /// their values (a person may type a secret into a form).
    QuestionAnswered {
        /// `accept`, `decline` or `cancel`.
        action: String,
        /// The fields of an accepted answer.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fields: Vec<String>,
    },
    /// The call reported how far it has come ([`Ctx::report_progress`](crate::Ctx::report_progress);
    /// an MCP server's progress notifications for a call arrive here).
    Progress {
        /// How far, in the call's own units (it grows with each report).
        progress: f64,
        /// Where it ends, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        total: Option<f64>,
        /// What it is doing (at most 1000 characters).
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The final answer was rejected and the model is asked again.
    OutputRetry {
        /// 1 for the first retry.
        attempt: u32,
        /// Why the answer was rejected.
        reason: String,
    },
}

/// How far a [`EventKind::Progress`] report has come, as every place that shows one writes it:
/// `3/10`, or `3` without a total.
///
/// ```
/// use llm_do_core::event::progress_fraction;
/// assert_eq!(progress_fraction(3.0, Some(10.0)), "3/10");
/// assert_eq!(progress_fraction(0.5, None), "0.5");
/// ```
pub fn progress_fraction(progress: f64, total: Option<f64>) -> String {
    match total {
        Some(total) => format!("{progress}/{total}"),
        None => progress.to_string(),
    }
}

impl EventKind {
    /// A short snake_case label.
    ///
    /// ```
    /// # use llm_do_core::EventKind;
    /// assert_eq!(EventKind::OutputRetry { attempt: 1, reason: String::new() }.label(), "output_retry");
    /// ```
    pub fn label(&self) -> &'static str {
        match self {
            EventKind::CallStarted { .. } => "call_started",
            EventKind::CallFinished { .. } => "call_finished",
            EventKind::CallCancelled { .. } => "call_cancelled",
            EventKind::ModelRequest { .. } => "model_request",
            EventKind::ModelDelta { .. } => "model_delta",
            EventKind::ModelResponse { .. } => "model_response",
            EventKind::ToolCall { .. } => "tool_call",
            EventKind::ToolResult { .. } => "tool_result",
            EventKind::ApprovalRequested { .. } => "approval_requested",
            EventKind::ApprovalDecided { .. } => "approval_decided",
            EventKind::QuestionAsked { .. } => "question_asked",
            EventKind::QuestionAnswered { .. } => "question_answered",
            EventKind::Progress { .. } => "progress",
            EventKind::OutputRetry { .. } => "output_retry",
        }
    }
}

/// Receives events. Implemented for closures `Fn(&Event)`.
///
/// Called synchronously on the task making the call: keep it fast (forward to a channel for
/// slow work).
///
/// ```
/// use llm_do_core::{Event, Runtime};
/// let rt = Runtime::builder().subscribe(|e: &Event| eprintln!("{} {}", e.call.name, e.kind.label())).build();
/// # let _ = rt;
/// ```
pub trait EventSubscriber: Send + Sync + 'static {
    /// Handles one event.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync + 'static> EventSubscriber for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}
