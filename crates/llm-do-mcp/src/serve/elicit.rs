//! Approvals asked of the person behind the MCP client, by elicitation
//! ([`McpService::elicit_approvals`](super::McpService::elicit_approvals)): the question, its
//! form, what an answer decides, and how a client before protocol 2026-07-28 is asked.
//!
//! A client that declared the form elicitation capability gets a form for each call that needs
//! approval: a message naming the tool, who asked, why it needs approval and the arguments
//! (secrets redacted), and one required boolean, `approve`. Only an accepted form with
//! `approve: true` runs the call, once; a declined or dismissed form, an unanswered one (after
//! the service's answer timeout, [`ANSWER_TIMEOUT`] by default) and a failed request deny it,
//! saying which. Before protocol 2026-07-28 the form is an `elicitation/create` request sent
//! while the call waits (here); from 2026-07-28 on, servers may not send requests, and the form
//! travels in the call's answer instead ([`super::rounds`]).
//!
//! Questions a tool of a served run asks the person behind it ([`llm_do_core::Ctx::ask`]; an
//! MCP server of the project asking by elicitation) are passed on the same way, before protocol
//! 2026-07-28: the tool's form, unchanged, with its message prefixed by who asks.

use llm_do_core::approval::{
    Answer, ApprovalRequest, Approver, Decision, Question as ToolQuestion,
};
use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
};
use rmcp::service::Peer;
use serde_json::{Value, json};
use std::time::Duration;

/// How long a person has by default to answer an approval question before the call is denied
/// ([`McpService::answer_timeout`](super::McpService::answer_timeout)).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// Whether a client with these capabilities can be asked by a form: it declared form
/// elicitation (or elicitation without modes, which means forms).
pub(crate) fn declares_forms(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities
        .and_then(|c| c.elicitation.as_ref())
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// Whether a client with these capabilities can be asked to open a page (URL-mode
/// elicitation).
pub(crate) fn declares_pages(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities.and_then(|c| c.elicitation.as_ref()).is_some_and(|e| e.url.is_some())
}

/// What one approval question is about.
pub(crate) struct Question<'a> {
    pub(crate) tool: &'a str,
    pub(crate) args: &'a Value,
    /// Who asked for the call: a worker, or the MCP client itself.
    pub(crate) asked_by: String,
    /// Why it needs approval (the policy's reason).
    pub(crate) reason: String,
}

impl<'a> Question<'a> {
    /// The question of a served call, asked by the MCP client itself.
    pub(crate) fn served(tool: &'a str, args: &'a Value, reason: String) -> Self {
        Question { tool, args, asked_by: "The MCP client".to_owned(), reason }
    }

    /// The question of a call inside a served call's run.
    pub(crate) fn nested(request: &'a ApprovalRequest) -> Self {
        Question {
            tool: &request.tool,
            args: &request.args,
            asked_by: format!(
                "The worker `{}` (depth {})",
                request.caller,
                request.depth.saturating_sub(1)
            ),
            reason: request.reason.to_string(),
        }
    }

    /// The form that asks it: a message naming the tool, why it needs approval, who asks, and
    /// the arguments (secrets redacted), and one required boolean, `approve`. `Err`: the denial
    /// when the form cannot be built.
    pub(crate) fn form(&self) -> Result<ElicitRequestParams, Decision> {
        let redacted = super::redactor().redact_json(self.args.clone());
        let args = serde_json::to_string_pretty(&redacted).unwrap_or_default();
        // What redaction hid, the call runs with: whoever approves must know.
        let hidden = if &redacted == self.args {
            String::new()
        } else {
            format!("\n{}", llm_do_core::secrets::HIDDEN_IN_ARGUMENTS)
        };
        let message = format!(
            "`{}` needs approval ({}). {} asks to call it with these arguments:\n{args}{hidden}\n\
             Approve this call (once)?",
            self.tool,
            super::redactor().redact(&self.reason),
            self.asked_by,
        );
        let form = json!({
            "type": "object",
            "properties": {
                "approve": {
                    "type": "boolean",
                    "title": "Approve",
                    "description": format!("Run `{}` once with these arguments", self.tool),
                }
            },
            "required": ["approve"],
        });
        let schema = form
            .as_object()
            .and_then(|form| ElicitationSchema::from_json_schema(form.clone()).ok())
            .ok_or_else(|| Decision::deny("the approval form could not be built"))?;
        Ok(ElicitRequestParams::FormElicitationParams {
            meta: None,
            message,
            requested_schema: schema,
        })
    }
}

