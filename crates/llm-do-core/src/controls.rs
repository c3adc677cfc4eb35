//! Text from models, servers, tools and files made safe to show on a terminal: the one home of
//! that rule, used by the CLI, [`EventPrinter`](crate::EventPrinter), [`EventLog::transcript`](crate::EventLog::transcript)
//! and cassette transcripts.
//!
//! A terminal acts on more than C0 controls: `ESC` sequences clear the screen, set the window
//! title or hide a line, a `\r` overwrites a line with a fake "ok", the C1 control `U+009B` is
//! a CSI to many terminals, and the bidirectional overrides and isolates reorder what is shown
//! (`invoice\u{202e}fdp.exe` reads as `invoiceexe.pdf`). [`escape_controls`] shows each of
//! them as an escape instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal would act on `c` rather than show it: C0 controls (`\n` and `\t`
/// included: see [`escape_controls`] for text that keeps its lines), DEL, C1 controls, and the
/// bidirectional overrides, isolates and marks.
///
/// ```
/// use llm_do_core::controls::is_unsafe;
/// assert!(is_unsafe('\u{1b}') && is_unsafe('\u{9b}') && is_unsafe('\u{202e}') && is_unsafe('\n'));
/// assert!(!is_unsafe('a') && !is_unsafe('é') && !is_unsafe('—'));
/// ```
pub fn is_unsafe(c: char) -> bool {
    // Its home is the syntax crate, whose model strings must not hold such characters.
    llm_do_syntax::text::is_unsafe(c)
}

/// `text` with every [unsafe](is_unsafe) character but `\n` and `\t` shown as an escape: `\r`,
/// `\x1b` (below U+0080), `\u{202e}` (the others). Borrowed when there is nothing to escape.
///
/// ```
/// use llm_do_core::controls::escape_controls;
/// assert_eq!(escape_controls("ok\x1b[2J\x1b]0;title\x07\rfake"), "ok\\x1b[2J\\x1b]0;title\\x07\\rfake");
/// assert_eq!(escape_controls("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
/// assert_eq!(escape_controls("two\nlines\tand tabs"), "two\nlines\tand tabs");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, |c| matches!(c, '\n' | '\t'))
}

/// [`escape_controls`] for text shown on one line: `\n` and `\t` are escaped too.
///
/// ```
/// use llm_do_core::controls::escape_controls_one_line;
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
