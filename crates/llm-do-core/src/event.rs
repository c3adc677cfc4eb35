//! Typed events: every call, model request and tool result, as it happens.
//!
//! Subscribers registered on the [`RuntimeBuilder`](crate::RuntimeBuilder) receive every event of
//! every run, synchronously and in order per call. Each event carries the [`CallInfo`] of the
//! call it belongs to — id, parent, depth, name and kind — so that a stochastic step is always
//! visible as one.
//!
//! [`EventLog`] keeps them; [`EventPrinter`] shows them as they happen.

mod printer;

pub use printer::EventPrinter;

use crate::approval::{ApprovalRequest, Question, Verdict};
use crate::call::CallInfo;
use crate::error::ErrorInfo;
use crate::message::{Message, ToolCall, ToolResult};
use crate::model::StreamDelta;
use crate::usage::Usage;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
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

/// A subscriber that keeps every event, for tests, snapshots and post-mortems.
///
/// ```
/// use llm_do_core::{EventLog, Runtime};
/// let log = EventLog::new();
/// let rt = Runtime::builder().subscribe(log.clone()).build();
/// # let _ = rt;
/// assert!(log.events().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    events: Arc<Mutex<Vec<Event>>>,
}

impl EventLog {
    /// An empty log.
    ///
    /// ```
    /// # use llm_do_core::EventLog;
    /// assert!(EventLog::new().events().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events so far.
    ///
    /// ```
    /// # use llm_do_core::EventLog;
    /// assert_eq!(EventLog::new().events().len(), 0);
    /// ```
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Forgets all events.
    ///
    /// ```
    /// # use llm_do_core::EventLog;
    /// EventLog::new().clear();
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The events as a stable, human-readable transcript (no times or durations), one line per
    /// event, indented by depth. Made for snapshot tests.
    ///
    /// ```
    /// # use llm_do_core::EventLog;
    /// assert_eq!(EventLog::new().transcript(), "");
    /// ```
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for e in self.lock().iter() {
            let indent = "  ".repeat(e.call.depth.saturating_sub(1) as usize);
            let c = &e.call;
            let _ = write!(out, "{indent}{} {}", c.id, c.name);
            match &e.kind {
                EventKind::CallStarted { input } => {
                    let parent = c.parent.map(|p| format!(" parent={p}")).unwrap_or_default();
                    let _ = write!(
                        out,
                        " started [{}] depth={}{parent} input={input}",
                        c.kind, c.depth
                    );
                }
                EventKind::CallFinished { output, error, usage, .. } => {
                    match (output, error) {
                        (_, Some(err)) => {
                            let _ = write!(out, " failed: {err}");
                        }
                        (Some(v), None) => {
                            let _ = write!(out, " finished output={v}");
                        }
                        (None, None) => out.push_str(" finished"),
                    }
                    write_usage(&mut out, usage);
                }
                EventKind::CallCancelled { usage } => {
                    out.push_str(" cancelled");
                    write_usage(&mut out, usage);
                }
                EventKind::ModelRequest { model, turn, messages, tools, structured, .. } => {
                    let _ = write!(
                        out,
                        " model_request {model} turn={turn} messages={messages} tools=[{}]{}",
                        tools.join(", "),
                        if *structured { " output=json" } else { "" }
                    );
                }
                EventKind::ModelDelta { turn, delta } => match delta {
                    StreamDelta::Text { text } => {
                        let _ = write!(out, " model_delta turn={turn} text={text:?}");
                    }
                    StreamDelta::Restart { reason } => {
                        let _ = write!(out, " model_delta turn={turn} restart: {reason}");
                    }
                    StreamDelta::ToolCall { index, id, name, arguments } => {
                        let _ = write!(
                            out,
                            " model_delta turn={turn} tool_call[{index}] id={} name={} arguments={arguments:?}",
                            id.as_deref().unwrap_or("-"),
                            name.as_deref().unwrap_or("-"),
                        );
                    }
                },
                EventKind::ModelResponse { turn, text, tool_calls, usage, .. } => {
                    let _ = write!(out, " model_response turn={turn}");
                    if let Some(t) = text {
                        let _ = write!(out, " text={t:?}");
                    }
                    for call in tool_calls {
                        let _ = write!(out, " call {}({})", call.name, call.arguments);
                    }
                    write_usage(&mut out, usage);
                }
                EventKind::ToolCall { call } => {
                    let _ = write!(out, " tool_call {} {}({})", call.id, call.name, call.arguments);
                }
                EventKind::ToolResult { result } => {
                    let status = if result.is_error { "error" } else { "ok" };
                    let _ = write!(
                        out,
                        " tool_result {} {} {status}: {}",
                        result.tool_call_id, result.name, result.content
                    );
                }
                EventKind::ApprovalRequested { request } => {
                    let _ = write!(
                        out,
                        " approval_requested {}({}) depth={} path={} ({})",
                        request.tool,
                        request.args,
                        request.depth,
                        request.call_path.join(" > "),
                        request.reason
                    );
                }
                EventKind::ApprovalDecided { tool, approved, decision, .. } => {
                    let status = if *approved { "approved" } else { "denied" };
                    let _ = write!(out, " approval_decided {tool} {status}: {decision}");
                }
                EventKind::QuestionAsked { question } => match &question.page {
                    Some(page) => {
                        let _ = write!(
                            out,
                            " question_asked {:?} page={:?}",
                            question.message, page.url
                        );
                    }
                    None => {
                        let _ = write!(
                            out,
                            " question_asked {:?} fields=[{}]",
                            question.message,
                            question.fields().join(", ")
                        );
                    }
                },
                EventKind::Progress { progress, total, message } => {
                    let _ = write!(out, " progress {}", progress_fraction(*progress, *total));
                    if let Some(message) = message {
                        let _ = write!(out, " {message:?}");
                    }
                }
                EventKind::QuestionAnswered { action, fields } => {
                    let _ =
                        write!(out, " question_answered {action} fields=[{}]", fields.join(", "));
                }
                EventKind::OutputRetry { attempt, reason } => {
                    let _ = write!(out, " output_retry attempt={attempt}: {reason}");
                }
            }
            out.push('\n');
        }
        out
    }
}

fn write_usage(out: &mut String, usage: &Usage) {
    if !usage.is_zero() {
        let _ = write!(
            out,
            " usage(requests={} in={} out={})",
            usage.requests, usage.input_tokens, usage.output_tokens
        );
    }
}

impl EventSubscriber for EventLog {
    fn on_event(&self, event: &Event) {
        self.lock().push(event.clone());
    }
}
