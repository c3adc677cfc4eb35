//! `llm-do serve --api-key-env VAR`: every request must carry `Authorization: Bearer <key>`,
//! as OpenAI's API asks, so that a server reachable from other machines (`--host`) serves only
//! the clients given its key. A request without it, or with another key, is a 401
//! (`invalid_api_key`, with `WWW-Authenticate: Bearer`) that reaches no model and holds none
//! of the server's places for requests in flight. The check is
//! [`BearerToken::admits`](llm_do::secrets::BearerToken::admits), the one rule for both of
//! llm-do's servers (`llm-do mcp --http` uses it too).

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use llm_do::secrets::BearerToken;
use llm_do_openai_wire::error;

/// Middleware: lets the request in when it presents `token`, else answers 401.
pub(super) async fn require(
    State(token): State<BearerToken>,
    request: Request,
    next: Next,
) -> Response {
    if token.admits(request.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes)) {
        return next.run(request).await;
    }
    let presented = request.headers().contains_key(AUTHORIZATION);
    let message = if presented {
        "the API key in `Authorization` is not this server's"
    } else {
        "this server needs an API key: send `Authorization: Bearer <key>` (the key its operator \
         gave with `llm-do serve --api-key-env`)"
    };
    let (kind, code) = error::kind_of(401);
    let body = error::body(message, kind, None, Some(code));
    let mut response = super::json_response(StatusCode::UNAUTHORIZED, &body);
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
