//! [`EventPrinter`]: a subscriber that shows a run as it happens, one line per event of
//! interest, indented by call depth — what examples and small programs print on stderr.

use super::{Event, EventKind, EventSubscriber};
use crate::secrets::Redactor;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Prints a run's calls as they happen: `→ name [kind] input` when a call starts,
/// `← name = output` or `✗ name: error` when it ends, and (when asked) tool results and
/// approval decisions. Values are cut to [`max_width`](Self::max_width) characters, secrets
/// are redacted ([`crate::secrets`]) and control characters escaped, so text from a model
/// cannot drive the terminal.
///
/// ```
/// use llm_do_core::{EventPrinter, Runtime, ToolSpecBuilder};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let printer = EventPrinter::to_buffer();
/// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
/// let rt = Runtime::builder().register(echo).subscribe(printer.clone()).build();
/// let _: serde_json::Value = rt.ctx().call("echo", serde_json::json!({"a": 1})).await?;
/// assert_eq!(printer.buffer(), "→ echo [deterministic] {\"a\":1}\n← echo = {\"a\":1}\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EventPrinter {
    out: Arc<Mutex<Sink>>,
    show: Show,
    max_width: usize,
    redactor: Redactor,
}

#[derive(Debug, Clone, Copy)]
struct Show {
    calls: bool,
    outputs: bool,
    tool_results: bool,
    approvals: bool,
}

enum Sink {
    Stderr,
    Buffer(String),
}

impl std::fmt::Debug for EventPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPrinter")
            .field("show", &self.show)
            .field("max_width", &self.max_width)
            .finish_non_exhaustive()
    }
}

impl Default for EventPrinter {
    fn default() -> Self {
        Self::stderr()
    }
}

impl EventPrinter {
    /// Prints to standard error: calls started, results and errors; values cut to 160
    /// characters.
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let event = Event { seq: 1, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::CallStarted { input: serde_json::json!("x".repeat(500)) } };
    /// // What it writes for the event (then a newline): the input cut to 160 characters.
    /// let line = EventPrinter::stderr().line(&event).unwrap();
    /// assert_eq!(line, format!("→ w [stochastic] {}…", "x".repeat(159)));
    /// ```
    pub fn stderr() -> Self {
        Self::with_sink(Sink::Stderr)
    }

    /// Keeps the lines in memory instead ([`buffer`](Self::buffer)), for tests.
    ///
    /// ```
    /// assert_eq!(llm_do_core::EventPrinter::to_buffer().buffer(), "");
    /// ```
    pub fn to_buffer() -> Self {
        Self::with_sink(Sink::Buffer(String::new()))
    }

    fn with_sink(sink: Sink) -> Self {
        Self {
            out: Arc::new(Mutex::new(sink)),
            show: Show { calls: true, outputs: true, tool_results: false, approvals: false },
            max_width: 160,
            redactor: Redactor::new(),
        }
    }

    /// Whether calls are printed as they start (`→ name [kind] input`; default on).
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let started = Event { seq: 1, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::CallStarted { input: serde_json::json!("hi") } };
    /// assert_eq!(EventPrinter::to_buffer().line(&started).as_deref(), Some("→ w [stochastic] hi"));
    /// assert_eq!(EventPrinter::to_buffer().calls(false).line(&started), None);
    /// ```
    pub fn calls(mut self, on: bool) -> Self {
        self.show.calls = on;
        self
    }

