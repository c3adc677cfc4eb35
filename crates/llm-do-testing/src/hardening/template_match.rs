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
        let mut raw: Vec<(String, String)> = Vec::new();
        capture(&parts, rendered, &mut raw)?;
        let mut map = Map::new();
        for (name, text) in raw {
            let value = typed(input_schema, &name, text);
            if let Some(previous) = map.get(&name)
                && previous != &value
            {
                return None;
            }
            map.insert(name, value);
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

/// Matches `parts` against `text`, pushing (placeholder, captured text) pairs.
fn capture(parts: &[Part], text: &str, out: &mut Vec<(String, String)>) -> Option<()> {
    match parts.split_first() {
        None => text.is_empty().then_some(()),
        Some((Part::Text(t), rest)) => capture(rest, text.strip_prefix(t.as_str())?, out),
        Some((Part::Placeholder(name), rest)) => match rest.first() {
            None => {
                out.push((name.clone(), text.to_owned()));
                Some(())
            }
            Some(Part::Placeholder(_)) => None, // adjacent placeholders are ambiguous
            Some(Part::Text(next)) => {
                let mut from = 0;
                while let Some(pos) = text[from..].find(next.as_str()) {
                    let at = from + pos;
                    let len = out.len();
                    out.push((name.clone(), text[..at].to_owned()));
                    if capture(rest, &text[at..], out).is_some() {
                        return Some(());
                    }
                    out.truncate(len);
                    from = at + text[at..].chars().next().map_or(1, char::len_utf8);
                }
                None
            }
        },
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
