//! The run log: `llm-do run --log FILE` writes one JSON object per line for every event of the
//! run; [`read`] reads it back, [`worker_calls`] extracts the (input → output) pairs of one
//! worker (the evidence for hardening it), and [`render_tree`] shows it as a call tree
//! (`llm-do log show FILE`).
//!
//! # Schema (version 1)
//!
//! Every line is one [`LogRecord`]:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `v` | integer | schema version, [`SCHEMA_VERSION`] |
//! | `seq` | integer | position of the event in the run, from 1 |
//! | `ts` | string | wall-clock time, RFC 3339 UTC with milliseconds |
//! | `call` | integer | id of the call the event belongs to (unique in the run, from 1) |
//! | `parent` | integer or null | id of the calling call, null for the entry call |
//! | `depth` | integer | nesting depth, 1 for the entry call |
//! | `name` | string | the worker or tool |
//! | `callable` | `"worker"` or `"tool"` | stochastic (model-backed) or deterministic |
//! | `event` | string | what happened (below) |
//! | `spec` | object, optional | on `call_started` and `model_request` of workers, on `call_started` of tools: [`SpecInfo`] (`hash`, and for workers `model`, `settings`, `max_turns`) |
//! | `data` | object | the event's payload (below), secrets redacted |
//!
//! `event` and its `data`:
//!
//! | event | data |
//! |---|---|
//! | `call_started` | `input`: the arguments object |
//! | `call_finished` | `output` (on success) or `error` (`kind`, `family`, `message`; a plain message in older logs), `usage`, `elapsed_ms` |
//! | `call_cancelled` | `usage` |
//! | `model_request` | `model` (`provider:name`), `turn`, `messages` (count), `new_messages` (the messages added since the call's previous request — on turn 1 the system prompt and the rendered user prompt — so the log holds every request in full), `tools` (names), `structured` |
//! | `model_delta` | `turn`, `delta` (streamed piece) |
//! | `model_response` | `model`, `turn`, `text`, `tool_calls` (`id`, `name`, `arguments`), `usage` |
//! | `tool_call` | `call`: the requested call (`id`, `name`, `arguments` as JSON text) |
//! | `tool_result` | `result`: `tool_call_id`, `name`, `content`, `is_error` |
//! | `approval_requested` | `request`: `tool`, `args`, `kind`, `caller`, `call_path`, `depth`, `reason` (`source`: `rule` with `index` and `rule`, `declared` with `verdict`, or `default`; a sentence in older logs) |
//! | `approval_decided` | `tool`, `verdict`, `approved`, `decision` |
//! | `output_retry` | `attempt`, `reason` |
//!
//! `usage` is `{requests, input_tokens, output_tokens}` and includes nested calls.
//!
//! A call's input is the `data.input` of its `call_started` record; its final output is the
//! `data.output` of its `call_finished` record (same `call`). `spec.hash` (`sha256:…`) changes
//! whenever the worker's prompt, system prompt, model, sampling settings, tools, schemas or
//! limits change, so pairs can be grouped by the exact worker definition that produced them.
//!
//! Secrets are redacted by the project's one rule, [`llm_do::secrets`]: object keys that name
//! a secret (`api_key`, `token`, `secret`, `password`, `authorization`, …) have their value
//! replaced by `"[redacted]"`, and so has, inside any string (the raw JSON text of tool-call
//! arguments included), every credential-looking token (`sk-…`, `ghp_…`, `Bearer …`), the
//! value of every secret key written in JSON text, and the value of every environment
//! variable with a secret-looking name.
//!
//! ```
//! use llm_do_cli::run_log::{self, LogRecord};
//! let line = r#"{"v":1,"seq":1,"ts":"2025-01-01T00:00:00.000Z","call":1,"parent":null,"depth":1,"name":"main","callable":"worker","event":"call_started","data":{"input":{"input":"hi"}}}"#;
//! let record: LogRecord = serde_json::from_str(line).unwrap();
//! assert_eq!(record.data["input"]["input"], "hi");
//! let calls = run_log::worker_calls(&[record], "main");
//! assert_eq!(calls[0].input, serde_json::json!({"input": "hi"}));
//! assert_eq!(calls[0].output, None); // no call_finished record
//! ```

