//! [`MacroKind`]: which of the two attribute macros is expanding, for rules and messages that
//! differ between them.

/// `#[worker]` or `#[tool]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacroKind {
    /// `#[worker]`: an LLM-backed function, declared without a body.
    Worker,
    /// `#[tool]`: a deterministic function with a Rust body.
    Tool,
}

impl MacroKind {
    /// The attribute as users write it, for messages: `#[worker]` or `#[tool]`.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            MacroKind::Worker => "#[worker]",
            MacroKind::Tool => "#[tool]",
        }
    }
}
