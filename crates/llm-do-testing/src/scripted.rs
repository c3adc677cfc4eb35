//! [`ScriptedModel`]: a model that answers from a script, and [`Reply`], the script's
//! vocabulary.

mod reply;
mod repr;

pub use reply::Reply;

use crate::recorder::Recorder;
use futures::future::BoxFuture;
use llm_do_core::bounds::cut;
use llm_do_core::{Message, Model, ModelError, ModelRequest, ModelResponse};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How much of the unexpected request's last message an "out of replies" error quotes.
const QUOTE: usize = 200;

type SyncFn = dyn Fn(&ModelRequest) -> Result<Reply, ModelError> + Send + Sync;
type AsyncFn = dyn Fn(ModelRequest) -> BoxFuture<'static, Result<Reply, ModelError>> + Send + Sync;

/// A model that answers from a script: a queue of [`Reply`]s, or a function of the request
/// (like pydantic-ai's `FunctionModel`).
///
/// Clones are cheap and share everything: the queue, the recorded requests and the tool call
/// counter (`call_1`, `call_2`, ... in the order replies are served). Keep a clone to inspect
/// what the runtime sent:
///
/// ```
/// use llm_do_core::{Message, Model, ModelRequest};
/// use llm_do_testing::scripted::{Reply, ScriptedModel};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), llm_do_core::ModelError> {
/// let model = ScriptedModel::queue([
///     Reply::tool_call("add", json!({"a": 2, "b": 3})),
///     Reply::json(json!(5)),
/// ]);
/// let request = ModelRequest::new("m", vec![Message::user("2 + 3?")]);
/// let first = model.request(&request).await?;
/// assert_eq!(first.tool_calls[0].id, "call_1");
/// let second = model.clone().request(&request).await?;
/// assert_eq!(second.text.as_deref(), Some("5"));
/// assert_eq!(model.request_count(), 2);
/// assert_eq!(model.remaining(), 0);
/// let err = model.request(&request).await.unwrap_err();
/// assert!(err.message().starts_with("all 2 scripted replies were used"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ScriptedModel {
    shared: Arc<Shared>,
    latency: Duration,
}

struct Shared {
    source: Source,
    recorder: Recorder,
}

enum Source {
    Queue { replies: Mutex<VecDeque<Reply>>, scripted: usize },
    Sync(Box<SyncFn>),
    Async(Box<AsyncFn>),
}

impl ScriptedModel {
    fn from_source(source: Source) -> Self {
        Self {
            shared: Arc::new(Shared { source, recorder: Recorder::default() }),
            latency: Duration::ZERO,
        }
    }

    /// Serves `replies` in order, one per request. A request after the last one fails with
    /// a [`ScriptError`](crate::ScriptError) (kind `Other`), saying how many replies were scripted and quoting the
    /// request's last message.
    ///
    /// ```
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// let model = ScriptedModel::queue([Reply::text("first answer"), Reply::text("second answer")]);
    /// assert_eq!(model.remaining(), 2);
    /// ```
    pub fn queue(replies: impl IntoIterator<Item = Reply>) -> Self {
        let replies: VecDeque<Reply> = replies.into_iter().collect();
        let scripted = replies.len();
        Self::from_source(Source::Queue { replies: Mutex::new(replies), scripted })
    }

    /// Answers each request with `f(request)`: a [`Reply`] (or anything convertible, such as a
    /// [`ModelResponse`]), or an error returned as is.
    ///
    /// ```
    /// use llm_do_core::{Message, ModelRequest};
    /// use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// use serde_json::json;
    ///
    /// // Calls the tool first, then answers with its result.
    /// let model = ScriptedModel::new(|req: &ModelRequest| {
    ///     Ok(match req.messages.last() {
    ///         Some(Message::Tool(result)) => Reply::text(format!("It is {}.", result.content)),
    ///         _ => Reply::tool_call("now", json!({})),
    ///     })
    /// });
    /// ```
    pub fn new<F, R>(f: F) -> Self
    where
        F: Fn(&ModelRequest) -> Result<R, ModelError> + Send + Sync + 'static,
        R: Into<Reply>,
    {
        Self::from_source(Source::Sync(Box::new(move |req| f(req).map(Into::into))))
    }

