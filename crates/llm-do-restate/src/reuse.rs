//! A run id names one run. Restate runs a workflow once per key and answers a second
//! submission of the same key with `"status": "PreviouslyAccepted"` (HTTP 202, the first
//! run's invocation id) whatever its input: the second worker or input is dropped and the
//! first run's output is what `attach` returns. So the run keeps what it was started with
//! ([`Submitted`]: the worker's name and a digest of the input, in the workflow's state under
//! [`REQUEST_KEY`], read by the shared handler `request`), and [`Client::submit`] compares:
//! the same worker and input is the same run (idempotent, as an idempotency key); another
//! worker or another input is [`DurableError::RunIdReused`], never the other run's answer.
//!
//! The input is kept as a digest ([`llm_do_core::canonical::digest`], key order does not
//! matter), never as it is: the `request` handler answers anyone who reaches the ingress, and
//! an input may hold secrets. Errors name the run id and the workers, never the input.
//!
//! [`Client::submit`]: crate::Client::submit

use crate::client::Client;
use crate::error::{Difference, DurableError};
use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::HandlerResult;
use restate_sdk::serde::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// State key of what a run was started with (a [`Submitted`]).
pub(crate) const REQUEST_KEY: &str = "request";

/// How long [`verify`] waits for a run accepted earlier to start unless the client says
/// otherwise (a service that runs starts it at once; a stopped one does not).
pub(crate) const START_WAIT: Duration = Duration::from_secs(10);

/// The least time given to one `request` call (with a `start_wait` of zero too).
const MIN_CALL: Duration = Duration::from_millis(500);

/// What a run was started with: its worker and the digest of its input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Submitted {
    pub(crate) worker: String,
    pub(crate) input_digest: String,
}

impl Submitted {
    pub(crate) fn new(worker: &str, input: &Value) -> Self {
        Self { worker: worker.to_owned(), input_digest: llm_do_core::canonical::digest(input) }
    }

    /// How `self` (a submission) differs from the run `existing`, if it does.
    fn difference(&self, existing: &Submitted) -> Option<Difference> {
        match (self.worker != existing.worker, self.input_digest != existing.input_digest) {
            (false, false) => None,
            (true, false) => Some(Difference::Worker),
            (false, true) => Some(Difference::Input),
            (true, true) => Some(Difference::WorkerAndInput),
        }
    }
}

/// The shared handler `request`: what the run was started with (`null` before it starts).
pub(crate) async fn handler(cx: &ContextInternal) -> HandlerResult<Json<Option<Submitted>>> {
    Ok(Json(cx.get::<Json<Submitted>>(REQUEST_KEY).await?.map(|Json(s)| s)))
}

/// Checks that `submitted` is the run that Restate accepted earlier under `run_id`: waits
/// (at most the client's `start_wait`) for that run to start if it has not, then compares.
/// With the service down the `request` call itself waits (Restate retries it), so it gets
/// what is left of that time.
pub(crate) async fn verify(
    client: &Client,
    run_id: &str,
    submitted: &Submitted,
) -> Result<(), DurableError> {
    let unverified = || DurableError::RunUnverified { run_id: run_id.to_owned() };
    let deadline = Instant::now() + client.start_wait;
    let mut pause = Duration::from_millis(20);
    let existing = loop {
        let left = deadline.saturating_duration_since(Instant::now()).max(MIN_CALL);
        let (url, text) = match client.call_handler(run_id, "request", None::<&()>, left).await {
            Err(DurableError::Timeout { .. }) => return Err(unverified()),
            answer => answer?,
        };
        if let Some(existing) = crate::client::parse::<Option<Submitted>>(&url, &text)? {
            break existing;
        }
        if Instant::now() >= deadline {
            return Err(unverified());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    };
    match submitted.difference(&existing) {
        None => Ok(()),
        Some(difference) => Err(DurableError::RunIdReused {
            run_id: run_id.to_owned(),
            difference,
            existing_worker: existing.worker.escape_debug().to_string(),
            worker: submitted.worker.escape_debug().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_submission_differs_by_worker_or_input_not_by_key_order() {
        let run = Submitted::new("triage", &json!({"text": "hi", "n": 1}));
        assert_eq!(Submitted::new("triage", &json!({"n": 1, "text": "hi"})).difference(&run), None);
        let d = |w, i| Submitted::new(w, &i).difference(&run);
        assert_eq!(d("other", json!({"text": "hi", "n": 1})), Some(Difference::Worker));
        assert_eq!(d("triage", json!({"text": "hi", "n": 2})), Some(Difference::Input));
        assert_eq!(d("other", json!(null)), Some(Difference::WorkerAndInput));
        assert!(!serde_json::to_string(&run).unwrap().contains("hi"));
    }
}
