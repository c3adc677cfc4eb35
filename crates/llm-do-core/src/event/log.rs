//! [`EventLog`]: a subscriber that keeps every event, and its transcript for snapshot tests.

use super::{Event, EventKind, EventSubscriber, progress_fraction};
use crate::controls::escape_controls_one_line;
use crate::model::StreamDelta;
use crate::usage::Usage;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

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
    /// use llm_do_core::{EventLog, Runtime, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let log = EventLog::new();
    /// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
    /// let rt = Runtime::builder().register(echo).subscribe(log.clone()).build();
    /// rt.ctx().call_value("echo", serde_json::json!({})).await?;
    /// assert_eq!(log.events().len(), 2); // started, finished
    /// log.clear();
    /// assert!(log.events().is_empty());
    /// # Ok(())
    /// # }
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
    /// Names, arguments and contents are free text (a model names the tools it calls): on
    /// each event's line, line breaks and other controls are shown as escapes
    /// ([`escape_controls_one_line`]), so that no text can forge a line of its own.
    ///
    /// ```
    /// # use llm_do_core::EventLog;
    /// assert_eq!(EventLog::new().transcript(), "");
    /// ```
    pub fn transcript(&self) -> String {
        let mut transcript = String::new();
        for e in self.lock().iter() {
            let mut out = String::new();
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
            // The line's own text has no controls; whatever it shows of the event's text is
            // escaped here, for every kind of event at once.
            transcript.push_str(&escape_controls_one_line(&out));
            transcript.push('\n');
        }
        transcript
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
