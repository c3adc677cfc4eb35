//! The run's record: its events and usage, kept with its journal so that they survive crashes
//! and restarts and can be read after the run ([`Client::record`](crate::Client::record)).
//!
//! The core hands every event of a durable run to its journal (`Effects::event`). Events
//! between two steps are held in memory; the next journaled step carries them, with the events
//! of the step itself, as part of its journaled result, and then writes them to the workflow's
//! state (`events.N`, one entry per step, with the run's usage). After a crash the replay
//! emits the events between steps again: those copies are dropped, the journaled ones are kept,
//! so every event is recorded once, with its first timestamp.
//!
//! Events are numbered by the record, not by the process: a replay does not execute the steps
//! it restores, so the calls made inside them get no id in the new process. The record maps the
//! ids of each process to the run's ids (their order in the whole run), and numbers records
//! from 1 in the order they are kept. `model_delta` events are not kept (the `model_response`
//! holds the whole answer).

use llm_do_core::secrets::Redactor;
use llm_do_core::{Event, EventKind, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Turns an event of a durable run into the JSON record that is kept (and logged). The
/// default is the event's own JSON, secrets redacted; `llm-do restate serve` keeps run-log
/// records (the `llm-do run --log` schema).
pub type Recorder = Arc<dyn Fn(&Event) -> Value + Send + Sync>;

/// The default [`Recorder`]: the event as JSON, secrets redacted (the project's one rule,
/// [`llm_do_core::secrets`], with the secret-looking environment variables of this process).
///
/// ```
/// use llm_do_core::{CallId, CallInfo, CallKind, Event, EventKind};
/// let event = Event {
///     seq: 1,
///     time: std::time::SystemTime::now(),
///     call: CallInfo::new(CallId(1), None, 1, "deploy", CallKind::Tool),
///     kind: EventKind::CallStarted { input: serde_json::json!({"env": "prod", "token": "t0p"}) },
/// };
/// let record = llm_do_restate::event_json()(&event);
/// assert_eq!(record["kind"]["type"], "call_started");
/// assert_eq!(record["kind"]["input"]["env"], "prod");
/// assert_eq!(record["kind"]["input"]["token"], "[redacted]");
/// ```
pub fn event_json() -> Recorder {
    Arc::new(|event: &Event| redacted(&serde_json::to_value(event).unwrap_or(Value::Null)))
}

/// `value` with its secrets redacted: the project's one rule ([`llm_do_core::secrets`]) with
/// the secret-looking environment variables of this process (read once). Everything the
/// service keeps or writes of a model's words goes through it.
pub(crate) fn redacted(value: &Value) -> Value {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    let redactor = REDACTOR.get_or_init(|| Redactor::new().with_env(std::env::vars_os()));
    redactor.redact_json(value.clone())
}

/// State key of the run's status (`running`, `succeeded`, `failed`).
pub(crate) const STATUS_KEY: &str = "status";
/// State key of a failed run's [`RunFailure`](crate::RunFailure).
pub(crate) const FAILURE_KEY: &str = "failure";
/// Prefix of the state keys of the record's chunks (`events.0`, `events.1`, ...).
pub(crate) const EVENTS_PREFIX: &str = "events.";

/// What a journaled step keeps besides its result: the run's records since the previous step
/// (JSON text, exactly as kept), how many calls were made inside the step, and the run's
/// usage before the step.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StepRecord {
    pub(crate) records: Vec<String>,
    pub(crate) calls: u64,
    pub(crate) usage: Usage,
}

/// One entry of the record in the workflow's state.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub(crate) records: Vec<String>,
    pub(crate) usage: Usage,
}

/// The record of one execution (attempt) of a run.
pub(crate) struct RunRecorder {
    recorder: Recorder,
    /// Events since the last step, in this process's numbering.
    live: Vec<Event>,
    /// The run's number of the next kept record.
    next_seq: u64,
    /// Calls made inside steps this process restored without executing them.
    call_offset: u64,
    /// This process's call ids → the run's.
    calls: HashMap<u64, u64>,
    /// What steps restored from the journal used, that this process did not see.
    usage_offset: Usage,
    /// Entries written to the state so far.
    pub(crate) chunks: u64,
    log: Option<LogFile>,
}

