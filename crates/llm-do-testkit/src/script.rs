//! Scripts as JSON: a JSON array of [`Reply`]s, the format of the binary's `--script FILE`.
//!
//! Each element is one reply, in the form [`Reply`] documents (`{"text": ...}` or a bare
//! string, `{"json": ...}`, `{"tool_call": {"name", "args"}}`, `{"tool_calls": [...]}`,
//! `{"error": {"status", "message"}}`, each optionally with `usage`, `finish_reason` and
//! `model`). `examples/script.json` in this crate is a complete example:
//!
//! ```
//! let text = include_str!("../examples/script.json");
//! let script = llm_do_testkit::parse_script(text)?;
//! assert_eq!(script.len(), 4);
//! # Ok::<(), llm_do_testkit::TestkitError>(())
//! ```

use crate::error::TestkitError;
use llm_do_testing::scripted::Reply;
use std::path::Path;

/// Parses a script: a JSON array of replies.
///
/// ```
/// use llm_do_testing::scripted::Reply;
/// use serde_json::json;
///
/// let script = llm_do_testkit::parse_script(r#"[{"tool_call": {"name": "add", "args": {"a": 1}}}, "done"]"#)?;
/// assert_eq!(script, [Reply::tool_call("add", json!({"a": 1})), Reply::text("done")]);
/// assert!(llm_do_testkit::parse_script(r#"[{"txt": "typo"}]"#).is_err());
/// # Ok::<(), llm_do_testkit::TestkitError>(())
/// ```
///
/// # Errors
///
/// [`TestkitError::ParseScript`] when the text is not such an array.
pub fn parse_script(text: &str) -> Result<Vec<Reply>, TestkitError> {
    serde_json::from_str(text).map_err(|source| TestkitError::ParseScript { path: None, source })
}

/// Reads and parses a script file (see [`parse_script`]).
///
/// ```no_run
/// let script = llm_do_testkit::load_script("crates/llm-do-testkit/examples/script.json")?;
/// # Ok::<(), llm_do_testkit::TestkitError>(())
/// ```
///
/// # Errors
///
/// [`TestkitError::ReadScript`] when the file cannot be read, [`TestkitError::ParseScript`]
/// when it is not a JSON array of replies.
pub fn load_script(path: impl AsRef<Path>) -> Result<Vec<Reply>, TestkitError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|source| TestkitError::ReadScript { path: path.to_owned(), source })?;
    serde_json::from_str(&text)
        .map_err(|source| TestkitError::ParseScript { path: Some(path.to_owned()), source })
}
