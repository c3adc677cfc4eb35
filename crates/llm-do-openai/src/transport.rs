//! The HTTP side: one reqwest client per provider, with our own configuration (no
//! environment lookups, no `Authorization` header without a key, credentials marked
//! sensitive). A non-streaming request is one POST through that client ([`Transport::post`]);
//! a streamed one goes through async-openai's client (for its server-sent-event parsing), with
//! our own tower service in place of async-openai's default executor.
//!
//! Why not async-openai for the non-streaming request too: its request factory rebuilds the
//! request (URL, header map, body handle) in a boxed future per attempt and parses the answer
//! twice (into a raw value, then into our wire types); going straight to reqwest keeps the
//! provider's share of a loopback request small (docs/benchmarks.md, bench 2 and 3).
//!
//! The service (streamed requests only) exists for three reasons:
//!
//! - async-openai's default executor retries 429s itself (three times, its own backoff). We
//!   replace it so that one [`RetryPolicy`](super::RetryPolicy) governs every transient
//!   failure, with jitter and bounded total time.
//! - async-openai's own error for a non-success status drops the headers (`Retry-After`) and,
//!   for a 4xx body that is not OpenAI's error JSON, the status itself. The service turns every
//!   non-success answer into an [`HttpStatus`] carrying status, `Retry-After` and body.
//! - async-openai ends a stream quietly when the connection closes cleanly before
//!   `data: [DONE]`, which would make a truncated answer look complete, and reduces a
//!   connection failure mid-stream to "error decoding response body". The service wraps
//!   streamed bodies in a guard ([`super::guard`]) that ends them early on either, and when
//!   more than [`max_answer_bytes`](super::OpenAiConfig::max_answer_bytes) come, and says why
//!   in the request's [`StreamCut`], which the stream reader turns into the attempt's error.
//!
//! - A server that answers a streamed request with one whole JSON body (a completion, or an
//!   error object with status 200) is not an event stream: async-openai would find no events
//!   in it. The service reads such a body (up to the answer limit) and hands it over as a
//!   [`WholeAnswer`], which the stream reader decodes as a non-streamed answer.
//!
//! So that each request has its own [`StreamCut`], a streamed request gets its own (cheap)
//! async-openai client over the shared reqwest client ([`Transport::stream_client`]).

use super::body;
use super::config::{ConfigError, OpenAiConfig};
use super::error::{Failure, HttpStatus, NoFirstByte, from_reqwest};
use super::guard::{StreamCut, guard_stream};
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use llm_do_core::secrets::is_secret_name;
use secrecy::{ExposeSecret, SecretString};
use std::task::{Context, Poll};
use std::time::Duration;

/// The provider's HTTP client: reqwest for non-streaming requests, async-openai (over the same
/// reqwest client and connection pool) for streamed ones.
pub(crate) struct Transport {
    /// The headers of every request (credentials, configured headers, user agent) are this
    /// client's default headers.
    http: reqwest::Client,
    /// `{base_url}/chat/completions`, parsed once.
    chat_url: reqwest::Url,
    /// How long the response headers may take.
    first_byte: Duration,
    /// The most bytes an answer may have.
    max_answer: u64,
    /// async-openai's configuration, for the client of each streamed request.
    wire: WireConfig,
}

/// The chat-completions endpoint's path under the base URL (as async-openai appends it).
const CHAT_COMPLETIONS: &str = "/chat/completions";

/// async-openai configuration: the base URL. The headers are the reqwest client's defaults,
/// so none are copied into each request here.
#[derive(Debug, Clone)]
pub(crate) struct WireConfig {
    base_url: String,
    api_key: SecretString,
}

