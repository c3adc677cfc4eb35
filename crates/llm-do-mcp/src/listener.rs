//! The client side's handler of what a server sends unasked: `tools/list_changed`; progress on
//! a call, reported by the call whose progress token it carries
//! ([`llm_do_core::Ctx::report_progress`]); and
//! elicitation — a server's question for the person behind the run, passed to the approver of
//! the call it arrives during ([`llm_do_core::Ctx::ask`]).
//!
//! From protocol 2026-07-28 on, a question comes back as a round of the call it belongs to and
//! is put to that call ([`put`], from the toolset's call). Before, it is a request of its own,
//! and MCP links it to the call it serves only on some transports, so it is put to the call
//! that has been in flight longest on this server, at most [`MAX_QUESTIONS_PER_CALL`] times
//! (later ones are declined). With no call to put it to (a question
//! outside any call, or during a direct [`McpToolset::call`](crate::McpToolset::call)), it is
//! declined. A question by URL (`mode: "url"`: a payment, a sign-in) is put to the person as a
//! page to open ([`llm_do_core::Ctx::ask_to_open`]): its address and site are shown, and
//! llm-do never opens it.

use llm_do_core::Ctx;
use llm_do_core::approval::Answer;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    Implementation, ProgressNotificationParam, ProgressToken, ProtocolVersion,
    UrlElicitationCapability,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The client side's handler: notes `tools/list_changed` and answers elicitations.
#[derive(Clone)]
pub(crate) struct Listener {
    pub(crate) stale: Arc<AtomicBool>,
    pub(crate) askers: Arc<Askers>,
    /// The server's name, for logs.
    pub(crate) server: Arc<str>,
    /// The revision asked for by `initialize` (when the connection starts with it).
    pub(crate) handshake: ProtocolVersion,
}

/// At most this many questions sent as requests (before protocol 2026-07-28) are put to the
/// person behind one call: as many as a call in rounds may ask (its most requests in each of
/// its most rounds). Later ones are declined without asking, so that a server cannot keep a
/// person answering without end.
pub(crate) const MAX_QUESTIONS_PER_CALL: usize =
    crate::toolset::MAX_REQUESTS_PER_ROUND * crate::toolset::MAX_ROUNDS;

/// The calls in flight on one server, each with the context its questions are asked through
/// and how many questions were put to it.
#[derive(Default)]
pub(crate) struct Askers {
    next: AtomicU64,
    calls: Mutex<Vec<(u64, Ctx, usize)>>,
    progress: Mutex<Progress>,
}

/// Where a server's progress notifications go. One lock for both parts, so that a report
/// kept early and one that comes while its token starts to be followed keep their order.
#[derive(Default)]
struct Progress {
    /// The progress tokens of the requests in flight: each with its call's context and the
    /// last progress reported for it.
    tokens: Vec<(ProgressToken, Ctx, Option<f64>)>,
    /// Progress that came before its request's token was followed (a server may report at
    /// once, before the request is handed back): kept briefly, at most [`EARLY`].
    early: VecDeque<(Instant, ProgressNotificationParam)>,
}

impl Progress {
    /// Reports `params` by the call following its token, unless it does not grow past the
    /// last report of that token: the protocol has progress grow, and rmcp hands each
    /// notification to its own task, so one may overtake another; the later one has it.
    /// False when no call follows the token.
    fn report(&mut self, params: &ProgressNotificationParam) -> bool {
        let Some((_, ctx, last)) =
            self.tokens.iter_mut().find(|(t, ..)| *t == params.progress_token)
        else {
            return false;
        };
        if last.is_none_or(|last| params.progress > last) {
            *last = Some(params.progress);
            ctx.report_progress(params.progress, params.total, params.message.as_deref());
        }
        true
    }
}

/// At most this many early progress notifications are kept, each at most [`EARLY_FOR`].
const EARLY: usize = 64;
const EARLY_FOR: Duration = Duration::from_secs(2);

