//! Bounds on untrusted text handed to recursive code: the one place that says how long and how
//! deeply nested a glob, a regular expression or a JSON value may be before a parser or a walker
//! sees it.
//!
//! Globs come from models (`list_files`), project files (approval rules) and host code; the
//! glob library's parser recurses once per nested `{`, so ~1,600 nested braces overflow the
//! stack and abort the process. Every glob is checked here first and refused with a
//! [`BoundError`] instead. Regular expressions get a length bound here and a nesting bound
//! from the regex library itself ([`MAX_REGEX_NESTING`]). JSON parsed by `serde_json` is
//! limited to 128 levels by the parser; [`check_json_depth`] bounds values built some other
//! way before a recursive walker sees them.
//!
//! ```
//! use llm_do_core::bounds::{self, BoundError};
//! assert!(bounds::check_glob("src/**/*.{rs,toml}").is_ok());
//! let hostile = "{".repeat(2_000);
//! assert!(matches!(bounds::check_glob(&hostile), Err(BoundError::TooLong { .. })));
//! let deep = format!("{}a{}", "{".repeat(40), "}".repeat(40));
//! assert!(matches!(bounds::check_glob(&deep), Err(BoundError::TooDeep { .. })));
//! ```

use serde_json::Value;

/// Longest glob accepted, in characters.
pub const MAX_GLOB_CHARS: usize = 1024;

/// Deepest nesting of `{…}` alternatives accepted in a glob.
pub const MAX_GLOB_NESTING: usize = 16;

/// Longest regular expression accepted, in characters.
pub const MAX_REGEX_CHARS: usize = 4096;

/// Deepest nesting of groups, classes and repetitions accepted in a regular expression (the
/// regex library's own nest limit, set to this).
pub const MAX_REGEX_NESTING: u32 = 64;

/// The deepest call any runtime allows, whatever its `max_depth` says: each nested call is
/// polled inside its caller, so the depth of calls is the depth of the stack, and a
/// `max_depth` of thousands (a project file's, a flag's) would overflow it — an abort, not an
/// error. 32 nested calls fit a 2 MiB thread stack (a test thread's, a Tokio worker's) in an
/// unoptimised build with room to spare: a level (worker → tool call → worker) takes about
/// 30 KB there, 32 about 940 KB. On a smaller stack set a smaller `max_depth` (about 12 levels
/// in 512 KiB unoptimised), or run the calls on a thread with a larger one.
pub const MAX_CALL_DEPTH: u32 = 32;

/// Deepest JSON value accepted by [`check_json_depth`] callers that do not say otherwise: the
/// same as `serde_json`'s parser limit.
pub const MAX_JSON_DEPTH: usize = 128;

/// The instant `duration` after `start`; a duration too long for the clock
/// ([`Duration::MAX`](std::time::Duration::MAX), meaning "no limit") gives an instant about
/// thirty years on, as `tokio::time::timeout` does, where `start + duration` would panic.
///
/// ```
/// use std::time::{Duration, Instant};
/// let now = Instant::now();
/// assert_eq!(llm_do_core::bounds::instant_after(now, Duration::from_secs(1)), now + Duration::from_secs(1));
/// assert!(llm_do_core::bounds::instant_after(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365));
/// ```
pub fn instant_after(
    start: std::time::Instant,
    duration: std::time::Duration,
) -> std::time::Instant {
    const FAR: std::time::Duration = std::time::Duration::from_secs(86_400 * 365 * 30);
    start.checked_add(duration).or_else(|| start.checked_add(FAR)).unwrap_or(start)
}

/// Why a piece of untrusted text or data was refused before it was parsed or walked.
///
/// ```
/// use llm_do_core::bounds::{BoundError, check_regex};
/// let e = check_regex(&"a".repeat(5_000)).unwrap_err();
/// assert_eq!(e, BoundError::TooLong { what: "regex", len: 5_000, max: 4096 });
/// assert_eq!(e.to_string(), "the regex is 5000 characters long, more than the 4096 allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoundError {
    /// Longer than allowed.
    #[error("the {what} is {len} characters long, more than the {max} allowed")]
    TooLong {
        /// What was checked: `glob`, `regex`, `JSON value`.
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Nested more deeply than allowed.
    #[error("the {what} is nested more than {max} levels deep")]
    TooDeep {
        /// What was checked.
        what: &'static str,
        /// The bound.
        max: usize,
    },
}

