//! What crosses Restate: journal entries, the run handler's input and output, approvals. All
//! JSON.

use llm_do_core::effects::ToolOutcome;
use llm_do_core::usage::BudgetKind;
use llm_do_core::{Error, ModelError, ModelErrorKind, ModelResponse, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The input of the `run` handler: which worker, with which arguments.
///
/// ```
/// let r: llm_do_restate::RunRequest =
///     serde_json::from_value(serde_json::json!({"worker": "triage", "input": {"text": "hi"}})).unwrap();
/// assert_eq!(r.worker, "triage");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// The worker (or tool) to call, by its name in the runtime's registry.
    pub worker: String,
    /// Its arguments (an object of named arguments, or a bare value for one parameter).
    #[serde(default)]
    pub input: Value,
}

/// The output of a finished run: the worker's value and the run's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The worker's result.
    pub output: Value,
    /// Tokens and requests of the whole run (replayed steps included: they were paid once).
    pub usage: Usage,
}

/// A failed run, as the terminal error of its invocation carries it (as JSON text).
///
/// ```
/// let f = llm_do_restate::RunFailure::from_error(&llm_do_core::Error::msg("no"));
/// assert_eq!(f.kind, "message");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    /// The [`Error`] variant, in snake case (`denied`, `unknown_callable`, `budget_exceeded`,
    /// `model`, ...).
    pub kind: String,
    /// The error's message.
    pub message: String,
}

impl RunFailure {
    /// The failure of a run that ended with `error`.
    pub fn from_error(error: &Error) -> Self {
        Self { kind: error_kind(error).to_owned(), message: error.to_string() }
    }
}

/// The snake-case name of an error's variant: its kind, kept across the service boundary.
fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::UnknownCallable { .. } => "unknown_callable",
        Error::InvalidArguments { .. } => "invalid_arguments",
        Error::Attachment { .. } => "attachment",
        Error::InvalidOutput { .. } => "invalid_output",
        Error::ResultType { .. } => "result_type",
        Error::DepthExceeded { .. } => "depth_exceeded",
        Error::MaxTurns { .. } => "max_turns",
        Error::BudgetExceeded { .. } => "budget_exceeded",
        Error::Model { .. } => "model",
        Error::NoModel { .. } => "no_model",
        Error::InvalidModel { .. } => "invalid_model",
        Error::UnknownProvider { .. } => "unknown_provider",
        Error::ProviderUnavailable { .. } => "provider_unavailable",
        Error::Denied { .. } => "denied",
        Error::InvalidSpec { .. } => "invalid_spec",
        Error::ContextOverflow { .. } => "context_overflow",
        Error::NotAWorker { .. } => "not_a_worker",
        Error::History { .. } => "history",
        Error::Panicked { .. } => "panicked",
        Error::MissingState { .. } => "missing_state",
        Error::Message(_) => "message",
        _ => "other",
    }
}

/// An approval a run waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The id to answer with (`llm-do restate approve ID`, [`Client::approve`](crate::Client::approve)).
    pub id: String,
    /// The run (the workflow's key).
    pub run_id: String,
    /// The tool the model wants to call.
    pub tool: String,
    /// Its arguments, in canonical form.
    pub args: Value,
    /// The worker whose model asked.
    pub caller: String,
    /// Why the policy asks.
    pub reason: String,
}

/// A person's answer to an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswer {
    /// Run the call (`true`), or deny it and end the run with the denial error.
    pub approve: bool,
    /// Why, for the error and the logs.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A journaled model request: the response, or the error with its kind.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ModelResult {
    Ok(ModelResponse),
    Err { kind: String, status: Option<u16>, message: String, retryable: bool },
}

impl From<Result<ModelResponse, ModelError>> for ModelResult {
    fn from(result: Result<ModelResponse, ModelError>) -> Self {
        match result {
            Ok(r) => ModelResult::Ok(r),
            Err(e) => {
                let (kind, status) = match e.kind() {
                    ModelErrorKind::Transport => ("transport", None),
                    ModelErrorKind::Timeout => ("timeout", None),
                    ModelErrorKind::Status(code) => ("status", Some(code)),
                    ModelErrorKind::Decode => ("decode", None),
                    ModelErrorKind::InvalidRequest => ("invalid_request", None),
                    _ => ("other", None),
                };
                ModelResult::Err {
                    kind: kind.to_owned(),
                    status,
                    message: e.message().to_owned(),
                    retryable: e.is_retryable(),
                }
            }
        }
    }
}

