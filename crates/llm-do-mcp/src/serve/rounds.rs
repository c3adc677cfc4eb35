//! Approvals asked across rounds, for clients on MCP protocol 2026-07-28 or later, where a
//! server may not send requests (multi round-trip requests, SEP-2322).
//!
//! Such a client's call runs in a task of its own ([`Running`]). When the call needs approval
//! (the served call itself, before it starts, or a call inside its run), the `tools/call` is
//! answered with an `InputRequiredResult`: the approval form of each waiting question, keyed
//! `approval-N`, and a `requestState` that is an unguessable handle of the waiting call. The run
//! stays parked here while the client asks its user. The client then repeats the call (same
//! name, same arguments) with its answers (`inputResponses`) and the handle. The answers go to
//! the waiting questions and the run goes on, until it finishes (the call's result) or waits
//! for more answers (another round).
//!
//! Questions a tool of the run asks the person behind it ([`llm_do_core::Ctx::ask`]) travel the
//! same way, keyed `question-N`: the tool's form with its message prefixed by who asks. A
//! question left unanswered, or answered with something that is not an elicitation result, is
//! a dismissal.
//!
//! Bounds: a parked call waits at most the service's answer timeout, then its run is cancelled
//! and its handle forgotten. At most [`MAX_PARKED`] calls wait at once; a call past that is
//! refused. A handle serves one retry. A retry with an unknown or expired handle, or with a name
//! or arguments other than the parked call's, is a JSON-RPC error (`-32602`) and leaves the
//! parked call as it was. A question missing from the answers, or answered with something that
//! is not an elicitation result, is denied.

use super::call::{cancelled, refused};
use super::elicit::{Question, answer_of, decision_of, question_form};
use super::progress::{Relay, Target};
use llm_do_core::approval::{
    Answer, ApprovalRequest, Approver, Decision, Question as ToolQuestion,
};
use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ElicitRequest, ElicitRequestParams,
    ElicitResult, InputRequest, InputRequests, InputRequiredResult, JsonObject,
};
use serde::Deserialize as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// How many calls may wait for answers at once, across all clients of a service.
pub const MAX_PARKED: usize = 64;

/// One question a run waits on: its form and where its answer goes.
struct Asked {
    form: ElicitRequestParams,
    answer: Reply,
}

/// Where the answer to a question goes: an approval's decision, or a tool's question's answer.
enum Reply {
    Approval(oneshot::Sender<Decision>),
    Question(oneshot::Sender<Answer>),
}

impl Reply {
    /// The key of the `n`th question (from 1) of a round.
    fn key(&self, n: usize) -> String {
        match self {
            Reply::Approval(_) => format!("approval-{n}"),
            Reply::Question(_) => format!("question-{n}"),
        }
    }

    /// Sends what `given` (the client's answer, if any) says. The run may have been cancelled
    /// meanwhile; then nobody waits for it.
    fn send(self, given: Option<&serde_json::Value>) {
        let result = given.map(ElicitResult::deserialize);
        match self {
            Reply::Approval(answer) => {
                let _ = answer.send(match result {
                    Some(Ok(result)) => decision_of(&result),
                    Some(Err(_)) => {
                        Decision::deny("the MCP client's answer was not an elicitation result")
                    }
                    None => Decision::deny("not answered by the MCP client"),
                });
            }
            Reply::Question(answer) => {
                let _ = answer.send(match result {
                    Some(Ok(result)) => answer_of(result),
                    Some(Err(_)) | None => Answer::Cancel,
                });
            }
        }
    }
}

/// The approver of a run driven in rounds: hands each question to the call's handler and waits
/// for the answer.
#[derive(Clone)]
pub(crate) struct Asker {
    questions: mpsc::UnboundedSender<Asked>,
    /// Whether the client can be asked to open a page.
    pages: bool,
}

impl Asker {
    /// Asks `question` in the call's next answer; the decision its retry brings.
    pub(crate) async fn ask(&self, question: Question<'_>) -> Decision {
        let form = match question.form() {
            Ok(form) => form,
            Err(denied) => return denied,
        };
        let (answer, answered) = oneshot::channel();
        if self.questions.send(Asked { form, answer: Reply::Approval(answer) }).is_err() {
            return Decision::deny("the MCP client can no longer be asked");
        }
        answered.await.unwrap_or_else(|_| Decision::deny("not answered by the MCP client"))
    }

    /// Asks a tool's question in the call's next answer; what its retry brings (a dismissal
    /// when the form cannot be carried or the call is gone).
    async fn pass_on(&self, question: &ToolQuestion) -> Answer {
        let Some(form) = question_form(question, self.pages) else {
            return Answer::Cancel;
        };
        let (answer, answered) = oneshot::channel();
        if self.questions.send(Asked { form, answer: Reply::Question(answer) }).is_err() {
            return Answer::Cancel;
        }
        answered.await.unwrap_or(Answer::Cancel)
    }
}

impl Approver for Asker {
    fn decide<'a>(
        &'a self,
        request: &'a ApprovalRequest,
    ) -> futures::future::BoxFuture<'a, Decision> {
        Box::pin(self.ask(Question::nested(request)))
    }

    fn answer<'a>(&'a self, question: &'a ToolQuestion) -> futures::future::BoxFuture<'a, Answer> {
        Box::pin(self.pass_on(question))
    }
}

