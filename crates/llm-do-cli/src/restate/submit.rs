//! `llm-do restate submit` and `llm-do restate output`: start a durable run from the command
//! line and print its output as `llm-do run` prints a run's.

use crate::exit::Exit;
use llm_do::error::{ErrorFamily, ErrorKind};
use llm_do_restate::{Client, DurableError, RunOutput};
use serde_json::Value;
use std::time::Duration;

/// What `submit` sends: the worker and its input.
pub(super) struct Submission {
    pub(super) run_id: String,
    pub(super) worker: String,
    /// Text for a worker of one parameter (sent as a JSON string), if given.
    pub(super) input: Option<String>,
    /// JSON arguments, if given.
    pub(super) input_json: Option<String>,
    /// Wait for the output (at most this long) and print it.
    pub(super) wait: Option<Duration>,
}

/// `llm-do restate submit`: starts the run (the same run if the id was submitted before with
/// the same worker and input; another worker or input under that id is a usage error) and,
/// with `--wait`, prints its output.
pub(super) async fn submit(s: Submission, ingress: String) -> Exit {
    let input = match (&s.input, &s.input_json) {
        (_, Some(text)) => match serde_json::from_str::<Value>(text) {
            Ok(value) => value,
            Err(e) => {
                crate::output::errln!("llm-do: --input-json is not valid JSON: {e}");
                return Exit::Usage;
            }
        },
        (Some(text), None) => Value::String(text.clone()),
        (None, None) => Value::Null,
    };
    let client = Client::new(ingress);
    if let Err(e) = client.submit(&s.run_id, &s.worker, input).await {
        return failed(&e);
    }
    let Some(timeout) = s.wait else {
        crate::output::errln!(
            "llm-do: submitted run {} (`llm-do restate output {}` waits for its output)",
            s.run_id.escape_debug(),
            s.run_id.escape_debug()
        );
        return Exit::Ok;
    };
    output(&client, &s.run_id, timeout).await
}

/// `llm-do restate output`: waits for the run's output (at most `timeout`) and prints it.
pub(super) async fn output(client: &Client, run_id: &str, timeout: Duration) -> Exit {
    match client.output(run_id, timeout).await {
        Ok(out) => {
            print(&out);
            Exit::Ok
        }
        Err(e) => failed(&e),
    }
}

/// The output on stdout as `llm-do run` prints it (a string as it is, other values as pretty
/// JSON; secrets redacted, controls escaped on a terminal), its usage on stderr.
fn print(out: &RunOutput) {
    crate::output::outln!("{}", crate::terminal::stdout_result(&out.output));
    let u = out.usage;
    crate::output::errln!(
        "llm-do: {} requests, {} input + {} output tokens",
        u.requests,
        u.input_tokens,
        u.output_tokens
    );
}

/// Reports a failure on stderr; the exit code says how the run (or the command) failed.
fn failed(e: &DurableError) -> Exit {
    crate::output::errln!("llm-do: {}", crate::terminal::safe(&e.to_string()));
    match e {
        DurableError::Run { kind, .. } => exit_of(*kind),
        // A run id taken by a run of another worker or input: the caller's mistake.
        DurableError::InvalidId { .. } | DurableError::RunIdReused { .. } => Exit::Usage,
        _ => Exit::RunFailed,
    }
}

/// The exit code of a durable run that failed with an error of `kind`, as `llm-do run`'s
/// for the same error: a denial 3, the caller's or the configuration's mistake 2, else 1.
fn exit_of(kind: ErrorKind) -> Exit {
    match kind.family() {
        _ if kind == ErrorKind::Denied => Exit::Denied,
        ErrorFamily::Caller | ErrorFamily::Configuration => Exit::Usage,
        _ => Exit::RunFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_exits_as_llm_do_run_would() {
        assert_eq!(exit_of(ErrorKind::Denied), Exit::Denied);
        assert_eq!(exit_of(ErrorKind::UnknownCallable), Exit::Usage);
        assert_eq!(exit_of(ErrorKind::InvalidArguments), Exit::Usage);
        assert_eq!(exit_of(ErrorKind::NoModel), Exit::Usage);
        assert_eq!(exit_of(ErrorKind::Cancelled), Exit::RunFailed);
        assert_eq!(exit_of(ErrorKind::BudgetExceeded), Exit::RunFailed);
        assert_eq!(exit_of(ErrorKind::Model), Exit::RunFailed);
    }
}
