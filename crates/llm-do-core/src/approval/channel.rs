//! [`ChannelApprover`]: approvals (and questions) forwarded over channels, for UIs and servers.

use super::approver::{ApprovalRequest, Approver, Decision};
use super::question::{Answer, Question};
use futures::channel::{mpsc, oneshot};
use futures::future::BoxFuture;
use futures::{SinkExt as _, StreamExt as _};

/// Forwards approval requests over a channel, for UIs and servers: the other side receives
/// [`PendingApproval`]s and answers each one — and, when made
/// [`with_questions`](Self::with_questions), the questions tools ask ([`PendingQuestion`]s).
///
/// If the receiving side is gone, or drops a request unanswered, the call is denied (a question
/// is dismissed). Without a question channel, questions are declined.
///
/// ```
/// use llm_do_core::approval::{ChannelApprover, Decision};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (approver, mut requests) = ChannelApprover::new(16);
/// tokio::spawn(async move {
///     while let Some(pending) = requests.next().await {
///         let ok = pending.request().tool == "read_file";
///         pending.answer(if ok { Decision::ApproveOnce } else { Decision::deny("read-only session") });
///     }
/// });
/// let rt = llm_do_core::Runtime::builder().approver(approver).build();
/// # let _ = rt;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ChannelApprover {
    tx: mpsc::Sender<PendingApproval>,
    questions: Option<mpsc::Sender<PendingQuestion>>,
}

/// The receiving side of a [`ChannelApprover`].
#[derive(Debug)]
pub struct ApprovalReceiver {
    rx: mpsc::Receiver<PendingApproval>,
}

/// One request received from a [`ChannelApprover`]; answer it with [`PendingApproval::answer`].
#[derive(Debug)]
pub struct PendingApproval {
    request: ApprovalRequest,
    reply: oneshot::Sender<Decision>,
}

impl ChannelApprover {
    /// A channel approver with room for `capacity` unanswered requests.
    ///
    /// ```
    /// use llm_do_core::approval::{Answer, Approver, ChannelApprover, Question};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, _requests) = ChannelApprover::new(8);
    /// // It forwards approval requests only: the questions tools ask are declined.
    /// let question = Question::new("greet", "Who are you?", serde_json::json!({"type": "object"}));
    /// assert_eq!(approver.answer(&question).await, Answer::Decline);
    /// # }
    /// ```
    pub fn new(capacity: usize) -> (Self, ApprovalReceiver) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self { tx, questions: None }, ApprovalReceiver { rx })
    }

    /// A channel approver that forwards the questions tools ask too, on a channel of their own
    /// with room for `capacity` unanswered questions.
    ///
    /// ```
    /// use llm_do_core::approval::{Answer, ChannelApprover, Decision};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, mut requests, mut questions) = ChannelApprover::with_questions(16);
    /// tokio::spawn(async move {
    ///     while let Some(pending) = requests.next().await {
    ///         pending.answer(Decision::ApproveOnce);
    ///     }
    /// });
    /// tokio::spawn(async move {
    ///     while let Some(pending) = questions.next().await {
    ///         // A UI would show `pending.question().message` and its form.
    ///         pending.answer(Answer::Decline);
    ///     }
    /// });
    /// let rt = llm_do_core::Runtime::builder().approver(approver).build();
    /// # let _ = rt;
    /// # }
    /// ```
    pub fn with_questions(capacity: usize) -> (Self, ApprovalReceiver, QuestionReceiver) {
        let (approver, requests) = Self::new(capacity);
        let (tx, rx) = mpsc::channel(capacity);
        (Self { questions: Some(tx), ..approver }, requests, QuestionReceiver { rx })
    }
}

impl Approver for ChannelApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            let mut tx = self.tx.clone();
            let pending = PendingApproval { request: request.clone(), reply };
            if tx.send(pending).await.is_err() {
                return Decision::deny("the approval channel is closed");
            }
            answer
                .await
                .unwrap_or_else(|_| Decision::deny("the approval request was dropped unanswered"))
        })
    }

    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let Some(tx) = &self.questions else { return Answer::Decline };
            let (reply, answer) = oneshot::channel();
            let pending = PendingQuestion { question: question.clone(), reply };
            if tx.clone().send(pending).await.is_err() {
                return Answer::Cancel;
            }
            answer.await.unwrap_or(Answer::Cancel)
        })
    }
}

impl ApprovalReceiver {
    /// The next request, or `None` when every approver clone is gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, mut requests) = llm_do_core::approval::ChannelApprover::new(1);
    /// drop(approver);
    /// assert!(requests.next().await.is_none());
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<PendingApproval> {
        self.rx.next().await
    }
}

