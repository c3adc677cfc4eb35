//! What keeps web pages off `llm-do serve`: a browser lets any page send requests to a server
//! on the loopback interface, and an `openai:…` model spends its operator's money on each.
//!
//! - A chat completion must say its body is JSON (`Content-Type: application/json`), else it
//!   is a 415 (`unsupported_media_type`). A page can send a body without asking the server
//!   first (a CORS "simple request") only as `text/plain`, a form or with no type at all;
//!   a JSON body needs a preflight, which this server, sending no CORS headers, never grants.
//! - On a loopback address, a request must name a loopback host (`localhost`, `*.localhost`)
//!   or an IP address in its `Host`, else it is a 403 (`host_not_allowed`): a page whose
//!   domain name was made to resolve to `127.0.0.1` (DNS rebinding) sends its own name there,
//!   and could otherwise read the answers. A server on another address is meant to be reached
//!   under other names, and takes any `Host`.

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::net::IpAddr;

/// `None` when `headers` say the body is JSON, else the 415 to answer.
pub(super) fn refuse_unless_json(headers: &HeaderMap) -> Option<Response> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if media_type.as_deref() == Some("application/json") {
        return None;
    }
    let said = media_type.map_or_else(|| "none".to_owned(), |t| format!("`{}`", t.escape_debug()));
    Some(super::error_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &format!(
            "the request body must be JSON, sent with `Content-Type: application/json` (got {said})"
        ),
        None,
        Some("unsupported_media_type"),
    ))
}

/// Middleware of a server on a loopback address: a request whose `Host` is neither a loopback
/// name nor an IP address is answered 403 (see the module's documentation).
pub(super) async fn loopback_host(request: Request, next: Next) -> Response {
    let host = request.headers().get(HOST).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    match host {
        // HTTP/1.0 clients may send none; a browser always does.
        None => next.run(request).await,
        Some(host) if loopback_or_address(host) => next.run(request).await,
        Some(host) => {
            let message = format!(
                "`Host: {}` is not allowed: this server listens on a loopback address and \
                 answers requests for `localhost` or an IP address only (DNS rebinding \
                 protection); serve on another address with `--host` to be reached by name",
                host.escape_debug()
            );
            super::error_response(StatusCode::FORBIDDEN, &message, None, Some("host_not_allowed"))
        }
    }
}

/// Whether `host` (a `Host` header: a name or an address, maybe with a port) is a loopback
/// name or an IP address, which no DNS answer can make point elsewhere.
fn loopback_or_address(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        // `[::1]:8080`
        return rest.split_once(']').is_some_and(|(ip, _)| ip.parse::<IpAddr>().is_ok());
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_pass_other_names_do_not() {
        for host in ["localhost", "localhost:8080", "LOCALHOST.", "a.localhost:1", "127.0.0.1:8080"]
        {
            assert!(loopback_or_address(host), "{host}");
        }
        for host in ["[::1]:8080", "[::1]", "10.0.0.7"] {
            assert!(loopback_or_address(host), "{host}");
        }
        for host in ["attacker.example", "attacker.example:8080", "localhost.attacker.example", ""]
        {
            assert!(!loopback_or_address(host), "{host}");
        }
    }

    #[test]
    fn only_a_json_content_type_passes() {
        let with = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(v) = value {
                headers.insert(CONTENT_TYPE, v.parse().unwrap());
            }
            refuse_unless_json(&headers).map(|r| r.status())
        };
        assert_eq!(with(Some("application/json")), None);
        assert_eq!(with(Some("Application/JSON; charset=utf-8")), None);
        for refused in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            assert_eq!(with(refused), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE), "{refused:?}");
        }
    }
}
