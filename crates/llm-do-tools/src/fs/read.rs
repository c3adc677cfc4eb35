//! `read_file`: a window of a UTF-8 text file, counted in characters.

use super::sandbox::{Sandbox, io_error};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io::Read;

/// Arguments of `read_file`.
///
/// ```
/// let args: llm_do_tools::fs::ReadFileArgs =
///     serde_json::from_value(serde_json::json!({"path": "notes/a.md", "offset": 100})).unwrap();
/// assert_eq!(args.offset, Some(100));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFileArgs {
    /// Path of the file, relative to the sandbox root (for example `docs/README.md`).
    pub path: String,
    /// First character to return, counted from 0 (default 0). To read a long file in pieces,
    /// pass the `next_offset` of the previous result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Most characters to return (default and upper limit: the tool's configured maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<u64>,
}

/// Result of `read_file`.
///
/// ```
/// # use llm_do_tools::fs::ReadFileOutput;
/// let out: ReadFileOutput = serde_json::from_value(serde_json::json!({
///     "path": "a.txt", "content": "hi", "offset": 0, "total_chars": 2, "size_bytes": 2,
///     "truncated": false
/// })).unwrap();
/// assert!(!out.truncated);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReadFileOutput {
    /// The path, relative to the sandbox root.
    pub path: String,
    /// The characters read.
    pub content: String,
    /// The offset (in characters) of the first character of `content`.
    pub offset: u64,
    /// How many characters the whole file has.
    pub total_chars: u64,
    /// The size of the file in bytes.
    pub size_bytes: u64,
    /// Whether the file goes on after `content`.
    pub truncated: bool,
    /// Where to continue reading, when `truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
    /// A note for the reader, when `truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Reads a window of `args.path`; `limit` is the configured most characters per call.
pub(crate) fn read_file(
    sandbox: &Sandbox,
    args: &ReadFileArgs,
    limit: usize,
) -> Result<ReadFileOutput, ToolError> {
    let shown = args.path.as_str();
    let rel = sandbox.relative(shown)?;
    let (file, meta) = sandbox.open_file(&rel, shown)?;
    let size_bytes = meta.len();
    let offset = args.offset.unwrap_or(0);
    let max = args.max_chars.map_or(limit, |m| usize::try_from(m).unwrap_or(usize::MAX).min(limit));
    let window = read_window(file, offset, max)
        .map_err(|e| io_error("reading", shown, e))?
        .ok_or_else(|| ToolError::NotText { path: shown.to_owned() })?;
    let returned = window.content.chars().count() as u64;
    let end = offset.saturating_add(returned);
    let truncated = end < window.total_chars;
    let rel_shown = rel.to_string_lossy().replace('\\', "/");
    Ok(ReadFileOutput {
        path: rel_shown,
        offset,
        total_chars: window.total_chars,
        size_bytes,
        truncated,
        next_offset: truncated.then_some(end),
        note: truncated.then(|| {
            format!(
                "showing characters {offset}..{end} of {}; call read_file again with offset {end} \
                 to read on",
                window.total_chars
            )
        }),
        content: window.content,
    })
}

/// The characters `[offset, offset + max)` of a stream, and how many it has in all.
#[derive(Debug, PartialEq)]
struct Window {
    content: String,
    total_chars: u64,
}

/// Decodes `reader` as UTF-8 in chunks (memory stays bounded by the window, whatever the file's
/// size). `Ok(None)` when the bytes are not UTF-8.
fn read_window(mut reader: impl Read, offset: u64, max: usize) -> std::io::Result<Option<Window>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut content = String::new();
    let mut taken = 0usize;
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(pending.is_empty().then_some(Window { content, total_chars: total }));
        }
        pending.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&pending) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_some() => return Ok(None),
            Err(e) => e.valid_up_to(),
        };
        let (text, _) = pending.split_at(valid);
        // `text` is valid UTF-8 by construction.
        let text = std::str::from_utf8(text).unwrap_or_default();
        let before = total;
        let count = text.chars().count() as u64;
        total += count;
        if taken < max && total > offset {
            let skip = usize::try_from(offset.saturating_sub(before)).unwrap_or(usize::MAX);
            for c in text.chars().skip(skip).take(max - taken) {
                content.push(c);
                taken += 1;
            }
        }
        pending.drain(..valid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(bytes: &[u8], offset: u64, max: usize) -> Option<(String, u64)> {
        read_window(bytes, offset, max).ok().flatten().map(|w| (w.content, w.total_chars))
    }

    #[test]
    fn windows_count_characters_not_bytes() {
        let text = "héllo wörld";
        assert_eq!(window(text.as_bytes(), 0, 100), Some((text.into(), 11)));
        assert_eq!(window(text.as_bytes(), 1, 4), Some(("éllo".into(), 11)));
        assert_eq!(window(text.as_bytes(), 20, 4), Some((String::new(), 11)));
        assert_eq!(window(text.as_bytes(), 0, 0), Some((String::new(), 11)));
    }

    #[test]
    fn multibyte_characters_split_across_chunks_are_decoded() {
        let text = "ü".repeat(70_000); // 140 000 bytes: chunk boundaries fall inside characters
        let (content, total) = window(text.as_bytes(), 65_535, 3).unwrap();
        assert_eq!((content.as_str(), total), ("üüü", 70_000));
    }

    #[test]
    fn invalid_utf8_is_not_text() {
        assert_eq!(window(b"ok\xff\xfe", 0, 10), None);
        assert_eq!(window(b"truncated \xc3", 0, 10), None);
    }
}
