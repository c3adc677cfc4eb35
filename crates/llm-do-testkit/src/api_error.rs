//! [`ApiError`]: an error answered in OpenAI's format.

use crate::responses::json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

/// An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: Option<String>,
    pub(crate) param: Option<String>,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status and the default message for it.
    pub(crate) fn status(status: u16) -> Self {
        Self { status, message: None, param: None, retry_after: None }
    }

    /// Replaces the message.
    pub(crate) fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Names the offending parameter.
    pub(crate) fn param(mut self, param: Option<String>) -> Self {
        self.param = param;
        self
    }

    /// Sets `Retry-After` (seconds).
    pub(crate) fn retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// The HTTP response. A status that HTTP cannot carry is sent as 500.
    pub(crate) fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (kind, code) = classify(status.as_u16());
        let message = self.message.unwrap_or_else(|| {
            let reason = status.canonical_reason().unwrap_or("Error");
            format!("{reason} (injected by llm-do-testkit)")
        });
        let body =
            json!({"error": {"message": message, "type": kind, "param": self.param, "code": code}});
        let mut response = json(status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// OpenAI's error `type` and a `code` for a status.
fn classify(status: u16) -> (&'static str, &'static str) {
    match status {
        401 => ("authentication_error", "invalid_api_key"),
        403 => ("permission_error", "permission_denied"),
        404 => ("invalid_request_error", "not_found"),
        405 => ("invalid_request_error", "method_not_allowed"),
        408 => ("timeout_error", "timeout"),
        413 => ("invalid_request_error", "request_too_large"),
        429 => ("rate_limit_error", "rate_limit_exceeded"),
        500..=599 => ("server_error", "server_error"),
        _ => ("invalid_request_error", "invalid_request"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_statuses_become_500() {
        let response = ApiError::status(42).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = ApiError::status(429).retry_after(Some(3)).into_response();
        assert_eq!(response.headers().get(RETRY_AFTER), Some(&HeaderValue::from(3u64)));
    }
}
