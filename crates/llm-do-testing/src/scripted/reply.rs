//! [`Reply`]: one scripted model answer, and its conversion into a [`ModelResponse`].
//!
//! (Just over 400 lines: most of it is the doc examples of `Reply`'s constructors, each
//! showing the response it becomes.)

use llm_do_core::estimate::estimate_usage;
use llm_do_core::{ModelError, ModelErrorKind, ModelRequest, ModelResponse, ToolCall, Usage};
use serde_json::Value;
use std::time::Duration;

/// One scripted answer of a model: a final text or JSON answer, tool calls (possibly with
/// text), or an error.
///
/// Build replies with the constructors, or load them from JSON/YAML (the form an HTTP test
/// server's `--script FILE` uses). Each reply is one JSON object:
///
/// | Form | Meaning |
/// |------|---------|
/// | `{"text": "Paris"}` or just `"Paris"` | final text answer |
/// | `{"json": {"city": "Paris"}}` | final structured answer (the text is the JSON) |
/// | `{"tool_call": {"name": "add", "args": {"a": 1}}}` | one tool call |
/// | `{"tool_calls": [{"name": "a", "args": {}}, {"name": "b"}]}` | several calls in one turn (`args` defaults to `{}`) |
/// | `{"tool_call": {"name": "add", "raw_args": "{\"a\": 1,"}}` | a call with malformed arguments |
/// | `{"refusal": "I can't help with that."}` | the model declines to answer |
/// | `{"error": {"kind": "status", "status": 503, "message": "overloaded"}}` | a failed request |
///
/// A turn may have `text` together with `tool_call(s)`. Calls may set an `id`; otherwise the
/// model numbers them `call_1`, `call_2`, ... across its whole lifetime. Every non-error reply
/// may add `"usage": {"input_tokens": 10, "output_tokens": 2}` (else usage is
/// [estimated](llm_do_core::estimate)), `"finish_reason"` and `"model"`.
///
/// Error kinds are `transport`, `status` (needs `status`; `kind` may be omitted when `status`
/// is given), `decode`, `script`, `invalid_request`, `refused` and `other`. `retryable` defaults to `true`
/// for `transport` and for statuses 408, 429 and 5xx, `false` otherwise.
///
/// In YAML, a script is a list of replies:
///
/// ```yaml
/// - tool_call: {name: add, args: {a: 2, b: 3}}
/// - error: {status: 503, message: overloaded}
/// - json: 5
///   usage: {input_tokens: 120, output_tokens: 1}
/// ```
///
/// ```
/// use llm_do_testing::scripted::Reply;
/// use serde_json::json;
///
/// let script: Vec<Reply> = serde_json::from_value(json!([
///     {"tool_calls": [{"name": "add", "args": {"a": 2, "b": 3}}, {"name": "now"}]},
///     {"json": 5, "usage": {"input_tokens": 120, "output_tokens": 1}},
///     "plain text is a text reply",
/// ]))?;
/// assert_eq!(script[0], Reply::tool_calls([("add", json!({"a": 2, "b": 3})), ("now", json!({}))]));
/// assert_eq!(script[1], Reply::json(json!(5)).with_tokens(120, 1));
/// assert_eq!(script[2], Reply::text("plain text is a text reply"));
/// assert_eq!(serde_json::to_value(&script[1])?, json!({"json": 5, "usage": {"input_tokens": 120, "output_tokens": 1}}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub(super) body: Body,
    pub(super) usage: Option<Usage>,
    pub(super) model: Option<String>,
    pub(super) finish_reason: Option<String>,
    pub(super) refusal: Option<String>,
}

/// What a reply says.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Body {
    /// A turn: an answer, tool calls, or both.
    Turn { answer: Option<Answer>, calls: Vec<Call> },
    /// The request fails.
    Error(Failure),
}

/// A final (or accompanying) answer.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    Text(String),
    Json(Value),
}

/// A scripted tool call.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    pub(super) id: Option<String>,
    pub(super) name: String,
    pub(super) args: Args,
}

