//! Cancelling a durable run: the `cancel` handler, and how a run learns it was cancelled.
//!
//! A run is cancelled with Restate's own cancellation of its invocation (the `cancel` handler
//! sends it, so does `restate invocations cancel` or Restate's UI). Restate delivers it to the
//! run at its next journaled operation: the step that would start next (a model request, a
//! tool execution) is not executed, an approval wait ends, and the run ends with
//! [`Error::Cancelled`](llm_do_core::Error::Cancelled) (kind `cancelled`), its record kept
//! as for any failure. A step already under way is not interrupted: Restate has no way to
//! reach into it, so it runs to its end and is journaled first.
//!
//! The reason given to the `cancel` handler travels in the workflow's durable promise
//! `cancel_reason` (a shared handler cannot write state); the run reads it when it ends.

use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::{HandlerResult, TerminalError};
use restate_sdk::serde::Json;
use serde::{Deserialize, Serialize};

/// State key of the `run` handler's invocation id, which the `cancel` handler cancels.
pub(crate) const INVOCATION_KEY: &str = "invocation";
/// The workflow's durable promise holding the reason of a cancellation.
pub(crate) const REASON_PROMISE: &str = "cancel_reason";
/// The reason of a cancellation that gave none (Restate's own, or `cancel` without one).
pub(crate) const NO_REASON: &str = "cancelled through Restate";

/// The input of the `cancel` handler.
///
/// ```
/// let r: llm_do_restate::CancelRequest = serde_json::from_str(r#"{"reason": "wrong customer"}"#).unwrap();
/// assert_eq!(r.reason.as_deref(), Some("wrong customer"));
/// let none: llm_do_restate::CancelRequest = serde_json::from_str("{}").unwrap();
/// assert_eq!(none.reason, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// Why: the cancelled run's error and record carry it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Whether a journaled operation ended because the invocation was cancelled (Restate's
/// terminal error 409 "cancelled").
pub(crate) fn is_cancellation(e: &TerminalError) -> bool {
    e.code() == 409 && e.message() == "cancelled"
}

/// The `cancel` handler (shared): cancels the run if it is under way. Its output is the run's
/// status when the cancellation was sent (`null` for a run id never submitted).
pub(crate) async fn handler(
    cx: &ContextInternal,
    request: CancelRequest,
) -> HandlerResult<Json<Option<String>>> {
    let Some(Json(status)) = cx.get::<Json<String>>(crate::record::STATUS_KEY).await? else {
        return Ok(Json(None));
    };
    if status == "running"
        && let Some(Json(invocation)) = cx.get::<Json<String>>(INVOCATION_KEY).await?
    {
        if let Some(reason) = request.reason {
            // Only the first reason counts: a promise is resolved once.
            cx.resolve_promise(REASON_PROMISE, Json(reason));
        }
        cx.cancel_invocation(&invocation);
    }
    Ok(Json(Some(status)))
}

/// Why the run was cancelled: the reason given to the `cancel` handler, if any.
pub(crate) async fn reason(cx: &ContextInternal) -> String {
    match cx.peek_promise::<Json<String>>(REASON_PROMISE).await {
        Ok(Some(Json(reason))) if !reason.trim().is_empty() => reason,
        _ => NO_REASON.to_owned(),
    }
}