/// Who a question sent as a request goes to.
enum NextAsker {
    /// The person behind this call.
    Call(Ctx),
    /// No call is in flight: nobody (it is declined).
    NoCall,
    /// Nobody: the call in flight longest was asked [`MAX_QUESTIONS_PER_CALL`] already.
    TooMany,
}

/// A call's place among the [`Askers`], given up when dropped.
pub(crate) struct Asking {
    askers: Arc<Askers>,
    id: u64,
    ctx: Ctx,
}

impl Askers {
    /// Notes a call in flight, until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>, ctx: Ctx) -> Asking {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, ctx.clone(), 0));
        Asking { askers: self.clone(), id, ctx }
    }

    /// Who a question sent as a request is put to: the call in flight longest, unless
    /// [`MAX_QUESTIONS_PER_CALL`] were put to it already.
    fn next_asker(&self) -> NextAsker {
        let mut calls = self.lock();
        match calls.first_mut() {
            None => NextAsker::NoCall,
            Some((.., asked)) if *asked >= MAX_QUESTIONS_PER_CALL => NextAsker::TooMany,
            Some((_, ctx, asked)) => {
                *asked += 1;
                NextAsker::Call(ctx.clone())
            }
        }
    }

    /// Reports `params` by the call whose request in flight has its progress token, or keeps it
    /// for a request not yet followed.
    fn progress(&self, params: ProgressNotificationParam) {
        let mut progress = self.progress_lock();
        if !progress.report(&params) {
            let early = &mut progress.early;
            early.retain(|(at, _)| at.elapsed() < EARLY_FOR);
            if early.len() == EARLY {
                early.pop_front();
            }
            early.push_back((Instant::now(), params));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Ctx, usize)>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn progress_lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Asking {
    /// The context of the call.
    pub(crate) fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Reports the server's progress notifications that carry `token` (a request of this
    /// call) by the call ([`Ctx::report_progress`]), until the returned guard is dropped.
    pub(crate) fn follow(&self, token: ProgressToken) -> Following {
        let mut progress = self.askers.progress_lock();
        progress.tokens.push((token.clone(), self.ctx.clone(), None));
        // What came before: reported now, in order.
        let (mine, others): (VecDeque<_>, _) = std::mem::take(&mut progress.early)
            .into_iter()
            .partition(|(at, p)| p.progress_token == token && at.elapsed() < EARLY_FOR);
        progress.early = others;
        for (_, params) in mine {
            progress.report(&params);
        }
        Following { askers: self.askers.clone(), token }
    }
}

/// A request's progress token followed, until dropped.
pub(crate) struct Following {
    askers: Arc<Askers>,
    token: ProgressToken,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.askers.progress_lock().tokens.retain(|(t, ..)| *t != self.token);
    }
}

impl Drop for Asking {
    fn drop(&mut self) {
        self.askers.lock().retain(|(id, ..)| *id != self.id);
    }
}

fn answer(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
    let result = ElicitResult::new(action);
    match content {
        Some(content) => result.with_content(content),
        None => result,
    }
}

/// Puts a server's question to the person behind the run of `asker`, the call it belongs to: a
/// form is asked through [`Ctx::ask`]; a question by URL, or one with no call to ask through,
/// is declined. The error: a form llm-do cannot ask, an answer that does not fit it, a
/// cancelled run.
pub(crate) async fn put(
    server: &str,
    asker: Option<Ctx>,
    request: ElicitRequestParams,
) -> llm_do_core::Result<ElicitResult> {
    let Some(ctx) = asker else {
        tracing::info!(target: "llm_do_mcp", server, "declined a question asked outside any call");
        return Ok(answer(ElicitationAction::Decline, None));
    };
    let answered = match request {
        ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } => {
            let form = serde_json::to_value(&requested_schema).map_err(|e| {
                let message = format!("the form could not be read: {e}");
                llm_do_core::Error::InvalidArguments { name: server.to_owned(), message }
            })?;
            ctx.ask(message, form).await?
        }
        // A page to open (a payment, a sign-in): shown to the person, never opened by llm-do.
        ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
            ctx.ask_to_open(message, url).await?
        }
        _ => {
            tracing::info!(target: "llm_do_mcp", server, "declined a question of an unknown mode");
            return Ok(answer(ElicitationAction::Decline, None));
        }
    };
    Ok(match answered {
        Answer::Accept { content } => {
            answer(ElicitationAction::Accept, Some(Value::Object(content)))
        }
        Answer::Decline => answer(ElicitationAction::Decline, None),
        Answer::Cancel => answer(ElicitationAction::Cancel, None),
    })
}

