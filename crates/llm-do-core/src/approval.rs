//! Tool calls as syscalls: every tool (or worker) call that a *model* requests passes an
//! approval gate before it runs, at any nesting depth.
//!
//! - [`ApprovalPolicy`]: ordered [`Rule`]s, first match wins — a tool-name glob plus optional
//!   argument matchers (JSON pointer + glob / regex / prefix / exact value) → [`Verdict`].
//!   When no rule matches, the callee's own default applies (`#[tool(approval = "ask")]`,
//!   [`ToolSpecBuilder::approval`](crate::ToolSpecBuilder::approval)), else `Allow`.
//! - Rules match the arguments in the callee's canonical form
//!   ([`CallableSpec::canonical_args`](crate::CallableSpec::canonical_args)): a file tool
//!   resolves its paths inside its sandbox first, so a rule on `secret/**` also holds for
//!   `./secret/x`, `secret//x`, the absolute path, or a path through a symbolic link to
//!   `secret/`; a worker's attachment paths are resolved by the runtime's
//!   [`AttachmentLoader`](crate::attachment::AttachmentLoader) the same way. The call then
//!   runs with that canonical form — except for a callee whose form is for matching only
//!   ([`CallableSpec::runs_canonical_args`](crate::CallableSpec::runs_canonical_args): the
//!   shell, whose normalised words may not be paths), which runs the arguments as given.
//!   [`gated_args`] is that first step (a callee's forbidden arguments refused, then the
//!   canonical form), and [`Runtime::gated_args`](crate::Runtime::gated_args) that step with
//!   a worker's attachment paths resolved, for any gate: `llm-do mcp` checks its clients'
//!   calls with it too.
//! - [`Approver`]: decides the `Ask`s — [`ApproveAll`], [`DenyAll`], [`ChannelApprover`] for UIs
//!   and servers, or any closure. It is shown the arguments the call will run with; a decision
//!   holds once or for the session (the runtime's lifetime), keyed by tool name + those
//!   arguments.
//! - Tools may also ask the person behind the run a [`Question`] with a form to fill in
//!   ([`Ctx::ask`](crate::Ctx::ask); an MCP server's elicitation): the approver answers it
//!   ([`Approver::answer`]; by default it declines). [`Form`] is the form parsed field by
//!   field, for asking it. A question may instead ask the person to open a page
//!   ([`Ctx::ask_to_open`](crate::Ctx::ask_to_open), [`check_page`]).
//! - A denied call never runs. The model receives a permission error as the tool result, or
//!   the run aborts with [`Error::Denied`](crate::Error::Denied) ([`OnDenied`]) and is
//!   cancelled: the other calls of the run stop, and none is started after the denial.
//!
//! Deterministic code calling a tool directly — a typed call or [`Ctx::call`](crate::Ctx::call)
//! from Rust — is trusted and not gated: the gate guards the stochastic boundary, where a model
//! (possibly steered by injected text) chooses what to run.

mod approver;
mod channel;
mod form;
mod gate;
mod page;
mod policy;
mod question;
mod reason;

pub use approver::{ApprovalRequest, ApproveAll, Approver, Decision, DenyAll};
pub use channel::{
    ApprovalReceiver, ChannelApprover, PendingApproval, PendingQuestion, QuestionReceiver,
};
pub use form::{Choice, Field, FieldKind, Form, MAX_FIELDS, check_form};
pub(crate) use gate::with_attachments_resolved;
pub use gate::{ArgsRefused, GatedArgs, OnDenied, gated_args};
pub(crate) use gate::{Gate, GateOutcome, SessionApprovals};
pub use page::{MAX_PAGE_CHARS, check_page};
pub use policy::{ApprovalPolicy, ArgMatcher, Pattern, Rule, Verdict};
pub use question::{Answer, Page, Question};
pub use reason::ApprovalReason;
