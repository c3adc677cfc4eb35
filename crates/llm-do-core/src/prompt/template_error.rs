//! What is wrong with a malformed prompt template, and where.

/// A malformed prompt template: the problem and the byte offset where it starts.
///
/// `Display` gives one sentence for logs and `InvalidSpec` errors; [`offset`](Self::offset),
/// [`problem`](Self::problem) and [`expected`](Self::expected) give the parts separately, for
/// diagnostics that point at a line and column (the worker-file checker uses them).
///
/// ```
/// use llm_do_core::prompt::{Template, TemplateError};
/// let err = Template::parse("Hello {name").unwrap_err();
/// assert_eq!(err, TemplateError::Unclosed { offset: 6 });
/// assert_eq!(err.offset(), 6);
/// assert_eq!(err.to_string(), "unclosed `{` at byte 6; write `{{` for a literal brace");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` with no `}` after it.
    #[error("unclosed `{{` at byte {offset}; write `{{{{` for a literal brace")]
    Unclosed {
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// `{...}` around something that is not an identifier (`{}`, `{1x}`, `{two words}`).
    #[error(
        "`{{{name}}}` at byte {offset} is not a placeholder: expected a parameter name such as \
         `{{ticket}}`; write `{{{{` for a literal brace"
    )]
    NotAPlaceholder {
        /// Byte offset of the `{`.
        offset: usize,
        /// What stood between the braces, trimmed.
        name: String,
    },
    /// A `}` that closes nothing.
    #[error("unmatched `}}` at byte {offset}; write `}}}}` for a literal brace")]
    Unmatched {
        /// Byte offset of the `}`.
        offset: usize,
    },
}

impl TemplateError {
    /// Byte offset in the template where the problem starts.
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert_eq!(Template::parse("a } b").unwrap_err().offset(), 2);
    /// ```
    pub fn offset(&self) -> usize {
        match self {
            Self::Unclosed { offset }
            | Self::NotAPlaceholder { offset, .. }
            | Self::Unmatched { offset } => *offset,
        }
    }

    /// The problem, without its position.
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert_eq!(Template::parse("{1x}").unwrap_err().problem(), "`{1x}` is not a placeholder");
    /// ```
    pub fn problem(&self) -> String {
        match self {
            Self::Unclosed { .. } => "unclosed `{` in the prompt".to_owned(),
            Self::NotAPlaceholder { name, .. } => format!("`{{{name}}}` is not a placeholder"),
            Self::Unmatched { .. } => "unmatched `}` in the prompt".to_owned(),
        }
    }

    /// What would have been valid at that position.
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert_eq!(Template::parse("}").unwrap_err().expected(), "`}}` for a literal brace");
    /// ```
    pub fn expected(&self) -> &'static str {
        match self {
            Self::Unclosed { .. } => "`{name}` for a placeholder or `{{` for a literal brace",
            Self::NotAPlaceholder { .. } => {
                "a parameter name such as `{path}`, or `{{` for a literal brace"
            }
            Self::Unmatched { .. } => "`}}` for a literal brace",
        }
    }
}
