//! The names workers and tools are called by: what models and the registry see,
//! `[A-Za-z0-9_-]{1,64}` (the limit providers put on tool names).

use std::fmt;

/// Longest accepted name, in characters.
pub const MAX_LEN: usize = 64;

/// What a valid name is, for messages that list what was expected.
pub const EXPECTED: &str = "1 to 64 ASCII letters, digits, `_` or `-`";

/// Why a name is not valid.
///
/// ```
/// use llm_do_syntax::name::{check, NameError};
/// assert_eq!(check(""), Err(NameError::Empty));
/// assert_eq!(check("café").unwrap_err().to_string(),
///     "the name `café` contains `é`; names may only use ASCII letters, digits, `_` and `-`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_LEN`] characters.
    TooLong {
        /// The name.
        name: String,
        /// Its length in characters.
        len: usize,
    },
    /// The name contains a character outside `[A-Za-z0-9_-]`.
    BadChar {
        /// The name.
        name: String,
        /// The first such character.
        found: char,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the name is empty"),
            Self::TooLong { name, len } => write!(
                f,
                "the name `{name}` is {len} characters long; at most {MAX_LEN} are allowed"
            ),
            Self::BadChar { name, found } => write!(
                f,
                "the name `{name}` contains `{found}`; names may only use ASCII letters, digits, \
                 `_` and `-`"
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Checks a callable name against `[A-Za-z0-9_-]{1,64}`.
///
/// ```
/// use llm_do_syntax::name::check;
/// assert!(check("Lookup-customer_2").is_ok());
/// assert!(check(&"a".repeat(65)).unwrap_err().to_string().contains("65 characters long"));
/// ```
pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let len = name.chars().count();
    if len > MAX_LEN {
        return Err(NameError::TooLong { name: name.to_owned(), len });
    }
    if let Some(found) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(NameError::BadChar { name: name.to_owned(), found });
    }
    Ok(())
}

/// `true` when [`check`] accepts `name`.
///
/// ```
/// assert!(llm_do_syntax::name::is_valid("classify"));
/// assert!(!llm_do_syntax::name::is_valid("look up"));
/// ```
pub fn is_valid(name: &str) -> bool {
    check(name).is_ok()
}

/// `true` for the characters a name may use: ASCII letters, digits, `_` and `-`.
///
/// ```
/// assert!(llm_do_syntax::name::is_name_char('-'));
/// assert!(!llm_do_syntax::name::is_name_char('.'));
/// ```
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `raw` made a valid name: every other character replaced by `_`, cut to [`MAX_LEN`]
/// characters; `fallback` when `raw` is empty. (For names derived from text, such as a schema's
/// title; `fallback` must be valid itself.)
///
/// ```
/// use llm_do_syntax::name::sanitize;
/// assert_eq!(sanitize("Vec<u8>", "output"), "Vec_u8_");
/// assert_eq!(sanitize("", "output"), "output");
/// assert_eq!(sanitize(&"x".repeat(70), "output").len(), 64);
/// ```
pub fn sanitize(raw: &str, fallback: &str) -> String {
    let cleaned: String =
        raw.chars().take(MAX_LEN).map(|c| if is_name_char(c) { c } else { '_' }).collect();
    if cleaned.is_empty() { fallback.to_owned() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tool_names() {
        assert!(check("classify").is_ok());
        assert!(check("Lookup-customer_2").is_ok());
        assert!(check(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_others() {
        assert_eq!(check("").unwrap_err().to_string(), "the name is empty");
        assert!(matches!(check(&"a".repeat(65)), Err(NameError::TooLong { len: 65, .. })));
        assert!(matches!(check("look up"), Err(NameError::BadChar { found: ' ', .. })));
        assert!(check("café").unwrap_err().to_string().contains("contains `é`"));
    }
}
