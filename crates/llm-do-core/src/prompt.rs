//! Prompt templates: `{param}` placeholders replaced by a call's arguments.
//!
//! `{{` and `}}` stand for literal braces. A placeholder must name a parameter (the `#[worker]`
//! macro checks this at compile time). String arguments are inserted as they are; other values
//! as compact JSON. When a template uses no placeholder at all but the call has arguments, the
//! arguments are appended as a JSON block so that the model always sees its input.
//!
//! The syntax itself is [`llm_do_syntax::template`]'s, which the `#[worker]` macro and the
//! worker-file checker use too.

pub use llm_do_syntax::template::TemplateError;
use llm_do_syntax::template::{self, Piece};

use serde_json::Value;
use std::fmt::Write as _;

/// A parsed prompt template.
///
/// ```
/// use llm_do_core::prompt::Template;
/// let t = Template::parse("Classify this ticket: {ticket}").unwrap();
/// assert_eq!(t.placeholders().collect::<Vec<_>>(), ["ticket"]);
/// let msg = t.render(&serde_json::json!({"ticket": "I was charged twice"}));
/// assert_eq!(msg, "Classify this ticket: I was charged twice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A placeholder's name and the byte offset of its `{` in the source.
    Placeholder(String, usize),
}

impl Template {
    /// Parses a template. Errors name the byte offset and what was expected
    /// ([`TemplateError`]).
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert!(Template::parse("{{literal}} braces").is_ok());
    /// assert!(Template::parse("unclosed {name").is_err());
    /// assert!(Template::parse("bad {two words}").is_err());
    /// ```
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let parts = template::parse(source)?
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(text) => Part::Text(text),
                Piece::Placeholder { name, offset } => Part::Placeholder(name, offset),
            })
            .collect();
        Ok(Self { source: source.to_owned(), parts })
    }

    /// A template with no placeholders (braces are taken literally).
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert_eq!(Template::literal("{x}").render(&serde_json::json!({})), "{x}");
    /// ```
    pub fn literal(text: &str) -> Self {
        let parts = if text.is_empty() { vec![] } else { vec![Part::Text(text.to_owned())] };
        Self { source: text.replace('{', "{{").replace('}', "}}"), parts }
    }

    /// The template as written.
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// assert_eq!(Template::parse("Hi {name}").unwrap().source(), "Hi {name}");
    /// ```
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholder names, in order of appearance (repeats included).
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// let t = Template::parse("{a} and {b} and {a}").unwrap();
    /// assert_eq!(t.placeholders().collect::<Vec<_>>(), ["a", "b", "a"]);
    /// ```
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.placeholder_offsets().map(|(name, _)| name)
    }

    /// The placeholders with the byte offset of their `{` in [`source`](Self::source), in order
    /// of appearance (for diagnostics that point at a line and column).
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// let t = Template::parse("Read {path}, then {{literal}} and { n }.").unwrap();
    /// assert_eq!(t.placeholder_offsets().collect::<Vec<_>>(), [("path", 5), ("n", 34)]);
    /// ```
    pub fn placeholder_offsets(&self) -> impl Iterator<Item = (&str, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(name, offset) => Some((name.as_str(), *offset)),
            Part::Text(_) => None,
        })
    }

    /// Renders the template with the arguments object.
    ///
    /// ```
    /// # use llm_do_core::prompt::Template;
    /// let t = Template::parse("Summarize:").unwrap();
    /// let msg = t.render(&serde_json::json!({"text": "long"}));
    /// assert!(msg.starts_with("Summarize:\n\nInput:\n```json\n"));
    /// ```
    pub fn render(&self, args: &Value) -> String {
        let mut out = String::new();
        let mut used_placeholder = false;
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Placeholder(name, _) => {
                    used_placeholder = true;
                    match args.get(name) {
                        Some(Value::String(s)) => out.push_str(s),
                        Some(v) => {
                            let _ = write!(out, "{v}");
                        }
                        None => out.push_str("null"),
                    }
                }
            }
        }
        let has_args = match args {
            Value::Object(m) => m.values().any(|v| !v.is_null()),
            Value::Null => false,
            _ => true,
        };
        if !used_placeholder && has_args {
            let pretty = serde_json::to_string_pretty(args).unwrap_or_else(|_| args.to_string());
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            let _ = write!(out, "Input:\n```json\n{pretty}\n```");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_non_string_values_as_json() {
        let t = Template::parse("n={n} tags={tags} missing={x}").unwrap();
        assert_eq!(
            t.render(&json!({"n": 3, "tags": ["a", "b"]})),
            r#"n=3 tags=["a","b"] missing=null"#
        );
    }

    #[test]
    fn escapes_braces() {
        let t = Template::parse("{{\"k\": {v}}}").unwrap();
        assert_eq!(t.render(&json!({"v": 1})), "{\"k\": 1}");
    }

    #[test]
    fn rejects_malformed_templates_with_positions() {
        assert_eq!(
            Template::parse("a } b").unwrap_err().to_string(),
            "unmatched `}` at byte 2; write `}}` for a literal brace"
        );
        assert!(Template::parse("{}").unwrap_err().to_string().contains("not a placeholder"));
        assert_eq!(
            Template::parse("x {1abc}").unwrap_err(),
            TemplateError::NotAPlaceholder { offset: 2, name: "1abc".into() }
        );
        // Offsets are bytes, not characters.
        assert_eq!(Template::parse("é {x").unwrap_err().offset(), 3);
        assert_eq!(
            Template::parse("{{é}} {y}").unwrap().placeholder_offsets().collect::<Vec<_>>(),
            [("y", 7)]
        );
    }

    #[test]
    fn no_arguments_no_input_block() {
        assert_eq!(Template::parse("Say hi.").unwrap().render(&json!({})), "Say hi.");
    }
}