impl PendingApproval {
    /// What is asked.
    ///
    /// ```
    /// use llm_do_core::approval::{ChannelApprover, Decision, Verdict};
    /// use llm_do_core::{Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # /// Calls the first tool it is offered, then answers with what the call gave.
    /// # struct UsesTool;
    /// # impl llm_do_core::Model for UsesTool {
    /// #     fn request<'a>(&'a self, req: &'a llm_do_core::ModelRequest) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>> {
    /// #         use llm_do_core::{Message, ModelResponse, ToolCall};
    /// #         let result = req.messages.iter().find_map(|m| match m { Message::Tool(r) => Some(r.content.clone()), _ => None });
    /// #         let answer = match result {
    /// #             Some(result) => ModelResponse::text(result),
    /// #             None => ModelResponse::tool_calls(vec![ToolCall::raw("1", &req.tools[0].name, "{}")]),
    /// #         };
    /// #         Box::pin(async move { Ok(answer) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let wipe = ToolSpecBuilder::new("wipe").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok("wiped".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("wipe").build()?;
    /// let (approver, mut requests) = ChannelApprover::new(1);
    /// let rt = Runtime::builder().model_override(UsesTool).register(wipe).register(main)
    ///     .approver(approver).build();
    /// let decide = async {
    ///     let pending = requests.next().await.unwrap();
    ///     assert_eq!(pending.request().call_path, ["main", "wipe"]);
    ///     pending.answer(Decision::ApproveOnce);
    /// };
    /// // `main`'s model calls `wipe`, which asks.
    /// let ctx = rt.ctx();
    /// let (answer, ()) = futures::join!(ctx.call_value("main", serde_json::json!({})), decide);
    /// assert_eq!(answer?, "wiped");
    /// # Ok(())
    /// # }
    /// ```
    pub fn request(&self) -> &ApprovalRequest {
        &self.request
    }

    /// Answers; if the call was cancelled meanwhile, the answer is dropped.
    ///
    /// ```
    /// use llm_do_core::approval::{ChannelApprover, Decision, Verdict};
    /// use llm_do_core::{Runtime, ToolSpecBuilder, WorkerSpecBuilder};
    /// # /// Calls the first tool it is offered, then answers with what the call gave.
    /// # struct UsesTool;
    /// # impl llm_do_core::Model for UsesTool {
    /// #     fn request<'a>(&'a self, req: &'a llm_do_core::ModelRequest) -> futures::future::BoxFuture<'a, Result<llm_do_core::ModelResponse, llm_do_core::ModelError>> {
    /// #         use llm_do_core::{Message, ModelResponse, ToolCall};
    /// #         let result = req.messages.iter().find_map(|m| match m { Message::Tool(r) => Some(r.content.clone()), _ => None });
    /// #         let answer = match result {
    /// #             Some(result) => ModelResponse::text(result),
    /// #             None => ModelResponse::tool_calls(vec![ToolCall::raw("1", &req.tools[0].name, "{}")]),
    /// #         };
    /// #         Box::pin(async move { Ok(answer) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let wipe = ToolSpecBuilder::new("wipe").approval(Verdict::Ask)
    ///     .handler(|_, _| async { Ok("wiped".into()) }).build();
    /// let main = WorkerSpecBuilder::new("main").prompt("Go").tool_name("wipe").build()?;
    /// let (approver, mut requests) = ChannelApprover::new(1);
    /// let rt = Runtime::builder().model_override(UsesTool).register(wipe).register(main)
    ///     .approver(approver).build();
    /// let decide = async { requests.next().await.unwrap().answer(Decision::deny("read-only session")) };
    /// // `main`'s model calls `wipe`, which asks; the model is told the denial and why.
    /// let ctx = rt.ctx();
    /// let (answer, ()) = futures::join!(ctx.call_value("main", serde_json::json!({})), decide);
    /// assert!(answer?.as_str().unwrap().contains("denied by the approver: read-only session"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn answer(self, decision: Decision) {
        let _ = self.reply.send(decision);
    }
}

/// The receiving side of a [`ChannelApprover::with_questions`]'s questions.
#[derive(Debug)]
pub struct QuestionReceiver {
    rx: mpsc::Receiver<PendingQuestion>,
}

/// One question received from a [`ChannelApprover`]; answer it with [`PendingQuestion::answer`].
#[derive(Debug)]
pub struct PendingQuestion {
    question: Question,
    reply: oneshot::Sender<Answer>,
}

impl QuestionReceiver {
    /// The next question, or `None` when every approver clone is gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, _requests, mut questions) = llm_do_core::approval::ChannelApprover::with_questions(1);
    /// drop(approver);
    /// assert!(questions.next().await.is_none());
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<PendingQuestion> {
        self.rx.next().await
    }
}

impl PendingQuestion {
    /// What is asked: who asks, the message, the form.
    ///
    /// ```
    /// use llm_do_core::approval::{Answer, Approver, ChannelApprover, Question};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, _requests, mut questions) = ChannelApprover::with_questions(1);
    /// let question = Question::new("greet", "Who are you?", serde_json::json!({"type": "object"}));
    /// let person = async {
    ///     let pending = questions.next().await.unwrap();
    ///     let asked = pending.question();
    ///     assert_eq!((asked.asker.as_str(), asked.message.as_str()), ("greet", "Who are you?"));
    ///     pending.answer(Answer::Decline);
    /// };
    /// let (answer, ()) = futures::join!(approver.answer(&question), person);
    /// assert_eq!(answer, Answer::Decline);
    /// # }
    /// ```
    pub fn question(&self) -> &Question {
        &self.question
    }

    /// Answers; if the call was cancelled meanwhile, the answer is dropped. An accepted answer
    /// must fit the form ([`Question::check`]).
    ///
    /// ```
    /// use llm_do_core::approval::{Answer, Approver, ChannelApprover, Question};
    /// use serde_json::json;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (approver, _requests, mut questions) = ChannelApprover::with_questions(1);
    /// let form = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    /// let question = Question::new("greet", "Who are you?", form);
    /// let person = async { questions.next().await.unwrap().answer(Answer::accept(json!({"name": "Ada"}))) };
    /// let (answer, ()) = futures::join!(approver.answer(&question), person);
    /// assert_eq!(answer, Answer::accept(json!({"name": "Ada"})));
    /// # }
    /// ```
    pub fn answer(self, answer: Answer) {
        let _ = self.reply.send(answer);
    }
}