impl async_openai::config::Config for WireConfig {
    fn headers(&self) -> HeaderMap {
        HeaderMap::new()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn query(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }

    fn api_base(&self) -> &str {
        &self.base_url
    }

    fn api_key(&self) -> &SecretString {
        &self.api_key
    }
}

/// The headers every request carries: the configured ones and `Authorization` when there is a
/// key, credentials marked sensitive (reqwest and `http` then keep them out of `Debug`).
fn headers(config: &OpenAiConfig) -> Result<HeaderMap, ConfigError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            ConfigError::InvalidHeader { name: name.clone(), reason: e.to_string() }
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidHeader {
            name: name.to_string(),
            reason: "the value has characters a header cannot carry".to_owned(),
        })?;
        value.set_sensitive(is_secret_name(name.as_str()));
        headers.insert(name, value);
    }
    if let Some(key) = &config.api_key {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .map_err(|_| ConfigError::InvalidApiKey)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// Builds the transport for a configuration.
pub(crate) fn client(config: &OpenAiConfig) -> Result<Transport, ConfigError> {
    config.validate()?;
    let http = crate::http::client_builder()
        .user_agent(concat!("llm-do/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers(config)?)
        .connect_timeout(config.connect_timeout.min(config.timeout))
        .build()
        .map_err(|e| ConfigError::Client(e.to_string()))?;
    let chat_url = config.endpoint(CHAT_COMPLETIONS)?;
    let api_key = config.api_key.clone().unwrap_or_else(|| SecretString::from(String::new()));
    let wire = WireConfig { base_url: config.base_url.clone(), api_key };
    let (first_byte, max_answer) = (config.first_byte_timeout, config.max_answer_bytes);
    Ok(Transport { http, chat_url, first_byte, max_answer, wire })
}

impl Transport {
    /// async-openai's client for one streamed request (over the shared reqwest client), and
    /// where that request's body guard says why it ended the body early, if it does.
    pub(crate) fn stream_client(&self) -> (async_openai::Client<WireConfig>, StreamCut) {
        let cut = StreamCut::default();
        let service = HttpService {
            http: self.http.clone(),
            first_byte: self.first_byte,
            max_answer: self.max_answer,
            cut: cut.clone(),
        };
        let client = async_openai::Client::build(self.http.clone(), self.wire.clone())
            .with_http_service(service);
        (client, cut)
    }

    /// One non-streaming exchange: POSTs `body` (JSON) to the chat-completions endpoint and
    /// returns the answer's body. The response headers must arrive within the first-byte
    /// timeout and the whole body within `timeout` of the start; one timer covers both (it
    /// is moved on once the headers are in). A non-success status is an [`HttpStatus`]
    /// failure (status, `Retry-After`, body).
    pub(crate) async fn post(&self, body: Bytes, timeout: Duration) -> Result<Bytes, Failure> {
        let started = tokio::time::Instant::now();
        let headers_late = self.first_byte < timeout;
        let deadline = tokio::time::sleep_until(after(started, self.first_byte.min(timeout)));
        let mut deadline = std::pin::pin!(deadline);
        let request = self
            .http
            .post(self.chat_url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send();
        let response = tokio::select! {
            biased;
            response = request => response.map_err(from_reqwest)?,
            () = &mut deadline => {
                return Err(if headers_late {
                    Failure::timeout(NoFirstByte(self.first_byte).to_string())
                } else {
                    attempt_timed_out(timeout)
                });
            }
        };
        if headers_late {
            deadline.as_mut().reset(after(started, timeout));
        }
        let read = async {
            if !response.status().is_success() {
                return Err(status_error(response).await.into_failure());
            }
            if response.content_length().is_some_and(|n| n > self.max_answer) {
                return Err(body::too_large(self.max_answer));
            }
            let body = body::read_at_most(response, self.max_answer).await?;
            if !body.complete {
                return Err(body::too_large(self.max_answer));
            }
            Ok(body.bytes)
        };
        tokio::select! {
            biased;
            read = read => read,
            () = &mut deadline => Err(attempt_timed_out(timeout)),
        }
    }
}

/// The instant `duration` after `start` ([`llm_do_core::bounds::instant_after`]: "no limit"
/// is about thirty years on).
fn after(start: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    tokio::time::Instant::from_std(llm_do_core::bounds::instant_after(start.into_std(), duration))
}

/// The failure of an attempt that took longer than its timeout.
pub(crate) fn attempt_timed_out(timeout: Duration) -> Failure {
    Failure::timeout(format!("no complete answer within the attempt timeout of {timeout:?}"))
}

/// Executes requests for async-openai (see the module documentation for why).
#[derive(Clone)]
pub(crate) struct HttpService {
    http: reqwest::Client,
    /// How long the response headers may take.
    first_byte: Duration,
    /// The most bytes a streamed answer may have.
    max_answer: u64,
    /// Where the body's guard reports an early end.
    cut: StreamCut,
}

impl tower::Service<HttpRequestFactory> for HttpService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let (http, first_byte, max_answer) = (self.http.clone(), self.first_byte, self.max_answer);
        let cut = self.cut.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = tokio::time::timeout(first_byte, http.execute(request))
                .await
                .map_err(|_| OpenAIError::Boxed(Box::new(NoFirstByte(first_byte))))?
                .map_err(OpenAIError::Reqwest)?;
            if !response.status().is_success() {
                return Err(OpenAIError::Boxed(Box::new(status_error(response).await)));
            }
            if !is_event_stream(response.headers()) {
                let read = match body::read_at_most(response, max_answer).await {
                    Ok(read) if read.complete => Ok(read.bytes),
                    Ok(_) => Err(body::too_large(max_answer)),
                    Err(failure) => Err(failure),
                };
                return Err(OpenAIError::Boxed(Box::new(WholeAnswer(read))));
            }
            Ok(guard_stream(response, max_answer, cut))
        })
    }
}

