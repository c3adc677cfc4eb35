//! A `POST /v1/chat/completions` body parsed into a core [`ModelRequest`].
//!
//! Unknown fields are ignored, as OpenAI-compatible servers do; a known field of the wrong
//! type, an unknown role or `response_format`, an invalid schema, or a tool name that is not
//! `[A-Za-z0-9_-]{1,64}` or not unique is a [`BadRequest`] that
//! names the parameter (`messages[2].role`), as OpenAI reports it. User messages' content is
//! their text (the `text` of their parts joined) unless the server says otherwise with
//! [`parse_with`] (`llm-do serve` turns image and file parts into attachments).

mod messages;
mod tools;

use llm_do_core::{Message, ModelRequest, ModelSettings};
use serde_json::{Map, Value};
use std::fmt;

pub use messages::content_text;

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The `model` the client named (`None` when it named none). The server decides what to
    /// do with it: `model_request.model` is this name, or empty.
    pub model: Option<String>,
    /// The conversation, tools (after `tool_choice`), output mode and settings, as llm-do's
    /// models see them.
    pub model_request: ModelRequest,
    /// `"stream": true`: server-sent events instead of one body.
    pub stream: bool,
    /// `"stream_options": {"include_usage": true}`: a last chunk with the usage.
    pub include_usage: bool,
}

/// Why a body is not a request the server accepts (HTTP 400): the message, the parameter it
/// concerns (OpenAI's `param`) and a machine-readable `code`, when there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// What is wrong.
    pub message: String,
    /// The offending parameter, as a path (`messages[0].content[1]`).
    pub param: Option<String>,
    /// A machine-readable reason (`attachment_too_large`, ...).
    pub code: Option<String>,
}

impl BadRequest {
    /// A problem with the parameter `param`.
    ///
    /// ```
    /// let e = llm_do_openai_wire::request::BadRequest::new("seed", "`seed` must be an integer");
    /// assert_eq!(e.param.as_deref(), Some("seed"));
    /// ```
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self { message: message.into(), param: Some(param.into()), code: None }
    }

    /// A problem with the body as a whole.
    pub fn body(message: impl Into<String>) -> Self {
        Self { message: message.into(), param: None, code: None }
    }

    /// This problem with a machine-readable `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BadRequest {}

/// How the server reads a user message's `content` (the message's index, its content):
/// see [`parse_with`].
pub type UserContent<'a> = dyn Fn(usize, Option<&Value>) -> Result<Message, BadRequest> + 'a;

/// Parses a request body; user messages are their text.
///
/// ```
/// let body = br#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "seed": 3}"#;
/// let r = llm_do_openai_wire::request::parse(body).unwrap();
/// assert_eq!(r.model_request.messages, [llm_do_core::Message::user("hi")]);
/// assert_eq!(r.model_request.settings.seed, Some(3));
/// ```
pub fn parse(body: &[u8]) -> Result<ChatRequest, BadRequest> {
    parse_with(body, &|_, content| Ok(Message::user(content_text(content))))
}

/// Parses a request body, reading user messages' content with `user` (called with the
/// message's index and its `content`, already known to be a string, an array or null).
///
/// ```
/// use llm_do_openai_wire::request::{BadRequest, parse_with};
/// let body = br#"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#;
/// let refuse = |i: usize, _: Option<&serde_json::Value>| {
///     Err(BadRequest::new(format!("messages[{i}].content"), "no images here"))
/// };
/// assert_eq!(parse_with(body, &refuse).unwrap_err().param.as_deref(), Some("messages[0].content"));
/// ```
pub fn parse_with(body: &[u8], user: &UserContent<'_>) -> Result<ChatRequest, BadRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        BadRequest::body(format!("could not parse the JSON body of the request: {e}"))
    })?;
    let Value::Object(body) = value else {
        return Err(BadRequest::body("the request body must be a JSON object"));
    };
    let model = match body.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(model)) => Some(model.clone()),
        Some(_) => return Err(BadRequest::new("model", "`model` must be a string")),
    };
    let messages = match body.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(Value::Array(_)) => {
            return Err(BadRequest::new("messages", "`messages` must not be empty"));
        }
        None | Some(Value::Null) => {
            return Err(BadRequest::new("messages", "missing required parameter: `messages`"));
        }
        Some(_) => return Err(BadRequest::new("messages", "`messages` must be an array")),
    };
    let messages = messages::parse(messages, user)?;
    let (tools, tool_required) =
        tools::choose(tools::parse(body.get("tools"))?, body.get("tool_choice"))?;
    let output = tools::output(body.get("response_format"))?;
    let stream = flag(&body, "stream")?;
    let include_usage = match body.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(options)) => flag(options, "include_usage")
            .map_err(|e| BadRequest::new("stream_options.include_usage", e.message))?,
        Some(_) => {
            return Err(BadRequest::new("stream_options", "`stream_options` must be an object"));
        }
    };
    let model_request = ModelRequest::new(model.clone().unwrap_or_default(), messages)
        .with_tools(tools)
        .with_tool_required(tool_required)
        .with_output(output)
        .with_settings(settings(&body)?);
    Ok(ChatRequest { model, model_request, stream, include_usage })
}

/// A boolean field: absent or `null` is `false`.
fn flag(object: &Map<String, Value>, name: &str) -> Result<bool, BadRequest> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(BadRequest::new(name, format!("`{name}` must be a boolean"))),
    }
}

/// Sampling settings: `temperature`, `top_p`, `max_completion_tokens` (else `max_tokens`),
/// `seed`, `stop`; absent or `null` is unset. What one answer per request cannot give is
/// refused rather than dropped: `n` other than 1, `logprobs`, `top_logprobs`.
fn settings(body: &Map<String, Value>) -> Result<ModelSettings, BadRequest> {
    match body.get("n") {
        None | Some(Value::Null) => {}
        Some(n) if n.as_u64() == Some(1) => {}
        Some(_) => {
            return Err(BadRequest::new("n", "`n` must be 1: this server gives one choice"));
        }
    }
    if flag(body, "logprobs")? {
        return Err(BadRequest::new("logprobs", "log probabilities are not available here"));
    }
    if body.get("top_logprobs").is_some_and(|v| !v.is_null()) {
        return Err(BadRequest::new("top_logprobs", "log probabilities are not available here"));
    }
    let float = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(|x| Some(x as f32))
            .ok_or_else(|| BadRequest::new(name, format!("`{name}` must be a number"))),
    };
    let integer = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            BadRequest::new(name, format!("`{name}` must be a non-negative integer"))
        }),
    };
    let tokens = |name: &str| {
        integer(name)?
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    BadRequest::new(name, format!("`{name}` is larger than {}", u32::MAX))
                })
            })
            .transpose()
    };
    Ok(ModelSettings {
        temperature: float("temperature")?,
        top_p: float("top_p")?,
        max_tokens: tokens("max_completion_tokens")?.or(tokens("max_tokens")?),
        seed: integer("seed")?,
        stop: stop(body.get("stop"))?,
    })
}

/// `stop`: a string or up to four non-empty strings of at most 256 bytes
/// ([`llm_do_syntax::stop`]).
fn stop(value: Option<&Value>) -> Result<Vec<String>, BadRequest> {
    let invalid = |detail: &str| {
        BadRequest::new("stop", format!("`stop` must be {}{detail}", llm_do_syntax::stop::EXPECTED))
    };
    let stops: Vec<String> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid("")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("")),
    };
    llm_do_syntax::stop::check(&stops).map_err(|e| invalid(&format!(" ({e})")))?;
    Ok(stops)
}