/// A served call running in a task of its own (cancelled when this is dropped), the questions
/// it asks, and where its progress goes.
pub(crate) struct Running {
    run: AbortOnDropHandle<CallToolResult>,
    questions: mpsc::UnboundedReceiver<Asked>,
    progress: Relay,
}

impl Running {
    /// Spawns the call's `body`, which asks its questions through the [`Asker`] it is given
    /// (`pages`: whether the client can be asked to open a page) and reports its progress to
    /// `progress`, already aimed at the first round's request.
    pub(crate) fn start<F, Fut>(pages: bool, progress: Relay, body: F) -> Self
    where
        F: FnOnce(Asker) -> Fut,
        Fut: Future<Output = CallToolResult> + Send + 'static,
    {
        let (questions, asked) = mpsc::unbounded_channel();
        let run = AbortOnDropHandle::new(tokio::spawn(body(Asker { questions, pages })));
        Self { run, questions: asked, progress }
    }
}

/// A call waiting for its client's answers.
struct Parked {
    tool: String,
    args: JsonObject,
    running: Running,
    questions: Vec<(String, Reply)>,
    expires: Instant,
}

/// The calls waiting for answers, by handle (shared by every session of a service).
#[derive(Clone, Default)]
pub(crate) struct Rounds {
    parked: Arc<Mutex<HashMap<String, Parked>>>,
}

impl Rounds {
    /// Drives `running`, the call of `tool` with `args`, until it finishes (its result), waits
    /// for answers (it is parked; the questions and its handle), or the client cancels it.
    pub(crate) async fn drive(
        &self,
        tool: String,
        args: JsonObject,
        mut running: Running,
        ct: &CancellationToken,
        timeout: Duration,
    ) -> Result<CallToolResponse, ErrorData> {
        let mut asking = true;
        let progress = running.progress.clone();
        let reply = loop {
            tokio::select! {
                () = ct.cancelled() => break Err(cancelled(&tool)),
                asked = running.questions.recv(), if asking => match asked {
                    Some(first) => break Ok(self.park(tool, args, running, first, timeout)),
                    None => asking = false,
                },
                result = &mut running.run => break Ok(match result {
                    Ok(result) => result,
                    Err(e) => refused(format!("the call of `{tool}` did not finish: {e}")),
                }.into()),
            }
        };
        // This round's reports go out before its reply; the next round's to its own request.
        progress.finish_request().await;
        reply
    }

    /// Parks the call with `first` and every other question already asked; the
    /// `InputRequiredResult` that asks them.
    fn park(
        &self,
        tool: String,
        args: JsonObject,
        mut running: Running,
        first: Asked,
        timeout: Duration,
    ) -> CallToolResponse {
        let mut asked = vec![first];
        while let Ok(more) = running.questions.try_recv() {
            asked.push(more);
        }
        let mut forms = InputRequests::new();
        let mut questions = Vec::with_capacity(asked.len());
        for (n, Asked { form, answer }) in asked.into_iter().enumerate() {
            let key = answer.key(n + 1);
            forms.insert(key.clone(), InputRequest::Elicitation(ElicitRequest::new(form)));
            questions.push((key, answer));
        }
        let handle = uuid::Uuid::new_v4().simple().to_string();
        let now = Instant::now();
        {
            let mut parked = self.lock();
            parked.retain(|_, p| p.expires > now);
            if parked.len() >= MAX_PARKED {
                // `running` is dropped: the run is cancelled.
                return refused(format!(
                    "`{tool}` needs approval, and {MAX_PARKED} calls are already waiting for \
                     their approval answers on this MCP server; it did not run. Answer those, \
                     or call it again later"
                ))
                .into();
            }
            let expires = crate::server::deadline(timeout);
            parked.insert(handle.clone(), Parked { tool, args, running, questions, expires });
        }
        // When the time is up, the call is forgotten and its run cancelled.
        let rounds = self.clone();
        let expired = handle.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            rounds.lock().remove(&expired);
        });
        InputRequiredResult::new(Some(forms), Some(handle)).into()
    }

    /// Goes on with the call parked under `handle`: the retry's answers decide its questions,
    /// and it is driven again.
    pub(crate) async fn resume(
        &self,
        handle: &str,
        retry: CallToolRequestParams,
        progress: Option<Target>,
        ct: &CancellationToken,
        timeout: Duration,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = retry.arguments.unwrap_or_default();
        let parked = {
            let mut parked = self.lock();
            let unknown = match parked.get(handle) {
                Some(p) if p.expires <= Instant::now() => true,
                Some(p) if p.tool != retry.name || p.args != args => {
                    return Err(ErrorData::invalid_params(
                        format!(
                            "this `requestState` belongs to a call of `{}` with other arguments; a \
                             retry repeats the call it answers",
                            p.tool.escape_debug()
                        ),
                        None,
                    ));
                }
                Some(_) => false,
                None => true,
            };
            match parked.remove(handle) {
                Some(p) if !unknown => p,
                _ => {
                    return Err(ErrorData::invalid_params(
                        format!(
                            "no call is waiting for answers under this `requestState`: it is \
                             unknown, already answered, or expired (questions wait {timeout:?}); \
                             call `{}` again",
                            retry.name.escape_debug()
                        ),
                        None,
                    ));
                }
            }
        };
        parked.running.progress.aim(progress);
        let answers = retry.input_responses.unwrap_or_default();
        for (key, answer) in parked.questions {
            answer.send(answers.get(&key));
        }
        self.drive(parked.tool, parked.args, parked.running, ct, timeout).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Parked>> {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
