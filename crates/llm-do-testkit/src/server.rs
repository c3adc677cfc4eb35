//! [`TestServer`] and its [`TestServerBuilder`].
//!
//! (Over 400 lines: most of it is the doc examples of the server's and the builder's public
//! methods; the routes, the state and the faults are apart.)

use crate::error::TestkitError;
use crate::fault::{Fault, FaultKind};
use crate::fault_rate::FaultRate;
use crate::recorded::RecordedRequest;
use crate::routes;
use crate::state::Shared;
use llm_do_testing::scripted::Reply;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The model name `/v1/models` lists before any request names another.
pub const DEFAULT_MODEL: &str = "llm-do-test";

/// A real OpenAI-compatible HTTP server on `127.0.0.1`, for tests and benchmarks.
///
/// It serves `POST /v1/chat/completions` (JSON, or SSE with `"stream": true`) and
/// `GET /v1/models`; anything else is a 404 with an OpenAI-style error body. Answers come from
/// the script (replies served in order; [`push_reply`](TestServer::push_reply) appends), and
/// once the script has run out from the [default behaviour](crate#default-behaviour). Every
/// request is recorded ([`requests`](TestServer::requests)) with secret headers redacted.
/// [Faults](Fault) can be queued for the next request or drawn at a seeded rate.
///
/// The server runs on the Tokio runtime that started it (which needs I/O and time enabled, as
/// `#[tokio::test]` has them), and stops when the handle is dropped (requests in flight are
/// finished) or with [`shutdown`](TestServer::shutdown). Clients must be async too: a blocking
/// client on a single-threaded runtime would wait for a server that cannot run.
///
/// ```
/// use llm_do_testing::scripted::Reply;
/// use llm_do_testkit::{Fault, TestServer};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
/// let server = TestServer::builder()
///     .script([Reply::tool_call("add", json!({"a": 1, "b": 2})), Reply::text("3")])
///     .start()
///     .await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert!(server.base_url().ends_with("/v1"));
/// server.push_fault(Fault::Status { code: 429, retry_after: Some(1), message: None });
/// // ... point an OpenAI client's base URL at `server.base_url()` ...
/// assert_eq!(server.request_count(), 0);
/// assert_eq!(server.remaining_replies(), 2);
/// server.shutdown().await?;
/// # Ok(())
/// # }
/// ```
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    /// Starts a server with the default behaviour on an ephemeral port of `127.0.0.1`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`TestkitError::Bind`] when no port can be bound.
    pub async fn start() -> Result<Self, TestkitError> {
        Self::builder().start().await
    }

    /// A builder for a scripted, slowed-down or faulty server.
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// # use llm_do_testkit::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = TestServer::builder().script([Reply::text("hi")]).start().await?;
    /// assert_eq!(server.remaining_replies(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// The base URL an OpenAI client is given: `http://127.0.0.1:PORT/v1`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// assert_eq!(server.base_url(), format!("http://{}/v1", server.addr()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The address the server listens on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// assert!(server.addr().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault: the next chat completions request that does not get an earlier queued
    /// fault gets this one.
    ///
    /// ```
    /// # use llm_do_testkit::{Fault, TestServer};
    /// # use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?;
    /// let overloaded = Fault::Status { code: 429, retry_after: Some(2), message: None };
    /// server.push_fault(overloaded);
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
    /// let first = http.post(&url).json(&chat).send().await?;
    /// assert_eq!((first.status().as_u16(), &first.headers()["retry-after"]), (429, &"2".parse()?));
    /// // The fault is used up: the next request is answered.
    /// assert!(http.post(&url).json(&chat).send().await?.status().is_success());
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_fault(&self, fault: Fault) {
        self.shared.push_fault(fault);
    }

    /// Appends a reply to the script.
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// server.push_reply(Reply::text("later"));
    /// assert_eq!(server.remaining_replies(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_reply(&self, reply: Reply) {
        self.shared.push_reply(reply);
    }

    /// Scripted replies not served yet.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// assert_eq!(llm_do_testkit::TestServer::start().await?.remaining_replies(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn remaining_replies(&self) -> usize {
        self.shared.remaining_replies()
    }

    /// Every request received so far (any path, parsed or not), in arrival order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// assert!(llm_do_testkit::TestServer::start().await?.requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// How many requests were received (any path).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// assert_eq!(llm_do_testkit::TestServer::start().await?.request_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn request_count(&self) -> usize {
        self.shared.request_count()
    }

    /// The most recent request, if any.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// assert!(llm_do_testkit::TestServer::start().await?.last_request().is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.last_request()
    }

    /// How many streamed answers were abandoned: the client closed the connection (or dropped
    /// the request) before the stream's last event. Observed when the server next writes to the
    /// closed connection, so with [`TestServerBuilder::stream_pause`] at most one pause later.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// assert_eq!(server.abandoned_streams(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn abandoned_streams(&self) -> u64 {
        self.shared.abandoned_streams()
    }

    /// Stops accepting connections, lets requests in flight finish (a request whose client
    /// has gone is dropped, but one still waited for runs out its latency and delay), closes
    /// idle connections, and waits until the server has stopped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::start().await?;
    /// let addr = server.addr();
    /// server.shutdown().await?;
    /// assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens any more");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`TestkitError::Serve`] when the server had failed.
    pub async fn shutdown(mut self) -> Result<(), TestkitError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(TestkitError::Serve),
                Err(e) => Err(TestkitError::Serve(io::Error::other(e))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    /// Signals the server to stop (without waiting for it).
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .field("remaining_replies", &self.remaining_replies())
            .finish_non_exhaustive()
    }
}