use llm_do::testing::hardening::{HardeningError, Observation, ObservationSource};
use llm_do::{CallKind, CallableSpec, Event, EventKind, EventSubscriber, ModelSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The version of the record schema this build writes (the `v` field).
pub const SCHEMA_VERSION: u32 = 1;

pub use llm_do::secrets::{REDACTED, Redactor};

/// One line of a run log. See the [module documentation](self) for the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Schema version.
    pub v: u32,
    /// Position of the event in the run, from 1.
    pub seq: u64,
    /// Wall-clock time, RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// The call's id.
    pub call: u64,
    /// The calling call's id, `None` for the entry call.
    pub parent: Option<u64>,
    /// Nesting depth (1 for the entry call).
    pub depth: u32,
    /// The worker or tool.
    pub name: String,
    /// `"worker"` (stochastic) or `"tool"` (deterministic).
    pub callable: String,
    /// What happened: `call_started`, `call_finished`, `model_request`, ….
    pub event: String,
    /// The definition of the callee, on `call_started` (and `model_request` of workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecInfo>,
    /// The event's payload, secrets redacted.
    #[serde(default)]
    pub data: Value,
}

/// What identifies the definition of a worker or tool in a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecInfo {
    /// `sha256:` and the hex SHA-256 of the definition (see [`spec_hash`]).
    pub hash: String,
    /// The worker's own model, if it names one (`provider:name`); the model actually used is in
    /// the `model_request` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The worker's sampling settings (`temperature`, `top_p`, `max_tokens`, `seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ModelSettings>,
    /// The worker's `max_turns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
}

impl SpecInfo {
    /// The log's description of `spec`.
    ///
    /// ```
    /// use llm_do::WorkerSpecBuilder;
    /// let spec = WorkerSpecBuilder::new("w").prompt("Hi {input}").temperature(0.5).build().unwrap();
    /// let info = llm_do_cli::run_log::SpecInfo::of(&spec);
    /// assert!(info.hash.starts_with("sha256:"));
    /// assert_eq!(info.settings.unwrap().temperature, Some(0.5));
    /// ```
    pub fn of(spec: &CallableSpec) -> Self {
        let worker = spec.worker();
        SpecInfo {
            hash: spec_hash(spec),
            model: worker.and_then(|w| w.model.as_ref().map(ToString::to_string)),
            settings: worker.map(|w| w.settings.clone()),
            max_turns: worker.map(|w| w.max_turns),
        }
    }
}

