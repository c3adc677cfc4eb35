//! JSON as a tree of [`Node`]s with positions (for `project.json`).
//!
//! serde_json checks the syntax first (its errors carry line and column, and it bounds nesting
//! at 128 levels); a small walker over the then-known-valid text records where every value and
//! key starts. Strings and numbers are decoded by serde_json, so escapes and number forms are
//! exactly JSON's.

use crate::diagnostic::Pos;
use crate::yaml::{Kind, Node, YamlError};
use serde_json::Value;

/// Parses `text` (a whole file) into a positioned tree.
pub(crate) fn parse(text: &str) -> Result<Node, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Err(e) = serde_json::from_str::<Value>(text) {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the position is given separately.
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        return Err(YamlError {
            pos: Pos { line: e.line().max(1), column: e.column().max(1) },
            message: format!("invalid JSON: {message}"),
            expected: Some("well-formed JSON".into()),
        });
    }
    let mut walker = Walker { text, at: 0, lines: line_starts(text) };
    walker.value().ok_or_else(|| YamlError {
        pos: Pos::START,
        message: "this JSON cannot be read".into(),
        expected: Some("well-formed JSON".into()),
    })
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// Walks text that serde_json accepted; `None` only if that assumption breaks.
struct Walker<'a> {
    text: &'a str,
    at: usize,
    lines: Vec<usize>,
}

impl Walker<'_> {
    fn pos(&self, offset: usize) -> Pos {
        let line = self.lines.partition_point(|&start| start <= offset).max(1);
        let start = self.lines[line - 1];
        Pos { line, column: self.text[start..offset].chars().count() + 1 }
    }

    fn skip_ws(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    fn value(&mut self) -> Option<Node> {
        self.skip_ws();
        let start = self.at;
        let pos = self.pos(start);
        let kind = match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    loop {
                        let key = self.value()?;
                        self.expect(b':')?;
                        let value = self.value()?;
                        entries.push((key, value));
                        self.skip_ws();
                        match self.peek()? {
                            b',' => self.at += 1,
                            b'}' => {
                                self.at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Map(entries)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.skip_ws();
                        match self.peek()? {
                            b',' => self.at += 1,
                            b']' => {
                                self.at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Seq(items)
            }
            b'"' => {
                let bytes = self.text.as_bytes();
                let mut i = start + 1;
                while *bytes.get(i)? != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                self.at = i + 1;
                Kind::Str(serde_json::from_str(&self.text[start..self.at]).ok()?)
            }
            _ => {
                let rest = &self.text[start..];
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
                    .unwrap_or(rest.len());
                self.at = start + len;
                match serde_json::from_str::<Value>(&rest[..len]).ok()? {
                    Value::Null => Kind::Null,
                    Value::Bool(b) => Kind::Bool(b),
                    Value::Number(n) => match n.as_i64() {
                        Some(i) => Kind::Int(i),
                        None => Kind::Float(n.as_f64()?),
                    },
                    _ => return None,
                }
            }
        };
        Some(Node { pos, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let node = parse("{\n  \"a\": [1, \"x\\\"y\"],\n\t\"b\": {\"c\": null}\n}\n").unwrap();
        let Kind::Map(entries) = &node.kind else { panic!("{node:?}") };
        assert_eq!(entries[0].0.pos, Pos { line: 2, column: 3 });
        let Kind::Seq(items) = &entries[0].1.kind else { panic!() };
        assert_eq!(items[1].pos, Pos { line: 2, column: 12 });
        assert_eq!(items[1].kind, Kind::Str("x\"y".into()));
        assert_eq!(entries[1].0.pos, Pos { line: 3, column: 2 });
        assert_eq!(
            node.to_json().unwrap(),
            serde_json::json!({"a": [1, "x\"y"], "b": {"c": null}})
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = parse("{\n  \"a\": 1,\n}\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, column: 1 });
        assert!(e.message.starts_with("invalid JSON: trailing comma"), "{}", e.message);
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert!(parse(&deep).is_err(), "nesting is bounded");
        assert_eq!(parse("1.5e3").unwrap().kind, Kind::Float(1500.0));
        assert_eq!(parse(" \"é\" ").unwrap().pos, Pos { line: 1, column: 2 });
    }
}
