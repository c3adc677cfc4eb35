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
//! | `model_delta` | `turn`, `delta`: a streamed piece's `type` (`text`, `tool_call` with `index` and the `id` and `name` it carries, `restart` with `reason`) and the length of its text or arguments in characters (`chars`), not the text itself |
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

mod calls;
mod read;
mod record;
mod tree;
mod write;

pub use calls::{CallRecord, RunLog, worker_calls};
pub use llm_do::secrets::{REDACTED, Redactor};
pub use read::{
    MAX_LOG_BYTES, ParsedLog, RunLogError, parse, parse_log, read, read_log, read_text,
};
pub use record::{LogRecord, SpecInfo, record, spec_hash};
pub use tree::render_tree;
pub use write::RunLogWriter;

/// The version of the record schema this build writes (the `v` field).
pub const SCHEMA_VERSION: u32 = 1;
