//! Recovering a worker's arguments from its rendered prompt.

use llm_do_core::prompt::Template;
use serde_json::{Map, Value};

enum Part {
    Text(String),
    Placeholder(String),
}

/// Splits a template source into text and placeholders (`{{`/`}}` are literal braces).
fn parts(source: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' if chars.peek() == Some(&c) => {
                chars.next();
                text.push(c);
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Placeholder(name.trim().to_owned()));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

/// The arguments that make `template` render exactly `rendered`, or `None`.
///
/// Each placeholder takes the shortest text that lets the rest match; values whose parameter
/// is not a string in `input_schema` are parsed as JSON. A template without placeholders
/// matches its `Input:` JSON block. The result is checked by rendering it again, so a match is
/// never wrong — but a prompt whose argument contains the literal text that follows its
/// placeholder may not be recovered.
///
/// ```
/// use llm_do::prompt::Template;
/// use llm_do::testing::hardening::match_template;
/// use serde_json::json;
/// let t = Template::parse("Classify: {ticket} (max {n} words)").unwrap();
/// let schema = json!({"properties": {"ticket": {"type": "string"}, "n": {"type": "integer"}}});
/// let args = match_template(&t, &schema, "Classify: I was charged (max 3 words)").unwrap();
/// assert_eq!(args, json!({"ticket": "I was charged", "n": 3}));
/// assert!(match_template(&t, &schema, "Something else").is_none());
/// ```
pub fn match_template(template: &Template, input_schema: &Value, rendered: &str) -> Option<Value> {
    let parts = parts(template.source());
    let args = if parts.iter().any(|p| matches!(p, Part::Placeholder(_))) {
        let table = Splits::new(&parts, rendered);
        let raw = table.first()?;
        let mut map = Map::new();
        for (name, range) in raw {
            let value = typed(input_schema, name, rendered[range].to_owned());
            if let Some(previous) = map.get(name)
                && previous != &value
            {
                return None;
            }
            map.insert(name.to_owned(), value);
        }
        Value::Object(map)
    } else {
        let literal = template.render(&Value::Object(Map::new()));
        let rest = rendered.strip_prefix(literal.as_str())?;
        if rest.is_empty() {
            Value::Object(Map::new())
        } else {
            let rest = rest.trim_start_matches('\n').strip_prefix("Input:\n```json\n")?;
            serde_json::from_str(rest.strip_suffix("\n```")?).ok()?
        }
    };
    (template.render(&args) == rendered).then_some(args)
}

/// Which suffixes of a text the template's parts can match, computed once, so that finding a
/// split is linear in (parts × text length) instead of backtracking over every combination of
/// candidate positions (exponential in the number of placeholders).
struct Splits<'a> {
    parts: &'a [Part],
    text: &'a str,
    /// `ok[i][at]`: `parts[i..]` can match `text[at..]` (`at` a byte offset).
    ok: Vec<Vec<bool>>,
}

impl<'a> Splits<'a> {
    fn new(parts: &'a [Part], text: &'a str) -> Self {
        let len = text.len();
        let bytes = text.as_bytes();
        let mut ok = vec![vec![false; len + 1]; parts.len() + 1];
        ok[parts.len()][len] = true;
        for i in (0..parts.len()).rev() {
            let (row, next_rows) = ok.split_at_mut(i + 1);
            let (row, next) = (&mut row[i], &next_rows[0]);
            match (&parts[i], parts.get(i + 1)) {
                (Part::Text(t), _) => {
                    let t = t.as_bytes();
                    // Every offset where `t` fits (none when the text is shorter).
                    for at in 0..(len + 1).saturating_sub(t.len()) {
                        // A match of valid UTF-8 text starts on a character boundary.
                        row[at] = next[at + t.len()] && bytes[at..].starts_with(t);
                    }
                }
                // The last placeholder takes the rest of the text.
                (Part::Placeholder(_), None) => row.fill(true),
                // Adjacent placeholders are ambiguous: never matched.
                (Part::Placeholder(_), Some(Part::Placeholder(_))) => {}
                // A placeholder followed by text matches from `at` when the text (and the
                // rest) matches at some offset from `at` on.
                (Part::Placeholder(_), Some(Part::Text(_))) => {
                    let mut reachable = false;
                    for at in (0..=len).rev() {
                        reachable |= next[at];
                        row[at] = reachable;
                    }
                }
            }
        }
        Splits { parts, text, ok }
    }

    /// The split giving each placeholder the shortest text that lets the rest match: each
    /// placeholder with the byte range it captures.
    fn first(&self) -> Option<Vec<(&'a str, std::ops::Range<usize>)>> {
        if !self.ok[0][0] {
            return None;
        }
        let mut out = Vec::new();
        let mut at = 0;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Text(t) => at += t.len(),
                Part::Placeholder(name) => {
                    let end = if i + 1 == self.parts.len() {
                        self.text.len()
                    } else {
                        (at..=self.text.len()).find(|&end| self.ok[i + 1][end])?
                    };
                    out.push((name.as_str(), at..end));
                    at = end;
                }
            }
        }
        Some(out)
    }
}

/// A captured text as the parameter's JSON value.
fn typed(input_schema: &Value, name: &str, text: String) -> Value {
    let ty = input_schema.pointer(&format!("/properties/{name}/type"));
    let is_string = match ty {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if text == "null" {
        return Value::Null;
    }
    if is_string {
        return Value::String(text);
    }
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"properties": {"a": {"type": "string"}, "b": {"type": "string"}}})
    }

    #[test]
    fn a_value_containing_the_next_literal_is_still_recovered() {
        let t = Template::parse("A={a}; B={b}.").unwrap();
        let args = match_template(&t, &schema(), "A=x; y; B=z.").unwrap();
        assert_eq!(args, json!({"a": "x; y", "b": "z"}));
    }

    #[test]
    fn a_long_prompt_with_many_candidate_splits_is_read_in_bounded_time() {
        // Five placeholders and 2000 candidate positions for each: backtracking over every
        // combination took hours; the table is linear. Run on a thread so that a regression
        // fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let t = Template::parse("{a}, {b}, {c}, {d}, {e}.").unwrap();
            let schema = json!({"properties": {"a": {"type": "string"}}});
            let unmatched = "x, ".repeat(2000) + "x";
            let matched = "x, ".repeat(3) + "y, z, w.";
            let _ = tx.send((
                match_template(&t, &schema, &unmatched),
                match_template(&t, &schema, &matched),
            ));
        });
        let (unmatched, matched) =
            rx.recv_timeout(std::time::Duration::from_secs(20)).expect("finishes");
        assert_eq!(unmatched, None);
        assert_eq!(matched, Some(json!({"a": "x", "b": "x", "c": "x", "d": "y", "e": "z, w"})));
        // A prompt shorter than the template's text.
        assert_eq!(match_template(&Template::parse("{a}, {b}.").unwrap(), &schema(), ","), None);
    }

    #[test]
    fn templates_without_placeholders_read_the_input_block() {
        let t = Template::parse("Summarize:").unwrap();
        let args = json!({"a": "text", "b": "more"});
        assert_eq!(match_template(&t, &schema(), &t.render(&args)), Some(args));
    }

    #[test]
    fn literal_braces_and_repeats() {
        let t = Template::parse("{{json}} {a} and again {a}").unwrap();
        assert_eq!(match_template(&t, &schema(), "{json} x and again x"), Some(json!({"a": "x"})));
        assert_eq!(match_template(&t, &schema(), "{json} x and again y"), None);
    }
}
