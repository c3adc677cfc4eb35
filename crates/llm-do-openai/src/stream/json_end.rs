//! Whether a tool call's arguments, arriving in pieces, are one complete JSON value yet:
//! decided in time linear in their length however many pieces they come in.
//!
//! The assembler asks after every piece that names the current call's tool again without an
//! index or id (servers that send whole calls that way). Parsing the arguments afresh each
//! time would be quadratic: a server sending an open string and then a million such pieces
//! (well under the answer limit) would hold the task, and its thread, for hours, where no
//! timeout can interrupt it. So a scan that only reads the new bytes follows the structure
//! (brackets, strings and their escapes), and the arguments are parsed (for the verdict
//! itself, unchanged) only when that scan finds one closed value: once per call, as anything
//! but whitespace after a closed value can never be valid again.

/// The longest bare scalar (number, `true`, ...) taken as complete arguments: arguments are
/// objects; a bare scalar longer than this never counts as complete (so that its verdict costs
/// a bounded parse each time).
const MAX_SCALAR: usize = 64;

/// The scan's state over the arguments so far.
#[derive(Debug, Default)]
pub(super) struct JsonEnd {
    /// Bytes of the arguments scanned.
    scanned: usize,
    /// Open brackets.
    depth: u64,
    in_string: bool,
    escaped: bool,
    /// What the top-level value is, once its first byte has come.
    top: Option<Top>,
    /// The length of the arguments up to the end of their last byte other than whitespace,
    /// when that ends a value at the top level.
    closed_at: Option<usize>,
    /// Set when the arguments can never be one valid JSON value, whatever follows.
    broken: bool,
    /// The parser's verdict, and the length it was given for.
    verdict: Option<(usize, bool)>,
    /// Bytes scanned and parsed in all (what the tests measure).
    #[cfg(test)]
    pub(super) examined: u64,
}

/// The kind of a top-level value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Top {
    Container,
    String,
    /// A bare scalar; `gap` once whitespace followed its token.
    Scalar {
        len: usize,
        gap: bool,
    },
}

impl JsonEnd {
    /// Whether `arguments` (the text scanned before, with more appended) is one complete JSON
    /// value, surrounded by whitespace at most: `serde_json`'s verdict, bare scalars longer
    /// than [`MAX_SCALAR`] excepted.
    pub(super) fn is_complete(&mut self, arguments: &str) -> bool {
        let bytes = arguments.as_bytes();
        if bytes.len() < self.scanned {
            // Not the text scanned before: start again.
            *self = Self::default();
        }
        for (position, &byte) in bytes.iter().enumerate().skip(self.scanned) {
            if self.broken {
                break;
            }
            self.step(position, byte);
        }
        #[cfg(test)]
        {
            self.examined += (bytes.len() - self.scanned) as u64;
        }
        self.scanned = bytes.len();
        let Some(end) = self.closed_at.filter(|_| !self.broken) else { return false };
        if let Some((at, verdict)) = self.verdict
            && at == end
        {
            return verdict;
        }
        #[cfg(test)]
        {
            self.examined += end as u64;
        }
        let verdict = serde_json::from_str::<serde::de::IgnoredAny>(&arguments[..end]).is_ok();
        self.verdict = Some((end, verdict));
        verdict
    }

    /// Takes the byte at `position` into account.
    fn step(&mut self, position: usize, byte: u8) {
        if self.in_string {
            match (self.escaped, byte) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => {
                    self.in_string = false;
                    if self.depth == 0 {
                        self.closed_at = Some(position + 1);
                    }
                }
                _ => {}
            }
            return;
        }
        let whitespace = matches!(byte, b' ' | b'\t' | b'\n' | b'\r');
        let scalar = matches!(self.top, Some(Top::Scalar { .. }));
        match &mut self.top {
            _ if whitespace && !scalar => {}
            None => match byte {
                b'{' | b'[' => {
                    self.top = Some(Top::Container);
                    self.depth = 1;
                }
                b'"' => {
                    self.top = Some(Top::String);
                    self.in_string = true;
                }
                _ => {
                    self.top = Some(Top::Scalar { len: 0, gap: false });
                    self.scalar_byte(position, byte);
                }
            },
            Some(Top::Scalar { gap, .. }) if whitespace => *gap = true,
            Some(Top::Scalar { .. }) => self.scalar_byte(position, byte),
            // Something after a complete container or string.
            Some(_) if self.closed_at.is_some() => self.broken = true,
            Some(_) => match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.closed_at = Some(position + 1);
                    }
                }
                _ => {}
            },
        }
    }

    /// A byte of a bare scalar other than whitespace.
    fn scalar_byte(&mut self, position: usize, byte: u8) {
        let Some(Top::Scalar { len, gap }) = &mut self.top else { return };
        *len += 1;
        let in_token = byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.');
        if *gap || !in_token || *len > MAX_SCALAR {
            self.broken = true;
        } else {
            self.closed_at = Some(position + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(text: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    }

    #[test]
    fn the_verdict_is_the_parsers_for_every_prefix_fed_piece_by_piece() {
        let texts = [
            r#"{"a":1}"#,
            r#" {"a":"b\"}{","c":[1,{"d":"]"}]}  "#,
            r#"[1,2,"x\\"]"#,
            r#"{"a":1}}"#,
            r#"{"a":1} {"b":2}"#,
            r#"{"a":1} x"#,
            r#"{abc}"#,
            r#"{"a":1]"#,
            r#"}{"#,
            r#""a string\" with \\ escapes""#,
            r#""s" "t""#,
            "-12.5e+3",
            "12 34",
            "true",
            "nul",
            "nullx",
            "1e",
            "{\"é\":\"☃\"}\n",
            "\u{c}{}",
            "",
            "   ",
        ];
        for text in texts {
            let mut end = JsonEnd::default();
            for (cut, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
                let prefix = &text[..cut];
                assert_eq!(end.is_complete(prefix), parses(prefix), "{prefix:?} of {text:?}");
            }
        }
    }

    #[test]
    fn long_bare_scalars_never_count_as_complete() {
        let number = "1".repeat(MAX_SCALAR + 1);
        assert!(parses(&number));
        assert!(!JsonEnd::default().is_complete(&number));
        assert!(JsonEnd::default().is_complete(&number[..MAX_SCALAR]));
    }

    #[test]
    fn other_text_than_before_is_scanned_afresh() {
        let mut end = JsonEnd::default();
        assert!(!end.is_complete(r#"{"a":"#));
        assert!(end.is_complete("[]"));
    }

    #[test]
    fn a_closed_value_is_parsed_once_however_much_whitespace_follows() {
        let mut end = JsonEnd::default();
        let mut text = format!(r#"{{"a":"{}",x}}"#, "y".repeat(10_000));
        for _ in 0..1_000 {
            assert!(!end.is_complete(&text));
            text.push(' ');
        }
        assert!(end.examined < 2 * text.len() as u64, "{} bytes examined", end.examined);
    }
}
