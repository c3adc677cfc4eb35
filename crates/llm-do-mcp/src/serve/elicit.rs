//! Approvals asked of the person behind the MCP client, by elicitation
//! ([`McpService::elicit_approvals`](super::McpService::elicit_approvals)).
//!
//! A client that declared the form elicitation capability, on a protocol that allows
//! server-to-client requests (before 2026-07-28), gets an `elicitation/create` request for each
//! call that needs approval: a message naming the tool, who asked, why it needs approval and the
//! arguments (secrets redacted), and a form with one required boolean, `approve`. Only an
//! accepted form with `approve: true` runs the call, once; a declined or dismissed form, an
//! unanswered one (after [`ANSWER_TIMEOUT`]) and a failed request deny it, saying which.

use llm_do_core::approval::{ApprovalRequest, Approver, Decision};
use llm_do_core::secrets::Redactor;
use rmcp::RoleServer;
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema, ProtocolVersion};
use rmcp::service::{ElicitationMode, Peer};
use serde_json::{Value, json};
use std::time::Duration;

/// How long a person has to answer an approval question before the call is denied.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// Whether `peer` can be asked: it declared form elicitation, on a protocol that still allows
/// server-to-client requests.
pub(crate) fn supported(peer: &Peer<RoleServer>) -> bool {
    let before_2026 =
        peer.peer_info().is_some_and(|info| info.protocol_version < ProtocolVersion::V_2026_07_28);
    before_2026 && peer.supported_elicitation_modes().contains(&ElicitationMode::Form)
}

/// What one approval question is about.
pub(crate) struct Question<'a> {
    pub(crate) tool: &'a str,
    pub(crate) args: &'a Value,
    /// Who asked for the call: a worker, or the MCP client itself.
    pub(crate) asked_by: &'a str,
    /// Why it needs approval (the policy's reason).
    pub(crate) reason: String,
}

/// Asks `peer` the question; its answer as a [`Decision`].
pub(crate) async fn ask(peer: &Peer<RoleServer>, question: Question<'_>) -> Decision {
    let redactor = Redactor::new().with_env(std::env::vars());
    let args = serde_json::to_string_pretty(&redactor.redact_json(question.args.clone()))
        .unwrap_or_default();
    let message = format!(
        "`{}` needs approval ({}). {} asks to call it with these arguments:\n{args}\n\
         Approve this call (once)?",
        question.tool,
        redactor.redact(&question.reason),
        question.asked_by,
    );
    let form = json!({
        "type": "object",
        "properties": {
            "approve": {
                "type": "boolean",
                "title": "Approve",
                "description": format!("Run `{}` once with these arguments", question.tool),
            }
        },
        "required": ["approve"],
    });
    let schema = match form.as_object().cloned().map(ElicitationSchema::from_json_schema) {
        Some(Ok(schema)) => schema,
        _ => return Decision::deny("the approval form could not be built"),
    };
    let params = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema: schema,
    };
    match peer.create_elicitation_with_timeout(params, Some(ANSWER_TIMEOUT)).await {
        Ok(answer) => match answer.action {
            ElicitationAction::Accept
                if answer.content.as_ref().and_then(|c| c.get("approve")) == Some(&json!(true)) =>
            {
                Decision::ApproveOnce
            }
            ElicitationAction::Accept | ElicitationAction::Decline => {
                Decision::deny("declined by the MCP client's user")
            }
            ElicitationAction::Cancel => Decision::deny("dismissed by the MCP client's user"),
            // An answer of a later protocol: only an accepted `approve: true` approves.
            _ => Decision::deny("not approved by the MCP client's user"),
        },
        Err(e) => Decision::deny(format!(
            "the MCP client could not be asked for approval: {}",
            redactor.redact(&e.to_string())
        )),
    }
}

/// The approver of one served call's run: asks the client that made the call about every
/// nested call that needs approval.
pub(crate) struct AskTheClient {
    pub(crate) peer: Peer<RoleServer>,
}

impl Approver for AskTheClient {
    fn decide<'a>(
        &'a self,
        request: &'a ApprovalRequest,
    ) -> futures::future::BoxFuture<'a, Decision> {
        Box::pin(async move {
            let asked_by = format!(
                "The worker `{}` (depth {})",
                request.caller,
                request.depth.saturating_sub(1)
            );
            let question = Question {
                tool: &request.tool,
                args: &request.args,
                asked_by: &asked_by,
                reason: request.reason.to_string(),
            };
            ask(&self.peer, question).await
        })
    }
}