    /// Whether a successful call's output is printed (`← name = output`; default on).
    /// Errors are always printed.
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let finished = Event { seq: 2, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::CallFinished { output: Some(serde_json::json!("done")), error: None,
    ///         usage: Default::default(), elapsed: Default::default() } };
    /// assert_eq!(EventPrinter::to_buffer().line(&finished).as_deref(), Some("← w = done"));
    /// assert_eq!(EventPrinter::to_buffer().outputs(false).line(&finished), None);
    /// ```
    pub fn outputs(mut self, on: bool) -> Self {
        self.show.outputs = on;
        self
    }

    /// Whether the results the model receives from its tool calls are printed (default off).
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter, ToolResult};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let result = Event { seq: 4, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::ToolResult { result: ToolResult::ok("call-1", "add", "5") } };
    /// assert_eq!(EventPrinter::to_buffer().line(&result), None);
    /// assert_eq!(EventPrinter::to_buffer().tool_results(true).line(&result).as_deref(), Some("  ← add: 5"));
    /// ```
    pub fn tool_results(mut self, on: bool) -> Self {
        self.show.tool_results = on;
        self
    }

    /// Whether approval decisions are printed (default off).
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter, approval::Verdict};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let decided = Event { seq: 4, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::ApprovalDecided { tool: "rm".into(), verdict: Verdict::Ask, approved: false,
    ///         decision: "denied by the approver".into() } };
    /// assert_eq!(EventPrinter::to_buffer().line(&decided), None);
    /// assert_eq!(EventPrinter::to_buffer().approvals(true).line(&decided).as_deref(),
    ///     Some("  approval: rm → denied (denied by the approver)"));
    /// ```
    pub fn approvals(mut self, on: bool) -> Self {
        self.show.approvals = on;
        self
    }

    /// Longest value shown, in characters (longer ones end in `…`; at least 8).
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind, EventPrinter};
    /// let call = CallInfo::new(CallId(1), None, 1, "w", CallKind::Worker);
    /// let event = Event { seq: 1, time: std::time::SystemTime::now(), call,
    ///     kind: EventKind::CallStarted { input: serde_json::json!({"text": "x".repeat(50)}) } };
    /// let line = EventPrinter::to_buffer().max_width(20).line(&event).unwrap();
    /// assert_eq!(line, "→ w [stochastic] {\"text\":\"xxxxxxxxxx…");
    /// ```
    pub fn max_width(mut self, chars: usize) -> Self {
        self.max_width = chars.max(8);
        self
    }

    /// What this printer has printed, when it prints [`to_buffer`](Self::to_buffer).
    pub fn buffer(&self) -> String {
        match &*self.out.lock().unwrap_or_else(|p| p.into_inner()) {
            Sink::Buffer(text) => text.clone(),
            Sink::Stderr => String::new(),
        }
    }

    /// The line this printer prints for `event`, if any (without the newline).
    ///
    /// ```
    /// use llm_do_core::{CallId, CallInfo, CallKind, Error, Event, EventKind, EventPrinter};
    /// let call = CallInfo::new(CallId(2), Some(CallId(1)), 2, "t", CallKind::Tool);
    /// let error = Error::msg("no\x1b[31m ghp_abcdefghijklmnopqrstuvwxyz");
    /// let event = Event { seq: 3, time: std::time::SystemTime::now(), call, kind: EventKind::CallFinished {
    ///     output: None, error: Some((&error).into()),
    ///     usage: Default::default(), elapsed: Default::default() } };
    /// assert_eq!(EventPrinter::to_buffer().line(&event).unwrap(), "  ✗ t: no\\x1b[31m [redacted]");
    /// ```
    pub fn line(&self, event: &Event) -> Option<String> {
        let indent = "  ".repeat(event.call.depth.saturating_sub(1).min(32) as usize);
        let name = self.clean(&event.call.name);
        let text = match &event.kind {
            EventKind::CallStarted { input } if self.show.calls => {
                format!("→ {name} [{}] {}", event.call.kind, self.value(input))
            }
            EventKind::CallFinished { error: Some(error), .. } => {
                format!("✗ {name}: {}", self.clean(&error.message))
            }
            EventKind::CallFinished { output: Some(output), .. } if self.show.outputs => {
                format!("← {name} = {}", self.value(output))
            }
            EventKind::ToolResult { result } if self.show.tool_results => {
                let mark = if result.is_error { "✗" } else { "←" };
                format!("  {mark} {}: {}", self.clean(&result.name), self.clean(&result.content))
            }
            EventKind::ApprovalDecided { tool, approved, decision, .. } if self.show.approvals => {
                let outcome = if *approved { "runs" } else { "denied" };
                format!("  approval: {} → {outcome} ({})", self.clean(tool), self.clean(decision))
            }
            EventKind::Progress { progress, total, message } if self.show.calls => {
                let what = message.as_deref().map(|m| format!(" {}", self.clean(m)));
                let done = super::progress_fraction(*progress, *total);
                format!("  … {name} {done}{}", what.unwrap_or_default())
            }
            EventKind::QuestionAnswered { action, fields } if self.show.approvals => {
                format!("  question of {name}: {action} {}", self.clean(&fields.join(", ")))
            }
            _ => return None,
        };
        Some(format!("{indent}{text}"))
    }

    fn value(&self, value: &Value) -> String {
        match value {
            Value::String(s) => self.clean(s),
            other => self.clean(&other.to_string()),
        }
    }

    /// Redacted, the characters a terminal acts on escaped (on one line:
    /// [`escape_controls_one_line`](crate::controls::escape_controls_one_line)), cut to
    /// `max_width` characters.
    fn clean(&self, text: &str) -> String {
        let redacted = self.redactor.redact(text);
        let escaped = crate::controls::escape_controls_one_line(&redacted);
        let mut out = String::new();
        for (n, c) in escaped.chars().enumerate() {
            if n + 1 >= self.max_width {
                out.push('…');
                break;
            }
            out.push(c);
        }
        out
    }
}

impl EventSubscriber for EventPrinter {
    fn on_event(&self, event: &Event) {
        let Some(line) = self.line(event) else { return };
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *out {
            Sink::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Sink::Buffer(text) => {
                text.push_str(&line);
                text.push('\n');
            }
        }
    }
}
