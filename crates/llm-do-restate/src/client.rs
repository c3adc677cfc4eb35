//! [`Client`]: submit runs to a Restate server, wait for their output, list and answer their
//! approvals, cancel them, register a service deployment. Plain HTTP against Restate's ingress and admin
//! APIs.

use crate::cancel::CancelRequest;
use crate::error::DurableError;
use crate::record::RunRecord;
use crate::reuse::Submitted;
use crate::service::SERVICE_NAME;
use crate::wire::{ApprovalAnswer, PendingApproval, RunFailure, RunOutput, RunRequest};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// Talks to a Restate server on behalf of a user or a host program.
///
/// ```
/// let client = llm_do_restate::Client::new("http://127.0.0.1:8080")
///     .admin("http://127.0.0.1:9070");
/// assert_eq!(client.ingress_url(), "http://127.0.0.1:8080");
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    ingress: String,
    admin: String,
    http: reqwest::Client,
    pub(crate) start_wait: Duration,
}

/// The largest response body read from Restate (a run's output included).
const MAX_BODY: usize = 16 << 20;

impl Client {
    /// A client of the Restate ingress at `ingress` (e.g. `http://127.0.0.1:8080`); the admin
    /// API is assumed at port 9070 of the same host until [`admin`](Self::admin) says otherwise.
    pub fn new(ingress: impl Into<String>) -> Self {
        let ingress = ingress.into().trim_end_matches('/').to_owned();
        let admin = match ingress.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
                format!("{host}:9070")
            }
            _ => format!("{ingress}:9070"),
        };
        let http = llm_do_openai::http::client_builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self { ingress, admin, http, start_wait: crate::reuse::START_WAIT }
    }

    /// Sets the admin API's URL (e.g. `http://127.0.0.1:9070`).
    pub fn admin(mut self, admin: impl Into<String>) -> Self {
        self.admin = admin.into().trim_end_matches('/').to_owned();
        self
    }

    /// How long [`submit`](Self::submit) waits, when the run id was submitted before, for
    /// that run to start so as to compare it with this submission (10 s unless set): a
    /// service that runs starts it at once; with the service stopped, `submit` answers
    /// [`DurableError::RunUnverified`] after this long.
    pub fn start_wait(mut self, wait: Duration) -> Self {
        self.start_wait = wait;
        self
    }

    /// The ingress URL.
    pub fn ingress_url(&self) -> &str {
        &self.ingress
    }

    /// Registers the service deployment at `uri` (where [`DurableService`](crate::DurableService)
    /// listens) with the Restate server, so that it routes runs there. Registering the same
    /// deployment again is harmless.
    pub async fn register(&self, uri: &str) -> Result<(), DurableError> {
        let url = format!("{}/deployments", self.admin);
        let response = self
            .http
            .post(&url)
            .timeout(Duration::from_secs(30))
            .json(&json!({"uri": uri, "force": true}))
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        expect_success(response, &url).await.map(drop)
    }

    /// Submits a run of `worker` on `input` under `run_id`. A run id names one run, as an
    /// idempotency key: submitting it again with the same worker and input (key order does
    /// not matter) does not start a second run, it is the same run; with another worker or
    /// another input it is [`DurableError::RunIdReused`]. If the earlier run has not started
    /// (its service is down) this waits a little for it, then answers
    /// [`DurableError::RunUnverified`].
    pub async fn submit(
        &self,
        run_id: &str,
        worker: &str,
        input: Value,
    ) -> Result<(), DurableError> {
        check_id("run id", run_id)?;
        let url = format!("{}/{SERVICE_NAME}/{run_id}/run/send", self.ingress);
        let submitted = Submitted::new(worker, &input);
        let body = RunRequest { worker: worker.to_owned(), input };
        let response = self
            .http
            .post(&url)
            .timeout(Duration::from_secs(30))
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        let text = expect_success(response, &url).await?;
        // Restate keeps the first run of a key and drops this request, saying so.
        let answer: SendAnswer = parse(&url, &text)?;
        if answer.status.as_deref() == Some("PreviouslyAccepted") {
            crate::reuse::verify(self, run_id, &submitted).await?;
        }
        Ok(())
    }

    /// Waits for the output of the run `run_id` (at most `timeout`): its value and usage, or
    /// its failure with the error's kind ([`DurableError::Run`]).
    pub async fn output(&self, run_id: &str, timeout: Duration) -> Result<RunOutput, DurableError> {
        check_id("run id", run_id)?;
        let url = format!("{}/restate/workflow/{SERVICE_NAME}/{run_id}/attach", self.ingress);
        let response = self.http.get(&url).timeout(timeout).send().await.map_err(|e| {
            if e.is_timeout() {
                DurableError::Timeout { url: url.clone() }
            } else {
                unreachable(&url, &e)
            }
        })?;
        let status = response.status();
        let text = read_body(response, &url).await?;
        if status.is_success() {
            return parse(&url, &text);
        }
        // A run's failure: the terminal error's message is a RunFailure.
        let message = error_message(&text);
        if let Ok(failure) = serde_json::from_str::<RunFailure>(&message) {
            return Err(DurableError::Run { kind: failure.kind, message: failure.message });
        }
        Err(classify(status.as_u16(), message, &url))
    }

    /// Submits a run and waits for its output (at most `timeout`).
    pub async fn run(
        &self,
        run_id: &str,
        worker: &str,
        input: Value,
        timeout: Duration,
    ) -> Result<RunOutput, DurableError> {
        self.submit(run_id, worker, input).await?;
        self.output(run_id, timeout).await
    }

    /// The approvals the run `run_id` waits for.
    pub async fn pending(&self, run_id: &str) -> Result<Vec<PendingApproval>, DurableError> {
        let (url, text) = self.read_handler(run_id, "pending").await?;
        parse(&url, &text)
    }

    /// What is known of the run `run_id`: its status, usage, failure and events (see
    /// [`RunRecord`]), read from the workflow's state; kept across crashes and restarts of the
    /// service, and after the run for as long as Restate keeps the workflow's state.
    pub async fn record(&self, run_id: &str) -> Result<RunRecord, DurableError> {
        let (url, text) = self.read_handler(run_id, "record").await?;
        parse::<Option<RunRecord>>(&url, &text)?
            .ok_or_else(|| DurableError::UnknownRun { run_id: run_id.to_owned() })
    }

    /// Cancels the run `run_id`, if it is under way, giving `reason` (its error and record
    /// carry it). It ends at its next step with the error kind `cancelled`; a step already
    /// under way (a model request, a tool) runs to its end first. Returns whether the run
    /// was under way (`false`: it had already ended, and stays as it ended).
    pub async fn cancel(&self, run_id: &str, reason: Option<&str>) -> Result<bool, DurableError> {
        let request = CancelRequest { reason: reason.map(str::to_owned) };
        let (url, text) =
            self.call_handler(run_id, "cancel", Some(&request), Duration::from_secs(30)).await?;
        match parse::<Option<String>>(&url, &text)? {
            None => Err(DurableError::UnknownRun { run_id: run_id.to_owned() }),
            Some(status) => Ok(status == "running"),
        }
    }

    /// Calls the shared handler `handler` of the run `run_id` (a read: no input) and returns
    /// its URL and successful body.
    async fn read_handler(
        &self,
        run_id: &str,
        handler: &str,
    ) -> Result<(String, String), DurableError> {
        self.call_handler(run_id, handler, None::<&()>, Duration::from_secs(30)).await
    }

    /// Calls the shared handler `handler` of the run `run_id` with `input` (JSON, if any),
    /// waiting at most `timeout` ([`DurableError::Timeout`]: the service may be down), and
    /// returns its URL and successful body.
    pub(crate) async fn call_handler(
        &self,
        run_id: &str,
        handler: &str,
        input: Option<&impl serde::Serialize>,
        timeout: Duration,
    ) -> Result<(String, String), DurableError> {
        check_id("run id", run_id)?;
        let url = format!("{}/{SERVICE_NAME}/{run_id}/{handler}", self.ingress);
        let mut request = self.http.post(&url).timeout(timeout);
        if let Some(input) = input {
            request = request.json(input);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                DurableError::Timeout { url: url.clone() }
            } else {
                unreachable(&url, &e)
            }
        })?;
        let text = expect_success(response, &url).await?;
        Ok((url, text))
    }

    /// Answers the approval `id` (as printed by the service and listed by
    /// [`pending`](Self::pending)): the call runs, or is denied and the run ends with the
    /// denial error.
    pub async fn approve(&self, id: &str, answer: &ApprovalAnswer) -> Result<(), DurableError> {
        check_id("approval id", id)?;
        let url = format!("{}/restate/awakeables/{id}/resolve", self.ingress);
        let response = self
            .http
            .post(&url)
            .timeout(Duration::from_secs(30))
            .json(answer)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        match expect_success(response, &url).await {
            Err(DurableError::Restate { status, message, .. })
                if status == 400 || status == 404 =>
            {
                Err(DurableError::UnknownApproval { id: id.to_owned(), message })
            }
            other => other.map(drop),
        }
    }
}

