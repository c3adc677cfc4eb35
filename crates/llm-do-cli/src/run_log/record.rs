//! The record of one event: [`LogRecord`], what identifies a definition ([`SpecInfo`],
//! [`spec_hash`]), and [`record`], which builds a record from an event with its secrets
//! redacted by the project's one rule ([`llm_do::secrets`]).

use super::SCHEMA_VERSION;
use llm_do::secrets::Redactor;
use llm_do::{CallKind, CallableSpec, Event, EventKind, ModelSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::SystemTime;

/// One line of a run log. See the documentation of the `run_log::record` module for the schema.
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
    llm_do::canonical::digest(&doc)
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
        // A streamed piece's text is not logged, only its length: a secret cut between two
        // pieces would pass redaction piece by piece. The `model_response` holds the whole
        // answer, redacted whole.
        if let (EventKind::ModelDelta { .. }, Some(Value::Object(delta))) =
            (&event.kind, map.get_mut("delta"))
        {
            for key in ["text", "arguments"] {
                if let Some(Value::String(piece)) = delta.remove(key) {
                    delta.insert("chars".to_owned(), json!(piece.chars().count()));
                }
            }
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
        ts: timestamp(event.time),
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

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (RFC 3339, UTC, milliseconds).
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::secrets::REDACTED;
    use std::time::UNIX_EPOCH;

    #[test]
    fn timestamps_are_timestamp() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
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
