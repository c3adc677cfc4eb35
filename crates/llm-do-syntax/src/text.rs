//! Three rules about untrusted text that the syntax checks and the runtime share (this crate has
//! no dependencies, so their home is here; `llm_do_core::bounds::cut` and
//! `llm_do_core::controls` are these):
//!
//! - [`is_unsafe`]: the characters a terminal acts on rather than shows;
//! - [`escape_controls`] and [`escape_controls_one_line`]: how they are shown instead;
//! - [`cut`]: how untrusted text is shortened for a message.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal would act on `c` rather than show it: C0 controls (`\n` and `\t`
/// included), DEL, C1 controls, and the bidirectional overrides, isolates and marks.
///
/// ```
/// use llm_do_syntax::text::is_unsafe;
/// assert!(is_unsafe('\u{1b}') && is_unsafe('\u{9b}') && is_unsafe('\u{202e}') && is_unsafe('\n'));
/// assert!(!is_unsafe('a') && !is_unsafe('é') && !is_unsafe('—'));
/// ```
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` cut to at most `max_chars` characters, with `…` marking a cut: the one rule for
/// shortening text shown to a person (an error, a question, a progress message).
///
/// ```
/// use llm_do_syntax::text::cut;
/// assert_eq!(cut("héllo", 10), "héllo");
/// assert_eq!(cut("héllo", 2), "hé…");
/// ```
pub fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `text` with every [unsafe](is_unsafe) character but `\n` and `\t` shown as an escape: `\r`,
/// `\x1b` (below U+0080), `\u{202e}` (the others). Borrowed when there is nothing to escape.
///
/// ```
/// use llm_do_syntax::text::escape_controls;
/// assert_eq!(escape_controls("ok\x1b[2J\rfake"), "ok\\x1b[2J\\rfake");
/// assert_eq!(escape_controls("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
/// assert_eq!(escape_controls("two\nlines\tand tabs"), "two\nlines\tand tabs");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, |c| matches!(c, '\n' | '\t'))
}

/// [`escape_controls`] for text shown on one line: `\n` and `\t` are escaped too.
///
/// ```
/// use llm_do_syntax::text::escape_controls_one_line;
/// assert_eq!(escape_controls_one_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\x1b");
/// ```
pub fn escape_controls_one_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// `text` with the unsafe characters that `keep` does not keep escaped.
fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let shown = |c: char| !is_unsafe(c) || keep(c);
    if text.chars().all(shown) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if shown(c) => out.push(c),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}
