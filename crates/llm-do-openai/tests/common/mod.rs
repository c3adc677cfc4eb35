//! Helpers shared by this crate's integration tests (a module of each, not a test of its own;
//! `tests/conversation.rs` at the workspace root includes it too, with `#[path]`).

use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider, RetryPolicy};
use llm_do::testing::{ObservedModel, Observer};
use llm_do::{Error, Model, ModelError, ModelRequest, ModelResponse};
use llm_do_testkit::TestServer;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A recognisable API key that must never show up in errors, events or recordings.
pub const KEY: &str = "sk-test-SECRET123";

/// Retries with backoffs of a few milliseconds, so that fault tests stay quick.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(20),
        jitter: 0.5,
    }
}

/// The configuration tests use: the server's base URL, [`KEY`], fast retries.
pub fn config(server: &TestServer, streaming: bool) -> OpenAiConfig {
    OpenAiConfig::new()
        .base_url(server.base_url())
        .api_key(KEY)
        .retry(fast_retry())
        .timeout(Duration::from_secs(10))
        .streaming(streaming)
}

/// A provider for [`config`].
pub fn provider(server: &TestServer, streaming: bool) -> OpenAiProvider {
    OpenAiProvider::new(config(server, streaming))
}

/// A model that records every response (or error message) of the model it wraps
/// ([`recording`]; what it returned: `model.observer().responses()`).
pub type Recording = Arc<ObservedModel<Arc<dyn Model>, Responses>>;

/// Wraps `inner` in a [`Recording`].
pub fn recording(inner: impl Model) -> Recording {
    Arc::new(ObservedModel::new(Arc::new(inner), Responses::default()))
}

/// What a [`Recording`]'s model returned: each response, or its error's message.
#[derive(Default)]
pub struct Responses(Mutex<Vec<Result<ModelResponse, String>>>);

impl Responses {
    /// What the wrapped model returned, in order.
    pub fn responses(&self) -> Vec<Result<ModelResponse, String>> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Observer for Responses {
    fn observe(
        &self,
        _: &ModelRequest,
        result: &Result<ModelResponse, ModelError>,
    ) -> Result<(), ModelError> {
        if let Ok(mut log) = self.0.lock() {
            log.push(match result {
                Ok(response) => Ok(response.clone()),
                Err(error) => Err(error.to_string()),
            });
        }
        Ok(())
    }
}

/// The provider's error inside a worker's error.
pub fn model_error(error: &Error) -> &ModelError {
    match error {
        Error::Model { source, .. } => source,
        other => panic!("expected a model error, got: {other}"),
    }
}

/// Bounds a test future: a hang becomes a failure with a message instead of a stuck CI run.
/// (A liveness bound, not a timing assertion: the limit is far above any expected duration.)
pub async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(30), fut).await {
        Ok(v) => v,
        Err(_) => panic!("test future did not finish within 30 s (deadlock or hang)"),
    }
}

/// For a server written on a raw socket: `true` once the head and `Content-Length` bytes of body have arrived.
pub fn request_complete(received: &[u8]) -> bool {
    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    received.len() >= end + 4 + length
}
