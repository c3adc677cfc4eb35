//! Approvers: who decides the calls a policy marks `Ask`.

use super::ApprovalReason;
use super::question::{Answer, Question};
use crate::call::CallKind;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

/// A call waiting for a decision.
///
/// ```
/// use llm_do_core::approval::ApprovalRequest;
/// # fn show(req: &ApprovalRequest) {
/// eprintln!("{} wants to call {} at depth {} with {}", req.caller, req.tool, req.depth, req.args);
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// The tool (or worker) the model wants to call.
    pub tool: String,
    /// Its arguments as the call will run with them: the callee's canonical form, what the
    /// call will actually touch (for file tools and workers' attachments, paths resolved
    /// inside the sandbox) — or, for a callee whose canonical form is for matching only (the
    /// shell), the arguments exactly as the model gave them.
    pub args: Value,
    /// Whether the callee is a tool or a worker.
    pub kind: CallKind,
    /// The worker whose model asked for the call.
    pub caller: String,
    /// Names from the outermost call to the caller, then the tool.
    pub call_path: Vec<String>,
    /// The depth the call would run at.
    pub depth: u32,
    /// Why the policy asks (the matching rule, or the tool's declared default).
    pub reason: ApprovalReason,
}

/// An approver's answer.
///
/// ```
/// use llm_do_core::approval::Decision;
/// assert!(Decision::ApproveForSession.is_approved());
/// assert!(!Decision::deny("not now").is_approved());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Run this call.
    ApproveOnce,
    /// Run this call, and identical calls (same tool, same arguments) for the rest of the
    /// session without asking again.
    ApproveForSession,
    /// Do not run it.
    Deny {
        /// Why, for the model and the logs.
        reason: Option<String>,
    },
    /// Do not run it, and end the whole run with
    /// [`Error::Denied`](crate::Error::Denied) at once, whatever
    /// [`OnDenied`](super::OnDenied) says (a user who quits at an approval prompt, a headless
    /// run that cannot ask): the model is not told and makes no further request.
    DenyAndAbort {
        /// Why, for the error and the logs.
        reason: Option<String>,
    },
}

impl Decision {
    /// A denial with a reason.
    ///
    /// ```
    /// # use llm_do_core::approval::Decision;
    /// assert_eq!(Decision::deny("no"), Decision::Deny { reason: Some("no".into()) });
    /// ```
    pub fn deny(reason: impl Into<String>) -> Self {
        Decision::Deny { reason: Some(reason.into()) }
    }

    /// A denial that ends the run.
    ///
    /// ```
    /// # use llm_do_core::approval::Decision;
    /// assert_eq!(Decision::abort("quit"), Decision::DenyAndAbort { reason: Some("quit".into()) });
    /// assert!(!Decision::abort("quit").is_approved());
    /// ```
    pub fn abort(reason: impl Into<String>) -> Self {
        Decision::DenyAndAbort { reason: Some(reason.into()) }
    }

    /// `true` for the two approvals.
    ///
    /// ```
    /// # use llm_do_core::approval::Decision;
    /// assert!(Decision::ApproveOnce.is_approved());
    /// ```
    pub fn is_approved(&self) -> bool {
        !matches!(self, Decision::Deny { .. } | Decision::DenyAndAbort { .. })
    }
}

/// Decides `Ask`s. Implemented for closures `Fn(&ApprovalRequest) -> Decision`.
///
/// ```
/// use llm_do_core::approval::{ApprovalRequest, Decision};
/// use llm_do_core::Runtime;
/// let rt = Runtime::builder()
///     .approver(|req: &ApprovalRequest| {
///         if req.tool == "write_file" { Decision::ApproveOnce } else { Decision::deny("only writes") }
///     })
///     .build();
/// # let _ = rt;
/// ```
pub trait Approver: Send + Sync + 'static {
    /// Decides one request. May wait (for a person, a UI, a remote service).
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision>;

    /// Answers a question a tool asks the person behind the run ([`Ctx::ask`]; an MCP
    /// server's elicitation). The approver speaks for that person: a terminal asks them, a UI
    /// shows the form. The default — for approvers that decide by rule, [`ApproveAll`] and
    /// [`DenyAll`] among them — is [`Answer::Decline`]: no one invents a person's answer.
    ///
    /// An accepted answer must fit the question's form; [`Ctx::ask`] checks it.
    ///
    /// [`Ctx::ask`]: crate::Ctx::ask
    ///
    /// ```
    /// use futures::future::BoxFuture;
    /// use llm_do_core::approval::{Answer, ApprovalRequest, Approver, Decision, Question};
    ///
    /// /// Approves nothing, and answers every question about a `name` with "Ada".
    /// struct Ada;
    /// impl Approver for Ada {
    ///     fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
    ///         Box::pin(async { Decision::deny("no") })
    ///     }
    ///     fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
    ///         let fits = question.fields() == ["name"];
    ///         Box::pin(async move {
    ///             if fits { Answer::accept(serde_json::json!({"name": "Ada"})) } else { Answer::Decline }
    ///         })
    ///     }
    /// }
    /// # let _ = llm_do_core::Runtime::builder().approver(Ada).build();
    /// ```
    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        let _ = question;
        Box::pin(async { Answer::Decline })
    }
}

impl<F: Fn(&ApprovalRequest) -> Decision + Send + Sync + 'static> Approver for F {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        let decision = self(request);
        Box::pin(async move { decision })
    }
}

/// Approves everything (each call once). For trusted prompts and tests.
///
/// ```
/// use llm_do_core::approval::{ApproveAll, Verdict};
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
/// let rt = Runtime::builder().model_override(UsesTool).register(wipe).register(main)
///     .approver(ApproveAll).build();
/// // `main`'s model calls `wipe`, which asks for approval: it runs.
/// assert_eq!(rt.ctx().call_value("main", serde_json::json!({})).await?, "wiped");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ApproveAll;

impl Approver for ApproveAll {
    fn decide<'a>(&'a self, _request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::ApproveOnce })
    }
}

/// Denies everything it is asked about (the default when no approver is configured).
///
/// ```
/// use llm_do_core::approval::{DenyAll, Verdict};
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
/// let rt = Runtime::builder().model_override(UsesTool).register(wipe).register(main)
///     .approver(DenyAll).build();
/// // `main`'s model calls `wipe`, which asks for approval: it is denied, and the model told.
/// let answer = rt.ctx().call_value("main", serde_json::json!({})).await?;
/// assert!(answer.as_str().unwrap().contains("denied by the approver"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

impl Approver for DenyAll {
    fn decide<'a>(&'a self, _request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::deny("calls that need approval are denied (DenyAll)") })
    }
}