/// Configures a [`TestServer`]: its script, latency, faults, port and model names.
///
/// ```
/// use llm_do_testing::scripted::Reply;
/// use llm_do_testkit::{Fault, FaultKind, TestServer};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
/// let server = TestServer::builder()
///     .script([Reply::text("first"), Reply::text("second")])
///     .latency(Duration::from_millis(1))
///     .fault_rate(0.1, 42, [FaultKind::Status500, FaultKind::CloseMidBody])
///     .faults([Fault::EmptyChoices])
///     .models(["gpt-4o-mini"])
///     .start()
///     .await?;
/// assert_eq!(server.remaining_replies(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct TestServerBuilder {
    script: Vec<Reply>,
    faults: Vec<Fault>,
    /// The fault rate, or the rate given when it is not from 0 to 1.
    rate: Option<Result<FaultRate, f64>>,
    latency: Duration,
    stream_pause: Duration,
    port: u16,
    models: Vec<String>,
    keep_requests: Option<usize>,
}

impl TestServerBuilder {
    /// Appends these replies to the script, served in order, one per chat request (faults
    /// that fail a request leave its reply for the next one). After the last one the server
    /// answers with the [default behaviour](crate#default-behaviour).
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// # use llm_do_testkit::TestServer;
    /// # use serde_json::{json, Value};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder().script([Reply::text("hi")]).start().await?;
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
    /// let first: Value = http.post(&url).json(&chat).send().await?.json().await?;
    /// assert_eq!(first["choices"][0]["message"]["content"], "hi");
    /// // The script has run out: the default behaviour answers.
    /// let second: Value = http.post(&url).json(&chat).send().await?.json().await?;
    /// assert_eq!(second["choices"][0]["message"]["content"], "success (no tool calls)");
    /// # Ok(())
    /// # }
    /// ```
    pub fn script(mut self, replies: impl IntoIterator<Item = Reply>) -> Self {
        self.script.extend(replies);
        self
    }

    /// Waits this long before every chat answer (a streamed answer then comes at once).
    ///
    /// ```
    /// # use llm_do_testkit::TestServer;
    /// # use serde_json::json;
    /// # use std::time::{Duration, Instant};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder().latency(Duration::from_millis(50)).start().await?;
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
    /// let started = Instant::now();
    /// let response = http.post(&url).json(&chat).send().await?;
    /// assert!(response.status().is_success());
    /// assert!(started.elapsed() >= Duration::from_millis(50));
    /// # Ok(())
    /// # }
    /// ```
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Pauses this long between the events of every streamed answer (the first event comes at
    /// once), so that a client's streaming, and its cancelling of a request in flight, can be
    /// observed. Answers are streamed in pieces of at most 6 characters.
    ///
    /// ```
    /// # use llm_do_testkit::TestServer;
    /// # use serde_json::json;
    /// # use std::time::{Duration, Instant};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder().stream_pause(Duration::from_millis(10)).start().await?;
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({
    ///     "model": "m",
    ///     "messages": [{"role": "user", "content": "hello"}],
    ///     "stream": true,
    /// });
    /// let started = Instant::now();
    /// let body = http.post(&url).json(&chat).send().await?.text().await?;
    /// // The role, "succes", "s (no ", "tool c", "alls)", the finish reason, [DONE]: 6 pauses.
    /// assert_eq!(body.matches("data: ").count(), 7);
    /// assert!(started.elapsed() >= Duration::from_millis(60));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream_pause(mut self, pause: Duration) -> Self {
        self.stream_pause = pause;
        self
    }

    /// Injects one of `kinds` (picked at random) into a share `rate` (0 to 1) of the chat
    /// requests that get no queued fault. The draws come from a [`fastrand`] generator seeded with
    /// `seed`: the same seed and the same sequence of requests give the same faults. A rate
    /// outside 0 to 1 (or `NaN`) makes [`start`](Self::start) fail with
    /// [`TestkitError::FaultRate`].
    ///
    /// ```
    /// # use llm_do_testkit::{FaultKind, TestServer};
    /// # use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Rate 1: every chat request gets a fault, here always a 503.
    /// let server =
    ///     TestServer::builder().fault_rate(1.0, 7, [FaultKind::Status503]).start().await?;
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
    /// assert_eq!(http.post(&url).json(&chat).send().await?.status(), 503);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fault_rate(
        mut self,
        rate: f64,
        seed: u64,
        kinds: impl IntoIterator<Item = FaultKind>,
    ) -> Self {
        self.rate = Some(FaultRate::new(rate, seed, kinds.into_iter().collect()).ok_or(rate));
        self
    }

    /// Queues faults for the first chat requests, as
    /// [`TestServer::push_fault`] would.
    ///
    /// ```
    /// # use llm_do_testkit::{Fault, TestServer};
    /// # use serde_json::{json, Value};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder().faults([Fault::InvalidJson]).start().await?;
    /// let http = llm_do_openai::http::client();
    /// let url = format!("{}/chat/completions", server.base_url());
    /// let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
    /// let first = http.post(&url).json(&chat).send().await?.text().await?;
    /// assert!(serde_json::from_str::<Value>(&first).is_err());
    /// let second: Value = http.post(&url).json(&chat).send().await?.json().await?;
    /// assert_eq!(second["object"], "chat.completion");
    /// # Ok(())
    /// # }
    /// ```
    pub fn faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        self.faults.extend(faults);
        self
    }

