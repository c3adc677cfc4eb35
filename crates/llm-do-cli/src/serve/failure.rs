//! How a failed model request is answered: an HTTP status, an OpenAI-style error body with
//! OpenAI's `type` and a `code` ([`llm_do_openai_wire::error::kind_of`]), and the upstream
//! server's `Retry-After` on a 429 or 503.
//!
//! | failure | status | `type` / `code` |
//! |---|---|---|
//! | invalid request (the client's, as the model found it) | 400 | `invalid_request_error` / `invalid_request` |
//! | upstream 401 or 403 (it refused *this server's* key) | 502 | `server_error` / `upstream_credentials_refused` |
//! | other upstream 4xx or 5xx (429 and 503 with `Retry-After`) | its own | by status: 429 `rate_limit_error` / `rate_limit_exceeded`, 5xx `server_error` / `server_error`, … |
//! | upstream timeout | 504 | `server_error` / `timeout` |
//! | failed connection, unreadable answer, an upstream status that is no error | 502 | `server_error` / `server_error` |
//! | anything else | 500 | `server_error` / `server_error` |
//!
//! An upstream 401 or 403 is not passed on as such: OpenAI clients take a 401 for a bad key
//! of their own, when the key that was refused is the one `llm-do serve` sends upstream.
//! Messages are redacted ([`super::redact`]).

use super::redact;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use llm_do::{ModelError, ModelErrorKind};
use llm_do_openai_wire::error;
use serde_json::Value;
use std::time::Duration;

/// The answer to a failed model request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    status: StatusCode,
    body: Value,
    /// The upstream server's `Retry-After`: as the header says it (whole seconds) and exact.
    retry_after: Option<(u64, Duration)>,
}

impl Failure {
    /// How `e` is answered.
    pub(super) fn of(e: &ModelError) -> Self {
        let message = redact::message(&e.to_string());
        let (status, kind, code, message) = match e.kind() {
            ModelErrorKind::InvalidRequest => {
                let (kind, code) = error::kind_of(400);
                (StatusCode::BAD_REQUEST, kind, code, message)
            }
            ModelErrorKind::Status(refused @ (401 | 403)) => (
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_credentials_refused",
                format!(
                    "the upstream server refused the credentials of this server (HTTP {refused}), \
                     not the client's: check the API key `llm-do serve` sends upstream ({message})"
                ),
            ),
            ModelErrorKind::Status(code @ 400..=599) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
                let (kind, code) = error::kind_of(status.as_u16());
                // The upstream server's own code (`context_length_exceeded`) says more than
                // the one of its status, and clients' SDKs act on it.
                (status, kind, e.code().unwrap_or(code), message)
            }
            ModelErrorKind::Timeout => {
                (StatusCode::GATEWAY_TIMEOUT, "server_error", "timeout", message)
            }
            // Only an upstream server's failures have these kinds (the embedded model has none).
            ModelErrorKind::Status(_) | ModelErrorKind::Transport | ModelErrorKind::Decode => {
                let (kind, code) = error::kind_of(502);
                (StatusCode::BAD_GATEWAY, kind, code, message)
            }
            _ => {
                let (kind, code) = error::kind_of(500);
                (StatusCode::INTERNAL_SERVER_ERROR, kind, code, message)
            }
        };
        let waits =
            matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
        Self {
            status,
            body: error::body(&message, kind, None, Some(code)),
            retry_after: e.retry_after_secs().zip(e.retry_after()).filter(|_| waits),
        }
    }

    /// The error body, `{"error": {"message", "type", "param", "code"}}` (also what a stream
    /// that already started sends as its last event).
    pub(super) fn body(&self) -> &Value {
        &self.body
    }

    /// The JSON response, with `Retry-After` (whole seconds, rounded up) and OpenAI's
    /// `retry-after-ms` when the upstream server asked its clients to wait.
    pub(super) fn response(&self) -> Response {
        let mut response = super::json_response(self.status, &self.body);
        if let Some((seconds, delay)) = self.retry_after {
            let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            let headers = response.headers_mut();
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
            headers.insert(HeaderName::from_static("retry-after-ms"), HeaderValue::from(millis));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(e: ModelError) -> (u16, Value, Option<Duration>) {
        let f = Failure::of(&e);
        (f.status.as_u16(), f.body["error"].clone(), f.retry_after.map(|(_, delay)| delay))
    }

    #[test]
    fn statuses_types_and_codes_are_openais() {
        let cases = [
            (ModelErrorKind::InvalidRequest, 400, "invalid_request_error", "invalid_request"),
            (ModelErrorKind::Status(429), 429, "rate_limit_error", "rate_limit_exceeded"),
            (ModelErrorKind::Status(404), 404, "invalid_request_error", "not_found"),
            (ModelErrorKind::Status(503), 503, "server_error", "server_error"),
            (ModelErrorKind::Status(401), 502, "server_error", "upstream_credentials_refused"),
            (ModelErrorKind::Status(403), 502, "server_error", "upstream_credentials_refused"),
            (ModelErrorKind::Status(302), 502, "server_error", "server_error"),
            (ModelErrorKind::Status(1000), 502, "server_error", "server_error"),
            (ModelErrorKind::Timeout, 504, "server_error", "timeout"),
            (ModelErrorKind::Transport, 502, "server_error", "server_error"),
            (ModelErrorKind::Decode, 502, "server_error", "server_error"),
            (ModelErrorKind::Other, 500, "server_error", "server_error"),
        ];
        for (kind, status, ty, code) in cases {
            let (got, error, _) = failure(ModelError::new(kind, "x"));
            assert_eq!(
                (got, error["type"].as_str(), error["code"].as_str()),
                (status, Some(ty), Some(code)),
                "{kind:?}"
            );
        }
        // The upstream server's own code goes through.
        let too_long = ModelError::new(ModelErrorKind::Status(400), "too long")
            .with_code("context_length_exceeded");
        let (got, error, _) = failure(too_long);
        assert_eq!((got, error["type"].as_str()), (400, Some("invalid_request_error")));
        assert_eq!(error["code"], "context_length_exceeded");
        let (_, error, _) = failure(ModelError::new(
            ModelErrorKind::Status(401),
            "bad key sk-test-abcdefghijklmnop",
        ));
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("refused the credentials of this server (HTTP 401)"), "{message}");
        assert!(
            message.contains("[redacted]") && !message.contains("abcdefghijklmnop"),
            "{message}"
        );
    }

    #[test]
    fn retry_after_is_passed_on_for_429_and_503_only() {
        let wait = |code| {
            ModelError::new(ModelErrorKind::Status(code), "x")
                .with_retry_after(Duration::from_millis(1500))
        };
        assert_eq!(failure(wait(429)).2, Some(Duration::from_millis(1500)));
        assert_eq!(failure(wait(503)).2, Some(Duration::from_millis(1500)));
        assert_eq!(failure(wait(500)).2, None);
        assert_eq!(failure(wait(401)).2, None);
        let response = Failure::of(&wait(429)).response();
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()["retry-after-ms"], "1500");
        assert!(
            Failure::of(&ModelError::new(ModelErrorKind::Status(429), "x"))
                .response()
                .headers()
                .get("retry-after")
                .is_none()
        );
    }
}