/// Tool call arguments: a JSON value, or raw (possibly malformed) text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Args {
    Json(Value),
    Raw(String),
}

/// A scripted failure (a [`ModelError`] without its source, so that it can be cloned).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    pub(super) kind: ModelErrorKind,
    pub(super) message: String,
    pub(super) retryable: bool,
    /// When the failure says to try again, in whole seconds (`Retry-After`).
    pub(super) retry_after: Option<u64>,
    /// The server's own code for the failure (`context_length_exceeded`).
    pub(super) code: Option<String>,
}

impl Reply {
    fn from_body(body: Body) -> Self {
        Self { body, usage: None, model: None, finish_reason: None, refusal: None }
    }

    fn turn(answer: Option<Answer>, calls: Vec<Call>) -> Self {
        Self::from_body(Body::Turn { answer, calls })
    }

    /// A final text answer.
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// let reply = Reply::text("Paris");
    /// # assert_eq!(reply, "Paris".into());
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Self::turn(Some(Answer::Text(text.into())), Vec::new())
    }

    /// A final structured answer; the response text is `value` serialized as JSON.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::json(serde_json::json!({"category": "Billing"}));
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.text.as_deref(), Some(r#"{"category":"Billing"}"#));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn json(value: Value) -> Self {
        Self::turn(Some(Answer::Json(value)), Vec::new())
    }

    /// A turn that calls one tool with these arguments.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::tool_call("add", serde_json::json!({"a": 2, "b": 3}));
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.tool_calls[0].name, "add");
    /// assert_eq!(response.tool_calls[0].arguments, r#"{"a":2,"b":3}"#);
    /// assert_eq!(response.text, None);
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn tool_call(name: impl Into<String>, args: Value) -> Self {
        Self::tool_calls([(name, args)])
    }

    /// A turn that calls several tools at once.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// use serde_json::json;
    /// let reply = Reply::tool_calls([("factorial", json!({"n": 5})), ("fib", json!({"n": 10}))]);
    /// let mut n = 0;
    /// let response = reply.into_response(&request, || { n += 1; format!("call_{n}") })?;
    /// let calls: Vec<(&str, &str)> =
    ///     response.tool_calls.iter().map(|c| (c.id.as_str(), c.name.as_str())).collect();
    /// assert_eq!(calls, [("call_1", "factorial"), ("call_2", "fib")]);
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn tool_calls<N: Into<String>>(calls: impl IntoIterator<Item = (N, Value)>) -> Self {
        let calls = calls
            .into_iter()
            .map(|(name, args)| Call { id: None, name: name.into(), args: Args::Json(args) })
            .collect();
        Self::turn(None, calls)
    }

    /// A turn that calls a tool with raw argument text, e.g. malformed JSON, to test how the
    /// runtime reports it back to the model.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::raw_tool_call("add", r#"{"a": 1, "b": "#);
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.tool_calls[0].arguments, r#"{"a": 1, "b": "#);
    /// assert!(response.tool_calls[0].parse_arguments().is_err());
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn raw_tool_call(name: impl Into<String>, raw_args: impl Into<String>) -> Self {
        Self::turn(
            None,
            vec![Call { id: None, name: name.into(), args: Args::Raw(raw_args.into()) }],
        )
    }

    /// A failed request: the model returns this error (its kind, message, retryable flag,
    /// `Retry-After` in whole seconds and code — the loopback test server sends them as the
    /// header and the body's `error.code`; an attached source is dropped).
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// use llm_do_core::{ModelError, ModelErrorKind};
    /// use std::time::Duration;
    /// let overloaded = ModelError::new(ModelErrorKind::Status(503), "overloaded")
    ///     .retryable(true)
    ///     .with_retry_after(Duration::from_secs(2));
    /// let err = Reply::error(overloaded).into_response(&request, || "call_1".into()).unwrap_err();
    /// assert_eq!((err.kind(), err.message()), (ModelErrorKind::Status(503), "overloaded"));
    /// assert!(err.is_retryable());
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    pub fn error(error: ModelError) -> Self {
        Self::from_body(Body::Error(Failure {
            kind: error.kind(),
            message: error.message().to_owned(),
            retryable: error.is_retryable(),
            retry_after: error.retry_after_secs(),
            code: error.code().map(str::to_owned),
        }))
    }

    /// Adds text to this turn: a model's remark next to its tool calls, or replaces the answer.
    /// Has no effect on an error reply.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::tool_call("now", serde_json::json!({})).with_text("Let me check the time.");
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.text.as_deref(), Some("Let me check the time."));
    /// assert_eq!(response.tool_calls[0].name, "now");
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        if let Body::Turn { answer, .. } = &mut self.body {
            *answer = Some(Answer::Text(text.into()));
        }
        self
    }

    /// Reports this usage instead of the [estimate](llm_do_core::estimate).
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// use llm_do_core::Usage;
    /// let reply = Reply::text("ok").with_usage(Usage::tokens(100, 3));
    /// # assert_eq!(reply, Reply::text("ok").with_tokens(100, 3));
    /// ```
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Reports these token counts instead of the [estimate](llm_do_core::estimate).
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// use llm_do_core::Usage;
    /// let reply = Reply::text("ok").with_tokens(100, 3);
    /// assert_eq!(reply.into_response(&request, || "call_1".into())?.usage, Usage::tokens(100, 3));
    /// // Without it, usage is estimated from the request and the answer.
    /// let estimated = Reply::text("ok").into_response(&request, || "call_1".into())?;
    /// assert_eq!(estimated.usage, Usage::tokens(1, 1));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn with_tokens(self, input_tokens: u64, output_tokens: u64) -> Self {
        self.with_usage(Usage::tokens(input_tokens, output_tokens))
    }

    /// A refusal to answer (OpenAI's `refusal`): the worker's call ends with a
    /// [`ModelErrorKind::Refused`] error.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let response = Reply::refusal("I can't help with that.").into_response(&request, || "c".into())?;
    /// assert_eq!((response.text, response.refusal.as_deref()), (None, Some("I can't help with that.")));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn refusal(refusal: impl Into<String>) -> Self {
        Self { refusal: Some(refusal.into()), ..Self::turn(None, Vec::new()) }
    }

    /// Reports this finish reason (e.g. `"length"`).
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::text("The answer is").with_finish_reason("length");
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.finish_reason.as_deref(), Some("length"));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn with_finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// Reports this model name as the one that answered.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::scripted::Reply;
    /// # let request = ModelRequest::new("m", vec![Message::user("hi")]);
    /// let reply = Reply::text("ok").with_model("gpt-4o-mini-2024-07-18");
    /// let response = reply.into_response(&request, || "call_1".into())?;
    /// assert_eq!(response.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// `true` for replies made with [`Reply::error`].
    ///
    /// ```
    /// # use llm_do_testing::scripted::Reply;
    /// use llm_do_core::{ModelError, ModelErrorKind};
    /// assert!(Reply::error(ModelError::new(ModelErrorKind::Transport, "reset")).is_error());
    /// assert!(!Reply::text("ok").is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(self.body, Body::Error(_))
    }

    /// The response to `request`: tool calls without an `id` get one from `next_id`, and usage
    /// not set is [estimated](llm_do_core::estimate) from `request` and the response.
    ///
    /// ```
    /// use llm_do_core::{Message, ModelRequest, Usage};
    /// use llm_do_testing::scripted::Reply;
    /// use serde_json::json;
    ///
    /// let request = ModelRequest::new("m", vec![Message::user("add 2 and 3")]);
    /// let mut n = 0;
    /// let response = Reply::tool_call("add", json!({"a": 2, "b": 3}))
    ///     .into_response(&request, || { n += 1; format!("id{n}") })?;
    /// assert_eq!(response.tool_calls[0].id, "id1");
    /// assert_eq!(response.tool_calls[0].arguments, r#"{"a":2,"b":3}"#);
    /// assert_eq!(response.usage, Usage::tokens(3, 4));
    /// # Ok::<(), llm_do_core::ModelError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The scripted [`ModelError`] for an error reply.
    pub fn into_response(
        self,
        request: &ModelRequest,
        mut next_id: impl FnMut() -> String,
    ) -> Result<ModelResponse, ModelError> {
        let (answer, calls) = match self.body {
            Body::Error(f) => {
                let mut error = ModelError::new(f.kind, f.message).retryable(f.retryable);
                if let Some(seconds) = f.retry_after {
                    error = error.with_retry_after(Duration::from_secs(seconds));
                }
                if let Some(code) = f.code {
                    error = error.with_code(code);
                }
                return Err(error);
            }
            Body::Turn { answer, calls } => (answer, calls),
        };
        let mut response = ModelResponse::default();
        response.text = answer.map(|a| match a {
            Answer::Text(text) => text,
            Answer::Json(value) => value.to_string(),
        });
        response.tool_calls = calls
            .into_iter()
            .map(|call| {
                let id = call.id.unwrap_or_else(&mut next_id);
                match call.args {
                    Args::Json(args) => ToolCall::new(id, call.name, &args),
                    Args::Raw(raw) => ToolCall::raw(id, call.name, raw),
                }
            })
            .collect();
        response.usage = match self.usage {
            Some(usage) => usage,
            None => estimate_usage(request, &response),
        };
        response.model = self.model;
        response.finish_reason = self.finish_reason;
        response.refusal = self.refusal;
        Ok(response)
    }
}

