//! The typed [`Error`] of llm-do.

use crate::attachment::AttachmentError;
use crate::model::ModelError;
use crate::usage::BudgetKind;

mod chain;
mod kind;
pub use chain::chain;
pub use kind::{ErrorFamily, ErrorInfo, ErrorKind};

/// `Result` with llm-do's [`Error`] as the default error type. Workers and tools return it.
///
/// ```
/// fn parse(s: &str) -> llm_do_core::Result<i64> {
///     s.parse().map_err(llm_do_core::Error::other)
/// }
/// assert!(parse("x").is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call, as a value.
///
/// When a worker's model called the failing tool, most errors are not fatal: the runtime turns
/// them into an error tool result (the message of this error) so that the model can correct
/// itself. [`Error::is_fatal`] tells which errors end the whole run instead.
///
/// ```
/// use llm_do_core::Error;
/// let e = Error::msg("customer not found");
/// assert_eq!(e.to_string(), "customer not found");
/// assert!(!e.is_fatal());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No worker or tool of that name is known to the runtime or to the calling worker.
    #[error("no worker or tool named `{name}` is registered{}", known_list(known))]
    UnknownCallable {
        /// The name asked for.
        name: String,
        /// The names that are known, sorted.
        known: Vec<String>,
    },

    /// The arguments do not match the callee's input schema.
    #[error("invalid arguments for `{name}`: {message}")]
    InvalidArguments {
        /// The callee.
        name: String,
        /// What is wrong, with the JSON path of the offending value.
        message: String,
    },

    /// An attachment of a worker call cannot be used: a path outside the attachment root, a
    /// file too large, an unsupported type, an unreadable PDF, or a part the model cannot
    /// take. Raised before any request is sent.
    #[error("attachment for `{name}`: {source}")]
    Attachment {
        /// The worker (or the tool whose result carried the attachment).
        name: String,
        /// What is wrong; [`AttachmentError::kind`] tells the category.
        #[source]
        source: AttachmentError,
    },

    /// A worker's model kept producing output that does not match the output schema.
    #[error("`{name}` produced invalid output after {attempts} attempt(s): {message}")]
    InvalidOutput {
        /// The worker.
        name: String,
        /// The last validation error.
        message: String,
        /// How many final answers were tried.
        attempts: u32,
        /// The last raw output, kept so that nothing is lost.
        raw: String,
    },

    /// The callee's result could not be converted to the type the caller asked for.
    #[error("the result of `{name}` does not fit the requested type: {message}")]
    ResultType {
        /// The callee.
        name: String,
        /// The deserialization error.
        message: String,
    },

    /// A call would run deeper than the runtime's `max_depth`.
    #[error(
        "call to `{name}` would run at depth {depth}, deeper than max_depth = {max_depth} \
         (call path: {path}); raise it with Runtime::builder().max_depth(..) if the recursion is intended"
    )]
    DepthExceeded {
        /// The callee that was refused.
        name: String,
        /// The depth it would have run at.
        depth: u32,
        /// The configured limit.
        max_depth: u32,
        /// Names from the outermost call to the refused one, joined by ` > `.
        path: String,
    },

    /// A worker used all its turns without giving a final answer.
    #[error("`{name}` gave no final answer within max_turns = {max_turns} model requests")]
    MaxTurns {
        /// The worker.
        name: String,
        /// The configured limit.
        max_turns: u32,
    },

    /// The run used up one of its budgets.
    #[error("run budget exceeded: {kind} used {used}, limit {limit}")]
    BudgetExceeded {
        /// Which budget.
        kind: BudgetKind,
        /// The configured limit.
        limit: u64,
        /// What was used when the limit was hit.
        used: u64,
    },

    /// The model provider failed.
    #[error("model `{model}` failed for `{name}`: {source}")]
    Model {
        /// The worker whose request failed.
        name: String,
        /// The model string, `provider:name`.
        model: String,
        /// The provider's error.
        #[source]
        source: ModelError,
    },

    /// No model is configured for a worker.
    #[error(
        "no model configured for worker `{name}`: give it one (`model: provider:name` in its \
         worker file, `model = \"provider:name\"` in #[worker], or `--model` on the command \
         line), or a default (LLM_DO_MODEL, or Runtime::builder().default_model(..))"
    )]
    NoModel {
        /// The worker.
        name: String,
    },

    /// A model string is not of the form `provider:name`. The message shows the string on one
    /// line, escaped and cut ([`llm_do_syntax::model::shown`]): it may hold the line break or
    /// escape sequence it is refused for.
    #[error("invalid model string `{}`: {reason}", llm_do_syntax::model::shown(model))]
    InvalidModel {
        /// The offending string, as given.
        model: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A model string names a provider the runtime does not have. The message shows the
    /// provider and the model string cut ([`llm_do_syntax::model::shown`]): a valid model
    /// string has no length limit.
    #[error(
        "unknown model provider `{}` in `{}`{}",
        llm_do_syntax::model::shown(provider),
        llm_do_syntax::model::shown(model),
        known_list(known)
    )]
    UnknownProvider {
        /// The provider name.
        provider: String,
        /// The full model string.
        model: String,
        /// The providers the runtime knows, sorted: those registered and those that could
        /// not be set up.
        known: Vec<String>,
    },

    /// A model string names a provider that exists but could not be set up (its configuration
    /// is wrong); `reason` says what to fix. The model string is shown cut, as in
    /// [`Error::UnknownProvider`].
    #[error(
        "the model provider `{}` (for `{}`) is not usable: {reason}",
        llm_do_syntax::model::shown(provider),
        llm_do_syntax::model::shown(model)
    )]
    ProviderUnavailable {
        /// The provider name.
        provider: String,
        /// The full model string.
        model: String,
        /// What is wrong with its configuration (never a secret).
        reason: String,
    },

    /// A call requested by a model was denied and the runtime is configured to abort
    /// ([`OnDenied::Abort`](crate::approval::OnDenied::Abort)).
    #[error("call to `{name}` was {reason}; the run was aborted")]
    Denied {
        /// The callee.
        name: String,
        /// Why (the rule or the approver's reason).
        reason: String,
    },

    /// A worker or tool definition is invalid (bad prompt template, bad schema, ...).
    #[error("invalid definition of `{name}`: {message}")]
    InvalidSpec {
        /// The worker or tool.
        name: String,
        /// What is wrong.
        message: String,
    },

    /// A conversation's pending turn needs more tokens than its history budget allows, even
    /// with every earlier turn dropped ([`TokenBudget`](crate::history::TokenBudget)). The
    /// conversation is unchanged: send a shorter input.
    #[error(
        "the input needs about {tokens} tokens, more than the conversation's budget of {budget} \
         even with every earlier turn dropped: send a shorter input"
    )]
    ContextOverflow {
        /// The tokens of the pending turn.
        tokens: u64,
        /// The budget.
        budget: u64,
    },

    /// A conversation was continued with a tool; only workers hold conversations.
    #[error("`{name}` is a tool, not a worker: only a worker can continue a conversation")]
    NotAWorker {
        /// The tool.
        name: String,
    },

    /// A history processor broke its contract (dropped or changed the pending turn's prompt,
    /// or split a tool call from its result).
    #[error("history processor: {message}")]
    History {
        /// What it did.
        message: String,
    },

    /// The run was cancelled ([`Ctx::cancel`](crate::Ctx::cancel)): every call of the run
    /// still in flight, siblings included, ends with this error.
    #[error("the run was cancelled: {reason}")]
    Cancelled {
        /// Why, as given to [`Ctx::cancel`](crate::Ctx::cancel).
        reason: String,
    },

    /// A setting of the runtime is invalid (an approval rule's glob, a verdict's spelling, ...).
    #[error("{message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },

    /// A tool asked for program state ([`Ctx::state`](crate::Ctx::state)) of a type the
    /// runtime was not given with [`RuntimeBuilder::state`](crate::RuntimeBuilder::state).
    /// Fatal: no retry by a model can supply it.
    #[error(
        "no state of type `{type_name}` was given to the runtime \
         (Runtime::builder().state(..))"
    )]
    MissingState {
        /// The type asked for, as `std::any::type_name` spells it.
        type_name: &'static str,
    },

    /// A tool's Rust code panicked. The panic was caught; the runtime keeps running.
    #[error("tool `{name}` panicked: {message}")]
    Panicked {
        /// The tool.
        name: String,
        /// The panic message.
        message: String,
    },

    /// An error that happened in an earlier execution and was recorded as its [`ErrorInfo`]
    /// (a durable run's journal, replayed): it keeps its kind, so that it is fatal (or not)
    /// and reported exactly as the original was.
    #[error("{}", .0.message)]
    Recorded(ErrorInfo),

    /// An error raised by a tool's own code, with a message for the caller (or model).
    #[error("{0}")]
    Message(String),

    /// An error raised by a tool's own code, wrapping the underlying error.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() { String::new() } else { format!(" (known: {})", known.join(", ")) }
}

