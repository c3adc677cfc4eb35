//! How failures become [`ModelError`]s: HTTP statuses (with the provider's message and a body
//! excerpt), transport failures and undecodable answers, each marked retryable or not.
//!
//! | failure | kind | retried by the provider |
//! |---|---|---|
//! | HTTP 429, 5xx | `Status(code)` | yes (`Retry-After` honoured) |
//! | other HTTP status | `Status(code)` | no |
//! | connection refused/reset, body cut off, stream ended early | `Transport` | yes |
//! | connect, first-byte or attempt timeout | `Timeout` | yes |
//! | JSON body that ends too early | `Decode` | yes |
//! | body or chunk that is not the expected JSON, no choices | `Decode` | no |
//! | invalid configuration or request | `InvalidRequest` | no |
//!
//! The final error keeps the last answer's `Retry-After`, when it had one
//! ([`ModelError::retry_after`]), so that a server passing the failure on (`llm-do serve`) can
//! pass it on too.
//!
//! A streamed attempt that fails after part of the answer reached the sink is retried like any
//! other transient failure, after a `StreamDelta::Restart` tells the sink to discard the pieces.

use super::retry::GaveUp;
use async_openai::error::{OpenAIError, StreamError};
use llm_do_core::secrets::Redactor;
use llm_do_core::{ModelError, ModelErrorKind};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// Longest body excerpt kept in an error message, in characters.
pub(crate) const EXCERPT_CHARS: usize = 500;

/// A failed attempt, before it becomes a [`ModelError`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: ModelErrorKind,
    pub(crate) message: String,
    pub(crate) retryable: bool,
    /// The server's `Retry-After`, if it sent one.
    pub(crate) retry_after: Option<Duration>,
    /// The server's code for the failure (`error.code` of its body), if it gave one.
    pub(crate) code: Option<String>,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    pub(crate) fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable: false,
            retry_after: None,
            code: None,
            source: None,
        }
    }

    pub(crate) fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// A transport failure (always retryable).
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self::new(ModelErrorKind::Transport, message).retryable(true)
    }

    /// A timeout: the connection, the response headers or the whole answer took too long
    /// (retryable).
    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self::new(ModelErrorKind::Timeout, message).retryable(true)
    }

    /// An answer that could not be decoded; `raw` is the body (or chunk) as received.
    pub(crate) fn decode(problem: impl fmt::Display, raw: &str) -> Self {
        Self::new(ModelErrorKind::Decode, format!("{problem}; body: {}", excerpt(raw)))
    }

    /// The failure of a body that is not valid JSON. A body that merely ends too early was cut
    /// off on its way and is worth retrying; one with a syntax error is not.
    pub(crate) fn json(error: &serde_json::Error, raw: &str) -> Self {
        if error.is_eof() {
            Self::decode(format_args!("the answer was cut off before its end ({error})"), raw)
                .retryable(true)
        } else {
            Self::decode(format_args!("the answer is not valid JSON ({error})"), raw)
        }
    }

    /// Whether the retry loop should try again.
    pub(crate) fn should_retry(&self) -> bool {
        self.retryable
    }

    /// The final error of a retry loop, secrets removed.
    pub(crate) fn gave_up(gave_up: GaveUp, redactor: &Redactor) -> ModelError {
        gave_up.failure.into_model_error(redactor, gave_up.attempts, gave_up.out_of_time)
    }

    /// The final error, secrets removed, with the number of attempts made.
    pub(crate) fn into_model_error(
        self,
        redactor: &Redactor,
        attempts: u32,
        out_of_time: bool,
    ) -> ModelError {
        let mut message = redactor.redact(&self.message);
        if out_of_time {
            message.push_str(&format!(
                " (gave up after {attempts} attempt{}: the retry time limit leaves no room for \
                 another)",
                if attempts == 1 { "" } else { "s" }
            ));
        } else if attempts > 1 {
            message.push_str(&format!(" (gave up after {attempts} attempts)"));
        }
        let mut error = ModelError::new(self.kind, message).retryable(self.retryable);
        if let Some(delay) = self.retry_after {
            error = error.with_retry_after(delay);
        }
        if let Some(code) = self.code {
            error = error.with_code(code);
        }
        match self.source {
            Some(source) => error.with_source(RedactedSource::new(source.as_ref(), redactor)),
            None => error,
        }
    }
}

/// The underlying error of a [`ModelError`], kept as its (redacted) message chain so that no
/// secret can hide in a foreign type's `Debug` output.
#[derive(Debug)]
struct RedactedSource {
    chain: String,
}

impl RedactedSource {
    fn new(source: &(dyn std::error::Error + 'static), redactor: &Redactor) -> Self {
        Self { chain: redactor.redact(&llm_do_core::error::chain(source)) }
    }
}

impl fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.chain)
    }
}

impl std::error::Error for RedactedSource {}

/// The first [`EXCERPT_CHARS`] characters of `text`, trimmed, with `…` when cut
/// ([`cut_between_words`]).
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(empty)".to_owned();
    }
    cut_between_words(text)
}

