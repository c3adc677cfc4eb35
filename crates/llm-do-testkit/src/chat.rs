//! `POST /v1/chat/completions`: parse, apply the fault, answer, render JSON or SSE.

use crate::answer::{Take, answer};
use crate::api_error::ApiError;
use crate::completion::Completion;
use crate::fault::Fault;
use crate::quirk::Quirk;
use crate::responses::{self, DONE, event, first_half};
use crate::state::Shared;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use llm_do_core::{ModelError, ModelErrorKind, ModelResponse};
use llm_do_openai_wire::request::{self, ChatRequest};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// What an [`Fault::InvalidJson`] body says.
const NOT_JSON: &str = r#"{"id": "chatcmpl-invalid", "choices": [ this is not JSON"#;

/// Answers one chat completions request body.
pub(crate) async fn complete(shared: &Shared, body: &[u8]) -> Response {
    let request = match request::parse(body) {
        // OpenAI's API needs a model; the test server does too.
        Ok(request) if request.model.is_none() => {
            return ApiError::status(400)
                .message("you must provide a model parameter")
                .param(Some("model".into()))
                .into_response();
        }
        Ok(request) => request,
        Err(bad) => {
            return ApiError::status(400).message(bad.message).param(bad.param).into_response();
        }
    };
    shared.serve_model(&request.model_request.model);
    let fault = shared.next_fault();
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    match &fault {
        Some(Fault::Status { code, retry_after, message }) => {
            let error = ApiError::status(*code).retry_after(*retry_after);
            let error = match message {
                Some(message) => error.message(message.clone()),
                None => error,
            };
            return error.into_response();
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(*delay).await,
        _ => {}
    }
    let take =
        if fault.as_ref().is_some_and(Fault::fails_request) { Take::Peek } else { Take::Use };
    let (response, fault) = match answer(shared, &request.model_request, take).await {
        Ok(response) => (response, fault),
        // A fault breaks this answer off anyway: its partial content does not matter.
        Err(_) if take == Take::Peek => (ModelResponse::text(""), fault),
        Err(error) => match scripted_error(error) {
            Ok(fault) => (ModelResponse::text(""), Some(fault)),
            Err(error) => return error.into_response(),
        },
    };
    let completion = Completion {
        id: shared.next_completion_id(),
        created: now(),
        model: response.model.clone().unwrap_or_else(|| request.model_request.model.clone()),
        quirk: Quirk::of(fault.as_ref()),
        response,
    };
    render(shared, &completion, &request, fault.as_ref())
}

/// How a scripted error reply (or a default-behaviour failure) is answered: a status error,
/// or, for `transport` and `decode` errors, the fault that makes a client see one.
fn scripted_error(error: ModelError) -> Result<Fault, ApiError> {
    let status = match error.kind() {
        ModelErrorKind::Transport => return Ok(Fault::CloseMidBody),
        ModelErrorKind::Decode => return Ok(Fault::InvalidJson),
        ModelErrorKind::Status(code) => code,
        ModelErrorKind::InvalidRequest => 400,
        _ => 500,
    };
    Err(ApiError::status(status)
        .message(error.message())
        .retry_after(error.retry_after_secs())
        .code(error.code()))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The HTTP response for an answer, broken as `fault` says.
fn render(
    shared: &Shared,
    completion: &Completion,
    request: &ChatRequest,
    fault: Option<&Fault>,
) -> Response {
    if request.stream && fault != Some(&Fault::WholeBody) {
        render_stream(shared, completion, request.include_usage, fault)
    } else {
        render_json(completion, fault)
    }
}

fn render_json(completion: &Completion, fault: Option<&Fault>) -> Response {
    let body = completion.body();
    match fault {
        Some(Fault::CloseMidBody) => {
            let mut text = body.to_string().into_bytes();
            let full_len = text.len();
            text.truncate(full_len / 2);
            responses::broken_off(Bytes::from(text), Some(full_len))
        }
        Some(Fault::TruncatedStream) => {
            let mut text = body.to_string().into_bytes();
            text.truncate(text.len() / 2);
            responses::raw_json(text)
        }
        Some(Fault::InvalidJson) => responses::raw_json(NOT_JSON),
        Some(Fault::EmptyChoices) => {
            let mut body = body;
            if let Some(object) = body.as_object_mut() {
                object.insert("choices".into(), json!([]));
            }
            responses::json(StatusCode::OK, &body)
        }
        _ => responses::json(StatusCode::OK, &body),
    }
}

fn render_stream(
    shared: &Shared,
    completion: &Completion,
    include_usage: bool,
    fault: Option<&Fault>,
) -> Response {
    let chunks = completion.chunks(include_usage);
    let events = |chunks: Vec<Value>| chunks.iter().map(event).collect::<Vec<String>>();
    match fault {
        Some(Fault::CloseMidBody) => {
            let mut all = events(chunks.all());
            all.push(DONE.to_owned());
            let sent: String = first_half(all).concat();
            responses::broken_off(Bytes::from(sent), None)
        }
        Some(Fault::TruncatedStream) => responses::sse(events(first_half(chunks.deltas))),
        Some(Fault::InvalidJson) => {
            responses::sse(vec![format!("data: {NOT_JSON}\n\n"), DONE.to_owned()])
        }
        Some(Fault::EmptyChoices) => {
            let mut chunk = completion.envelope("chat.completion.chunk");
            chunk.insert("choices".into(), json!([]));
            responses::sse(vec![event(&Value::Object(chunk)), DONE.to_owned()])
        }
        _ => {
            let mut all = events(chunks.all());
            all.push(DONE.to_owned());
            responses::sse_paced(all, shared.stream_pause, shared.unfinished_stream())
        }
    }
}
