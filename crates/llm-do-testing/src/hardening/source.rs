//! Where observed (input → output) pairs come from: [`ObservationSource`] and its
//! implementations for run events and cassettes.

use super::template_match::{TemplateMatch, match_template};
use crate::cassette::Cassette;
use llm_do_core::{CallableSpec, Event, EventKind, EventLog, OutputMode};
use serde_json::Value;
use std::collections::HashMap;

/// One observed call of a worker.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Observation {
    /// The worker's arguments object.
    pub input: Value,
    /// What the worker returned.
    pub output: Value,
    /// Where it was observed: `events #3` (the third observed call in the events) or
    /// `cassette #2` (the second interaction in the cassette file).
    pub origin: String,
}

impl Observation {
    /// An observation made elsewhere, for [`ObservationSource`]s outside this crate (such as
    /// the CLI's run log).
    ///
    /// ```
    /// use llm_do::testing::hardening::Observation;
    /// let o = Observation::new(serde_json::json!({"ticket": "hi"}), "other".into(), "log #1");
    /// assert_eq!(o.origin, "log #1");
    /// ```
    pub fn new(input: Value, output: Value, origin: impl Into<String>) -> Self {
        Observation { input, output, origin: origin.into() }
    }
}

/// Why observations could not be extracted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HardeningError {
    /// The spec is a tool, not a worker, and the source needs the worker's prompt.
    #[error("`{0}` is not a worker: cassettes can only be read for workers (they need its prompt)")]
    NotAWorker(String),
    /// The source could not be read.
    #[error("cannot read observations: {0}")]
    Source(String),
}

/// So that `?` works in a function returning `llm_do::Result` (kept whole in `Error::Other`).
///
/// ```
/// # use llm_do_testing::hardening::HardeningError;
/// fn read() -> llm_do_core::Result<()> {
///     Err(HardeningError::Source("truncated".into()))?
/// }
/// assert_eq!(read().unwrap_err().to_string(), "cannot read observations: truncated");
/// ```
impl From<HardeningError> for llm_do_core::Error {
    fn from(error: HardeningError) -> Self {
        llm_do_core::Error::other(error)
    }
}

/// Something observed calls of a worker can be extracted from. Implemented for run events
/// ([`EventLog`], `[Event]`, `Vec<Event>`) and [`Cassette`]s; other sources (such as a run log
/// file) implement it the same way.
///
/// ```
/// use llm_do::CallableSpec;
/// use llm_do::testing::hardening::{HardeningError, Observation, ObservationSource};
///
/// /// Observations kept in memory, e.g. parsed from a file.
/// struct Fixed(Vec<Observation>);
/// impl ObservationSource for Fixed {
///     fn observations(&self, _worker: &CallableSpec) -> std::result::Result<Vec<Observation>, HardeningError> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
pub trait ObservationSource {
    /// The successful calls of `worker` this source holds, in the source's order.
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError>;
}

/// The observed calls of `worker` in `source`.
///
/// ```
/// use llm_do::{EventLog, WorkerSpecBuilder};
/// use llm_do::testing::hardening::observations;
/// let spec = WorkerSpecBuilder::new("w").prompt("Hi {name}").build().unwrap();
/// assert!(observations(&EventLog::new(), &spec).unwrap().is_empty());
/// ```
pub fn observations(
    source: &(impl ObservationSource + ?Sized),
    worker: &CallableSpec,
) -> Result<Vec<Observation>, HardeningError> {
    source.observations(worker)
}