impl RunRecorder {
    pub(crate) fn new(recorder: Recorder, log: Option<PathBuf>) -> Self {
        Self {
            recorder,
            live: Vec::new(),
            next_seq: 1,
            call_offset: 0,
            calls: HashMap::new(),
            usage_offset: Usage::default(),
            chunks: 0,
            log: log.map(|path| LogFile { path, file: None }),
        }
    }

    pub(crate) fn push(&mut self, event: &Event) {
        if !matches!(event.kind, EventKind::ModelDelta { .. }) {
            self.live.push(event.clone());
        }
    }

    /// How many events are held (a step starts there).
    pub(crate) fn held(&self) -> usize {
        self.live.len()
    }

    /// The run's usage, given this process's.
    pub(crate) fn usage(&self, live: Usage) -> Usage {
        live + self.usage_offset
    }

    /// A step executed here: the held events become records; those from `step_start` on
    /// happened inside the step.
    pub(crate) fn take(&mut self, step_start: usize, live_usage: Usage) -> StepRecord {
        let events = std::mem::take(&mut self.live);
        let calls = events
            .get(step_start..)
            .unwrap_or_default()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::CallStarted { .. }))
            .count() as u64;
        let records = events.iter().map(|e| self.record(e)).collect();
        StepRecord { records, calls, usage: self.usage(live_usage) }
    }

    /// A step restored from the journal: the held events are copies of journaled ones (their
    /// calls are mapped, then they are dropped); the calls made inside the step have no id
    /// here.
    pub(crate) fn restored(&mut self, step: &StepRecord, live_usage: Usage) {
        for event in std::mem::take(&mut self.live) {
            self.map_call(&event);
        }
        self.call_offset += step.calls;
        self.next_seq += step.records.len() as u64;
        self.usage_offset = Usage {
            requests: step.usage.requests.saturating_sub(live_usage.requests),
            input_tokens: step.usage.input_tokens.saturating_sub(live_usage.input_tokens),
            output_tokens: step.usage.output_tokens.saturating_sub(live_usage.output_tokens),
        };
    }

    /// Appends a kept step's records to the run log file, if there is one (rewritten from the
    /// start by each execution: a replay keeps every record again, in order).
    pub(crate) fn log(&mut self, records: &[String]) {
        if let Some(log) = &mut self.log
            && let Err(e) = log.append(records)
        {
            tracing::warn!(target: "llm_do_restate", path = %log.path.display(), "cannot write the run log: {e}");
            eprintln!(
                "llm-do restate: cannot write the run log {}: {e}",
                log.path.display().to_string().escape_debug()
            );
            self.log = None;
        }
    }

    fn map_call(&mut self, event: &Event) -> u64 {
        let live = event.call.id.0;
        if matches!(event.kind, EventKind::CallStarted { .. }) {
            self.calls.insert(live, live + self.call_offset);
        }
        self.calls.get(&live).copied().unwrap_or(live + self.call_offset)
    }

    fn record(&mut self, event: &Event) -> String {
        let mut event = event.clone();
        event.call.id.0 = self.map_call(&event);
        if let Some(parent) = &mut event.call.parent {
            parent.0 = self.calls.get(&parent.0).copied().unwrap_or(parent.0 + self.call_offset);
        }
        event.seq = self.next_seq;
        self.next_seq += 1;
        (self.recorder)(&event).to_string()
    }
}

struct LogFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl LogFile {
    fn append(&mut self, records: &[String]) -> std::io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                self.file.insert(std::fs::File::create(&self.path)?)
            }
        };
        let mut text = String::new();
        for r in records {
            text.push_str(r);
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        file.flush()
    }
}

/// What is known of a run: its status, its usage, its events, its failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `running` (or waiting for an approval), `succeeded` or `failed`.
    pub status: String,
    /// The run's usage: the final usage once it has finished, else as of the start of its
    /// latest journaled step.
    pub usage: Usage,
    /// Why it failed (the error's kind and message), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::RunFailure>,
    /// The run's events so far, one JSON record each, in order: the service's [`Recorder`]'s
    /// records (run-log records when served by `llm-do restate serve`).
    pub events: Vec<Value>,
}