    /// Like [`ScriptedModel::new`] with an async function, which receives its own copy of the
    /// request.
    ///
    /// ```
    /// use llm_do_core::{ModelError, ModelRequest};
    /// use llm_do_testing::scripted::{Reply, ScriptedModel};
    ///
    /// let model = ScriptedModel::from_async_fn(|req: ModelRequest| async move {
    ///     tokio::task::yield_now().await;
    ///     Ok::<_, ModelError>(Reply::text(format!("{} messages", req.messages.len())))
    /// });
    /// ```
    pub fn from_async_fn<F, Fut, R>(f: F) -> Self
    where
        F: Fn(ModelRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ModelError>> + Send + 'static,
        R: Into<Reply>,
    {
        Self::from_source(Source::Async(Box::new(move |req| {
            let fut = f(req);
            Box::pin(async move { fut.await.map(Into::into) })
        })))
    }

    /// Waits `latency` (with `tokio::time::sleep`) before each answer or error, to simulate a
    /// slow model. The reply is taken from the queue, and its tool call ids assigned, when the
    /// request arrives; dropping the request future during the wait cancels it, and that
    /// reply is lost. Needs a Tokio runtime with the time driver unless `latency` is zero.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use llm_do_core::{Model, ModelRequest};
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), llm_do_core::ModelError> {
    /// let model = ScriptedModel::queue([Reply::text("slow")]).with_latency(Duration::from_millis(50));
    /// let started = Instant::now();
    /// let response = model.request(&ModelRequest::new("m", vec![])).await?;
    /// assert!(started.elapsed() >= Duration::from_millis(50));
    /// assert_eq!(response.text.as_deref(), Some("slow"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Every request received so far, in arrival order.
    ///
    /// ```
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// assert!(ScriptedModel::queue([Reply::text("x")]).requests().is_empty());
    /// ```
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.shared.recorder.requests()
    }

    /// How many requests were received.
    ///
    /// ```
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// assert_eq!(ScriptedModel::queue([Reply::text("x")]).request_count(), 0);
    /// ```
    pub fn request_count(&self) -> usize {
        self.shared.recorder.count()
    }

    /// The most recent request, if any.
    ///
    /// ```
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// assert!(ScriptedModel::queue([Reply::text("x")]).last_request().is_none());
    /// ```
    pub fn last_request(&self) -> Option<ModelRequest> {
        self.shared.recorder.last()
    }

    /// Queued replies not served yet (always 0 for function models).
    ///
    /// ```
    /// # use llm_do_testing::scripted::{Reply, ScriptedModel};
    /// assert_eq!(ScriptedModel::queue([Reply::text("a"), Reply::text("b")]).remaining(), 2);
    /// ```
    pub fn remaining(&self) -> usize {
        match &self.shared.source {
            Source::Queue { replies, .. } => {
                replies.lock().unwrap_or_else(PoisonError::into_inner).len()
            }
            Source::Sync(_) | Source::Async(_) => 0,
        }
    }

    async fn answer(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let number = self.shared.recorder.record(request);
        let response = match self.next_reply(request, number).await {
            Ok(reply) => reply.into_response(request, || self.shared.recorder.next_call_id()),
            Err(e) => Err(e),
        };
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        response
    }

    async fn next_reply(&self, request: &ModelRequest, number: usize) -> Result<Reply, ModelError> {
        match &self.shared.source {
            Source::Queue { replies, scripted } => {
                let next = replies.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
                next.ok_or_else(|| out_of_replies(*scripted, number, request))
            }
            Source::Sync(f) => f(request),
            Source::Async(f) => f(request.clone()).await,
        }
    }
}

fn out_of_replies(scripted: usize, number: usize, request: &ModelRequest) -> ModelError {
    let plural = if scripted == 1 { "reply was" } else { "replies were" };
    let last = request.messages.last().map_or_else(|| "no messages".to_owned(), describe);
    crate::ScriptError::new(format!(
        "all {scripted} scripted {plural} used; request #{number} was not expected (last message: {last})"
    ))
    .into_model_error()
}

/// A one-line description of a message, for error messages.
fn describe(message: &Message) -> String {
    let (role, text) = match message {
        Message::System { content } => ("system", content.clone()),
        Message::User { content } => ("user", content.clone()),
        Message::Assistant { content, tool_calls } => {
            let calls: Vec<&str> = tool_calls.iter().map(|c| c.name.as_str()).collect();
            let text = match (content, calls.is_empty()) {
                (Some(text), true) => text.clone(),
                (Some(text), false) => format!("{text} [calls {}]", calls.join(", ")),
                (None, _) => format!("[calls {}]", calls.join(", ")),
            };
            ("assistant", text)
        }
        Message::Tool(result) => {
            ("tool", format!("result of `{}`: {}", result.name, result.content))
        }
        Message::UserParts { parts } => ("user", llm_do_core::message::parts_text(parts)),
        _ => ("other", String::new()),
    };
    format!("{role}: {:?}", cut(&text, QUOTE))
}

impl Model for ScriptedModel {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(self.answer(request))
    }
}

