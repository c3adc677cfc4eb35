//! What the CLI writes for people: text from untrusted sources (models, servers, tool
//! results, log files) made safe before it reaches a terminal — the one home of that rule.
//!
//! - **Secrets** are redacted everywhere the CLI writes (stdout, stderr, run logs), by the
//!   project's one secrets rule ([`llm_do::secrets`]) with the values of this process's
//!   secret-looking environment variables ([`redactor`]).
//! - **Control characters** are escaped on stderr always, and on stdout when it is a terminal
//!   ([`escape_controls`]): an escape sequence in a model's text or a server's error body can
//!   clear the screen, set the window title, move the cursor or hide a line; a `\r` can
//!   overwrite a line with a fake "ok". When stdout is not a terminal, the run's result is
//!   written as it is (it is data for the next program), secrets redacted.
//!
//! ```
//! use llm_do_cli::terminal::escape_controls;
//! assert_eq!(escape_controls("ok\x1b[2J\x1b]0;title\x07\rfake"), "ok\\x1b[2J\\x1b]0;title\\x07\\rfake");
//! assert_eq!(escape_controls("two\nlines\tand tabs"), "two\nlines\tand tabs");
//! ```

use llm_do::secrets::Redactor;
use serde_json::Value;
use std::borrow::Cow;
use std::io::IsTerminal as _;
use std::sync::OnceLock;

/// The redactor of everything the CLI writes: patterns plus the values of the environment's
/// secret-looking variables (read once).
///
/// ```
/// assert_eq!(llm_do_cli::terminal::redactor().redact("ghp_abcdefghijklmnopqrstuvwxyz"), "[redacted]");
/// ```
pub fn redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(|| Redactor::new().with_env(std::env::vars()))
}

/// Whether a character must not reach a terminal as it is: C0 controls but `\n` and `\t`,
/// DEL, C1 controls, and the bidirectional overrides and isolates that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with every control character (but `\n` and `\t`) shown as an escape: `\x1b`, `\r`,
/// `\u{202e}`. Borrowed when there is nothing to escape.
///
/// ```
/// use llm_do_cli::terminal::escape_controls;
/// assert_eq!(escape_controls("plain"), "plain");
/// assert_eq!(escape_controls("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Untrusted text as it may be shown on a terminal or stderr: secrets redacted, control
/// characters escaped.
///
/// ```
/// assert_eq!(llm_do_cli::terminal::safe("key sk-abcdefghijklmnopqrstu\x1b[2J"), "key [redacted]\\x1b[2J");
/// ```
pub fn safe(text: &str) -> String {
    escape_controls(&redactor().redact(text)).into_owned()
}

/// A result (of a run, of a chat turn) as stdout shows it: a text as it is, any other JSON
/// value pretty-printed; secrets redacted always, control characters escaped when stdout is a
/// terminal (when it is piped, the result is data for the next program).
pub(crate) fn stdout_result(value: &Value) -> String {
    let text = match value {
        Value::String(s) => redactor().redact(s),
        other => {
            serde_json::to_string_pretty(&redactor().redact_json(other.clone())).unwrap_or_default()
        }
    };
    if std::io::stdout().is_terminal() { escape_controls(&text).into_owned() } else { text }
}