impl From<ModelResult> for Result<ModelResponse, ModelError> {
    fn from(result: ModelResult) -> Self {
        match result {
            ModelResult::Ok(r) => Ok(r),
            ModelResult::Err { kind, status, message, retryable } => {
                let kind = match (kind.as_str(), status) {
                    ("transport", _) => ModelErrorKind::Transport,
                    ("timeout", _) => ModelErrorKind::Timeout,
                    ("status", Some(code)) => ModelErrorKind::Status(code),
                    ("decode", _) => ModelErrorKind::Decode,
                    ("invalid_request", _) => ModelErrorKind::InvalidRequest,
                    _ => ModelErrorKind::Other,
                };
                Err(ModelError::new(kind, message).retryable(retryable))
            }
        }
    }
}

/// A journaled tool execution: its outcome, or a fatal error.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToolResult {
    Done(ToolOutcome),
    Fatal(Fatal),
}

/// A fatal error of a tool step as journaled: its kind and message, and what it takes to
/// restore it with its type, so that it stays fatal on replay (it ends the run, from nested
/// calls too, as it did the first time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Fatal {
    pub(crate) kind: String,
    pub(crate) message: String,
    #[serde(default)]
    fields: Value,
}

impl Fatal {
    pub(crate) fn of(error: &Error) -> Self {
        let fields = match error {
            Error::Denied { name, reason } => serde_json::json!({"name": name, "reason": reason}),
            Error::BudgetExceeded { kind, limit, used } => {
                serde_json::json!({"budget": kind, "limit": limit, "used": used})
            }
            Error::MissingState { type_name } => serde_json::json!({"type_name": type_name}),
            _ => Value::Null,
        };
        Self { kind: error_kind(error).to_owned(), message: error.to_string(), fields }
    }

    /// The error, with its type where the kind has one that can be rebuilt (denials, budgets,
    /// missing state: the fatal kinds), else as a message.
    pub(crate) fn restore(&self) -> Error {
        let text = |key: &str| self.fields[key].as_str().map(str::to_owned);
        let number = |key: &str| self.fields[key].as_u64();
        let restored = match self.kind.as_str() {
            "denied" => text("name")
                .zip(text("reason"))
                .map(|(name, reason)| Error::Denied { name, reason }),
            "budget_exceeded" => {
                let kind = match self.fields["budget"].as_str() {
                    Some("requests") => Some(BudgetKind::Requests),
                    Some("total_tokens") => Some(BudgetKind::TotalTokens),
                    Some("tool_calls") => Some(BudgetKind::ToolCalls),
                    _ => None,
                };
                kind.zip(number("limit").zip(number("used")))
                    .map(|(kind, (limit, used))| Error::BudgetExceeded { kind, limit, used })
            }
            "missing_state" => {
                text("type_name").map(|t| Error::MissingState { type_name: type_name(t) })
            }
            _ => None,
        };
        restored.unwrap_or_else(|| Error::msg(self.message.clone()))
    }
}

/// A type name as `&'static str` (what [`Error::MissingState`] holds), each distinct name
/// allocated once per process.
fn type_name(name: String) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = names.iter().find(|n| **n == name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.push(leaked);
    leaked
}

/// A journaled step: its result and the run's record up to its end.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Step<T> {
    pub(crate) result: T,
    pub(crate) record: crate::record::StepRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(error: &Error) -> Error {
        let text = serde_json::to_string(&ToolResult::Fatal(Fatal::of(error))).unwrap();
        match serde_json::from_str::<ToolResult>(&text).unwrap() {
            ToolResult::Fatal(fatal) => fatal.restore(),
            ToolResult::Done(_) => panic!("not a fatal error"),
        }
    }

    #[test]
    fn fatal_errors_are_restored_with_their_type_and_stay_fatal() {
        let denied = Error::Denied { name: "delete".into(), reason: "not today".into() };
        let budget = Error::BudgetExceeded { kind: BudgetKind::ToolCalls, limit: 3, used: 3 };
        let state = Error::MissingState { type_name: "my::Db" };
        for error in [denied, budget, state] {
            let restored = round_trip(&error);
            assert!(restored.is_fatal(), "{restored}");
            assert_eq!(error_kind(&restored), error_kind(&error));
            assert_eq!(restored.to_string(), error.to_string());
        }
        assert!(matches!(
            round_trip(&Error::BudgetExceeded {
                kind: BudgetKind::TotalTokens,
                limit: 9,
                used: 10
            }),
            Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit: 9, used: 10 }
        ));
        // Other kinds come back as their message; the run's failure keeps the kind.
        let other = Fatal::of(&Error::msg("disk full"));
        assert_eq!(
            (other.kind.as_str(), other.restore().to_string()),
            ("message", "disk full".into())
        );
        // A journal entry without the fields (or with bad ones) still restores, as a message.
        let bare: Fatal =
            serde_json::from_value(serde_json::json!({"kind": "denied", "message": "m"})).unwrap();
        assert_eq!(error_kind(&bare.restore()), "message");
    }
}