/// Whether the headers announce an event stream (`text/event-stream`).
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// The body of an answer to a streamed request that is not an event stream, as far as it was
/// read: carried out of async-openai as an error, and decoded by the stream reader.
#[derive(Debug)]
pub(crate) struct WholeAnswer(pub(crate) Result<Bytes, Failure>);

impl std::fmt::Display for WholeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server answered a streamed request with a whole body")
    }
}

impl std::error::Error for WholeAnswer {}

impl WholeAnswer {
    /// The whole answer, if `error` carries one (else `error` back).
    pub(crate) fn from_error(error: OpenAIError) -> Result<Self, OpenAIError> {
        match error {
            OpenAIError::Boxed(boxed) => match boxed.downcast::<WholeAnswer>() {
                Ok(whole) => Ok(*whole),
                Err(other) => Err(OpenAIError::Boxed(other)),
            },
            other => Err(other),
        }
    }
}

/// Reads a non-success answer.
async fn status_error(response: reqwest::Response) -> HttpStatus {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = match body::read_at_most(response, body::ERROR_BODY_LIMIT).await {
        Ok(read) if read.complete => String::from_utf8_lossy(&read.bytes).into_owned(),
        Ok(read) => {
            format!("{} [cut at {} bytes]", String::from_utf8_lossy(&read.bytes), read.bytes.len())
        }
        Err(e) => format!("(the body could not be read: {})", e.message),
    };
    HttpStatus { status, retry_after, body }
}

/// The server's requested delay: `retry-after-ms` (OpenAI), else `Retry-After` in seconds.
/// (The HTTP-date form of `Retry-After` is ignored; the backoff applies instead.)
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let millis = number("retry-after-ms").map(|ms| ms / 1000.0);
    let seconds = millis.or_else(|| number("retry-after"))?;
    // Far-future values are capped by the retry policy anyway; a day keeps the conversion safe.
    Some(Duration::from_secs_f64(seconds.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_milliseconds_then_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn headers_are_built_without_env_and_marked_sensitive() {
        assert!(
            client(&OpenAiConfig::new().api_key("sk-test-SECRET123").header("x-a", "b")).is_ok()
        );
        let config = OpenAiConfig::new().api_key("sk-test-SECRET123").header("api-key", "zzzz");
        let h = headers(&config).unwrap();
        assert!(h.get(AUTHORIZATION).is_some_and(HeaderValue::is_sensitive));
        assert!(h.get("api-key").is_some_and(HeaderValue::is_sensitive));
        assert!(h.get("x-a").is_none());
        assert!(headers(&OpenAiConfig::new()).unwrap().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn the_endpoint_is_under_the_base_url() {
        let config = OpenAiConfig::new().base_url("http://127.0.0.1:9/v1/");
        assert_eq!(
            client(&config).unwrap().chat_url.as_str(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
    }
}
