//! Prompt templates: `{param}` is a placeholder, `{{` and `}}` are literal braces, and a
//! placeholder is an identifier (letters, digits and `_`, not starting with a digit),
//! surrounding spaces allowed. The runtime renders templates; the `#[worker]` macro and the
//! worker-file checker report malformed ones — all through [`parse`].

use std::fmt;

/// Most characters of what stood between the braces that a [`TemplateError::NotAPlaceholder`]
/// keeps and shows.
pub const MAX_SHOWN_CHARS: usize = 60;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text (escaped braces already turned into single ones).
    Text(String),
    /// A placeholder: its name, and the byte offset of its `{` in the source.
    Placeholder {
        /// The parameter it names.
        name: String,
        /// Byte offset of its `{`.
        offset: usize,
    },
}

/// A malformed prompt template: the problem and the byte offset where it starts.
///
/// `Display` gives one sentence for logs and errors; [`offset`](Self::offset),
/// [`problem`](Self::problem) and [`expected`](Self::expected) give the parts separately, for
/// diagnostics that point at a line and column.
///
/// ```
/// use llm_do_syntax::template::{parse, TemplateError};
/// let err = parse("Hello {name").unwrap_err();
/// assert_eq!(err, TemplateError::Unclosed { offset: 6 });
/// assert_eq!(err.to_string(), "unclosed `{` at byte 6; write `{{` for a literal brace");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` with no `}` after it.
    Unclosed {
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// `{...}` around something that is not an identifier (`{}`, `{1x}`, `{two words}`).
    NotAPlaceholder {
        /// Byte offset of the `{`.
        offset: usize,
        /// What stood between the braces, trimmed, and cut to [`MAX_SHOWN_CHARS`] characters
        /// (a `{` may be followed by a whole file before its `}`).
        name: String,
    },
    /// A `}` that closes nothing.
    Unmatched {
        /// Byte offset of the `}`.
        offset: usize,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed { offset } => {
                write!(f, "unclosed `{{` at byte {offset}; write `{{{{` for a literal brace")
            }
            Self::NotAPlaceholder { offset, name } => write!(
                f,
                "`{{{name}}}` at byte {offset} is not a placeholder: expected a parameter name \
                 such as `{{ticket}}`; write `{{{{` for a literal brace"
            ),
            Self::Unmatched { offset } => {
                write!(f, "unmatched `}}` at byte {offset}; write `}}}}` for a literal brace")
            }
        }
    }
}

impl std::error::Error for TemplateError {}

impl TemplateError {
    /// Byte offset in the template where the problem starts.
    ///
    /// ```
    /// assert_eq!(llm_do_syntax::template::parse("a } b").unwrap_err().offset(), 2);
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
    /// let e = llm_do_syntax::template::parse("{1x}").unwrap_err();
    /// assert_eq!(e.problem(), "`{1x}` is not a placeholder");
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
    /// let e = llm_do_syntax::template::parse("}").unwrap_err();
    /// assert_eq!(e.expected(), "`}}` for a literal brace");
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

/// Parses a template into its pieces; adjacent text is one [`Piece::Text`].
///
/// ```
/// use llm_do_syntax::template::{parse, Piece};
/// assert_eq!(parse("{{x}} {y}").unwrap(), [
///     Piece::Text("{x} ".into()),
///     Piece::Placeholder { name: "y".into(), offset: 6 },
/// ]);
/// ```
pub fn parse(source: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '}' if chars.peek().map(|&(_, next)| next) == Some(c) => {
                chars.next();
                text.push(c);
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(TemplateError::Unclosed { offset: i });
                }
                let name = name.trim().to_owned();
                if !is_identifier(&name) {
                    let name = crate::text::cut(&name, MAX_SHOWN_CHARS);
                    return Err(TemplateError::NotAPlaceholder { offset: i, name });
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Placeholder { name, offset: i });
            }
            '}' => return Err(TemplateError::Unmatched { offset: i }),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The placeholder names of `source` with the byte offsets of their `{`, in order of
/// appearance (repeats included).
///
/// ```
/// let found = llm_do_syntax::template::placeholders("{a} {{x}} { b } {a}").unwrap();
/// let names: Vec<(&str, usize)> = found.iter().map(|(n, o)| (n.as_str(), *o)).collect();
/// assert_eq!(names, [("a", 0), ("b", 10), ("a", 16)]);
/// ```
pub fn placeholders(source: &str) -> Result<Vec<(String, usize)>, TemplateError> {
    Ok(parse(source)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder { name, offset } => Some((name, offset)),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `true` when `name` may stand between braces: an identifier.
///
/// ```
/// assert!(llm_do_syntax::template::is_identifier("_ticket2"));
/// assert!(!llm_do_syntax::template::is_identifier("1abc"));
/// ```
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str) -> Result<Vec<String>, String> {
        placeholders(source)
            .map(|p| p.into_iter().map(|(n, _)| n).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn finds_placeholders_and_escapes() {
        assert_eq!(names("Classify: {ticket}").unwrap(), ["ticket"]);
        assert_eq!(names("{{\"k\": { v }}}").unwrap(), ["v"]);
        assert_eq!(names("{a} {b} {a} {{x}}").unwrap(), ["a", "b", "a"]);
        assert!(names("no placeholders").unwrap().is_empty());
        assert_eq!(parse("}}{{").unwrap(), [Piece::Text("}{".into())]);
    }

    #[test]
    fn malformed_templates() {
        assert_eq!(
            names("Hi {name").unwrap_err(),
            "unclosed `{` at byte 3; write `{{` for a literal brace"
        );
        assert_eq!(
            names("a } b").unwrap_err(),
            "unmatched `}` at byte 2; write `}}` for a literal brace"
        );
        assert!(names("{}").unwrap_err().starts_with("`{}` at byte 0 is not a placeholder"));
        assert!(names("x {two words}").unwrap_err().starts_with("`{two words}` at byte 2"));
        assert_eq!(
            parse("x {1abc}").unwrap_err(),
            TemplateError::NotAPlaceholder { offset: 2, name: "1abc".into() }
        );
        // Offsets are bytes, not characters.
        assert_eq!(parse("é {x").unwrap_err().offset(), 3);
        assert_eq!(parse("{\"label\": {ticket}").unwrap_err().offset(), 0);
        assert_eq!(parse("{{ {ok} }} }").unwrap_err(), TemplateError::Unmatched { offset: 11 });
    }

    /// What stands between the braces is echoed cut: before, `{` + 750 KB + `}` in a worker
    /// file gave a 750 KB message.
    #[test]
    fn a_long_non_placeholder_is_echoed_cut() {
        let source = format!("Go {{{}}} now", "a b ".repeat(200_000));
        let err = parse(&source).unwrap_err();
        let shown = format!("{}{}", "a b ".repeat(15), "…");
        assert_eq!(err, TemplateError::NotAPlaceholder { offset: 3, name: shown.clone() });
        assert_eq!(err.problem(), format!("`{{{shown}}}` is not a placeholder"));
        assert!(err.to_string().len() < 300, "{err}");
    }
}
