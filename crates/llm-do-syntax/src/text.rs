//! Two rules about untrusted text that the syntax checks and the runtime share (this crate has
//! no dependencies, so their home is here; `llm_do_core::bounds::cut` and
//! `llm_do_core::controls::is_unsafe` are these):
//!
//! - [`is_unsafe`]: the characters a terminal acts on rather than shows;
//! - [`cut`]: how untrusted text is shortened for a message.

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