impl ClientHandler for Listener {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// A server's progress on a call: reported by the call whose token it carries.
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.askers.progress(params);
    }

    /// A question sent as a request while a call runs (before protocol 2026-07-28): put to
    /// the call in flight longest on this server.
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let asker = match self.askers.next_asker() {
            NextAsker::Call(ctx) => Some(ctx),
            NextAsker::NoCall => None,
            NextAsker::TooMany => {
                tracing::warn!(
                    target: "llm_do_mcp",
                    server = &*self.server,
                    "declined a question: {MAX_QUESTIONS_PER_CALL} were asked during this call"
                );
                return Ok(answer(ElicitationAction::Decline, None));
            }
        };
        put(&self.server, asker, request).await.map_err(|e| {
            // A form llm-do cannot ask, an answer that does not fit it, a cancelled run.
            ErrorData::invalid_params(format!("the question could not be answered: {e}"), None)
        })
    }

    fn get_info(&self) -> ClientConfig {
        // Forms, whose answers llm-do checks against the form before sending them, and pages
        // to open.
        let mut capabilities = ClientCapabilities::builder()
            .enable_elicitation()
            .enable_elicitation_schema_validation()
            .build();
        if let Some(elicitation) = capabilities.elicitation.as_mut() {
            elicitation.url = Some(UrlElicitationCapability::new());
        }
        let me = Implementation::new("llm-do", env!("CARGO_PKG_VERSION"));
        ClientConfig::new(capabilities, me).with_protocol_version(self.handshake.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do_core::{EventKind, EventLog, Runtime};
    use rmcp::model::NumberOrString;

    fn params(token: i64, progress: f64) -> ProgressNotificationParam {
        ProgressNotificationParam::new(ProgressToken(NumberOrString::Number(token)), progress)
    }

    fn reported(log: &EventLog) -> Vec<f64> {
        log.events()
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Progress { progress, .. } => Some(progress),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn progress_is_reported_by_the_call_following_its_token_in_order_and_growing() {
        let log = EventLog::new();
        let askers = Arc::new(Askers::default());
        let inside = askers.clone();
        // A call's context, as a tool's handler has it (a run's root reports nothing).
        let tool = llm_do_core::ToolSpecBuilder::new("t")
            .handler(move |ctx, _| {
                let askers = inside.clone();
                async move {
                    let asking = askers.enter(ctx);
                    askers.progress(params(7, 1.0)); // before the request is handed back
                    askers.progress(params(8, 9.0)); // another request's
                    let following = asking.follow(ProgressToken(NumberOrString::Number(7)));
                    askers.progress(params(7, 2.0));
                    askers.progress(params(7, 1.5)); // overtaken by 2.0: never reported
                    askers.progress(params(7, 2.5));
                    drop(following);
                    askers.progress(params(7, 3.0)); // after the request: never reported
                    Ok(serde_json::json!(null))
                }
            })
            .build();
        let rt = Runtime::builder().register(tool).subscribe(log.clone()).build();
        rt.ctx().call::<Value>("t", serde_json::json!({})).await.unwrap();
        assert_eq!(reported(&log), [1.0, 2.0, 2.5]);
        // The early ones are bounded.
        for n in 0..1000 {
            askers.progress(params(100 + n, 1.0));
        }
        assert_eq!(askers.progress_lock().early.len(), EARLY);
    }
}