/// `text` cut to [`EXCERPT_CHARS`] characters ([`llm_do_core::bounds::cut`]) and, when that
/// cuts it, back to the end of its last whole word: a secret the cut ran through would leave
/// its start behind (`sk-proj-ab…`), which the redactor, run on the error's message later, no
/// longer recognises. Words end at whitespace and at the quotes and brackets around JSON and
/// header values.
fn cut_between_words(text: &str) -> String {
    let cut = llm_do_core::bounds::cut(text, EXCERPT_CHARS);
    if cut == text {
        return cut;
    }
    let head = cut.strip_suffix('…').unwrap_or(&cut);
    let ends_word = |c: char| c.is_whitespace() || "\"'`,;()[]{}<>".contains(c);
    format!("{}…", head.trim_end_matches(|c: char| !ends_word(c)))
}

/// No response headers within the first-byte timeout, as the transport service reports it.
#[derive(Debug)]
pub(crate) struct NoFirstByte(pub(crate) Duration);

impl fmt::Display for NoFirstByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server sent no response within the first-byte timeout of {:?}", self.0)
    }
}

impl std::error::Error for NoFirstByte {}

/// A non-success HTTP answer, as the transport service reports it through async-openai (whose
/// own error would lose the headers, and the status of a non-JSON 4xx body).
#[derive(Debug)]
pub(crate) struct HttpStatus {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: String,
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP status {}", self.status)
    }
}

impl std::error::Error for HttpStatus {}

impl HttpStatus {
    pub(crate) fn into_failure(self) -> Failure {
        let retryable = self.status == 429 || (500..=599).contains(&self.status);
        let message = provider_message(&self.body).unwrap_or_else(|| {
            http::StatusCode::from_u16(self.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        });
        let mut failure = Failure::new(
            ModelErrorKind::Status(self.status),
            format!("{message}; body: {}", excerpt(&self.body)),
        )
        .retryable(retryable);
        failure.retry_after = self.retry_after;
        failure.code = provider_code(&self.body);
        failure
    }
}

/// The server's code for the failure in an error body: OpenAI's `{"error": {"code"}}` when it
/// is a string (`context_length_exceeded`); [`ModelError::with_code`] keeps it only when it
/// looks like one.
fn provider_code(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value.pointer("/error/code")?.as_str().map(str::to_owned)
}

/// The error message in an error body: OpenAI's `{"error": {"message"}}`, or the shapes other
/// compatible servers use (`{"error": "..."}`, `{"message"}`, `{"detail"}`), cut
/// ([`server_text`]).
pub(crate) fn provider_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let candidates = [
        value.pointer("/error/message"),
        value.get("error"),
        value.get("message"),
        value.get("detail"),
        value.pointer("/detail/0/msg"),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(server_text))
}

/// A message a server gave, as an error quotes it: cut to [`EXCERPT_CHARS`] characters, as
/// the body excerpt next to it is (a server's message can be as long as its answer), between
/// words ([`cut_between_words`]).
pub(crate) fn server_text(message: &str) -> String {
    cut_between_words(message)
}

/// Classifies an error of the async-openai client.
pub(crate) fn from_openai(error: OpenAIError) -> Failure {
    match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpStatus>() {
            Ok(status) => status.into_failure(),
            Err(other) => match other.downcast::<NoFirstByte>() {
                Ok(late) => Failure::timeout(late.to_string()),
                Err(other) => match other.downcast::<reqwest::Error>() {
                    Ok(e) => from_reqwest(*e),
                    Err(other) => Failure::new(
                        ModelErrorKind::Other,
                        llm_do_core::error::chain(other.as_ref()),
                    ),
                },
            },
        },
        OpenAIError::Reqwest(e) => from_reqwest(e),
        OpenAIError::ApiError(response) => HttpStatus {
            status: response.status_code.as_u16(),
            retry_after: None,
            body: serde_json::json!({ "error": response.api_error }).to_string(),
        }
        .into_failure(),
        OpenAIError::JSONDeserialize(e, raw) => Failure::json(&e, &raw),
        OpenAIError::StreamError(stream) => match *stream {
            StreamError::EventStream(message) => {
                Failure::transport(format!("the event stream broke off before its end ({message})"))
            }
            StreamError::UnknownEvent(event) => Failure::decode(
                format_args!("unexpected server-sent event `{}`", event.event),
                &event.data,
            ),
        },
        OpenAIError::InvalidArgument(message) => {
            Failure::new(ModelErrorKind::InvalidRequest, message)
        }
        OpenAIError::FileSaveError(message) | OpenAIError::FileReadError(message) => {
            Failure::new(ModelErrorKind::Other, message)
        }
    }
}

