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
    /// No run of that id was ever submitted (or Restate no longer keeps its state).
    #[error("no run `{run_id}` is known to the Restate server")]
    UnknownRun {
        /// The run id.
        run_id: String,
    },
    /// The run id names an earlier run of another worker or input: Restate runs one run per
    /// id, so this submission would have been dropped and the earlier run's output returned.
    /// (The same worker and input under the same id is the same run, and not an error.)
    #[error(
        "the run id `{run_id}` is taken by an earlier run {}: a run id names one run (use a \
         new id, or the same worker and input to reach that run)",
        .difference.describe(.existing_worker, .worker)
    )]
    RunIdReused {
        /// The run id.
        run_id: String,
        /// What differs from the earlier run.
        difference: Difference,
        /// The earlier run's worker, escaped.
        existing_worker: String,
        /// The worker submitted now, escaped.
        worker: String,
    },
    /// The run id was submitted before, but that run has not started (its service does not
    /// run, or Restate is retrying it), or was started by a service that did not keep what it
    /// was started with: whether this submission is the same run cannot be told yet.
    #[error(
        "the run id `{run_id}` was submitted before and that run has not started, so whether it \
         has this worker and input cannot be told (is the service running and registered?): \
         submit again once it runs, or use a new id"
    )]
    RunUnverified {
        /// The run id.
        run_id: String,
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

/// What differs between a submission and the earlier run of its run id
/// ([`DurableError::RunIdReused`]). The input itself is never shown: it may hold secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// Another worker, the same input.
    Worker,
    /// The same worker, another input.
    Input,
    /// Another worker and another input.
    WorkerAndInput,
}

impl Difference {
    fn describe(self, existing: &str, submitted: &str) -> String {
        match self {
            Difference::Worker => format!("of another worker (`{existing}`, not `{submitted}`)"),
            Difference::Input => format!("of `{existing}` with another input"),
            Difference::WorkerAndInput => {
                format!("of another worker (`{existing}`, not `{submitted}`) and another input")
            }
        }
    }
}