/// `sha256:HEX` of a callable's definition: name, description and schemas, and for a worker its
/// prompt template, system prompt, model, sampling settings, tool names, `max_turns` and
/// `output_retries` (as canonical JSON). Equal definitions have equal hashes.
///
/// ```
/// use llm_do::WorkerSpecBuilder;
/// use llm_do_cli::run_log::spec_hash;
/// let a = WorkerSpecBuilder::new("w").prompt("Hi {input}").build().unwrap();
/// let b = WorkerSpecBuilder::new("w").prompt("Hello {input}").build().unwrap();
/// assert_eq!(spec_hash(&a), spec_hash(&WorkerSpecBuilder::new("w").prompt("Hi {input}").build().unwrap()));
/// assert_ne!(spec_hash(&a), spec_hash(&b));
/// ```
pub fn spec_hash(spec: &CallableSpec) -> String {
    let mut doc = json!({
        "name": spec.name(),
        "kind": spec.kind(),
        "description": spec.description(),
        "input": spec.input_schema(),
        "output": spec.output_schema(),
    });
    if let Some(w) = spec.worker() {
        doc["worker"] = json!({
            "prompt": w.prompt.source(),
            "system": w.system,
            "model": w.model,
            "settings": w.settings,
            "tools": w.tools.iter().map(|t| t.name()).collect::<Vec<_>>(),
            "max_turns": w.max_turns,
            "output_retries": w.output_retries,
        });
    }
    let digest = Sha256::digest(canonical(&doc).to_string().as_bytes());
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// JSON with object keys sorted at every level.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Builds the [`LogRecord`] of an event. `specs` describes the callables by name.
///
/// ```
/// use llm_do::{EventLog, Runtime, ToolSpecBuilder};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do::Result<()> {
/// let log = EventLog::new();
/// let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
/// let rt = Runtime::builder().register(echo).subscribe(log.clone()).build();
/// let _: serde_json::Value = rt.ctx().call("echo", serde_json::json!({"a": 1})).await?;
/// let r = llm_do_cli::run_log::record(&log.events()[0], &Default::default(), &Default::default());
/// assert_eq!((r.event.as_str(), r.callable.as_str()), ("call_started", "tool"));
/// assert_eq!(r.data["input"]["a"], 1);
/// # Ok(())
/// # }
/// ```
pub fn record(event: &Event, specs: &HashMap<String, SpecInfo>, redactor: &Redactor) -> LogRecord {
    let mut data = serde_json::to_value(&event.kind).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut data {
        map.remove("type");
        if let Some(elapsed) = map.remove("elapsed") {
            let ms = elapsed["secs"].as_u64().unwrap_or(0) * 1000
                + elapsed["nanos"].as_u64().unwrap_or(0) / 1_000_000;
            map.insert("elapsed_ms".to_owned(), json!(ms));
        }
    }
    let with_spec = match &event.kind {
        EventKind::CallStarted { .. } => true,
        EventKind::ModelRequest { .. } => event.call.kind == CallKind::Worker,
        _ => false,
    };
    LogRecord {
        v: SCHEMA_VERSION,
        seq: event.seq,
        ts: rfc3339(event.time),
        call: event.call.id.0,
        parent: event.call.parent.map(|p| p.0),
        depth: event.call.depth,
        name: event.call.name.to_string(),
        callable: callable(event.call.kind).to_owned(),
        event: event.kind.label().to_owned(),
        spec: if with_spec { specs.get(&*event.call.name).cloned() } else { None },
        data: redactor.redact_json(data),
    }
}

fn callable(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Worker => "worker",
        CallKind::Tool => "tool",
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn rfc3339(time: SystemTime) -> String {
    let d = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Writes a run log: an [`EventSubscriber`] that appends one [`LogRecord`] per event to a file,
/// flushed line by line (a crashed run leaves a readable log).
#[derive(Clone)]
pub struct RunLogWriter {
    inner: Arc<Mutex<WriterState>>,
    specs: Arc<HashMap<String, SpecInfo>>,
    redactor: Arc<Redactor>,
}

struct WriterState {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for RunLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLogWriter").finish_non_exhaustive()
    }
}

impl RunLogWriter {
    /// Creates (truncates) `path`; `specs` are the callables of the run, described in the
    /// records of their calls.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let writer = llm_do_cli::run_log::RunLogWriter::create(dir.path().join("run.jsonl"), [])?;
    /// let rt = llm_do::Runtime::builder().subscribe(writer.clone()).build();
    /// # let _ = rt;
    /// writer.finish()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create<'a>(
        path: impl AsRef<Path>,
        specs: impl IntoIterator<Item = &'a Arc<CallableSpec>>,
    ) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        let specs = specs.into_iter().map(|s| (s.name().to_owned(), SpecInfo::of(s))).collect();
        Ok(Self {
            inner: Arc::new(Mutex::new(WriterState {
                out: std::io::BufWriter::new(file),
                error: None,
            })),
            specs: Arc::new(specs),
            redactor: Arc::new(crate::terminal::redactor().clone()),
        })
    }

    /// Flushes, and returns the first write error of the run, if any.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// llm_do_cli::run_log::RunLogWriter::create(dir.path().join("l.jsonl"), [])?.finish()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn finish(&self) -> std::io::Result<()> {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        state.out.flush()
    }
}