impl ObservationSource for [Event] {
    /// Pairs each successful call of the worker's name (`call_started` → `call_finished`).
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError> {
        let mut started: HashMap<u64, Value> = HashMap::new();
        let mut out = Vec::new();
        for event in self.iter().filter(|e| &*e.call.name == worker.name()) {
            match &event.kind {
                EventKind::CallStarted { input } => {
                    started.insert(event.call.id.0, input.clone());
                }
                EventKind::CallFinished { output: Some(output), error: None, .. } => {
                    if let Some(input) = started.remove(&event.call.id.0) {
                        out.push(Observation {
                            input,
                            output: output.clone(),
                            origin: format!("events #{}", out.len() + 1),
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

impl ObservationSource for Vec<Event> {
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError> {
        self.as_slice().observations(worker)
    }
}

impl ObservationSource for EventLog {
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError> {
        self.events().observations(worker)
    }
}

/// A worker's observations in a cassette, with the interactions that had to be skipped
/// because their prompt could not be read back unambiguously.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CassetteObservations {
    /// The worker's observed calls, in the cassette's order.
    pub observations: Vec<Observation>,
    /// Where (`cassette #N`) an interaction of the worker was skipped because its prompt is
    /// the worker's template rendered with more than one set of arguments
    /// ([`TemplateMatch::Ambiguous`]): replaying one guess would compare a candidate on an
    /// input the worker may never have seen.
    pub ambiguous: Vec<String>,
}

/// The observed calls of `worker` in `cassette`, and the interactions skipped as ambiguous.
///
/// An interaction belongs to the worker when its system message and output mode are the
/// worker's and its first user message is the worker's prompt template rendered with exactly
/// one set of arguments (recovered by [`match_template`](super::match_template)). Its answer
/// counts when it is final (no tool calls) and valid for the worker's output schema; answers
/// the runtime rejected and retried are skipped.
///
/// ```
/// use llm_do::{Message, ModelRequest, ModelResponse, WorkerSpecBuilder};
/// use llm_do::testing::cassette::{Cassette, Interaction};
/// use llm_do::testing::hardening::read_cassette;
/// let spec = WorkerSpecBuilder::new("compare").description("Compares.")
///     .prompt("Compare {a} with {b}.").build().unwrap();
/// let mut cassette = Cassette::default();
/// for prompt in ["Compare cats with dogs.", "Compare cats with hats with dogs."] {
///     let messages = vec![Message::system("Compares."), Message::user(prompt)];
///     cassette.push(Interaction::new(&ModelRequest::new("m", messages), ModelResponse::text("same")));
/// }
/// let read = read_cassette(&cassette, &spec).unwrap();
/// assert_eq!(read.observations.len(), 1);
/// assert_eq!(read.ambiguous, ["cassette #2"]);
/// ```
pub fn read_cassette(
    cassette: &Cassette,
    worker: &CallableSpec,
) -> Result<CassetteObservations, HardeningError> {
    let config =
        worker.worker().ok_or_else(|| HardeningError::NotAWorker(worker.name().to_owned()))?;
    let system = config.system.as_deref().unwrap_or(worker.description()).trim().to_owned();
    let output_mode = worker.output_mode();
    let wanted_output = serde_json::to_value(&output_mode).unwrap_or(Value::Null);
    let mut out = CassetteObservations::default();
    for (i, interaction) in cassette.interactions.iter().enumerate() {
        let origin = format!("cassette #{}", i + 1);
        let request = &interaction.request;
        if request.get("output").is_some_and(|o| o != &wanted_output) {
            continue;
        }
        let messages = request
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let content = |role: &str| {
            messages
                .iter()
                .find(|m| m.get("role").and_then(Value::as_str) == Some(role))
                .and_then(|m| m.get("content").and_then(Value::as_str))
        };
        if content("system").unwrap_or("").trim() != system {
            continue;
        }
        let Some(user) = content("user") else { continue };
        let input = match match_template(&config.prompt, worker.input_schema(), user) {
            TemplateMatch::Unique(input) => input,
            TemplateMatch::Ambiguous => {
                out.ambiguous.push(origin);
                continue;
            }
            _ => continue,
        };
        let response = &interaction.response;
        if !response.tool_calls.is_empty() {
            continue;
        }
        let text = response.text.clone().unwrap_or_default();
        let output = match output_mode {
            OutputMode::Text => Value::String(text),
            _ => match parse_json_answer(&text) {
                Some(v) => v,
                None => continue,
            },
        };
        if worker.validate_output(&output).is_err() {
            continue;
        }
        out.observations.push(Observation { input, output, origin });
    }
    Ok(out)
}

impl ObservationSource for Cassette {
    /// The observations [`read_cassette`] finds; interactions whose prompt is ambiguous are
    /// skipped (`read_cassette` lists them).
    fn observations(&self, worker: &CallableSpec) -> Result<Vec<Observation>, HardeningError> {
        read_cassette(self, worker).map(|read| read.observations)
    }
}

/// A JSON answer, tolerating a Markdown code fence (as the runtime does).
fn parse_json_answer(raw: &str) -> Option<Value> {
    let trimmed = raw.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    let rest = trimmed.strip_prefix("```")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    serde_json::from_str(rest.strip_suffix("```")?.trim()).ok()
}