/// Whether `id` is a plain name: letters, digits and `_-.`, at most 256 characters, not `.`
/// or `..` (ids go into URL paths and file names).
pub(crate) fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && id != "."
        && id != ".."
}

fn check_id(what: &'static str, id: &str) -> Result<(), DurableError> {
    if is_plain_id(id) {
        Ok(())
    } else {
        Err(DurableError::InvalidId { what, id: id.escape_debug().to_string() })
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> DurableError {
    DurableError::Unreachable { url: url.to_owned(), message: llm_do_core::error::chain(e) }
}

async fn read_body(response: reqwest::Response, url: &str) -> Result<String, DurableError> {
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(url, &e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(DurableError::Restate {
                status: 0,
                message: format!("the response is larger than {MAX_BODY} bytes"),
                url: url.to_owned(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

async fn expect_success(response: reqwest::Response, url: &str) -> Result<String, DurableError> {
    let status = response.status();
    let text = read_body(response, url).await?;
    if status.is_success() {
        Ok(text)
    } else {
        Err(classify(status.as_u16(), error_message(&text), url))
    }
}

/// Restate's error bodies are `{"message": ...}` (with a `code` or `restate_code`).
fn error_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| text.trim().to_owned())
}

fn classify(status: u16, message: String, url: &str) -> DurableError {
    let lower = message.to_ascii_lowercase();
    if status == 404 && lower.contains("service") && lower.contains("not found") {
        DurableError::NotRegistered { service: SERVICE_NAME.to_owned(), message }
    } else {
        DurableError::Restate { status, message, url: url.to_owned() }
    }
}

/// Restate's answer to a `send`: `Accepted`, or `PreviouslyAccepted` when the key (the run
/// id) was submitted before.
#[derive(serde::Deserialize)]
struct SendAnswer {
    status: Option<String>,
}

pub(crate) fn parse<T: DeserializeOwned>(url: &str, text: &str) -> Result<T, DurableError> {
    serde_json::from_str(text).map_err(|e| DurableError::Restate {
        status: 200,
        message: format!("unexpected answer ({e}): {}", text.chars().take(200).collect::<String>()),
        url: url.to_owned(),
    })
}
