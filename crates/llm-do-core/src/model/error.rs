//! [`ModelError`]: how a provider's request failed, by [`ModelErrorKind`] (what a caller can
//! do about it: retry, shorten, fix its configuration).

use std::fmt;
use std::time::Duration;

/// What went wrong talking to a model.
///
/// ```
/// use llm_do_core::{ModelError, ModelErrorKind};
/// let e = ModelError::new(ModelErrorKind::Status(503), "upstream overloaded").retryable(true);
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "HTTP status 503: upstream overloaded");
/// ```
#[derive(Debug)]
pub struct ModelError {
    kind: ModelErrorKind,
    message: String,
    retryable: bool,
    /// What the server said beyond its message; boxed: rare, and `Error` (which holds a
    /// `ModelError`) stays small.
    advice: Option<Box<Advice>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What a server said about a failure besides its message.
#[derive(Debug, Default)]
struct Advice {
    /// Its `Retry-After`.
    retry_after: Option<Duration>,
    /// Its own code for the failure.
    code: Option<String>,
}

/// Category of a [`ModelError`].
///
/// ```
/// # use llm_do_core::ModelErrorKind;
/// assert_ne!(ModelErrorKind::Transport, ModelErrorKind::Decode);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// The connection failed or was reset.
    Transport,
    /// The server did not answer in time: no connection, no response headers, or no complete
    /// answer within the provider's timeouts.
    Timeout,
    /// The server answered with a non-success HTTP status.
    Status(u16),
    /// The answer could not be decoded.
    Decode,
    /// The request was invalid for this model (e.g. an unsupported schema, or a token budget
    /// too small for the tool call or structured answer it cut off).
    InvalidRequest,
    /// The model declined to answer (a refusal), or the provider's content filter stopped the
    /// answer. Not retryable: the same request would be declined again.
    Refused,
    /// Anything else.
    Other,
}

impl ModelError {
    /// Builds an error (not retryable).
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert!(!ModelError::new(ModelErrorKind::Decode, "bad json").is_retryable());
    /// ```
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), retryable: false, advice: None, source: None }
    }

    /// Marks whether retrying the same request may succeed.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert!(ModelError::new(ModelErrorKind::Transport, "reset").retryable(true).is_retryable());
    /// ```
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Records how long the server asked its clients to wait before trying again (an HTTP
    /// `Retry-After`), for whoever passes the failure on.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// use std::time::Duration;
    /// let e = ModelError::new(ModelErrorKind::Status(429), "slow down").with_retry_after(Duration::from_secs(2));
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.advice.get_or_insert_default().retry_after = Some(delay);
        self
    }

    /// The delay the server asked for before another attempt, when it named one.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert_eq!(ModelError::new(ModelErrorKind::Status(503), "busy").retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.advice.as_ref().and_then(|a| a.retry_after)
    }

    /// Records the server's own code for the failure (OpenAI's `error.code`, such as
    /// `context_length_exceeded`), for whoever passes the failure on (`llm-do serve` sends it
    /// to its clients, whose SDKs act on it). A code is a short identifier: one longer than 64
    /// characters or holding anything but ASCII letters, digits, `_`, `-` and `.` is not kept.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// let e = ModelError::new(ModelErrorKind::Status(400), "too long")
    ///     .with_code("context_length_exceeded");
    /// assert_eq!(e.code(), Some("context_length_exceeded"));
    /// let odd = ModelError::new(ModelErrorKind::Status(400), "x").with_code("\u{1b}[2J");
    /// assert_eq!(odd.code(), None);
    /// ```
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        let code = code.into();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if !code.is_empty() && code.len() <= 64 && code.chars().all(valid) {
            self.advice.get_or_insert_default().code = Some(code);
        }
        self
    }

    /// The server's own code for the failure, when it gave one ([`with_code`](Self::with_code)).
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert_eq!(ModelError::new(ModelErrorKind::Status(500), "boom").code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.advice.as_ref().and_then(|a| a.code.as_deref())
    }

    /// [`retry_after`](Self::retry_after) as an HTTP `Retry-After` header says it: whole
    /// seconds, rounded up (a client told to wait never tries sooner than asked). The one home
    /// of that rounding, for whoever writes the header.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// use std::time::Duration;
    /// let e = ModelError::new(ModelErrorKind::Status(429), "slow down");
    /// assert_eq!(e.retry_after_secs(), None);
    /// let e = e.with_retry_after(Duration::from_millis(1500));
    /// assert_eq!(e.retry_after_secs(), Some(2));
    /// ```
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after().map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }

    /// Attaches the underlying error.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// let io = std::io::Error::other("reset");
    /// let e = ModelError::new(ModelErrorKind::Transport, "connection lost").with_source(io);
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The error's category.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert_eq!(ModelError::new(ModelErrorKind::Other, "x").kind(), ModelErrorKind::Other);
    /// ```
    pub fn kind(&self) -> ModelErrorKind {
        self.kind
    }

    /// The message, without the category prefix.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert_eq!(ModelError::new(ModelErrorKind::Other, "x").message(), "x");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether retrying may succeed.
    ///
    /// ```
    /// # use llm_do_core::{ModelError, ModelErrorKind};
    /// assert!(!ModelError::new(ModelErrorKind::Status(400), "bad").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ModelErrorKind::Transport => write!(f, "transport error: {}", self.message),
            ModelErrorKind::Timeout => write!(f, "timed out: {}", self.message),
            ModelErrorKind::Status(code) => write!(f, "HTTP status {code}: {}", self.message),
            ModelErrorKind::Decode => {
                write!(f, "could not decode the model's answer: {}", self.message)
            }
            ModelErrorKind::InvalidRequest => write!(f, "invalid request: {}", self.message),
            ModelErrorKind::Refused | ModelErrorKind::Other => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ModelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
