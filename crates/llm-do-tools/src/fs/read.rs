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
    /// How many characters the whole file has, when this read reached the end of the file (it
    /// reads on at most 1 MiB after `content` to count them). Absent when the file goes on
    /// further: `truncated` is then true, and `size_bytes` bounds the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_chars: Option<u64>,
    /// The size of the file in bytes.
    pub size_bytes: u64,
    /// Whether the file goes on after `content`.
    pub truncated: bool,
    /// Where to continue reading, when `truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
    /// A note for the reader, when `truncated` (or `offset` is past the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How many bytes `read_file` reads on after the requested window to count the file's
/// characters (`total_chars`, 1 MiB); a file that goes on further is not read to its end.
pub const READ_COUNT_AHEAD: u64 = 1 << 20;

/// Reads a window of `args.path`; `limit` is the configured most characters per call. The work
/// is bounded by the window: the file is read up to its end, or up to [`READ_COUNT_AHEAD`] bytes
/// past the window's last character, whichever comes first (characters are counted from the
/// start, so reaching `offset` reads the file up to it).
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
    let rel_shown = rel.to_string_lossy().replace('\\', "/");
    // A character takes at least one byte: nothing of the file is at or past `size_bytes`.
    // (A size of 0 is not trusted: files of /proc and the like report it.)
    if size_bytes > 0 && offset >= size_bytes {
        return Ok(ReadFileOutput {
            path: rel_shown,
            content: String::new(),
            offset,
            total_chars: None,
            size_bytes,
            truncated: false,
            next_offset: None,
            note: Some(format!("offset {offset} is past the end of the file ({size_bytes} bytes)")),
        });
    }
    let max = args.max_chars.map_or(limit, |m| usize::try_from(m).unwrap_or(usize::MAX).min(limit));
    let window = read_window(file, offset, max)
        .map_err(|e| io_error("reading", shown, e))?
        .ok_or_else(|| ToolError::NotText { path: shown.to_owned() })?;
    let returned = window.content.chars().count() as u64;
    let end = offset.saturating_add(returned);
    // Not counted to its end: the file goes on past the window.
    let truncated = window.total_chars.is_none_or(|total| end < total);
    let note = truncated.then(|| {
        let of = match window.total_chars {
            Some(total) => format!("of {total}"),
            None => format!("of a file of {size_bytes} bytes, not counted to its end"),
        };
        format!("showing characters {offset}..{end} {of}; call read_file again with offset {end} to read on")
    });
    Ok(ReadFileOutput {
        path: rel_shown,
        offset,
        total_chars: window.total_chars,
        size_bytes,
        truncated,
        next_offset: truncated.then_some(end),
        note,
        content: window.content,
    })
}

/// The characters `[offset, offset + max)` of a stream, and how many it has in all when it
/// was read to its end.
#[derive(Debug, PartialEq)]
struct Window {
    content: String,
    /// `None` when the stream goes on more than [`READ_COUNT_AHEAD`] bytes after the window.
    total_chars: Option<u64>,
}

/// Decodes `reader` as UTF-8 in chunks, up to its end or [`READ_COUNT_AHEAD`] bytes after the
/// window's end (memory stays bounded by the window, and reading by the window's end plus
/// that, whatever the stream's size). `Ok(None)` when the bytes read are not UTF-8.
fn read_window(mut reader: impl Read, offset: u64, max: usize) -> std::io::Result<Option<Window>> {
    let window_end = offset.saturating_add(max as u64);
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut content = String::new();
    let mut taken = 0usize;
    let mut total: u64 = 0;
    let mut read: u64 = 0;
    // Bytes read when a character after the window was first seen.
    let mut past_window_at: Option<u64> = None;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(pending.is_empty().then_some(Window { content, total_chars: Some(total) }));
        }
        read = read.saturating_add(n as u64);
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
        if total > window_end {
            let since = read - *past_window_at.get_or_insert(read);
            if since >= READ_COUNT_AHEAD {
                return Ok(Some(Window { content, total_chars: None }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(bytes: &[u8], offset: u64, max: usize) -> Option<(String, u64)> {
        let w = read_window(bytes, offset, max).ok().flatten()?;
        Some((w.content, w.total_chars.expect("a short stream is counted to its end")))
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

    /// A reader that counts the bytes taken from it.
    struct Counted<R>(R, u64);

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_long_stream_is_read_to_the_window_and_a_little_more_not_to_its_end() {
        let size = 64 * READ_COUNT_AHEAD;
        let mut reader = Counted(std::io::repeat(b'a').take(size), 0);
        let w = read_window(&mut reader, 1000, 10).unwrap().unwrap();
        assert_eq!((w.content.as_str(), w.total_chars), ("aaaaaaaaaa", None));
        let chunk = 64 * 1024;
        assert!(reader.1 <= 1010 + READ_COUNT_AHEAD + chunk, "read {} of {size} bytes", reader.1);
        // A stream that ends within the count-ahead is counted.
        let short = READ_COUNT_AHEAD / 2;
        let w = read_window(std::io::repeat(b'a').take(short), 0, 3).unwrap().unwrap();
        assert_eq!((w.content.as_str(), w.total_chars), ("aaa", Some(short)));
    }

    fn read(path: &str, offset: u64, max: u64) -> ReadFileOutput {
        let dir = tempfile::tempdir().unwrap();
        // Sparse: the size costs no disk, and NUL bytes are UTF-8 text.
        std::fs::File::create(dir.path().join("big"))
            .unwrap()
            .set_len(64 * READ_COUNT_AHEAD)
            .unwrap();
        let sandbox = Sandbox::open(dir.path()).unwrap();
        let args = ReadFileArgs { path: path.into(), offset: Some(offset), max_chars: Some(max) };
        read_file(&sandbox, &args, 100).unwrap()
    }

    #[test]
    fn a_file_longer_than_the_count_ahead_is_paged_without_a_total() {
        let out = read("big", 10, 5);
        assert_eq!((out.content.as_str(), out.total_chars), ("\0\0\0\0\0", None));
        assert_eq!((out.size_bytes, out.truncated, out.next_offset), (64 << 20, true, Some(15)));
        assert!(out.note.is_some_and(|n| n.contains("offset 15") && n.contains("bytes")));
        let past = read("big", 64 << 20, 5);
        assert_eq!((past.content.as_str(), past.truncated, past.next_offset), ("", false, None));
    }
}