impl EventSubscriber for RunLogWriter {
    fn on_event(&self, event: &Event) {
        let record = record(event, &self.specs, &self.redactor);
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if state.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut state.out, &record)
            .map_err(std::io::Error::other)
            .and_then(|()| state.out.write_all(b"\n"))
            .and_then(|()| state.out.flush());
        if let Err(e) = result {
            state.error = Some(e);
        }
    }
}

/// A run log that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    /// The file cannot be opened or read, or is not a regular text file.
    #[error("cannot read the run log {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: llm_do_project::file::ReadError,
    },
    /// A line is not a record of this schema.
    #[error("{}:{line}: not a run-log record: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Largest run log read (256 MiB).
pub const MAX_LOG_BYTES: u64 = 256 << 20;

/// Reads a run log (blank lines are skipped; a last line cut off by a kill is left out, see
/// [`parse_log`]). The file must be a regular file of at most [`MAX_LOG_BYTES`].
///
/// ```
/// let e = llm_do_cli::run_log::read("/no/such/log.jsonl").unwrap_err();
/// assert!(e.to_string().starts_with("cannot read the run log"));
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<Vec<LogRecord>, RunLogError> {
    read_log(path).map(|log| log.records)
}

/// Reads a run log and says whether its last line was cut off (see [`parse_log`]).
///
/// ```
/// let e = llm_do_cli::run_log::read_log("/no/such/log.jsonl").unwrap_err();
/// assert!(e.to_string().contains("does not exist"));
/// ```
pub fn read_log(path: impl AsRef<Path>) -> Result<ParsedLog, RunLogError> {
    let path = path.as_ref();
    let text = llm_do_project::file::read_text(path, MAX_LOG_BYTES)
        .map_err(|source| RunLogError::Io { path: path.to_owned(), source })?;
    parse_log(path, &text)
}

/// Parses the text of a run log read from `path` (see [`parse_log`]) and returns its records.
///
/// ```
/// let line = r#"{"v":1,"seq":1,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_started","data":{}}"#;
/// let records = llm_do_cli::run_log::parse("run.jsonl".as_ref(), &format!("{line}\n\n")).unwrap();
/// assert_eq!(records.len(), 1);
/// let e = llm_do_cli::run_log::parse("run.jsonl".as_ref(), "{\n").unwrap_err();
/// assert!(e.to_string().contains("run.jsonl:1"));
/// ```
pub fn parse(path: &Path, text: &str) -> Result<Vec<LogRecord>, RunLogError> {
    parse_log(path, text).map(|log| log.records)
}

/// A run log's records, and the line cut off at its end, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedLog {
    /// The complete records, in file order.
    pub records: Vec<LogRecord>,
    /// The 1-based number of the last line when it was cut off mid-record (the run was killed
    /// while writing it): left out of `records`.
    pub torn_line: Option<usize>,
}

/// Parses the text of a run log read from `path` (named in errors). Blank lines are skipped.
/// Every record is written as one line ending in a newline, so a last line *without* its
/// newline that is not a record was cut off by a kill: it is left out and reported in
/// [`ParsedLog::torn_line`]. Any other line that is not a record is an error.
///
/// ```
/// let line = r#"{"v":1,"seq":1,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_started","data":{}}"#;
/// let torn = format!("{line}\n{}", &line[..40]);
/// let log = llm_do_cli::run_log::parse_log("run.jsonl".as_ref(), &torn).unwrap();
/// assert_eq!((log.records.len(), log.torn_line), (1, Some(2)));
/// // A bad line that is not the last one is an error.
/// let bad = format!("{}\n{line}\n", &line[..40]);
/// assert!(llm_do_cli::run_log::parse_log("run.jsonl".as_ref(), &bad).is_err());
/// ```
pub fn parse_log(path: &Path, text: &str) -> Result<ParsedLog, RunLogError> {
    let mut log = ParsedLog::default();
    let lines = text.split_inclusive('\n').count();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: LogRecord = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(_) if i + 1 == lines && !line.ends_with('\n') => {
                log.torn_line = Some(i + 1);
                break;
            }
            Err(e) => {
                return Err(RunLogError::Record {
                    path: path.to_owned(),
                    line: i + 1,
                    message: e.to_string(),
                });
            }
        };
        if record.v > SCHEMA_VERSION {
            return Err(RunLogError::Record {
                path: path.to_owned(),
                line: i + 1,
                message: format!(
                    "schema version {} is newer than this build reads ({SCHEMA_VERSION})",
                    record.v
                ),
            });
        }
        log.records.push(record);
    }
    Ok(log)
}

