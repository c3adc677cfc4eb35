//! Text from models, servers, tools and files made safe to show on a terminal: the one home of
//! that rule, used by the CLI, [`EventPrinter`](crate::EventPrinter), [`EventLog::transcript`](crate::EventLog::transcript)
//! and cassette transcripts.
//!
//! A terminal acts on more than C0 controls: `ESC` sequences clear the screen, set the window
//! title or hide a line, a `\r` overwrites a line with a fake "ok", the C1 control `U+009B` is
//! a CSI to many terminals, and the bidirectional overrides and isolates reorder what is shown
//! (`invoice\u{202e}fdp.exe` reads as `invoiceexe.pdf`). [`escape_controls`] shows each of
//! them as an escape instead.
//!
//! The rule's code lives in `llm_do_syntax::text` (a crate without dependencies), so that the
//! proc-macro crate shows what it refuses the same way; these functions are it.

use std::borrow::Cow;

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
    llm_do_syntax::text::escape_controls(text)
}

/// [`escape_controls`] for text shown on one line: `\n` and `\t` are escaped too.
///
/// ```
/// use llm_do_core::controls::escape_controls_one_line;
/// assert_eq!(escape_controls_one_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\x1b");
/// ```
pub fn escape_controls_one_line(text: &str) -> Cow<'_, str> {
    llm_do_syntax::text::escape_controls_one_line(text)
}