impl From<&str> for Reply {
    fn from(text: &str) -> Self {
        Reply::text(text)
    }
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Reply::text(text)
    }
}

impl From<ModelError> for Reply {
    fn from(error: ModelError) -> Self {
        Reply::error(error)
    }
}

/// A response as a reply, losslessly: its text, tool calls (ids kept, arguments as raw text),
/// usage, model, finish reason and refusal.
impl From<ModelResponse> for Reply {
    fn from(response: ModelResponse) -> Self {
        let calls = response
            .tool_calls
            .into_iter()
            .map(|c| Call { id: Some(c.id), name: c.name, args: Args::Raw(c.arguments) })
            .collect();
        Reply {
            body: Body::Turn { answer: response.text.map(Answer::Text), calls },
            usage: Some(response.usage),
            model: response.model,
            finish_reason: response.finish_reason,
            refusal: response.refusal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::Message;
    use serde_json::json;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("call_{n}")
        }
    }

    #[test]
    fn converts_turns() {
        let request = ModelRequest::new("m", vec![Message::user("hi")]);
        let r = Reply::json(json!({"a": 1})).into_response(&request, ids()).expect("ok");
        assert_eq!(r.text.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(r.usage, Usage::tokens(1, 2));
        let r = Reply::tool_calls([("a", json!({})), ("b", json!([1]))])
            .with_text("checking")
            .with_finish_reason("tool_calls")
            .into_response(&request, ids())
            .expect("ok");
        assert_eq!(r.text.as_deref(), Some("checking"));
        assert_eq!(
            r.tool_calls,
            vec![ToolCall::raw("call_1", "a", "{}"), ToolCall::raw("call_2", "b", "[1]")]
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn converts_errors() {
        let request = ModelRequest::new("m", vec![]);
        let e =
            Reply::error(ModelError::new(ModelErrorKind::Status(429), "slow down").retryable(true))
                .with_text("ignored")
                .into_response(&request, ids())
                .expect_err("an error");
        assert_eq!(
            (e.kind(), e.message(), e.is_retryable()),
            (ModelErrorKind::Status(429), "slow down", true)
        );
    }

    #[test]
    fn round_trips_responses() {
        let mut response = ModelResponse::tool_calls(vec![ToolCall::raw("x", "t", "{bad")]);
        response.usage = Usage::tokens(5, 6);
        response.model = Some("m-1".into());
        let request = ModelRequest::new("m", vec![]);
        let back = Reply::from(response.clone()).into_response(&request, ids()).expect("ok");
        assert_eq!(back, response);
    }
}
