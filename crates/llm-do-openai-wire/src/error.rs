//! OpenAI-style error bodies: `{"error": {"message", "type", "param", "code"}}`.

use serde_json::{Value, json};

/// An error body.
///
/// ```
/// let e = llm_do_openai_wire::error::body("no such route", "invalid_request_error", None, Some("not_found"));
/// assert_eq!(e["error"]["message"], "no such route");
/// assert_eq!((e["error"]["code"].as_str(), e["error"]["param"].as_str()), (Some("not_found"), None));
/// ```
pub fn body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// OpenAI's error `type` and `code` for an HTTP status.
///
/// ```
/// use llm_do_openai_wire::error::kind_of;
/// assert_eq!(kind_of(429), ("rate_limit_error", "rate_limit_exceeded"));
/// assert_eq!(kind_of(503), ("server_error", "server_error"));
/// assert_eq!(kind_of(400), ("invalid_request_error", "invalid_request"));
/// ```
pub fn kind_of(status: u16) -> (&'static str, &'static str) {
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
