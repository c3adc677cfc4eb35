//! The HTTP routes: every request is recorded, then dispatched by method and path.

use crate::api_error::ApiError;
use crate::chat;
use crate::recorded::RecordedRequest;
use crate::responses;
use crate::state::Shared;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// The largest request body read (larger ones are answered with 413).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Who `/v1/models` says owns the models.
const OWNER: &str = "llm-do-testkit";

/// The server's router: one fallback handler, so that every request, known or not, is
/// recorded and answered in OpenAI's format.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            shared.record(RecordedRequest::new(parts.method.as_str(), &path, &parts.headers, b""));
            return ApiError::status(413)
                .message(format!(
                    "could not read the request body (at most {MAX_BODY_BYTES} bytes): {e}"
                ))
                .into_response();
        }
    };
    shared.record(RecordedRequest::new(parts.method.as_str(), &path, &parts.headers, &body));
    match (&parts.method, path.as_str()) {
        (&Method::POST, "/v1/chat/completions") => chat::complete(&shared, &body).await,
        (&Method::GET, "/v1/models") => models(&shared),
        (&Method::GET, model) if model.starts_with("/v1/models/") => {
            let id = model.trim_start_matches("/v1/models/");
            responses::json(StatusCode::OK, &model_object(id))
        }
        (method, "/v1/chat/completions" | "/v1/models") => ApiError::status(405)
            .message(format!("method {method} is not allowed on {path}"))
            .into_response(),
        (method, _) => ApiError::status(404)
            .message(format!(
                "Unknown request URL: {method} {path}. This test server serves POST /v1/chat/completions and GET /v1/models."
            ))
            .into_response(),
    }
}

/// `GET /v1/models`: the configured names, then every name a client asked for.
fn models(shared: &Shared) -> Response {
    let data: Vec<_> = shared.models().iter().map(|id| model_object(id)).collect();
    responses::json(StatusCode::OK, &json!({"object": "list", "data": data}))
}

fn model_object(id: &str) -> serde_json::Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": OWNER})
}
