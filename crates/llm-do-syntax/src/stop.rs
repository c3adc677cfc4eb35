//! Stop sequences: at most [`MAX`] per request (what OpenAI-compatible servers accept), none
//! of them empty (an empty one would end every answer before its first character), none
//! longer than [`MAX_BYTES`].
//!
//! Both bounds keep the embedded model's scan of its answer cheap: after each generated token
//! it looks for every sequence in the text it holds back, and holds back as much as the
//! longest sequence could begin with. Unbounded, a request (e.g. one `llm-do serve` passes on
//! from an HTTP client) with thousands of sequences or megabyte-long ones made every token
//! cost that much work: a hang by input. Real stop sequences are delimiters (`\n\n`,
//! `Observation:`, a closing tag), far below either bound.

use std::fmt;

/// The most stop sequences one request may give.
pub const MAX: usize = 4;

/// The longest stop sequence, in bytes of UTF-8 (ample for any delimiter; see the module
/// documentation for why there is a bound).
pub const MAX_BYTES: usize = 256;

/// What valid stop sequences are, for messages that list what was expected.
pub const EXPECTED: &str =
    "a string, or a list of at most 4 non-empty strings of at most 256 bytes each";

/// Why a list of stop sequences is not valid.
///
/// ```
/// use llm_do_syntax::stop::{check, StopError};
/// assert_eq!(check(&["\n\n", "END"]), Ok(()));
/// assert_eq!(check(&["a", ""]), Err(StopError::Empty { index: 1 }));
/// assert_eq!(check(&["a"; 5]).unwrap_err().to_string(),
///     "5 stop sequences are given; at most 4 are allowed");
/// assert_eq!(check(&["a".repeat(300)]).unwrap_err().to_string(),
///     "stop sequence 0 is 300 bytes long; at most 256 are allowed");
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
    /// A sequence is longer than [`MAX_BYTES`].
    TooLong {
        /// Its position in the list, from 0.
        index: usize,
        /// Its length in bytes.
        bytes: usize,
    },
}

impl fmt::Display for StopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooMany { count } => {
                write!(f, "{count} stop sequences are given; at most {MAX} are allowed")
            }
            Self::Empty { index } => write!(f, "stop sequence {index} is empty"),
            Self::TooLong { index, bytes } => write!(
                f,
                "stop sequence {index} is {bytes} bytes long; at most {MAX_BYTES} are allowed"
            ),
        }
    }
}

impl std::error::Error for StopError {}

/// Checks a list of stop sequences: at most [`MAX`], none empty, none longer than
/// [`MAX_BYTES`] (the first one that is not valid is named).
pub fn check<S: AsRef<str>>(stops: &[S]) -> Result<(), StopError> {
    if stops.len() > MAX {
        return Err(StopError::TooMany { count: stops.len() });
    }
    for (index, stop) in stops.iter().map(AsRef::as_ref).enumerate() {
        if stop.is_empty() {
            return Err(StopError::Empty { index });
        }
        if stop.len() > MAX_BYTES {
            return Err(StopError::TooLong { index, bytes: stop.len() });
        }
    }
    Ok(())
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
    fn the_length_limit_is_inclusive_and_in_bytes() {
        let at = "a".repeat(MAX_BYTES);
        assert_eq!(check(&[at.as_str(); MAX]), Ok(()));
        assert_eq!(
            check(&["a", &format!("{at}b")]),
            Err(StopError::TooLong { index: 1, bytes: MAX_BYTES + 1 })
        );
        // 128 two-byte characters are at the bound; one more is over it.
        assert_eq!(check(&["é".repeat(MAX_BYTES / 2)]), Ok(()));
        assert_eq!(
            check(&["é".repeat(MAX_BYTES / 2 + 1)]).unwrap_err().to_string(),
            "stop sequence 0 is 258 bytes long; at most 256 are allowed"
        );
        // EXPECTED says the same numbers.
        assert!(EXPECTED.contains(&format!("at most {MAX} ")), "{EXPECTED}");
        assert!(EXPECTED.contains(&format!("at most {MAX_BYTES} bytes")), "{EXPECTED}");
    }

    #[test]
    fn the_first_empty_sequence_is_named() {
        assert_eq!(check(&["", "a", ""]), Err(StopError::Empty { index: 0 }));
        assert_eq!(StopError::Empty { index: 2 }.to_string(), "stop sequence 2 is empty");
    }
}
