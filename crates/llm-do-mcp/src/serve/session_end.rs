//! The answer to the `DELETE` that ends a streamable HTTP session: `204 No Content`, where rmcp
//! answers `202 Accepted`. The session is ended either way, but the Python SDK (1.x and 2.x),
//! on which most MCP clients are built, logs "Session termination failed: 202" for anything but
//! `200` and `204`; the official TypeScript server answers `200`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;

/// Axum middleware: a `DELETE` that rmcp accepts with `202` is answered `204` (no body either
/// way); every other request and answer passes unchanged.
pub(crate) async fn no_content(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let delete = request.method() == Method::DELETE;
    let mut response = next.run(request).await;
    if delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
