//! The calls a run log holds: each call's input and output ([`worker_calls`]), and a log as
//! a source of a worker's observed pairs for hardening ([`RunLog`]).

use super::read::{RunLogError, read};
use super::record::LogRecord;
use llm_do::CallableSpec;
use llm_do::testing::hardening::{HardeningError, Observation, ObservationSource};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// One call of a worker (or tool) as a log recorded it: what it was given and what it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The call's id.
    pub call: u64,
    /// The calling call, if any.
    pub parent: Option<u64>,
    /// The worker or tool.
    pub name: String,
    /// Hash of its definition (see [`spec_hash`](super::record::spec_hash)), when known.
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

/// The message of a `call_finished` record's `error`: an object with `kind`, `family` and
/// `message`, or (in logs written before errors had kinds) the message itself.
pub(super) fn error_message(error: &Value) -> Option<&str> {
    error.as_str().or_else(|| error.get("message").and_then(Value::as_str))
}
