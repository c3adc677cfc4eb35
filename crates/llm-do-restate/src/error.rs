//! [`DurableError`]: what can go wrong talking to Restate, each case its own variant.

/// An error of the [`Client`](crate::Client) or of starting a [`LocalServer`](crate::LocalServer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// Nothing answers at the Restate server's address (not started, wrong port).
    #[error("the Restate server at {url} is unreachable: {message}")]
    Unreachable {
        /// The URL that was called.
        url: String,
        /// Why.
        message: String,
    },
    /// The server runs, but no deployment of the llm-do service is registered with it.
    #[error(
        "the Restate server does not know the service `{service}`: register the deployment \
         (`llm-do restate serve PROJECT --register ADMIN_URL`, or Client::register): {message}"
    )]
    NotRegistered {
        /// The service's name.
        service: String,
        /// Restate's message.
        message: String,
    },
    /// The run ended with an error; `kind` is the llm-do error's kind (`denied`,
    /// `unknown_callable`, `budget_exceeded`, `model`, ...).
    #[error("the run failed ({kind}): {message}")]
    Run {
        /// The error's kind.
        kind: llm_do_core::error::ErrorKind,
        /// The error's message.
        message: String,
    },
    /// No run waits for an approval of that id (answered already, or never asked).
    #[error("no run waits for the approval `{id}`: {message}")]
    UnknownApproval {
        /// The id given.
        id: String,
        /// Restate's message.
        message: String,
    },
    /// A run id or approval id that cannot be used (letters, digits and `_-.` only).
    #[error("invalid {what} `{id}`: use letters, digits, `_`, `-` and `.` (at most 256)")]
    InvalidId {
        /// Which id.
        what: &'static str,
        /// The id, escaped.
        id: String,
    },
    /// The wait for a run's output took longer than allowed.
    #[error("no answer from {url} in time (the run may still be going on)")]
    Timeout {
        /// The URL that was called.
        url: String,
    },
    /// The Restate server answered with an error.
    #[error("Restate answered {status} at {url}: {message}")]
    Restate {
        /// The HTTP status.
        status: u16,
        /// Restate's message.
        message: String,
        /// The URL that was called.
        url: String,
    },
    /// The local Restate server could not be started.
    #[error("cannot start the Restate server: {0}")]
    Start(String),
}
