//! [`RecordedRequest`]: one request as the server received it, secrets redacted.

use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub use llm_do_core::secrets::REDACTED;
use llm_do_core::secrets::is_secret_name;

/// One request the server received, for assertions.
///
/// Every request is recorded, whatever its path and whether it could be parsed, in arrival
/// order. Header names are lower case; a header sent several times has its values joined with
/// `", "`; the values of headers whose name is a secret's
/// ([`llm_do_core::secrets::is_secret_name`]: `authorization`, `api-key`, `*-token`, …) are
/// replaced by [`REDACTED`]. `body` is the JSON
/// body, or the body as a JSON string when it is not JSON, or `null` when it is empty.
///
/// ```
/// use llm_do_testkit::TestServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = TestServer::start().await?;
/// // ... a client sends `POST /v1/chat/completions` with `Authorization: Bearer sk-...` ...
/// # let _ = server.addr();
/// for request in server.requests() {
///     assert_ne!(request.header("authorization"), Some("Bearer sk-secret"));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, without the query string, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers by lower-case name, secrets redacted.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (a string when the body is not JSON, `null` when empty).
    pub body: Value,
}

impl RecordedRequest {
    /// Records a request.
    pub(crate) fn new(method: &str, path: &str, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut recorded: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let name = name.as_str().to_ascii_lowercase();
            let value = if is_secret_name(&name) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            recorded
                .entry(name)
                .and_modify(|joined| {
                    if joined != REDACTED {
                        joined.push_str(", ");
                        joined.push_str(&value);
                    }
                })
                .or_insert(value);
        }
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        Self { method: method.to_owned(), path: path.to_owned(), headers: recorded, body }
    }

    /// The value of a header (name in any case), if it was sent.
    ///
    /// ```
    /// # use llm_do_testkit::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// if let Some(request) = server.last_request() {
    ///     assert_eq!(request.header("Content-Type"), Some("application/json"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    #[test]
    fn redacts_secrets_and_joins_repeated_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer sk-secret"));
        headers.insert("api-key", HeaderValue::from_static("azure-secret"));
        headers.append("x-tag", HeaderValue::from_static("a"));
        headers.append("x-tag", HeaderValue::from_static("b"));
        headers.append("x-api-key", HeaderValue::from_static("one"));
        headers.append("x-api-key", HeaderValue::from_static("two"));
        let r = RecordedRequest::new("POST", "/v1/x", &headers, br#"{"a": 1}"#);
        assert_eq!(r.header("Authorization"), Some(REDACTED));
        assert_eq!(r.header("api-key"), Some(REDACTED));
        assert_eq!(r.header("x-api-key"), Some(REDACTED));
        assert_eq!(r.header("x-tag"), Some("a, b"));
        assert_eq!(r.body, json!({"a": 1}));
    }

    #[test]
    fn keeps_bodies_that_are_not_json() {
        let headers = HeaderMap::new();
        assert_eq!(RecordedRequest::new("GET", "/", &headers, b"").body, Value::Null);
        assert_eq!(
            RecordedRequest::new("POST", "/", &headers, b"{oops").body,
            Value::String("{oops".into())
        );
        assert_eq!(
            RecordedRequest::new("POST", "/", &headers, &[0xff, b'a']).body,
            Value::String("\u{fffd}a".into())
        );
    }
}
