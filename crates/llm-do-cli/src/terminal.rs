//! What the CLI writes for people: text from untrusted sources (models, servers, tool
//! results, log files) made safe before it reaches a terminal — the one home of that rule.
//!
//! - **Secrets** are redacted everywhere the CLI writes (stdout, stderr, run logs), by the
//!   project's one secrets rule ([`llm_do::secrets`]) with the values of this process's
//!   secret-looking environment variables ([`redactor`]).
//! - **Control characters** are escaped on stderr always, and on stdout when it is a terminal
//!   ([`escape_controls`]): an escape sequence in a model's text or a server's error body can
//!   clear the screen, set the window title, move the cursor or hide a line; a `\r` can
//!   overwrite a line with a fake "ok" (the rule is core's, [`llm_do::controls`]). When stdout is not a terminal, the run's result is
//!   written as it is (it is data for the next program), secrets redacted.
//!
//! ```
//! use llm_do_cli::terminal::escape_controls;
//! assert_eq!(escape_controls("ok\x1b[2J\x1b]0;title\x07\rfake"), "ok\\x1b[2J\\x1b]0;title\\x07\\rfake");
//! assert_eq!(escape_controls("two\nlines\tand tabs"), "two\nlines\tand tabs");
//! ```

use llm_do::secrets::Redactor;
use serde_json::Value;
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
    REDACTOR.get_or_init(|| Redactor::new().with_env(std::env::vars_os()))
}

/// The one rule of what a terminal must not be given as it is, and how it is shown instead.
pub use llm_do::controls::escape_controls;
use llm_do::controls::is_unsafe;

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
/// value pretty-printed ([`json_pretty`]); secrets redacted always, a text's control
/// characters escaped when stdout is a terminal (when it is piped, the result is data for the
/// next program).
pub(crate) fn stdout_result(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let text = redactor().redact(s);
            if std::io::stdout().is_terminal() { escape_controls(&text).into_owned() } else { text }
        }
        other => json_pretty(other),
    }
}

/// A JSON value on one line as the CLI prints it (`--json` results, chat's JSON lines): the
/// one home of that rule. Secrets are redacted, and the characters a terminal would act on are
/// written as JSON escapes — serde_json escapes C0 controls but writes DEL, the C1 controls
/// (`U+009B` is a CSI to many terminals) and the bidirectional overrides as they are. The
/// result is the same JSON value, whether it goes to a terminal or to the next program.
///
/// ```
/// use llm_do_cli::terminal::json_line;
/// let value = serde_json::json!({"text": "a\u{9b}2Jb\u{202e}c\u{7f}", "key": "sk-abcdefghijklmnopqrstu"});
/// let line = json_line(&value);
/// assert_eq!(line, r#"{"text":"a\u009b2Jb\u202ec\u007f","key":"[redacted]"}"#);
/// let back: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(back["text"], "a\u{9b}2Jb\u{202e}c\u{7f}");
/// ```
pub fn json_line(value: &Value) -> String {
    json_escaped(serde_json::to_string(&redactor().redact_json(value.clone())).unwrap_or_default())
}

/// A JSON value pretty-printed as the CLI prints it (`list --json`, a structured result,
/// `restate pending`): as [`json_line`], on several lines.
///
/// ```
/// let shown = llm_do_cli::terminal::json_pretty(&serde_json::json!(["\u{9b}31m"]));
/// assert_eq!(shown, "[\n  \"\\u009b31m\"\n]");
/// ```
pub fn json_pretty(value: &Value) -> String {
    json_escaped(
        serde_json::to_string_pretty(&redactor().redact_json(value.clone())).unwrap_or_default(),
    )
}

