//! Recovering a worker's arguments from its rendered prompt.

use llm_do_core::prompt::Template;
use serde_json::{Map, Value};
use std::ops::Range;

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

/// What [`match_template`] found: the one set of arguments the prompt was rendered with, or
/// why there is none.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TemplateMatch {
    /// Exactly one set of arguments renders the prompt.
    Unique(Value),
    /// No arguments render the prompt: it is not this template's.
    Unmatched,
    /// Several sets of arguments render the same prompt (`Compare {a} with {b}.` and
    /// `Compare cats with hats with dogs.`), or there are more ways to split it than are
    /// checked: which ones the worker saw cannot be told.
    Ambiguous,
}

impl TemplateMatch {
    /// The arguments, when there is exactly one set.
    pub fn unique(self) -> Option<Value> {
        match self {
            TemplateMatch::Unique(args) => Some(args),
            _ => None,
        }
    }
}

/// How many splits of a prompt are examined before it is called ambiguous.
const MAX_SPLITS: usize = 64;

/// The arguments that make `template` render exactly `rendered`.
///
/// Values whose parameter is not a string in `input_schema` are parsed as JSON. A template
/// without placeholders matches its `Input:` JSON block. Every way of splitting the prompt
/// between the placeholders is checked by rendering its arguments again: when more than one
/// renders the prompt — an argument contains the literal text that follows its placeholder —
/// the result is [`TemplateMatch::Ambiguous`], never a guess. The work is bounded: linear in
/// (placeholders × prompt length) to find the splits, and at most 64 splits are examined.
///
/// ```
/// use llm_do::prompt::Template;
/// use llm_do::testing::hardening::{match_template, TemplateMatch};
/// use serde_json::json;
/// let t = Template::parse("Classify: {ticket} (max {n} words)").unwrap();
/// let schema = json!({"properties": {"ticket": {"type": "string"}, "n": {"type": "integer"}}});
/// let args = match_template(&t, &schema, "Classify: I was charged (max 3 words)");
/// assert_eq!(args, TemplateMatch::Unique(json!({"ticket": "I was charged", "n": 3})));
/// assert_eq!(match_template(&t, &schema, "Something else"), TemplateMatch::Unmatched);
///
/// let t = Template::parse("Compare {a} with {b}.").unwrap();
/// let seen = match_template(&t, &schema, "Compare cats with hats with dogs.");
/// assert_eq!(seen, TemplateMatch::Ambiguous);
/// ```
pub fn match_template(template: &Template, input_schema: &Value, rendered: &str) -> TemplateMatch {
    let parts = parts(template.source());
    if !parts.iter().any(|p| matches!(p, Part::Placeholder(_))) {
        return match input_block(template, rendered) {
            Some(args) if template.render(&args) == rendered => TemplateMatch::Unique(args),
            _ => TemplateMatch::Unmatched,
        };
    }
    let splits = Splits::new(&parts, rendered).all(MAX_SPLITS + 1);
    if splits.len() > MAX_SPLITS {
        return TemplateMatch::Ambiguous;
    }
    let mut found: Option<Value> = None;
    for split in splits {
        let Some(args) = arguments(input_schema, rendered, split) else { continue };
        if template.render(&args) != rendered || found.as_ref() == Some(&args) {
            continue;
        }
        if found.is_some() {
            return TemplateMatch::Ambiguous;
        }
        found = Some(args);
    }
    found.map_or(TemplateMatch::Unmatched, TemplateMatch::Unique)
}

/// The arguments of a template without placeholders: its `Input:` JSON block.
fn input_block(template: &Template, rendered: &str) -> Option<Value> {
    let literal = template.render(&Value::Object(Map::new()));
    let rest = rendered.strip_prefix(literal.as_str())?;
    if rest.is_empty() {
        return Some(Value::Object(Map::new()));
    }
    let rest = rest.trim_start_matches('\n').strip_prefix("Input:\n```json\n")?;
    serde_json::from_str(rest.strip_suffix("\n```")?).ok()
}

/// The arguments object of one split, or `None` when a repeated placeholder captured two
/// different values.
fn arguments(input_schema: &Value, text: &str, split: Split<'_>) -> Option<Value> {
    let mut map = Map::new();
    for (name, range) in split {
        let value = typed(input_schema, name, text[range].to_owned());
        if let Some(previous) = map.get(name)
            && previous != &value
        {
            return None;
        }
        map.insert(name.to_owned(), value);
    }
    Some(Value::Object(map))
}

