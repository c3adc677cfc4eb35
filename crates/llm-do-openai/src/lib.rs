//! An OpenAI-compatible chat-completions provider: OpenAI itself, or any server that speaks
//! its API (Ollama, vLLM, llama.cpp's server, LM Studio, OpenRouter, ...).
//!
//! Register one [`OpenAiProvider`] per server under a provider name; workers then select it
//! with `model = "<name>:<model>"`, and the request's `model` field is the part after the
//! colon. Several providers can live in one runtime:
//!
//! ```no_run
//! use llm_do_core::Runtime;
//! use llm_do_openai::{OpenAiConfig, OpenAiProvider};
//!
//! # fn main() -> Result<(), llm_do_openai::ConfigError> {
//! let ollama = OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1");
//! let rt = Runtime::builder()
//!     // OPENAI_API_KEY (and OPENAI_BASE_URL, if set): workers with model = "openai:gpt-4o-mini"
//!     .provider("openai", OpenAiProvider::from_env()?)
//!     // a local Ollama next to it: workers with model = "ollama:llama3.2"
//!     .provider("ollama", OpenAiProvider::new(ollama))
//!     .build();
//! # let _ = rt;
//! # Ok(())
//! # }
//! ```
//!
//! What the provider does:
//!
//! - **Messages and tools**: system, user, assistant (text and tool calls) and tool-result
//!   messages map to their chat-completions forms; tools are offered with their JSON Schemas;
//!   several tool calls in one answer (parallel tool calls) come back in order.
//! - **Structured output** per [`StructuredOutput`]: `response_format: json_schema` (strict when
//!   the schema qualifies), a synthetic `final_result` tool, or instructions in the prompt.
//! - **Streaming** when [`OpenAiConfig::streaming`] is on: text and tool-call pieces reach the
//!   runtime's `ModelDelta` events as they arrive; the assembled response is the one the
//!   non-streaming path would return for the same answer.
//! - **Lenient decoding**: missing optional fields, unknown fields, `finish_reason: ""`,
//!   content as a list of parts, a whole JSON body answering a streamed request; missing
//!   usage counts as zero. The answer is the choice with index 0, else the first choice,
//!   streamed or not. A refusal is kept apart (`ModelResponse::refusal`): the runtime
//!   ends the call with a `Refused` error, as it does on `finish_reason: "content_filter"`.
//! - **Retries** per [`RetryPolicy`] on 429 (honouring `Retry-After`), 5xx, connection
//!   failures, timeouts and cut-off bodies; other failures become typed
//!   [`ModelError`]s at once (see the [error table](#errors)).
//! - **Secrets**: the API key (and credential headers) never appear in errors or `Debug`
//!   output.
//! - **Cancellation**: dropping the future (e.g. the worker's) drops the HTTP exchange, which
//!   closes the connection.
//!
//! # Errors
//!
//! | failure | [`ModelErrorKind`] | retried |
//! |---|---|---|
//! | HTTP 429, 5xx | `Status(code)` | yes, `Retry-After` honoured |
//! | other HTTP status (400, 401, 404, ...) | `Status(code)` | no |
//! | connection refused or reset, body cut off, stream ended before `[DONE]` | `Transport` | yes |
//! | no connection within `connect_timeout`, no response headers within `first_byte_timeout`, no complete answer within `timeout` | `Timeout` | yes |
//! | JSON body that ends too early | `Decode` | yes |
//! | body (or event stream) that is not UTF-8, not JSON or not a completion, no choices | `Decode` | no |
//! | a server's `error` object in a 200 answer or in a stream | `Other` | no |
//! | invalid configuration, tool named `final_result` with `FinalAnswerTool` | `InvalidRequest` | no |
//!
//! A `Status` error's message is the server's error message followed by an excerpt of the
//! body (at most 500 characters each; so is the message of a server's `error` object in a 200
//! answer or a stream); `Decode` errors quote the body the same way. Errors that
//! retries did not cure say how many attempts were made, and stay marked retryable when the
//! failure was transient. A streamed attempt that fails after some of the answer has been
//! passed on is retried too: the sink first receives `StreamDelta::Restart`, telling it to
//! discard the pieces of the failed attempt.
//!
//! [`http`] is the workspace's one way to make an HTTP client (rustls with `ring`), used here
//! and by the tests and benchmarks that speak HTTP themselves.
#![warn(missing_docs)]

use async_openai::error::OpenAIError;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use llm_do_core::{
    DeltaSink, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse, StreamDelta,
};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

mod body;
mod config;
mod decode;
mod error;
mod guard;
pub mod http;
mod output;
mod prepared;
mod request;
mod retry;
mod stream;
mod strict;
mod transport;
mod wire;

