//! One `tools/call` of a served tool: the tool and its arguments checked and put in the form
//! the gate of a model's call gives them
//! ([`Runtime::gated_args`](llm_do_core::Runtime::gated_args): a worker's attachment paths
//! resolved too), the approval policy's verdict on that form, the question to the client when
//! it needs one (by request or across rounds), the run's progress passed on when the client
//! asked for it, and the run (with that form), as a tool result.

use super::elicit::{self, Question};
use super::progress::{Relay, Target};
use super::{McpService, object_schema, rounds};
use llm_do_core::approval::{ArgsRefused, Decision, Verdict};
use llm_do_core::{CallableSpec, Ctx, RunOptions};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ProtocolVersion,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::Value;
use std::sync::Arc;

impl McpService {
    /// How the approvals of a call from the client of `context` are asked.
    fn asking(&self, context: &RequestContext<RoleServer>) -> Asking {
        if !self.elicit_approvals || self.approve_all {
            return Asking::Nobody;
        }
        if !elicit::declares_forms(context.client_capabilities().as_ref()) {
            return Asking::Nobody;
        }
        match context.protocol_version() {
            Some(v) if v >= ProtocolVersion::V_2026_07_28 => Asking::InRounds,
            Some(_) => Asking::ByRequest,
            None => Asking::Nobody,
        }
    }

