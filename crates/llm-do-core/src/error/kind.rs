//! What kind of [`Error`] a failure is, as events, run logs and durable journals carry it:
//! [`ErrorKind`], grouped in [`ErrorFamily`]s, and [`ErrorInfo`] (kind, family, message).

use super::Error;
use serde::{Deserialize, Serialize};

/// Which variant an [`Error`] is, as a value: what events ([`EventKind::CallFinished`]) and
/// run logs carry. Serialised in `snake_case` (`"budget_exceeded"`).
///
/// [`EventKind::CallFinished`]: crate::EventKind::CallFinished
///
/// ```
/// use llm_do_core::error::ErrorKind;
/// assert_eq!(serde_json::to_value(ErrorKind::BudgetExceeded).unwrap(), "budget_exceeded");
/// assert_eq!(ErrorKind::BudgetExceeded.to_string(), "budget_exceeded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::UnknownCallable`].
    UnknownCallable,
    /// [`Error::InvalidArguments`].
    InvalidArguments,
    /// [`Error::Attachment`].
    Attachment,
    /// [`Error::ResultType`].
    ResultType,
    /// [`Error::NotAWorker`].
    NotAWorker,
    /// [`Error::ContextOverflow`].
    ContextOverflow,
    /// [`Error::Model`].
    Model,
    /// [`Error::InvalidOutput`].
    InvalidOutput,
    /// [`Error::MaxTurns`].
    MaxTurns,
    /// [`Error::DepthExceeded`].
    DepthExceeded,
    /// [`Error::BudgetExceeded`].
    BudgetExceeded,
    /// [`Error::Denied`].
    Denied,
    /// [`Error::Cancelled`].
    Cancelled,
    /// [`Error::NoModel`].
    NoModel,
    /// [`Error::InvalidModel`].
    InvalidModel,
    /// [`Error::UnknownProvider`].
    UnknownProvider,
    /// [`Error::ProviderUnavailable`].
    ProviderUnavailable,
    /// [`Error::InvalidSpec`].
    InvalidSpec,
    /// [`Error::InvalidConfig`].
    InvalidConfig,
    /// [`Error::MissingState`].
    MissingState,
    /// [`Error::History`].
    History,
    /// [`Error::Panicked`].
    Panicked,
    /// [`Error::Message`] and [`Error::Other`]: raised by a tool's own code.
    Tool,
}

/// The families [`ErrorKind`]s are grouped in: who has to act.
///
/// ```
/// use llm_do_core::error::{ErrorFamily, ErrorKind};
/// assert_eq!(ErrorKind::MaxTurns.family(), ErrorFamily::Model);
/// assert_eq!(serde_json::to_value(ErrorFamily::RunControl).unwrap(), "run_control");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorFamily {
    /// The caller asked for something that cannot be done: an unknown name, arguments that do
    /// not fit, a result type that does not fit, an attachment that cannot be used.
    Caller,
    /// The model (or its provider) failed or kept answering wrong.
    Model,
    /// A limit or decision of the run stopped it: depth, budgets, denials, cancellation.
    RunControl,
    /// The runtime, a worker's definition or a model string is misconfigured.
    Configuration,
    /// A tool's own code failed (its error, or a caught panic).
    User,
}

impl ErrorKind {
    /// `true` for the kinds of [fatal](Error::is_fatal) errors: budgets, denials (an
    /// [`Error::Denied`] exists only when the denial aborts), cancellation, missing state.
    ///
    /// ```
    /// # use llm_do_core::error::ErrorKind;
    /// assert!(ErrorKind::BudgetExceeded.is_fatal());
    /// assert!(!ErrorKind::Tool.is_fatal());
    /// ```
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorKind::BudgetExceeded
                | ErrorKind::Denied
                | ErrorKind::Cancelled
                | ErrorKind::MissingState
        )
    }

    /// The family the kind belongs to.
    ///
    /// ```
    /// # use llm_do_core::error::{ErrorFamily, ErrorKind};
    /// assert_eq!(ErrorKind::Cancelled.family(), ErrorFamily::RunControl);
    /// ```
    pub fn family(self) -> ErrorFamily {
        use ErrorKind as K;
        match self {
            K::UnknownCallable
            | K::InvalidArguments
            | K::Attachment
            | K::ResultType
            | K::NotAWorker
            | K::ContextOverflow => ErrorFamily::Caller,
            K::Model | K::InvalidOutput | K::MaxTurns => ErrorFamily::Model,
            K::DepthExceeded | K::BudgetExceeded | K::Denied | K::Cancelled => {
                ErrorFamily::RunControl
            }
            K::NoModel
            | K::InvalidModel
            | K::UnknownProvider
            | K::ProviderUnavailable
            | K::InvalidSpec
            | K::InvalidConfig
            | K::MissingState
            | K::History => ErrorFamily::Configuration,
            K::Panicked | K::Tool => ErrorFamily::User,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => f.write_str(&s),
            _ => write!(f, "{self:?}"),
        }
    }
}

/// A failed call as events and run logs carry it: its [`ErrorKind`], the kind's family, and the
/// message ([`Error`]'s `Display`). Displays as the message.
///
/// ```
/// use llm_do_core::{Error, error::{ErrorInfo, ErrorKind}};
/// let info = ErrorInfo::from(&Error::msg("no such order"));
/// assert_eq!(info.kind, ErrorKind::Tool);
/// assert_eq!(info.to_string(), "no such order");
/// let json = serde_json::to_value(&info).unwrap();
/// assert_eq!((json["kind"].as_str(), json["family"].as_str()), (Some("tool"), Some("user")));
/// // Recorded (e.g. in a durable journal) and read back, it is an error of the same kind.
/// let denied = Error::Denied { name: "rm".into(), reason: "no".into() };
/// let back = Error::Recorded(serde_json::from_value(serde_json::to_value(ErrorInfo::from(&denied)).unwrap()).unwrap());
/// assert_eq!((back.kind(), back.is_fatal(), back.to_string()), (ErrorKind::Denied, true, denied.to_string()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Which error.
    pub kind: ErrorKind,
    /// Its family ([`ErrorKind::family`]).
    pub family: ErrorFamily,
    /// The error's message.
    pub message: String,
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        let kind = e.kind();
        Self { kind, family: kind.family(), message: e.to_string() }
    }
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
