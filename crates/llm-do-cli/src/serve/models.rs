//! `GET /v1/models` and `GET /v1/models/{id}`: the one served model, listed and retrieved
//! (`client.models.list()`, `client.models.retrieve(id)`). Its id is the `provider:name`
//! label; retrieving any other id is a 404 `model_not_found`, though a chat request may name
//! any model (the server serves its one model whatever the client names).

use crate::models::Served;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The model object of `served`.
fn object(served: &Served) -> Value {
    json!({"id": served.label(), "object": "model", "created": 0, "owned_by": "llm-do"})
}

/// `GET /v1/models`: a list of the one served model.
pub(super) async fn list(State(served): State<Arc<Served>>) -> Response {
    super::json_response(StatusCode::OK, &json!({"object": "list", "data": [object(&served)]}))
}

/// `GET /v1/models/{id}`: the served model for its own id, else a 404.
pub(super) async fn retrieve(
    State(served): State<Arc<Served>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(_) => {
            return super::error_response(
                StatusCode::BAD_REQUEST,
                "the model id in the path is not valid UTF-8",
                None,
                Some("invalid_model_id"),
            );
        }
    };
    if id == served.label() {
        return super::json_response(StatusCode::OK, &object(&served));
    }
    let message = format!(
        "the model `{}` does not exist: this server serves `{}`",
        id.escape_debug(),
        served.label()
    );
    super::error_response(StatusCode::NOT_FOUND, &message, Some("model"), Some("model_not_found"))
}