    /// Listens on this port of `127.0.0.1` (default 0: an ephemeral port).
    ///
    /// ```
    /// # use llm_do_testkit::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = TestServer::builder().port(0).start().await?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The model names `/v1/models` lists (default [`DEFAULT_MODEL`]); names clients ask for
    /// are added as they come. Any model name is accepted.
    ///
    /// ```
    /// # use llm_do_testkit::TestServer;
    /// # use serde_json::Value;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder().models(["gpt-4o-mini", "gpt-4o"]).start().await?;
    /// let url = format!("{}/models", server.base_url());
    /// let list: Value = llm_do_openai::http::client().get(&url).send().await?.json().await?;
    /// assert_eq!(list["data"][0]["id"], "gpt-4o-mini");
    /// assert_eq!(list["data"][1]["id"], "gpt-4o");
    /// # Ok(())
    /// # }
    /// ```
    pub fn models<N: Into<String>>(mut self, names: impl IntoIterator<Item = N>) -> Self {
        self.models = names.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps only the last `n` requests for [`requests`](TestServer::requests) and
    /// [`last_request`](TestServer::last_request) (default: every request), so that a server
    /// that runs long under load (the `serve` command keeps none) does not grow with every
    /// request. [`request_count`](TestServer::request_count) still counts them all.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = llm_do_testkit::TestServer::builder().keep_requests(1).start().await?;
    /// let (http, models) = (llm_do_openai::http::client(), format!("{}/models", server.base_url()));
    /// http.get(&models).send().await?;
    /// http.get(format!("{models}/gpt-4o")).send().await?;
    /// assert_eq!(server.request_count(), 2);
    /// let kept: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    /// assert_eq!(kept, ["/v1/models/gpt-4o"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_requests(mut self, n: usize) -> Self {
        self.keep_requests = Some(n);
        self
    }

    /// Binds `127.0.0.1:PORT` and starts serving on the current Tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_testkit::TestkitError> {
    /// let server = llm_do_testkit::TestServer::builder().start().await?;
    /// assert!(server.base_url().starts_with("http://127.0.0.1:"));
    /// assert!(server.base_url().ends_with("/v1"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`TestkitError::Bind`] when the port cannot be bound, [`TestkitError::NoRuntime`]
    /// outside a Tokio runtime.
    pub async fn start(self) -> Result<TestServer, TestkitError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(TestkitError::NoRuntime);
        }
        let rate = self.rate.transpose().map_err(|rate| TestkitError::FaultRate { rate })?;
        let requested = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let bind_error = |source| TestkitError::Bind { addr: requested, source };
        let listener = TcpListener::bind(requested).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let models =
            if self.models.is_empty() { vec![DEFAULT_MODEL.to_owned()] } else { self.models };
        let shared = Arc::new(Shared::new(
            self.script,
            self.faults,
            rate,
            models,
            self.latency,
            self.stream_pause,
            self.keep_requests.unwrap_or(usize::MAX),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let serve = axum::serve(listener, routes::router(Arc::clone(&shared)))
            .with_graceful_shutdown(async move {
                // A dropped sender stops the server too.
                let _ = stopped.await;
            });
        let task = tokio::spawn(async move { serve.await });
        Ok(TestServer { addr, shared, stop: Some(stop), task: Some(task) })
    }
}