/// What an answer to an approval form decides: only an accepted `approve: true` approves,
/// once.
pub(crate) fn decision_of(answer: &ElicitResult) -> Decision {
    match answer.action {
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
    }
}

/// Asks `peer` the question by an `elicitation/create` request; its answer as a [`Decision`].
pub(crate) async fn ask(
    peer: &Peer<RoleServer>,
    question: Question<'_>,
    timeout: Duration,
) -> Decision {
    let params = match question.form() {
        Ok(params) => params,
        Err(denied) => return denied,
    };
    match peer.create_elicitation_with_timeout(params, Some(timeout)).await {
        Ok(answer) => decision_of(&answer),
        Err(e) => Decision::deny(format!(
            "the MCP client could not be asked for approval: {}",
            super::redactor().redact(&e.to_string())
        )),
    }
}

/// The approver of one served call's run: asks the client that made the call about every
/// nested call that needs approval.
pub(crate) struct AskTheClient {
    pub(crate) peer: Peer<RoleServer>,
    /// How long each question waits for its answer.
    pub(crate) timeout: Duration,
    /// Whether the client can be asked to open a page.
    pub(crate) pages: bool,
}

impl Approver for AskTheClient {
    fn decide<'a>(
        &'a self,
        request: &'a ApprovalRequest,
    ) -> futures::future::BoxFuture<'a, Decision> {
        Box::pin(ask(&self.peer, Question::nested(request), self.timeout))
    }

    /// A question a tool of the run asks (an MCP server llm-do uses, say) is passed on to
    /// the client's person as a form of its own.
    fn answer<'a>(&'a self, question: &'a ToolQuestion) -> futures::future::BoxFuture<'a, Answer> {
        Box::pin(pass_on(&self.peer, question, self.timeout, self.pages))
    }
}

/// The form that asks a tool's question of the client's user: the tool's message, prefixed
/// with who asks (secrets redacted), and its form unchanged — or its page to open, when the
/// client can be asked to open pages (`pages`); `None` when it cannot be carried.
pub(crate) fn question_form(question: &ToolQuestion, pages: bool) -> Option<ElicitRequestParams> {
    let message =
        format!("`{}` asks: {}", question.asker, super::redactor().redact(&question.message));
    if let Some(page) = &question.page {
        return pages.then(|| ElicitRequestParams::UrlElicitationParams {
            meta: None,
            message,
            url: page.url.clone(),
            elicitation_id: uuid::Uuid::new_v4().simple().to_string(),
        });
    }
    let schema = question
        .schema
        .as_object()
        .and_then(|form| ElicitationSchema::from_json_schema(form.clone()).ok())?;
    Some(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema: schema,
    })
}

/// What the client's answer to a tool's question says, as an [`Answer`].
pub(crate) fn answer_of(result: ElicitResult) -> Answer {
    match result.action {
        ElicitationAction::Accept => Answer::accept(result.content.unwrap_or_default()),
        ElicitationAction::Decline => Answer::Decline,
        // Cancel, or an action of a later protocol.
        _ => Answer::Cancel,
    }
}

/// Asks `peer` a tool's question by an `elicitation/create` request ([`question_form`]). A
/// form rmcp cannot carry, no answer within `timeout` or a failed request is a dismissal
/// ([`Answer::Cancel`]).
async fn pass_on(
    peer: &Peer<RoleServer>,
    question: &ToolQuestion,
    timeout: Duration,
    pages: bool,
) -> Answer {
    let Some(params) = question_form(question, pages) else {
        return Answer::Cancel;
    };
    match peer.create_elicitation_with_timeout(params, Some(timeout)).await {
        Ok(result) => answer_of(result),
        Err(_) => Answer::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(args: Value) -> String {
        match Question::served("shell", &args, "a rule".to_owned()).form() {
            Ok(ElicitRequestParams::FormElicitationParams { message, .. }) => message,
            _ => panic!("no form"),
        }
    }

    #[test]
    fn a_question_whose_arguments_redaction_hid_says_so() {
        let hidden = message(json!({"command": "rm -rf Bearer important_dir"}));
        assert!(hidden.contains("\"rm -rf [redacted]\""), "{hidden}");
        assert!(hidden.contains(llm_do_core::secrets::HIDDEN_IN_ARGUMENTS), "{hidden}");
        let plain = message(json!({"command": "ls docs"}));
        assert!(plain.contains("\"ls docs\""), "{plain}");
        assert!(!plain.contains("warning"), "{plain}");
    }
}