pub use config::{
    ConfigError, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT,
    DEFAULT_MAX_ANSWER_BYTES, DEFAULT_TIMEOUT, MaxTokensField, OpenAiConfig, StructuredOutput,
};
pub use retry::RetryPolicy;

use error::Failure;
use llm_do_core::secrets::Redactor;
use output::OutputPlan;
use stream::Assembler;
use transport::WholeAnswer;
use wire::ChatRequest;

/// A [`Model`] that talks to an OpenAI-compatible chat-completions endpoint over HTTP (reqwest;
/// streamed answers through [async-openai](https://docs.rs/async-openai)'s event-stream reader).
///
/// Cheap to clone (the HTTP client and its connection pool are shared) and safe to use from
/// many tasks at once.
///
/// ```no_run
/// use llm_do_core::{Message, Model, ModelRequest};
/// use llm_do_openai::{OpenAiConfig, OpenAiProvider};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = OpenAiProvider::new(OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1"));
/// let answer = provider.request(&ModelRequest::new("llama3.2", vec![Message::user("Hi!")])).await?;
/// println!("{:?}", answer.text);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OpenAiProvider {
    inner: Arc<Inner>,
}

struct Inner {
    config: OpenAiConfig,
    client: Result<transport::Transport, ConfigError>,
    redactor: Redactor,
    /// Each worker's tools and output schema, serialised once.
    prepared: prepared::Cache,
}

impl OpenAiProvider {
    /// A provider for this configuration. A configuration that cannot work (an invalid base
    /// URL, say) makes every request fail with a `ModelErrorKind::InvalidRequest` error; use
    /// [`try_new`](OpenAiProvider::try_new) to find out at once.
    ///
    /// ```
    /// use llm_do_core::{Message, Model, ModelErrorKind, ModelRequest};
    /// use llm_do_openai::{OpenAiConfig, OpenAiProvider};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let broken = OpenAiProvider::new(OpenAiConfig::new().base_url("ftp://example.com"));
    /// let request = ModelRequest::new("any", vec![Message::user("Hi")]);
    /// let err = broken.request(&request).await.unwrap_err(); // nothing was sent
    /// assert_eq!(err.kind(), ModelErrorKind::InvalidRequest);
    /// # }
    /// ```
    pub fn new(mut config: OpenAiConfig) -> Self {
        // Decided once here, not per request (it parses the base URL).
        config.max_tokens_field = Some(config.effective_max_tokens_field());
        let client = transport::client(&config);
        let redactor = Redactor::new().with_values(config.secrets());
        let prepared = prepared::Cache::default();
        Self { inner: Arc::new(Inner { config, client, redactor, prepared }) }
    }

    /// A provider for this configuration, or the reason it cannot work.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid base URL, API key or header, or when the HTTP client
    /// cannot be created.
    ///
    /// ```
    /// use llm_do_openai::{OpenAiConfig, OpenAiProvider};
    /// assert!(OpenAiProvider::try_new(OpenAiConfig::new()).is_ok());
    /// assert!(OpenAiProvider::try_new(OpenAiConfig::new().base_url("nonsense")).is_err());
    /// ```
    pub fn try_new(config: OpenAiConfig) -> Result<Self, ConfigError> {
        let provider = Self::new(config);
        match &provider.inner.client {
            Ok(_) => Ok(provider),
            Err(e) => Err(e.clone()),
        }
    }

    /// A provider configured by [`OpenAiConfig::from_env`] (`OPENAI_API_KEY`,
    /// `OPENAI_BASE_URL`).
    ///
    /// # Errors
    ///
    /// As [`OpenAiConfig::from_env`] and [`try_new`](OpenAiProvider::try_new).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::try_new(OpenAiConfig::from_env()?)
    }

    /// The configuration.
    ///
    /// ```
    /// use llm_do_openai::{OpenAiConfig, OpenAiProvider};
    /// let p = OpenAiProvider::new(OpenAiConfig::new().streaming(true));
    /// assert!(format!("{:?}", p.config()).contains("streaming: true"));
    /// ```
    pub fn config(&self) -> &OpenAiConfig {
        &self.inner.config
    }

    /// One request, retried per the policy; `sink` makes it streamed.
    async fn run(
        &self,
        request: &ModelRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<ModelResponse, ModelError> {
        let Inner { config, client, redactor, prepared } = &*self.inner;
        let client = client.as_ref().map_err(|e| {
            ModelError::new(ModelErrorKind::InvalidRequest, redactor.redact(&e.to_string()))
        })?;
        let fail_early = |f: Failure| f.into_model_error(redactor, 1, false);
        let prepared = prepared.get(request, config.structured_output).map_err(fail_early)?;
        let body =
            request::build(request, config, &prepared, sink.is_some()).map_err(fail_early)?;
        let plan = prepared.plan;
        let result = match sink {
            // Serialised once; each attempt sends the same bytes.
            None => {
                let body = request::to_bytes(&body).map_err(fail_early)?;
                retry::run(&config.retry, |_| attempt(client, &body, plan, config.timeout)).await
            }
            // Boxed, so that a plain request's future holds no room for a stream's state.
            Some(sink) => {
                Box::pin(retry::run(&config.retry, |_| {
                    attempt_streaming(client, &body, plan, sink, config.timeout)
                }))
                .await
            }
        };
        result.map_err(|gave_up| Failure::gave_up(gave_up, redactor))
    }
}