impl fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.shared.source {
            Source::Queue { .. } => "queue",
            Source::Sync(_) => "fn",
            Source::Async(_) => "async fn",
        };
        f.debug_struct("ScriptedModel")
            .field("source", &source)
            .field("remaining", &self.remaining())
            .field("requests", &self.request_count())
            .field("latency", &self.latency)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::{ModelErrorKind, ToolResult, Usage};
    use serde_json::json;

    fn ask(text: &str) -> ModelRequest {
        ModelRequest::new("m", vec![Message::user(text)])
    }

    #[tokio::test]
    async fn queue_serves_in_order_then_fails() {
        let model = ScriptedModel::queue([
            Reply::text("one"),
            Reply::tool_calls([("a", json!({})), ("b", json!({}))]),
        ]);
        let r1 = model.request(&ask("1")).await.expect("first");
        assert_eq!(r1.text.as_deref(), Some("one"));
        let r2 = model.request(&ask("2")).await.expect("second");
        let ids: Vec<&str> = r2.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["call_1", "call_2"]);
        let long = "x".repeat(500);
        let err = model.request(&ask(&long)).await.expect_err("exhausted");
        assert_eq!(err.kind(), ModelErrorKind::Other);
        assert!(crate::ScriptError::of(&err).is_some(), "{err:?}");
        assert!(
            err.message().starts_with("all 2 scripted replies were used; request #3 was not expected (last message: user: \"xxx"),
            "{err}"
        );
        assert!(err.message().len() < 320, "quote is truncated: {err}");
        assert_eq!(model.request_count(), 3);
        assert_eq!(model.requests()[1], ask("2"));
    }

    #[tokio::test]
    async fn describes_the_unexpected_request() {
        let model = ScriptedModel::queue([]);
        let req = ModelRequest::new("m", vec![Message::Tool(ToolResult::ok("1", "add", "3"))]);
        let err = model.request(&req).await.expect_err("nothing scripted");
        assert_eq!(
            err.message(),
            "all 0 scripted replies were used; request #1 was not expected (last message: tool: \"result of `add`: 3\")"
        );
        let one = ScriptedModel::queue([Reply::text("x")]);
        let _ = one.request(&ask("a")).await;
        let err = one.request(&ModelRequest::new("m", vec![])).await.expect_err("exhausted");
        assert!(err.message().starts_with("all 1 scripted reply was used"), "{err}");
        assert!(err.message().ends_with("(last message: no messages)"), "{err}");
    }

    #[tokio::test]
    async fn function_models_see_the_request() {
        let model = ScriptedModel::new(|req: &ModelRequest| match req.messages.len() {
            0 => Err(ModelError::new(ModelErrorKind::InvalidRequest, "empty")),
            n => Ok(Reply::text(format!("{n}"))),
        });
        assert_eq!(model.request(&ask("hi")).await.expect("ok").text.as_deref(), Some("1"));
        let err = model.request(&ModelRequest::new("m", vec![])).await.expect_err("fails");
        assert_eq!(err.kind(), ModelErrorKind::InvalidRequest);
        assert_eq!(model.request_count(), 2);
        assert_eq!(model.remaining(), 0);

        let echo = ScriptedModel::from_async_fn(|req: ModelRequest| async move {
            Ok::<_, ModelError>(Reply::text(req.model))
        });
        assert_eq!(echo.request(&ask("x")).await.expect("ok").text.as_deref(), Some("m"));

        let passthrough = ScriptedModel::new(|_: &ModelRequest| {
            Ok(ModelResponse::text("raw").with_usage(Usage::tokens(7, 8)))
        });
        let r = passthrough.request(&ask("x")).await.expect("ok");
        assert_eq!((r.text.as_deref(), r.usage), (Some("raw"), Usage::tokens(7, 8)));
    }

    #[tokio::test]
    async fn error_replies_and_usage() {
        let model = ScriptedModel::queue([
            Reply::error(
                ModelError::new(ModelErrorKind::Status(503), "overloaded").retryable(true),
            ),
            Reply::text("12345678").with_tokens(0, 0),
            Reply::text("12345678"),
        ]);
        let err = model.request(&ask("x")).await.expect_err("scripted error");
        assert_eq!(err.to_string(), "HTTP status 503: overloaded");
        assert!(err.is_retryable());
        assert_eq!(model.request(&ask("x")).await.expect("ok").usage, Usage::tokens(0, 0));
        assert_eq!(model.request(&ask("abcdefghi")).await.expect("ok").usage, Usage::tokens(3, 2));
    }

    #[tokio::test]
    async fn latency_delays_and_cancels() {
        let model = ScriptedModel::queue([Reply::text("a"), Reply::text("b")])
            .with_latency(Duration::from_millis(50));
        let started = std::time::Instant::now();
        model.request(&ask("x")).await.expect("ok");
        assert!(started.elapsed() >= Duration::from_millis(50));
        let req = ask("y");
        let timed_out = tokio::time::timeout(Duration::from_millis(5), model.request(&req)).await;
        assert!(timed_out.is_err());
        assert_eq!((model.request_count(), model.remaining()), (2, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_clones_share_one_queue() {
        let model = ScriptedModel::queue((0..100).map(|i| Reply::tool_call("t", json!({"i": i}))));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let m = model.clone();
                tokio::spawn(async move { m.request(&ModelRequest::new("m", vec![])).await })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            let response = t.await.expect("joins").expect("answers");
            ids.extend(response.tool_calls.into_iter().map(|c| c.id));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 100);
        assert_eq!(model.remaining(), 0);
        assert!(format!("{model:?}").contains("requests: 100"));
    }
}
