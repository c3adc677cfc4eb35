//! [`ScriptError`]: a test's script did not cover a request.

use llm_do_core::{ModelError, ModelErrorKind};

/// A scripted model was asked more than its script covers (every queued reply was used), or
/// a test model was misused. It reaches the runtime as the source of a [`ModelError`] of kind
/// [`ModelErrorKind::Other`]; [`ScriptError::of`] finds it again. (The test models' own
/// failure, kept out of `llm-do-core`'s error kinds: production models never raise it.)
///
/// ```
/// use llm_do_core::{Message, Model, ModelErrorKind, ModelRequest};
/// use llm_do_testing::{ScriptError, ScriptedModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let model = ScriptedModel::queue([]);
/// let err = model.request(&ModelRequest::new("m", vec![Message::user("hi")])).await.unwrap_err();
/// assert_eq!(err.kind(), ModelErrorKind::Other);
/// let script = ScriptError::of(&err).expect("a script error");
/// assert!(script.message().starts_with("all 0 scripted replies were used"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScriptError {
    message: String,
}

impl ScriptError {
    /// An error saying `message`.
    ///
    /// ```
    /// assert_eq!(llm_do_testing::ScriptError::new("no reply").to_string(), "no reply");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// What went wrong.
    ///
    /// ```
    /// assert_eq!(llm_do_testing::ScriptError::new("no reply").message(), "no reply");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The script error behind `error`, if it has one.
    ///
    /// ```
    /// use llm_do_core::{ModelError, ModelErrorKind};
    /// use llm_do_testing::ScriptError;
    /// let err = ScriptError::new("no reply").into_model_error();
    /// assert_eq!(ScriptError::of(&err).map(ScriptError::message), Some("no reply"));
    /// assert!(ScriptError::of(&ModelError::new(ModelErrorKind::Other, "x")).is_none());
    /// ```
    pub fn of(error: &ModelError) -> Option<&ScriptError> {
        std::error::Error::source(error).and_then(|s| s.downcast_ref::<ScriptError>())
    }

    /// This error as a [`ModelError`] (kind [`ModelErrorKind::Other`], this error as its
    /// source), as a [`Model`](llm_do_core::Model) returns it.
    ///
    /// ```
    /// let err = llm_do_testing::ScriptError::new("no reply").into_model_error();
    /// assert_eq!(err.to_string(), "no reply");
    /// ```
    pub fn into_model_error(self) -> ModelError {
        ModelError::new(ModelErrorKind::Other, self.message.clone()).with_source(self)
    }
}
