//! One `tools/call` request: what rmcp's `Peer::call_tool_once` sends, with the request's
//! progress token followed for the call that makes it (the server's progress notifications are
//! that call's, [`llm_do_core::Ctx::report_progress`]), and the request cancelled
//! (`notifications/cancelled`) when it is dropped unanswered — a timeout, a cancelled run.

use crate::listener::Asking;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult,
    CancelledNotificationParam, ClientRequest, RequestId, ServerResult,
};
use rmcp::service::{PeerRequestOptions, ServiceError};
use rmcp::{Peer, RoleClient};

/// Sends `params` as a `tools/call` request and waits for its answer.
pub(super) async fn call_tool(
    peer: &Peer<RoleClient>,
    params: CallToolRequestParams,
    asking: Option<&Asking>,
) -> Result<CallToolResponse, ServiceError> {
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    let handle = peer.send_request_with_option(request, PeerRequestOptions::no_options()).await?;
    let _following = asking.map(|a| a.follow(handle.progress_token.clone()));
    let mut unanswered = Unanswered { peer: peer.clone(), id: Some(handle.id.clone()) };
    let result = handle.await_response().await;
    unanswered.id = None;
    match result? {
        ServerResult::CallToolResult(result) => Ok(CallToolResponse::Complete(result)),
        ServerResult::InputRequiredResult(result) => Ok(CallToolResponse::InputRequired(result)),
        ServerResult::CreateTaskResult(result) => Ok(CallToolResponse::Task(result)),
        // An empty result: a call that answered nothing.
        ServerResult::EmptyResult(_) => {
            Ok(CallToolResponse::Complete(CallToolResult::success(vec![])))
        }
        _ => Err(ServiceError::UnexpectedResponse),
    }
}

/// Cancels the request `id` when dropped before it was answered.
struct Unanswered {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let (Some(id), Ok(runtime)) = (self.id.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let peer = self.peer.clone();
        runtime.spawn(async move {
            let reason = Some("the call was abandoned by llm-do".to_owned());
            let _ = peer.notify_cancelled(CancelledNotificationParam::new(Some(id), reason)).await;
        });
    }
}