/// One non-streaming attempt.
async fn attempt(
    transport: &transport::Transport,
    body: &Bytes,
    plan: OutputPlan,
    timeout: Duration,
) -> Result<ModelResponse, Failure> {
    let raw = transport.post(body.clone(), timeout).await?;
    decode_whole(&raw, plan)
}

/// Decodes a whole (non-streamed) answer's body.
fn decode_whole(raw: &[u8], plan: OutputPlan) -> Result<ModelResponse, Failure> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(Failure::decode("the answer is not UTF-8 text", &String::from_utf8_lossy(raw)));
    };
    decode::response(text).map(|answer| plan.finish(answer))
}

/// One streamed attempt.
async fn attempt_streaming(
    transport: &transport::Transport,
    body: &ChatRequest<'_>,
    plan: OutputPlan,
    sink: &dyn DeltaSink,
    timeout: Duration,
) -> Result<ModelResponse, Failure> {
    let mut assembler = Assembler::new(plan, sink);
    let received =
        match tokio::time::timeout(timeout, receive(transport, body, &mut assembler)).await {
            Ok(result) => result,
            Err(_) => Err(transport::attempt_timed_out(timeout)),
        };
    match received {
        Ok(Received::Events) => assembler.finish(),
        Ok(Received::Whole(whole)) => whole_answer(whole, plan, sink),
        // Pieces already reached the sink: tell it to discard them before the retry loop
        // sends the request again, so that the pieces it sees add up to the final answer.
        Err(failure) if assembler.delivered() && failure.retryable => {
            sink.delta(StreamDelta::Restart { reason: failure.message.clone() });
            Err(failure)
        }
        Err(failure) => Err(failure),
    }
}

/// How the answer to a streamed request came.
enum Received {
    /// As events, fed to the assembler.
    Events,
    /// As one whole body: the server ignored `"stream": true`.
    Whole(WholeAnswer),
}

/// Feeds the chunks of a stream to the assembler.
async fn receive(
    transport: &transport::Transport,
    body: &ChatRequest<'_>,
    assembler: &mut Assembler<'_>,
) -> Result<Received, Failure> {
    let whole_or_failure = |e: OpenAIError| match WholeAnswer::from_error(e) {
        Ok(whole) => Ok(Received::Whole(whole)),
        Err(e) => Err(error::from_openai(e)),
    };
    let (client, cut) = transport.stream_client();
    let mut chunks =
        match client.chat().create_stream_byot::<&ChatRequest<'_>, Box<RawValue>>(body).await {
            Ok(chunks) => chunks,
            Err(e) => return whole_or_failure(e),
        };
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(chunk) => assembler.push(chunk.get())?,
            // The event stream failed: when the body's guard ended it, the guard's reason.
            Err(e @ OpenAIError::StreamError(_)) => {
                return Err(cut.failure().unwrap_or_else(|| error::from_openai(e)));
            }
            Err(e) => return whole_or_failure(e),
        }
    }
    // The events ended: completely, or because the guard ended the body (an event it cut in
    // half is dropped by the event stream, never passed on).
    cut.failure().map_or(Ok(Received::Events), Err)
}

/// A whole answer to a streamed request, decoded as a non-streamed one (an error object in it
/// is the server's error); its text and tool calls reach the sink as one piece each.
fn whole_answer(
    whole: WholeAnswer,
    plan: OutputPlan,
    sink: &dyn DeltaSink,
) -> Result<ModelResponse, Failure> {
    let response = decode_whole(&whole.0?, plan)?;
    response.deltas().into_iter().for_each(|delta| sink.delta(delta));
    Ok(response)
}

impl Model for OpenAiProvider {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(self.run(request, None))
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        if self.inner.config.streaming {
            Box::pin(self.run(request, Some(sink)))
        } else {
            self.request(request)
        }
    }

    fn input_capabilities(&self) -> llm_do_core::attachment::InputCapabilities {
        self.inner.config.attachments
    }
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider").field("config", &self.inner.config).finish_non_exhaustive()
    }
}