impl Error {
    /// An error with a message; use it in tools to tell the caller (often a model) what went
    /// wrong.
    ///
    /// ```
    /// # use llm_do_core::Error;
    /// assert_eq!(Error::msg("no such order").to_string(), "no such order");
    /// ```
    pub fn msg(message: impl std::fmt::Display) -> Self {
        Error::Message(message.to_string())
    }

    /// Wraps any error.
    ///
    /// ```
    /// # use llm_do_core::Error;
    /// let e = Error::other(std::io::Error::other("disk full"));
    /// assert_eq!(e.to_string(), "disk full");
    /// ```
    pub fn other(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Other(Box::new(error))
    }

    /// `true` for errors that must end the whole run even when a model made the failing call
    /// (budgets, denials configured to abort, cancellation, missing program state); other
    /// errors are reported to the calling model as an error tool result.
    ///
    /// ```
    /// # use llm_do_core::{Error, usage::BudgetKind};
    /// let e = Error::BudgetExceeded { kind: BudgetKind::Requests, limit: 3, used: 3 };
    /// assert!(e.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        self.kind().is_fatal()
    }

    /// The error's kind: which variant it is, as a serialisable value that events and run logs
    /// carry (its [`family`](ErrorKind::family) groups the kinds).
    ///
    /// ```
    /// use llm_do_core::{Error, error::{ErrorFamily, ErrorKind}};
    /// let e = Error::NoModel { name: "w".into() };
    /// assert_eq!(e.kind(), ErrorKind::NoModel);
    /// assert_eq!(e.kind().family(), ErrorFamily::Configuration);
    /// assert_eq!(Error::msg("not found").kind().family(), ErrorFamily::User);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownCallable { .. } => ErrorKind::UnknownCallable,
            Error::InvalidArguments { .. } => ErrorKind::InvalidArguments,
            Error::Attachment { .. } => ErrorKind::Attachment,
            Error::InvalidOutput { .. } => ErrorKind::InvalidOutput,
            Error::ResultType { .. } => ErrorKind::ResultType,
            Error::DepthExceeded { .. } => ErrorKind::DepthExceeded,
            Error::MaxTurns { .. } => ErrorKind::MaxTurns,
            Error::BudgetExceeded { .. } => ErrorKind::BudgetExceeded,
            Error::Model { .. } => ErrorKind::Model,
            Error::NoModel { .. } => ErrorKind::NoModel,
            Error::InvalidModel { .. } => ErrorKind::InvalidModel,
            Error::UnknownProvider { .. } => ErrorKind::UnknownProvider,
            Error::ProviderUnavailable { .. } => ErrorKind::ProviderUnavailable,
            Error::Denied { .. } => ErrorKind::Denied,
            Error::InvalidSpec { .. } => ErrorKind::InvalidSpec,
            Error::ContextOverflow { .. } => ErrorKind::ContextOverflow,
            Error::NotAWorker { .. } => ErrorKind::NotAWorker,
            Error::History { .. } => ErrorKind::History,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::InvalidConfig { .. } => ErrorKind::InvalidConfig,
            Error::MissingState { .. } => ErrorKind::MissingState,
            Error::Panicked { .. } => ErrorKind::Panicked,
            Error::Recorded(info) => info.kind,
            Error::Message(_) | Error::Other(_) => ErrorKind::Tool,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::other(e)
    }
}

/// A conversation that could not be saved or loaded, in code returning [`Result`]
/// (`chat.save(path)?`): [`Error::Other`], the error itself kept (`downcast_ref` finds it).
///
/// ```
/// use llm_do_core::conversation::{Conversation, ConversationError};
/// fn resume(path: &str) -> llm_do_core::Result<Conversation> {
///     let mut chat = Conversation::new();
///     chat.load(path)?;
///     Ok(chat)
/// }
/// let err = resume("/no/such/chat.json").unwrap_err();
/// let llm_do_core::Error::Other(source) = &err else { panic!("{err:?}") };
/// assert!(matches!(source.downcast_ref(), Some(ConversationError::Io { .. })), "{err}");
/// ```
impl From<crate::conversation::ConversationError> for Error {
    fn from(e: crate::conversation::ConversationError) -> Self {
        Error::other(e)
    }
}