/// Each placeholder of a template with the byte range of the prompt it captures.
type Split<'a> = Vec<(&'a str, Range<usize>)>;

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

    /// Up to `limit` splits of the text, shortest captures first. Only offsets from which the
    /// rest matches are visited, so each split costs at most (parts × text length).
    fn all(&self, limit: usize) -> Vec<Split<'a>> {
        let mut found = Vec::new();
        self.walk(0, 0, limit, &mut Vec::new(), &mut found);
        found
    }

    /// Extends `current` (a split of the parts before `i`, ending at `at`); recursion is as
    /// deep as the template has parts.
    fn walk(
        &self,
        i: usize,
        at: usize,
        limit: usize,
        current: &mut Split<'a>,
        found: &mut Vec<Split<'a>>,
    ) {
        if found.len() >= limit || !self.ok[i][at] {
            return;
        }
        match self.parts.get(i) {
            None => found.push(current.clone()),
            Some(Part::Text(t)) => self.walk(i + 1, at + t.len(), limit, current, found),
            Some(Part::Placeholder(name)) => {
                let len = self.text.len();
                let ends = if i + 1 == self.parts.len() { len..=len } else { at..=len };
                for end in ends.filter(|&end| self.ok[i + 1][end]) {
                    current.push((name.as_str(), at..end));
                    self.walk(i + 1, end, limit, current, found);
                    current.pop();
                    if found.len() >= limit {
                        return;
                    }
                }
            }
        }
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
        let args = match_template(&t, &schema(), "A=x; y; B=z.");
        assert_eq!(args, TemplateMatch::Unique(json!({"a": "x; y", "b": "z"})));
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
            let _ = tx.send(match_template(&t, &schema, &unmatched));
        });
        let unmatched = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("finishes");
        assert_eq!(unmatched, TemplateMatch::Unmatched);
        // A prompt shorter than the template's text.
        let t = Template::parse("{a}, {b}.").unwrap();
        assert_eq!(match_template(&t, &schema(), ","), TemplateMatch::Unmatched);
    }

    #[test]
    fn templates_without_placeholders_read_the_input_block() {
        let t = Template::parse("Summarize:").unwrap();
        let args = json!({"a": "text", "b": "more"});
        assert_eq!(match_template(&t, &schema(), &t.render(&args)), TemplateMatch::Unique(args));
    }

    #[test]
    fn literal_braces_and_repeats() {
        let t = Template::parse("{{json}} {a} and again {a}").unwrap();
        let seen = match_template(&t, &schema(), "{json} x and again x");
        assert_eq!(seen, TemplateMatch::Unique(json!({"a": "x"})));
        let seen = match_template(&t, &schema(), "{json} x and again y");
        assert_eq!(seen, TemplateMatch::Unmatched);
        // Two splits, of which one gives both `{a}`s the same value.
        let seen = match_template(&t, &schema(), "{json} x and again y and again x and again y");
        assert_eq!(seen, TemplateMatch::Unique(json!({"a": "x and again y"})));
    }

    #[test]
    fn a_prompt_two_sets_of_arguments_render_is_ambiguous() {
        let t = Template::parse("Compare {a} with {b}.").unwrap();
        // a = "cats with hats", b = "dogs" and a = "cats", b = "hats with dogs" render alike.
        let seen = match_template(&t, &schema(), "Compare cats with hats with dogs.");
        assert_eq!(seen, TemplateMatch::Ambiguous);
        let seen = match_template(&t, &schema(), "Compare cats with dogs.");
        assert_eq!(seen, TemplateMatch::Unique(json!({"a": "cats", "b": "dogs"})));
        // Five placeholders over many commas: more splits than are examined.
        let t = Template::parse("{a}, {b}, {c}, {d}, {e}.").unwrap();
        let seen = match_template(&t, &schema(), &("x, ".repeat(2000) + "x."));
        assert_eq!(seen, TemplateMatch::Ambiguous);
        let seen = match_template(&t, &schema(), "v, w, x, y, z.");
        let args = json!({"a": "v", "b": "w", "c": "x", "d": "y", "e": "z"});
        assert_eq!(seen, TemplateMatch::Unique(args));
    }
}
