//! Stop sequences: at most [`MAX`] per request (what OpenAI-compatible servers accept), none
//! of them empty (an empty one would end every answer before its first character).

use std::fmt;

/// The most stop sequences one request may give.
pub const MAX: usize = 4;

/// What valid stop sequences are, for messages that list what was expected.
pub const EXPECTED: &str = "a string, or a list of at most 4 non-empty strings";

/// Why a list of stop sequences is not valid.
///
/// ```
/// use llm_do_syntax::stop::{check, StopError};
/// assert_eq!(check(&["\n\n", "END"]), Ok(()));
/// assert_eq!(check(&["a", ""]), Err(StopError::Empty { index: 1 }));
/// assert_eq!(check(&["a"; 5]).unwrap_err().to_string(),
///     "5 stop sequences are given; at most 4 are allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopError {
    /// More than [`MAX`] sequences.
    TooMany {
        /// How many were given.
        count: usize,
    },
    /// A sequence is the empty string.
    Empty {
        /// Its position in the list, from 0.
        index: usize,
    },
}

impl fmt::Display for StopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooMany { count } => {
                write!(f, "{count} stop sequences are given; at most {MAX} are allowed")
            }
            Self::Empty { index } => write!(f, "stop sequence {index} is empty"),
        }
    }
}

impl std::error::Error for StopError {}

/// Checks a list of stop sequences: at most [`MAX`], none empty.
pub fn check<S: AsRef<str>>(stops: &[S]) -> Result<(), StopError> {
    if stops.len() > MAX {
        return Err(StopError::TooMany { count: stops.len() });
    }
    match stops.iter().position(|s| s.as_ref().is_empty()) {
        Some(index) => Err(StopError::Empty { index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_valid_and_the_limit_is_inclusive() {
        assert_eq!(check::<&str>(&[]), Ok(()));
        assert_eq!(check(&["a"; MAX]), Ok(()));
        assert_eq!(check(&["a"; MAX + 1]), Err(StopError::TooMany { count: MAX + 1 }));
    }

    #[test]
    fn the_first_empty_sequence_is_named() {
        assert_eq!(check(&["", "a", ""]), Err(StopError::Empty { index: 0 }));
        assert_eq!(StopError::Empty { index: 2 }.to_string(), "stop sequence 2 is empty");
    }
}