/// `json` (serde_json's writing) with every character of [`is_unsafe`] that serde_json leaves
/// as it is written as a `\uXXXX` escape. Such characters can only be inside JSON strings, so
/// the escape is valid there and means the same character.
fn json_escaped(json: String) -> String {
    // serde_json writes `\n` and `\t` only between values (pretty-printing), never raw in
    // a string: they stay.
    let escaped = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\t');
    if !json.chars().any(escaped) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text held back by a [`StreamRedactor`] without whitespace before it is let out anyway.
const MAX_HELD: usize = 4096;

/// Words a [`StreamRedactor`] looks back over for one that introduces a secret.
const MAX_STEPS_BACK: usize = 8;

/// Redacts text that arrives in pieces (a streamed answer), in which a secret may be cut
/// between two pieces: the redactor of [`redactor`], applied to whole words. A secret holds no
/// whitespace, so [`push`](Self::push) lets out the text up to the last whitespace and holds
/// back the run of non-whitespace after it — and the word before, when it introduces a secret
/// (`Bearer`, `password:`) — until whitespace or [`finish`](Self::finish) says the word is
/// whole. The one home of that rule; a run of more than 4 KiB without whitespace is let out,
/// and of a run of words that each introduce a secret (`Bearer Bearer …`) only the last few
/// are held back, so that the work per piece stays bounded.
///
/// ```
/// let mut stream = llm_do_cli::terminal::StreamRedactor::default();
/// let mut shown = String::new();
/// for piece in ["key sk-ab", "cdefghijklmno", "pqrstu, Bearer", " abcdefgh", "ijk done"] {
///     shown += &stream.push(piece);
/// }
/// shown += &stream.finish();
/// assert_eq!(shown, "key [redacted], [redacted] done");
/// ```
#[derive(Debug, Default)]
pub struct StreamRedactor {
    held: String,
}

impl StreamRedactor {
    /// Takes the next piece; returns the text that may be shown now, redacted.
    pub fn push(&mut self, piece: &str) -> String {
        self.held.push_str(piece);
        let mut cut = after_last_whitespace(&self.held);
        // At most a few words back: past them, the word let out last introduces only the word
        // after it, itself an introducer held back with what follows (`Bearer Bearer …`).
        let mut steps = 0;
        while cut > 0 && steps < MAX_STEPS_BACK && introduces_a_secret(&self.held[..cut]) {
            cut = after_last_whitespace(self.held[..cut].trim_end());
            steps += 1;
        }
        if cut == 0 && self.held.len() > MAX_HELD {
            cut = self.held.len();
        }
        let out: String = self.held.drain(..cut).collect();
        redactor().redact(&out)
    }

    /// The end of the stream: the text held back, redacted.
    pub fn finish(&mut self) -> String {
        redactor().redact(&std::mem::take(&mut self.held))
    }

    /// Forgets the text held back (a stream that was cut off: its last word may be half a
    /// secret).
    pub fn discard(&mut self) {
        self.held.clear();
    }
}

/// The byte offset just after the last whitespace of `text` (0 when it has none).
fn after_last_whitespace(text: &str) -> usize {
    text.char_indices().rev().find(|(_, c)| c.is_whitespace()).map_or(0, |(i, c)| i + c.len_utf8())
}

/// Whether a token written right after `text` would be redacted with it (`text` ends with
/// `Bearer `, `password: `…).
fn introduces_a_secret(text: &str) -> bool {
    const PROBE: &str = "Qx7Qx7Qx7Qx7Qx7Qx7Qx7Qx7";
    !redactor().redact(&format!("{text}{PROBE}")).ends_with(PROBE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way of cutting a text in pieces shows what redacting it whole shows.
    #[test]
    fn a_stream_cut_anywhere_is_redacted_as_the_whole_text() {
        let text = "ok: sk-proj-abcdef1234567890abcdefXYZ, then Bearer abcdefghijk and \
                    password: hunter2hunter2\nghp_abcdefghijklmnopqrstuvwxyz end";
        let whole = redactor().redact(text);
        assert!(!whole.contains("hunter2") && !whole.contains("abcdef12"), "{whole}");
        let chars: Vec<char> = text.chars().collect();
        for size in 1..=12 {
            let mut stream = StreamRedactor::default();
            let mut shown = String::new();
            for piece in chars.chunks(size) {
                let piece: String = piece.iter().collect();
                let out = stream.push(&piece);
                shown += &out;
            }
            shown += &stream.finish();
            assert_eq!(shown, whole, "pieces of {size}");
        }
    }

    /// A stream of words that each introduce a secret (`Bearer Bearer Bearer …`, from a model
    /// or a server) is let out as it comes, all but its last few words, and the secret after
    /// them is still redacted. Before, each piece walked back over every such word held,
    /// redacting the whole text again at each step: nothing was let out, and the work grew
    /// with the square of the text (60 s for 16 KB, `serve` and `chat` held up meanwhile).
    #[test]
    fn a_run_of_secret_introducers_is_let_out_as_it_comes() {
        let introducers = "Bearer ".repeat(150);
        let text = format!("{introducers}ghp_abcdefghijklmnopqrstuvwxyz done");
        let chars: Vec<char> = text.chars().collect();
        let mut stream = StreamRedactor::default();
        let mut shown = String::new();
        for (i, piece) in chars.chunks(5).enumerate() {
            shown += &stream.push(&piece.iter().collect::<String>());
            if (i + 1) * 5 == introducers.len() {
                let held = stream.held.len();
                assert!(held <= MAX_STEPS_BACK * "Bearer ".len(), "{held} bytes held back");
            }
        }
        shown += &stream.finish();
        assert!(!shown.contains("ghp_") && shown.ends_with("[redacted] done"), "{shown}");
    }

    #[test]
    fn a_discarded_stream_shows_nothing_of_its_last_word() {
        let mut stream = StreamRedactor::default();
        assert_eq!(stream.push("the key sk-proj-abc"), "the key ");
        stream.discard();
        assert_eq!(stream.finish(), "");
    }
}
