//! What crosses Restate: journal entries, the run handler's input and output, approvals. All
//! JSON.

use llm_do_core::approval::ApprovalReason;
use llm_do_core::effects::ToolOutcome;
use llm_do_core::error::{ErrorInfo, ErrorKind};
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

/// A failed run, as the terminal error of its invocation carries it (as JSON text): the
/// llm-do error's typed kind and its message.
///
/// ```
/// use llm_do_core::{Error, error::ErrorKind};
/// let f = llm_do_restate::RunFailure::from_error(&Error::Denied { name: "rm".into(), reason: "no".into() });
/// assert_eq!(f.kind, ErrorKind::Denied);
/// assert_eq!(serde_json::to_value(&f).unwrap()["kind"], "denied");
/// assert!(f.error().is_fatal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    /// The [`Error`]'s kind (`denied`, `unknown_callable`, `budget_exceeded`, `model`, ...).
    pub kind: ErrorKind,
    /// The error's message.
    pub message: String,
}

impl RunFailure {
    /// The failure of a run that ended with `error`.
    pub fn from_error(error: &Error) -> Self {
        Self { kind: error.kind(), message: error.to_string() }
    }

    /// The error again, with its kind ([`Error::Recorded`]).
    pub fn error(&self) -> Error {
        Error::Recorded(ErrorInfo {
            kind: self.kind,
            family: self.kind.family(),
            message: self.message.clone(),
        })
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
    /// Its arguments, in canonical form, secrets redacted ([`llm_do_core::secrets`]): the call
    /// itself runs with the real ones.
    pub args: Value,
    /// The worker whose model asked.
    pub caller: String,
    /// Why the policy asks (the rule that matched, or the tool's declared verdict).
    pub reason: ApprovalReason,
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
                    ModelErrorKind::Refused => ("refused", None),
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
                    ("refused", _) => ModelErrorKind::Refused,
                    _ => ModelErrorKind::Other,
                };
                Err(ModelError::new(kind, message).retryable(retryable))
            }
        }
    }
}

/// A journaled tool execution: its outcome, or a fatal error with its kind.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToolResult {
    Done(ToolOutcome),
    Fatal(ErrorInfo),
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

    #[test]
    fn a_journaled_fatal_error_keeps_its_kind() {
        let fatal = Error::BudgetExceeded {
            kind: llm_do_core::usage::BudgetKind::Requests,
            limit: 2,
            used: 2,
        };
        let entry = serde_json::to_string(&ToolResult::Fatal(ErrorInfo::from(&fatal))).unwrap();
        let ToolResult::Fatal(info) = serde_json::from_str(&entry).unwrap() else {
            panic!("not a fatal entry: {entry}")
        };
        let replayed = Error::Recorded(info);
        assert_eq!(replayed.kind(), ErrorKind::BudgetExceeded);
        assert!(replayed.is_fatal());
        assert_eq!(replayed.to_string(), fatal.to_string());
    }

    #[test]
    fn a_run_failure_is_read_back_typed() {
        let text = r#"{"kind": "unknown_callable", "message": "no worker"}"#;
        let failure: RunFailure = serde_json::from_str(text).unwrap();
        assert_eq!(failure.kind, ErrorKind::UnknownCallable);
        assert_eq!(failure.error().kind(), ErrorKind::UnknownCallable);
        assert!(serde_json::from_str::<RunFailure>(r#"{"kind": "nope", "message": ""}"#).is_err());
    }
}