/// Checks a glob's length and its nesting of `{…}` alternatives (a `\`-escaped brace does not
/// count; a brace inside `[…]` is counted anyway, which only errs on the safe side).
///
/// ```
/// # use llm_do_core::bounds::check_glob;
/// assert!(check_glob(r"\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{\{").is_ok());
/// assert!(check_glob("{a,{b,{c,d}}}").is_ok());
/// ```
pub fn check_glob(pattern: &str) -> Result<(), BoundError> {
    check_len("glob", pattern, MAX_GLOB_CHARS)?;
    let (mut depth, mut max) = (0usize, 0usize);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => {
                depth += 1;
                max = max.max(depth);
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_GLOB_NESTING {
        return Err(BoundError::TooDeep { what: "glob", max: MAX_GLOB_NESTING });
    }
    Ok(())
}

/// Checks a regular expression's length (its nesting is bounded by building it with
/// [`MAX_REGEX_NESTING`] as the regex library's nest limit, see [`regex`](fn@regex)).
///
/// ```
/// # use llm_do_core::bounds::check_regex;
/// assert!(check_regex(r"^\d+$").is_ok());
/// ```
pub fn check_regex(pattern: &str) -> Result<(), BoundError> {
    check_len("regex", pattern, MAX_REGEX_CHARS)
}

/// Builds a regular expression within the bounds: [`check_regex`], then the regex library
/// with [`MAX_REGEX_NESTING`] as its nest limit. The error is a message for a person.
///
/// ```
/// # use llm_do_core::bounds::regex;
/// assert!(regex(r"^a+$").unwrap().is_match("aaa"));
/// let nested = format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000));
/// assert!(regex(&nested).is_err());
/// ```
pub fn regex(pattern: &str) -> Result<regex::Regex, String> {
    check_regex(pattern).map_err(|e| e.to_string())?;
    regex::RegexBuilder::new(pattern)
        .nest_limit(MAX_REGEX_NESTING)
        .build()
        .map_err(|e| e.to_string().lines().last().unwrap_or_default().trim().to_owned())
}

/// Checks that `value` is nested at most `max` levels deep (a scalar is depth 0, `[1]` depth
/// 1), without recursion.
///
/// ```
/// # use llm_do_core::bounds::{check_json_depth, BoundError};
/// let v = serde_json::json!({"a": [[1]]});
/// assert!(check_json_depth(&v, 3).is_ok());
/// assert_eq!(check_json_depth(&v, 2), Err(BoundError::TooDeep { what: "JSON value", max: 2 }));
/// ```
pub fn check_json_depth(value: &Value, max: usize) -> Result<(), BoundError> {
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth + 1 > max {
            return Err(BoundError::TooDeep { what: "JSON value", max });
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// The first characters of an untrusted text, for a message (a refused 20,000-character glob
/// is not echoed whole).
///
/// ```
/// assert_eq!(llm_do_core::bounds::excerpt("abc"), "abc");
/// assert_eq!(llm_do_core::bounds::excerpt(&"x".repeat(100)).chars().count(), 41);
/// ```
pub fn excerpt(text: &str) -> String {
    cut(text, 40)
}

/// `text` cut to at most `max_chars` characters, with `…` marking a cut: the one rule for
/// shortening text shown to a person (an error, a question, a progress message).
///
/// ```
/// use llm_do_core::bounds::cut;
/// assert_eq!(cut("héllo", 10), "héllo");
/// assert_eq!(cut("héllo", 2), "hé…");
/// ```
pub fn cut(text: &str, max_chars: usize) -> String {
    // Its home is the syntax crate, which the proc-macro crate uses too.
    llm_do_syntax::text::cut(text, max_chars)
}

fn check_len(what: &'static str, text: &str, max: usize) -> Result<(), BoundError> {
    let len = text.chars().count();
    if len > max {
        return Err(BoundError::TooLong { what, len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(cut("héllo", 10), "héllo");
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("", 0), "");
    }

    #[test]
    fn globs_at_the_bounds() {
        let at = format!("{}a{}", "{".repeat(MAX_GLOB_NESTING), "}".repeat(MAX_GLOB_NESTING));
        assert!(check_glob(&at).is_ok());
        assert!(globset::Glob::new(&at).is_ok(), "the bound is below what globset handles");
        let over = format!("{{{at}}}");
        assert!(matches!(check_glob(&over), Err(BoundError::TooDeep { .. })));
        // Unbalanced closing braces do not hide later nesting.
        let tricky = format!("}}}}}}{}", "{".repeat(MAX_GLOB_NESTING + 1));
        assert!(check_glob(&tricky).is_err());
        assert!(check_glob(&"*".repeat(MAX_GLOB_CHARS)).is_ok());
        assert!(check_glob(&"é".repeat(MAX_GLOB_CHARS + 1)).is_err());
    }

    #[test]
    fn regexes_are_bounded_in_length_and_nesting() {
        assert!(regex(&"a".repeat(MAX_REGEX_CHARS + 1)).unwrap_err().contains("4096"));
        let nested = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(regex(&nested(60)).is_ok());
        assert!(regex(&nested(100)).unwrap_err().contains("nest"));
    }

    #[test]
    fn json_depth_is_measured_without_recursion() {
        let mut v = Value::Null;
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert!(check_json_depth(&v, MAX_JSON_DEPTH).is_err());
        // Dropping the value itself recurses: take it apart by hand.
        while let Value::Array(items) = &mut v {
            v = items.pop().unwrap_or(Value::Null);
        }
        assert!(check_json_depth(&serde_json::json!([[[]]]), 3).is_ok());
        assert!(check_json_depth(&serde_json::json!(1), 0).is_ok());
    }
}