/// One call of a worker (or tool) as a log recorded it: what it was given and what it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The call's id.
    pub call: u64,
    /// The calling call, if any.
    pub parent: Option<u64>,
    /// The worker or tool.
    pub name: String,
    /// Hash of its definition (see [`spec_hash`]), when known.
    pub spec_hash: Option<String>,
    /// The model of its first request (workers), `provider:name`.
    pub model: Option<String>,
    /// The arguments object.
    pub input: Value,
    /// The result, when the call succeeded.
    pub output: Option<Value>,
    /// The error message, when it failed.
    pub error: Option<String>,
}

/// Every call of `name` in `records`, in the order they started: input, output (or error),
/// definition hash and model. The pairs issue a worker's hardening is built from.
///
/// ```
/// # use llm_do_cli::run_log::worker_calls;
/// assert!(worker_calls(&[], "main").is_empty());
/// ```
pub fn worker_calls(records: &[LogRecord], name: &str) -> Vec<CallRecord> {
    let mut calls: Vec<CallRecord> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for r in records.iter().filter(|r| r.name == name) {
        match r.event.as_str() {
            "call_started" => {
                index.insert(r.call, calls.len());
                calls.push(CallRecord {
                    call: r.call,
                    parent: r.parent,
                    name: r.name.clone(),
                    spec_hash: r.spec.as_ref().map(|s| s.hash.clone()),
                    model: None,
                    input: r.data.get("input").cloned().unwrap_or(Value::Null),
                    output: None,
                    error: None,
                });
            }
            "model_request" => {
                if let Some(c) = index.get(&r.call).map(|&i| &mut calls[i])
                    && c.model.is_none()
                {
                    c.model = r.data.get("model").and_then(Value::as_str).map(str::to_owned);
                }
            }
            "call_finished" => {
                if let Some(c) = index.get(&r.call).map(|&i| &mut calls[i]) {
                    c.output = r.data.get("output").cloned();
                    c.error = r.data.get("error").and_then(error_message).map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    calls
}

/// A run log read back, as a source of a worker's observed (input → output) pairs for
/// [`llm_do::testing::hardening`]: each successful call of the worker (a `call_started` with its
/// `call_finished` output, no error) is one observation, with origin `log call #ID`. Calls that
/// failed, were cancelled or have no finish record are left out.
///
/// ```
/// use llm_do::WorkerSpecBuilder;
/// use llm_do::testing::hardening::observations;
/// use llm_do_cli::run_log::{LogRecord, RunLog};
/// let lines = [
///     r#"{"v":1,"seq":1,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_started","data":{"input":{"input":"hi"}}}"#,
///     r#"{"v":1,"seq":2,"ts":"t","call":1,"parent":null,"depth":1,"name":"w","callable":"worker","event":"call_finished","data":{"output":"hello"}}"#,
/// ];
/// let records: Vec<LogRecord> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
/// let spec = WorkerSpecBuilder::new("w").prompt("{input}").build().unwrap();
/// let seen = observations(&RunLog(records), &spec).unwrap();
/// assert_eq!((seen[0].output.as_str(), seen[0].origin.as_str()), (Some("hello"), "log call #1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLog(pub Vec<LogRecord>);

impl RunLog {
    /// Reads a run log file (see [`read`]).
    pub fn read(path: &Path) -> Result<Self, RunLogError> {
        read(path).map(RunLog)
    }

    /// The successful calls of the worker (or tool) `name`, by name only: what
    /// [`ObservationSource::observations`] returns for a spec of that name.
    pub fn observations_of(&self, name: &str) -> Vec<Observation> {
        worker_calls(&self.0, name)
            .into_iter()
            .filter(|c| c.error.is_none())
            .filter_map(|c| {
                let origin = format!("log call #{}", c.call);
                c.output.map(|output| Observation::new(c.input, output, origin))
            })
            .collect()
    }
}

impl ObservationSource for RunLog {
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError> {
        Ok(self.observations_of(worker.name()))
    }
}

/// Renders a run log as a call tree: one line per call (name, kind, model, elapsed time,
/// tokens, outcome), its input and output, the tool calls its model asked for and the
/// approvals, indented by depth.
///
/// ```
/// # use llm_do_cli::run_log::render_tree;
/// assert_eq!(render_tree(&[]), "(empty run log)\n");
/// ```
pub fn render_tree(records: &[LogRecord]) -> String {
    if records.is_empty() {
        return "(empty run log)\n".to_owned();
    }
    let mut order: Vec<u64> = Vec::new();
    let mut by_call: HashMap<u64, Vec<&LogRecord>> = HashMap::new();
    let mut children: BTreeMap<Option<u64>, Vec<u64>> = BTreeMap::new();
    for r in records {
        let entry = by_call.entry(r.call).or_default();
        if entry.is_empty() {
            order.push(r.call);
            children.entry(r.parent).or_default().push(r.call);
        }
        entry.push(r);
    }
    let mut out = String::new();
    let roots: Vec<u64> = order
        .iter()
        .copied()
        .filter(|c| by_call[c][0].parent.is_none_or(|p| !by_call.contains_key(&p)))
        .collect();
    let mut total = llm_do::Usage::default();
    for root in roots {
        render_call(root, 0, &by_call, &children, &mut out);
        if let Some(u) = by_call[&root]
            .iter()
            .find(|r| r.event == "call_finished" || r.event == "call_cancelled")
            .and_then(|r| r.data.get("usage"))
            .and_then(|u| serde_json::from_value::<llm_do::Usage>(u.clone()).ok())
        {
            total += u;
        }
    }
    let _ = writeln!(
        out,
        "total: {} request(s), {} input + {} output tokens",
        total.requests, total.input_tokens, total.output_tokens
    );
    out
}

/// Deepest call nesting [`render_tree`] shows (a log is a file anyone can write: its parent
/// links may form a chain of any length).
const MAX_SHOWN_DEPTH: usize = 64;

fn render_call(
    call: u64,
    level: usize,
    by_call: &HashMap<u64, Vec<&LogRecord>>,
    children: &BTreeMap<Option<u64>, Vec<u64>>,
    out: &mut String,
) {
    let records = &by_call[&call];
    let first = records[0];
    let indent = "  ".repeat((first.depth.saturating_sub(1) as usize).min(MAX_SHOWN_DEPTH));
    if level >= MAX_SHOWN_DEPTH {
        let _ =
            writeln!(out, "{indent}… calls nested more than {MAX_SHOWN_DEPTH} deep are not shown");
        return;
    }
    let model = records
        .iter()
        .find(|r| r.event == "model_request")
        .and_then(|r| r.data.get("model"))
        .and_then(Value::as_str)
        .map(|m| format!(" {m}"))
        .unwrap_or_default();
    let end = records.iter().find(|r| r.event == "call_finished" || r.event == "call_cancelled");
    let outcome = match end {
        None => "unfinished".to_owned(),
        Some(r) if r.event == "call_cancelled" => "cancelled".to_owned(),
        Some(r) => {
            let ms = r.data.get("elapsed_ms").and_then(Value::as_u64).unwrap_or(0);
            let usage = r.data.get("usage");
            let tokens = usage
                .map(|u| {
                    let (i, o) = (
                        u["input_tokens"].as_u64().unwrap_or(0),
                        u["output_tokens"].as_u64().unwrap_or(0),
                    );
                    if i + o > 0 { format!(", {i}+{o} tokens") } else { String::new() }
                })
                .unwrap_or_default();
            let status = if r.data.get("error").is_some() { "failed" } else { "ok" };
            format!("{status}, {}{tokens}", crate::display::format_elapsed_ms(ms))
        }
    };
    let _ = writeln!(out, "{indent}#{call} {} [{}{model}] {outcome}", first.name, first.callable);
    let detail = format!("{indent}   ");
    if let Some(input) = first.data.get("input") {
        let _ = writeln!(out, "{detail}input: {}", short(input));
    }
    for r in records {
        match r.event.as_str() {
            "approval_requested" => {
                let req = &r.data["request"];
                let _ = writeln!(
                    out,
                    "{detail}approval asked: {}({}) — {}",
                    req["tool"].as_str().unwrap_or("?"),
                    short(&req["args"]),
                    approval_reason(&req["reason"])
                );
            }
            "approval_decided" => {
                let _ = writeln!(
                    out,
                    "{detail}approval: {} {}",
                    r.data["tool"].as_str().unwrap_or("?"),
                    r.data["decision"].as_str().unwrap_or("")
                );
            }
            "output_retry" => {
                let _ = writeln!(
                    out,
                    "{detail}output retry {}: {}",
                    r.data["attempt"],
                    r.data["reason"].as_str().unwrap_or("")
                );
            }
            _ => {}
        }
    }
    for child in children.get(&Some(call)).into_iter().flatten() {
        render_call(*child, level + 1, by_call, children, out);
    }
    if let Some(end) = end {
        if let Some(output) = end.data.get("output") {
            let _ = writeln!(out, "{detail}output: {}", short(output));
        }
        if let Some(error) = end.data.get("error").and_then(error_message) {
            let _ = writeln!(out, "{detail}error: {error}");
        }
    }
}

/// A value on one line, cut to 200 characters.
/// The sentence for an approval request's `reason`: the typed reason
/// ([`llm_do::approval::ApprovalReason`]), or (in older logs) the sentence itself.
fn approval_reason(reason: &Value) -> String {
    match serde_json::from_value::<llm_do::approval::ApprovalReason>(reason.clone()) {
        Ok(reason) => reason.to_string(),
        Err(_) => reason.as_str().unwrap_or("").to_owned(),
    }
}

/// The message of a `call_finished` record's `error`: an object with `kind`, `family` and
/// `message`, or (in logs written before errors had kinds) the message itself.
fn error_message(error: &Value) -> Option<&str> {
    error.as_str().or_else(|| error.get("message").and_then(Value::as_str))
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(199).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn secrets_are_redacted() {
        let r = Redactor::new().with_values(["s3cr3t-value-123".to_owned(), "short".to_owned()]);
        let v = r.redact_json(json!({
            "headers": {"Authorization": "Bearer x", "x-api-key": "k"},
            "text": "use s3cr3t-value-123 or sk-proj_ABCDEFGHIJKLMNOPQR; short stays; task-sk-x",
            "nested": [{"password": "p"}, {"token": null}],
            "arguments": "{\"text\":\"a\\nsk-ABCDEFGHIJKLMNOPQRST\",\"api_key\":\"k1\"}",
        }));
        assert_eq!(
            v,
            json!({
                "headers": {"Authorization": REDACTED, "x-api-key": REDACTED},
                "text": "use [redacted] or [redacted]; short stays; task-sk-x",
                "nested": [{"password": REDACTED}, {"token": null}],
                "arguments": "{\"text\":\"a\\n[redacted]\",\"api_key\":\"[redacted]\"}",
            })
        );
    }
}
