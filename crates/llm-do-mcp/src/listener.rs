//! The client side's handler of what a server sends unasked: `tools/list_changed`, and
//! elicitation — a server's question for the person behind the run, passed to the approver of
//! the call it arrives during ([`llm_do_core::Ctx::ask`]).
//!
//! MCP links a server's request to the call it serves only on some transports, so a question
//! is put to the call that has been in flight longest on this server; with no call in flight
//! (a question outside any call, or a direct [`McpToolset::call`](crate::McpToolset::call)),
//! it is declined. Questions by URL (`mode: "url"`) are declined: llm-do does not send a
//! person to a server's web page.

use llm_do_core::Ctx;
use llm_do_core::approval::Answer;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    Implementation,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The client side's handler: notes `tools/list_changed` and answers elicitations.
#[derive(Clone)]
pub(crate) struct Listener {
    pub(crate) stale: Arc<AtomicBool>,
    pub(crate) askers: Arc<Askers>,
    /// The server's name, for logs.
    pub(crate) server: Arc<str>,
}

/// The calls in flight on one server, each with the context its questions are asked through.
#[derive(Default)]
pub(crate) struct Askers {
    next: AtomicU64,
    calls: Mutex<Vec<(u64, Ctx)>>,
}

/// A call's place among the [`Askers`], given up when dropped.
pub(crate) struct Asking {
    askers: Arc<Askers>,
    id: u64,
}

impl Askers {
    /// Notes a call in flight, until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>, ctx: Ctx) -> Asking {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, ctx));
        Asking { askers: self.clone(), id }
    }

    /// The context of the call in flight longest, if any.
    fn current(&self) -> Option<Ctx> {
        self.lock().first().map(|(_, ctx)| ctx.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Ctx)>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Asking {
    fn drop(&mut self) {
        self.askers.lock().retain(|(id, _)| *id != self.id);
    }
}

fn answer(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
    let result = ElicitResult::new(action);
    match content {
        Some(content) => result.with_content(content),
        None => result,
    }
}

impl ClientHandler for Listener {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.stale.store(true, Ordering::SeqCst);
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = request
        else {
            tracing::info!(target: "llm_do_mcp", server = %self.server, "declined a question by URL");
            return Ok(answer(ElicitationAction::Decline, None));
        };
        let Some(ctx) = self.askers.current() else {
            tracing::info!(target: "llm_do_mcp", server = %self.server, "declined a question asked outside any call");
            return Ok(answer(ElicitationAction::Decline, None));
        };
        let form = serde_json::to_value(&requested_schema).map_err(|e| {
            ErrorData::internal_error(format!("the form could not be read: {e}"), None)
        })?;
        match ctx.ask(message, form).await {
            Ok(Answer::Accept { content }) => {
                Ok(answer(ElicitationAction::Accept, Some(Value::Object(content))))
            }
            Ok(Answer::Decline) => Ok(answer(ElicitationAction::Decline, None)),
            Ok(Answer::Cancel) => Ok(answer(ElicitationAction::Cancel, None)),
            // A form llm-do cannot ask, an answer that does not fit it, a cancelled run.
            Err(e) => Err(ErrorData::invalid_params(
                format!("the question could not be answered: {e}"),
                None,
            )),
        }
    }

    fn get_info(&self) -> ClientConfig {
        // Forms only, and llm-do checks every answer against its form before sending it.
        let capabilities = ClientCapabilities::builder()
            .enable_elicitation()
            .enable_elicitation_schema_validation()
            .build();
        ClientConfig::new(capabilities, Implementation::new("llm-do", env!("CARGO_PKG_VERSION")))
    }
}
