//! [`ApiError`]: an error answered in OpenAI's format.

use crate::responses::json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use llm_do_openai_wire::error;

/// An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: Option<String>,
    pub(crate) param: Option<String>,
    pub(crate) retry_after: Option<u64>,
    /// The body's `error.code`; the one of the status when `None`.
    pub(crate) code: Option<String>,
}

impl ApiError {
    /// An error with this status and the default message for it.
    pub(crate) fn status(status: u16) -> Self {
        Self { status, message: None, param: None, retry_after: None, code: None }
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

    /// Replaces the code of the status (`context_length_exceeded`).
    pub(crate) fn code(mut self, code: Option<&str>) -> Self {
        self.code = code.map(str::to_owned);
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
        let (kind, code) = error::kind_of(status.as_u16());
        let message = self.message.unwrap_or_else(|| {
            let reason = status.canonical_reason().unwrap_or("Error");
            format!("{reason} (injected by llm-do-testkit)")
        });
        let code = self.code.as_deref().unwrap_or(code);
        let body = error::body(&message, kind, self.param.as_deref(), Some(code));
        let mut response = json(status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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