    pub(super) async fn run(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let asking = self.asking(&context);
        if let Some(handle) = request.request_state.clone() {
            if asking != Asking::InRounds {
                return Err(ErrorData::invalid_params(
                    "`requestState` was given, but this server asks this client nothing across \
                     rounds; call the tool without it",
                    None,
                ));
            }
            let progress = Target::of(&context);
            return self
                .rounds
                .resume(&handle, request, progress, &context.ct, self.answer_timeout)
                .await;
        }
        let name = request.name.as_ref();
        let Some(spec) = self.served(name).cloned() else {
            let known: Vec<&str> = self.rt.registry().names().filter(|n| self.exposes(n)).collect();
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{}`; the tools are: {}",
                    name.escape_debug(),
                    known.join(", ")
                ),
                None,
            ));
        };
        let args = Value::Object(request.arguments.unwrap_or_default());
        if let Err(e) = spec.validate_input(&args) {
            return Err(ErrorData::invalid_params(e.to_string(), None));
        }
        // What a retry must repeat: the arguments as the client gave them (a copy kept only
        // for calls asked across rounds).
        let given =
            (asking == Asking::InRounds).then(|| args.as_object().cloned().unwrap_or_default());
        // From here on, the arguments as the gate of a model's call sees them: the policy
        // gets the canonical form (for file tools, paths resolved in the sandbox; for a
        // worker, its attachment paths resolved by the runtime's loader), never the client's
        // spelling; the question and the run get the form the call runs with (the same,
        // except for the shell, which runs its command as written).
        let gated = match self.rt.gated_args(&spec, args) {
            Ok(gated) => gated,
            Err(ArgsRefused::Forbidden(why)) => {
                return Ok(refused(format!(
                    "permission denied: the call to `{name}` was refused ({why}); no approval \
                     can allow it, and it did not run"
                ))
                .into());
            }
            Err(refusal) => {
                return Ok(refused(format!(
                    "the call to `{name}` was refused: {refusal}; it did not run"
                ))
                .into());
            }
        };
        let (verdict, reason) = self.policy.evaluate_gated(&spec, &gated);
        let args = gated.into_run();
        // The question about the served call itself, when it needs one.
        let ask_first = match verdict {
            Verdict::Allow => None,
            Verdict::Ask if self.approve_all => None,
            Verdict::Ask if asking != Asking::Nobody => Some(reason.to_string()),
            Verdict::Ask => {
                let why = if self.elicit_approvals {
                    "has no one to ask (the client does not support form elicitation)"
                } else {
                    "does not ask its clients (approvals by elicitation are off)"
                };
                return Ok(refused(format!(
                    "permission denied: `{name}` needs approval ({reason}) and this MCP server \
                     {why}; it did not run. The server's operator can allow it with an approval \
                     rule or start the server with --approve-all"
                ))
                .into());
            }
            Verdict::Deny => {
                return Ok(refused(format!(
                    "permission denied: the call to `{name}` was denied ({reason}); it did not run"
                ))
                .into());
            }
        };
        let mut options = RunOptions::new().limits(self.limits_of(name));
        let timeout = self.answer_timeout;
        let pages = elicit::declares_pages(context.client_capabilities().as_ref());
        let progress = Target::of(&context);
        match asking {
            Asking::InRounds => {
                let arguments = given.unwrap_or_default();
                let rt = self.rt.clone();
                // A later round may ask for progress when the first did not.
                let relay = Relay::new(progress);
                let options = options.subscribe(relay.clone());
                let running = rounds::Running::start(pages, relay, move |asker| async move {
                    if let Some(reason) = ask_first {
                        let decision =
                            asker.ask(Question::served(spec.name(), &args, reason)).await;
                        if let Some(refusal) = not_approved(spec.name(), decision) {
                            return refusal;
                        }
                    }
                    execute(&rt.ctx_with(options.approver(asker)), &spec, args).await
                });
                self.rounds.drive(name.to_owned(), arguments, running, &context.ct, timeout).await
            }
            Asking::ByRequest | Asking::Nobody => {
                let relay = progress.map(|target| Relay::new(Some(target)));
                if let Some(relay) = &relay {
                    options = options.subscribe(relay.clone());
                }
                if asking == Asking::ByRequest {
                    if let Some(reason) = ask_first {
                        let question = Question::served(name, &args, reason);
                        let decision = elicit::ask(&context.peer, question, timeout).await;
                        if let Some(refusal) = not_approved(name, decision) {
                            return Ok(refusal.into());
                        }
                    }
                    let peer = context.peer.clone();
                    options = options.approver(elicit::AskTheClient { peer, timeout, pages });
                }
                let ctx = self.rt.ctx_with(options);
                let result = tokio::select! {
                    result = execute(&ctx, &spec, args) => Ok(result.into()),
                    () = context.ct.cancelled() => Err(cancelled(name)),
                };
                if let Some(relay) = relay {
                    relay.finish_request().await;
                }
                result
            }
        }
    }
}

/// How the approvals of a served call are asked of its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asking {
    /// They cannot be: a call that needs approval is refused.
    Nobody,
    /// By `elicitation/create` requests while the call waits (before protocol 2026-07-28).
    ByRequest,
    /// In the call's answers, the call parked between rounds (protocol 2026-07-28 on).
    InRounds,
}

/// The served call's run on `ctx`, as a tool result.
async fn execute(ctx: &Ctx, spec: &Arc<CallableSpec>, args: Value) -> CallToolResult {
    match ctx.call_spec(spec, args).await {
        Ok(value) => success(spec, value),
        Err(e) => refused(e.to_string()),
    }
}

/// The refusal of a call of `tool` whose approval was not given, if it was not.
fn not_approved(tool: &str, decision: Decision) -> Option<CallToolResult> {
    match decision {
        Decision::ApproveOnce | Decision::ApproveForSession => None,
        Decision::Deny { reason } | Decision::DenyAndAbort { reason } => {
            let why = reason.unwrap_or_else(|| "denied".to_owned());
            Some(refused(format!(
                "permission denied: the call to `{tool}` was not approved ({why}); it did not run"
            )))
        }
    }
}

/// The error of a call its client cancelled.
pub(super) fn cancelled(tool: &str) -> ErrorData {
    ErrorData::internal_error(format!("the call of `{tool}` was cancelled by the client"), None)
}

/// A tool error saying why the call did not run or failed, secrets redacted and cut to the
/// cap (an error may quote a model's whole answer, a provider's or a server's stderr): see
/// [`outgoing_error`](super::outgoing_error).
pub(super) fn refused(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(super::outgoing_error(&message))])
}

/// A tool's value as a result: its text, and for an object schema its structured content,
/// secrets redacted from both (strings stay strings, so the value keeps its shape), and bounded
/// as errors are: text longer than [`MAX_RESULT_CHARS`](crate::MAX_RESULT_CHARS) characters is
/// cut, with a note saying how much ([`capped`](crate::result::capped)). Structured content
/// cut would not match the tool's output schema, and without it a client refuses a success of
/// a tool that has one: a value whose JSON is too long is sent as a tool error instead, saying
/// so, with that JSON cut.
fn success(spec: &CallableSpec, value: Value) -> CallToolResult {
    let value = super::redactor().redact_json(value);
    let text = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let structured = object_schema(spec.output_schema()).is_some();
    if structured && crate::result::too_long(&text) {
        let intro = format!(
            "the result of `{}` is not sent: its JSON is longer than the {} characters an MCP \
             result may have (its output schema does not allow it cut); it starts:\n",
            spec.name(),
            crate::MAX_RESULT_CHARS
        );
        let cut = crate::result::capped(text, "result cut: longer than");
        return CallToolResult::error(vec![ContentBlock::text(intro + &cut)]);
    }
    let text = crate::result::capped(text, "result cut: longer than");
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    if structured {
        result.structured_content = Some(value);
    }
    result
}