/// Classifies a transport error.
pub(crate) fn from_reqwest(error: reqwest::Error) -> Failure {
    let chain = llm_do_core::error::chain(&error);
    let mut failure = if error.is_builder() {
        Failure::new(
            ModelErrorKind::InvalidRequest,
            format!("could not build the request: {chain}"),
        )
    } else if error.is_redirect() {
        Failure::new(ModelErrorKind::Transport, format!("redirect failed: {chain}"))
    } else if error.is_timeout() {
        Failure::timeout(chain)
    } else if error.is_connect() {
        Failure::transport(format!("could not connect: {chain}"))
    } else {
        Failure::transport(format!("connection failed: {chain}"))
    };
    failure.source = Some(Box::new(error));
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_and_char_safe() {
        assert_eq!(excerpt("  short \n"), "short");
        assert_eq!(excerpt(""), "(empty)");
        let long = "é ".repeat(EXCERPT_CHARS);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with(" …"));
        // Never inside a word: a secret the cut runs through would leave its start.
        let key =
            format!("{} {{\"key\":\"sk-{}\"}}", "a".repeat(EXCERPT_CHARS - 10), "k".repeat(40));
        assert_eq!(excerpt(&key), format!("{} {{\"key\":\"…", "a".repeat(EXCERPT_CHARS - 10)));
        assert_eq!(excerpt(&"x".repeat(EXCERPT_CHARS + 1)), "…");
        // A cut as long in bytes as what it cut off (`…` and `☃` are 3 bytes each).
        assert_eq!(excerpt(&format!("{}☃", "x".repeat(EXCERPT_CHARS))), "…");
    }

    #[test]
    fn finds_the_provider_message_in_common_shapes() {
        let shapes = [
            (
                r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
                "Rate limit reached",
            ),
            (r#"{"error":"model 'x' not found"}"#, "model 'x' not found"),
            (r#"{"message":"bad"}"#, "bad"),
            (r#"{"detail":"Not Found"}"#, "Not Found"),
            (r#"{"detail":[{"msg":"field required"}]}"#, "field required"),
        ];
        for (body, expected) in shapes {
            assert_eq!(provider_message(body).as_deref(), Some(expected), "{body}");
        }
        assert_eq!(provider_message("<html>502</html>"), None);
        assert_eq!(provider_message(r#"{"error":{"message":""}}"#), None);
        let long = serde_json::json!({ "error": { "message": "é ".repeat(10_000) } }).to_string();
        let message = provider_message(&long).unwrap();
        assert_eq!(message.chars().count(), EXCERPT_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn statuses_carry_message_excerpt_and_retryability() {
        let f = HttpStatus {
            status: 429,
            retry_after: Some(Duration::from_secs(2)),
            body: r#"{"error":{"message":"slow down"}}"#.into(),
        }
        .into_failure();
        assert_eq!(f.kind, ModelErrorKind::Status(429));
        assert!(f.retryable);
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        assert!(f.message.starts_with("slow down; body: {"));
        assert_eq!(f.code, None);

        // The server's own code is kept (`llm-do serve` passes it on).
        let body = r#"{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let f = HttpStatus { status: 400, retry_after: None, body: body.into() }.into_failure();
        assert_eq!(f.code.as_deref(), Some("context_length_exceeded"));
        let e = f.into_model_error(&Redactor::new(), 1, false);
        assert_eq!(e.code(), Some("context_length_exceeded"));

        let f = HttpStatus { status: 404, retry_after: None, body: "<h1>nope</h1>".into() }
            .into_failure();
        assert!(!f.retryable);
        assert_eq!(f.message, "Not Found; body: <h1>nope</h1>");
        let f = HttpStatus { status: 502, retry_after: None, body: String::new() }.into_failure();
        assert!(f.retryable);
        assert_eq!(f.message, "Bad Gateway; body: (empty)");
    }

    #[test]
    fn cut_off_json_is_retryable_but_invalid_json_is_not() {
        let eof = serde_json::from_str::<Value>(r#"{"choices": [{"#).unwrap_err();
        assert!(Failure::json(&eof, "{").retryable);
        let syntax = serde_json::from_str::<Value>("not json").unwrap_err();
        let f = Failure::json(&syntax, "not json");
        assert!(!f.retryable);
        assert_eq!(f.kind, ModelErrorKind::Decode);
        assert!(f.message.ends_with("body: not json"));
    }

    #[test]
    fn final_errors_are_redacted_and_count_attempts() {
        let redactor = Redactor::new().with_values(["sk-test-SECRET123".to_owned()]);
        let f = Failure::new(ModelErrorKind::Status(503), "echo sk-test-SECRET123").retryable(true);
        let e = f.into_model_error(&redactor, 4, false);
        assert_eq!(e.to_string(), "HTTP status 503: echo [redacted] (gave up after 4 attempts)");
        assert!(e.is_retryable());
        let mut f = Failure::transport("reset");
        f.source = Some(Box::new(std::io::Error::other("sk-test-SECRET123 inside")));
        let e = f.into_model_error(&redactor, 1, true);
        assert!(!format!("{e:?}").contains("SECRET123"));
        assert!(e.to_string().contains("retry time limit"));
    }

    #[test]
    fn final_errors_keep_the_servers_retry_after() {
        let redactor = Redactor::new();
        let f = HttpStatus {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
            body: String::new(),
        };
        let e = f.into_failure().into_model_error(&redactor, 1, false);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let f = HttpStatus { status: 500, retry_after: None, body: String::new() };
        assert_eq!(f.into_failure().into_model_error(&redactor, 1, false).retry_after(), None);
    }
}
