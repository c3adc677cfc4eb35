//! A tool's question ([`Question`]) asked at the terminal: the message, then accept, decline or
//! dismiss, then the form's fields one by one — each typed, checked against its part of the
//! form, and asked again when it does not fit. A question that asks to open a page shows the
//! page and its site, and asks whether the person will open it.

use futures::future::BoxFuture;
use llm_do::approval::{Answer, Choice, Field, FieldKind, Page, Question};
use llm_do::bounds::cut;
use serde_json::{Map, Value, json};

/// How many times a field is asked before the question is dismissed.
const TRIES: usize = 5;

/// The most choices a prompt lists (the others can still be typed by value), and the most
/// characters of a field's label: a server's form must not flood the terminal.
const SHOWN_CHOICES: usize = 40;
const LABEL_CHARS: usize = 300;
/// The most characters of a question's message shown.
const MESSAGE_CHARS: usize = 4000;

/// A field's label: its title, and its description after a dash.
fn label(field: &Field) -> String {
    match &field.description {
        Some(description) => format!("{} — {description}", field.title()),
        None => field.title().to_owned(),
    }
}

/// The prompt of `field`: label, what it takes, whether it may be left empty, its default.
fn prompt_of(field: &Field) -> String {
    let hint = match &field.kind {
        FieldKind::Number => "a number".to_owned(),
        FieldKind::Integer => "a whole number".to_owned(),
        FieldKind::Boolean => "y or n".to_owned(),
        FieldKind::OneOf(options) | FieldKind::AnyOf(options) => {
            let mut listed: Vec<String> = options
                .iter()
                .take(SHOWN_CHOICES)
                .enumerate()
                .map(|(i, choice)| format!("{}) {}", i + 1, cut(&choice.label, 60)))
                .collect();
            if options.len() > SHOWN_CHOICES {
                listed.push(format!("… {} more", options.len() - SHOWN_CHOICES));
            }
            let how = if matches!(field.kind, FieldKind::AnyOf(_)) {
                "numbers or values, separated by commas"
            } else {
                "a number or a value"
            };
            format!("{how}: {}", listed.join("  "))
        }
        // Text, and any kind a later version adds: typed as is, checked against the form.
        _ => "text".to_owned(),
    };
    let optional = if field.required { "" } else { ", may be left empty" };
    let default = match &field.default {
        Some(Value::String(s)) => format!(" [{s}]"),
        Some(v) => format!(" [{v}]"),
        None => String::new(),
    };
    let label = cut(&label(field), LABEL_CHARS);
    crate::terminal::safe(&format!("  {label} ({hint}{optional}){default}: "))
}

/// The value a line typed for `field` stands for.
fn value_of(field: &Field, text: &str) -> Result<Value, String> {
    let pick = |options: &[Choice], text: &str| -> Result<Value, String> {
        if let Ok(n) = text.parse::<usize>()
            && let Some(choice) = n.checked_sub(1).and_then(|i| options.get(i))
        {
            return Ok(choice.value.clone());
        }
        options
            .iter()
            .find(|c| c.value.as_str() == Some(text) || c.label == text)
            .map(|c| c.value.clone())
            .ok_or_else(|| "not one of the choices".to_owned())
    };
    match &field.kind {
        FieldKind::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| json!(n))
            .ok_or_else(|| "not a number".to_owned()),
        FieldKind::Integer => {
            text.parse::<i64>().map(|n| json!(n)).map_err(|_| "not a whole number".to_owned())
        }
        FieldKind::Boolean => match text.to_lowercase().as_str() {
            "y" | "yes" | "true" => Ok(json!(true)),
            "n" | "no" | "false" => Ok(json!(false)),
            _ => Err("answer y or n".to_owned()),
        },
        FieldKind::OneOf(options) => pick(options, text),
        FieldKind::AnyOf(options) => text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| pick(options, t))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        _ => Ok(json!(text)),
    }
}

/// The question as shown before it is answered: who asks, where, and what.
fn heading(question: &Question) -> String {
    crate::terminal::safe(&format!(
        "question from `{}` at depth {}\n  call path: {}\n  {}\n",
        question.asker,
        question.depth,
        question.call_path.join(" > "),
        cut(&question.message, MESSAGE_CHARS).replace('\n', "\n  "),
    ))
}

/// Asks a question that asks to open a page: the page's address in full and its site, then
/// whether the person will open it (llm-do does not open it for them).
async fn open(
    question: &Question,
    page: &Page,
    read: impl Fn(String) -> BoxFuture<'static, Option<String>>,
) -> Answer {
    let prompt = format!(
        "{}{}  [o] I will open it  [d] decline  [c] dismiss\n> ",
        heading(question),
        crate::terminal::safe(&format!(
            "  page: {}\n  site: {}\n  (llm-do does not open it: open it yourself if you choose to)\n",
            page.url, page.site
        )),
    );
    match go_on(&read, prompt, &["o", "open"]).await {
        Ok(()) => Answer::Accept { content: Map::new() },
        Err(answer) => answer,
    }
}

/// Shows `prompt` until the person goes on (`go` — its first word names the key — or `y`,
/// `yes`), declines (`d`, `n`) or dismisses (`c`, `q`, the end of input); `Err` carries the
/// answer of the last two.
async fn go_on(
    read: &impl Fn(String) -> BoxFuture<'static, Option<String>>,
    mut prompt: String,
    go: &[&str],
) -> Result<(), Answer> {
    loop {
        match read(prompt).await.map(|a| a.trim().to_lowercase()).as_deref() {
            Some(word) if go.contains(&word) || matches!(word, "y" | "yes") => return Ok(()),
            Some("d" | "decline" | "n" | "no") => return Err(Answer::Decline),
            Some("c" | "dismiss" | "cancel" | "q") | None => return Err(Answer::Cancel),
            Some(_) => prompt = format!("please answer {}, d or c\n> ", go[0]),
        }
    }
}

/// Asks `question` through `read` (which shows a prompt and returns the line typed, `None` at
/// the end of input): first whether to answer it, then each field (or, for a page to open,
/// whether the person will open it). The end of input, or a field asked [`TRIES`] times
/// without a value that fits, dismisses it.
pub(crate) async fn fill(
    question: &Question,
    read: impl Fn(String) -> BoxFuture<'static, Option<String>>,
) -> Answer {
    if let Some(page) = &question.page {
        return open(question, page, read).await;
    }
    // A question `Ctx::ask` asks always has a form that parses; any other is declined.
    let Ok(form) = question.form() else { return Answer::Decline };
    let prompt = format!("{}  [a] answer  [d] decline  [c] dismiss\n> ", heading(question));
    if let Err(answer) = go_on(&read, prompt, &["a", "answer"]).await {
        return answer;
    }
    let mut content = Map::new();
    for field in form.fields() {
        let mut note = String::new();
        let mut tries = 0;
        let value = loop {
            tries += 1;
            if tries > TRIES {
                return Answer::Cancel;
            }
            let Some(line) = read(format!("{note}{}", prompt_of(field))).await else {
                return Answer::Cancel;
            };
            let text = line.trim();
            if text.is_empty() {
                match (&field.default, field.required) {
                    (Some(default), _) => break Some(default.clone()),
                    (None, false) => break None,
                    (None, true) => {
                        note = "  a value is needed\n".to_owned();
                        continue;
                    }
                }
            }
            let checked = value_of(field, text)
                .and_then(|value| question.check_field(&field.name, &value).map(|()| value));
            match checked {
                Ok(value) => break Some(value),
                Err(why) => note = crate::terminal::safe(&format!("  {why}\n")),
            }
        };
        if let Some(value) = value {
            content.insert(field.name.clone(), value);
        }
    }
    Answer::Accept { content }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// The prompts a `read` was given.
    type Prompts = Arc<Mutex<Vec<String>>>;

    /// A `read` that answers from `lines` and keeps the prompts.
    fn script(lines: &[&str]) -> (impl Fn(String) -> BoxFuture<'static, Option<String>>, Prompts) {
        let lines = Arc::new(Mutex::new(lines.iter().map(|l| l.to_string()).collect::<Vec<_>>()));
        let prompts = Arc::new(Mutex::new(Vec::new()));
        let seen = prompts.clone();
        let read = move |prompt: String| -> BoxFuture<'static, Option<String>> {
            seen.lock().unwrap().push(prompt);
            let mut lines = lines.lock().unwrap();
            let next = (!lines.is_empty()).then(|| lines.remove(0));
            Box::pin(async move { next })
        };
        (read, prompts)
    }

    fn question(schema: Value) -> Question {
        Question::new("orders__refund", "Refund which way?\nThink \x1b[31mfirst", schema)
    }

    fn form() -> Value {
        json!({"type": "object", "required": ["name", "count"], "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 2},
            "count": {"type": "integer", "minimum": 1},
            "ratio": {"type": "number"},
            "ok": {"type": "boolean", "default": true},
            "size": {"type": "string", "enum": ["s", "m"], "enumNames": ["Small", "Medium"]},
            "colour": {"oneOf": [{"const": "r", "title": "Red"}, {"const": "g", "title": "Green"}]},
            "tags": {"type": "array", "items": {"anyOf": [{"const": "a"}, {"const": "b"}]}},
            "note": {"type": "string"},
        }})
    }

    #[tokio::test]
    async fn each_field_is_asked_typed_and_checked() {
        // Fields come in the schema's order (serde_json's map: sorted by name, unless
        // `preserve_order`); answer by name so the order does not matter.
        let q = question(form());
        let answers = |prompt: &str| -> &'static str {
            let p = prompt.to_lowercase();
            if p.contains("[a] answer") {
                "a"
            } else if p.contains("count") {
                "3"
            } else if p.contains("name") {
                "Ada"
            } else if p.contains("ratio") {
                "0.5"
            } else if p.contains("y or n") {
                ""
            } else if p.contains("small") {
                "2"
            } else if p.contains("red") {
                "Green"
            } else if p.contains("separated by commas") {
                "1, b"
            } else {
                ""
            }
        };
        let prompts = Arc::new(Mutex::new(Vec::new()));
        let seen = prompts.clone();
        let read = move |prompt: String| -> BoxFuture<'static, Option<String>> {
            let answer = answers(&prompt).to_owned();
            seen.lock().unwrap().push(prompt);
            Box::pin(async move { Some(answer) })
        };
        let answer = fill(&q, read).await;
        let expected = json!({"name": "Ada", "count": 3, "ratio": 0.5, "ok": true, "size": "m",
            "colour": "g", "tags": ["a", "b"]});
        assert_eq!(answer, Answer::accept(expected));
        let prompts = prompts.lock().unwrap();
        // The message is shown escaped, with who asks.
        assert!(prompts[0].contains("question from `orders__refund`"), "{}", prompts[0]);
        assert!(!prompts[0].contains('\x1b'), "{}", prompts[0]);
        assert_eq!(prompts.len(), 1 + 8);
    }

    #[tokio::test]
    async fn a_value_that_does_not_fit_is_asked_again_and_too_many_tries_dismiss() {
        let q = question(json!({"type": "object", "required": ["count"],
            "properties": {"count": {"type": "integer", "minimum": 1}}}));
        let (read, prompts) = script(&["a", "x", "0", "", "2"]);
        assert_eq!(fill(&q, read).await, Answer::accept(json!({"count": 2})));
        let prompts = prompts.lock().unwrap().clone();
        assert!(prompts[2].contains("not a whole number"), "{}", prompts[2]);
        assert!(prompts[3].contains("minimum"), "{}", prompts[3]);
        assert!(prompts[4].contains("a value is needed"), "{}", prompts[4]);
        let (read, _) = script(&["a", "x", "x", "x", "x", "x", "2"]);
        assert_eq!(fill(&q, read).await, Answer::Cancel);
    }

    #[test]
    fn a_flood_of_choices_or_a_long_label_is_cut() {
        let many: Vec<String> = (0..1000).map(|i| format!("option-{i}")).collect();
        let q = question(json!({"type": "object", "properties": {
            "pick": {"type": "string", "enum": many, "description": "x".repeat(10_000)}}}));
        let form = q.form().unwrap();
        let field = &form.fields()[0];
        let prompt = prompt_of(field);
        assert!(prompt.len() < 3000, "{}", prompt.len());
        assert!(prompt.contains("40) option-39  … 960 more"), "{prompt}");
        let long = Question::new("t", "m".repeat(100_000), json!({"type": "object"}));
        assert!(heading(&long).len() < 4100, "{}", heading(&long).len());
        // A choice past those shown can still be typed by value.
        assert_eq!(value_of(field, "option-999"), Ok(json!("option-999")));
    }

    #[tokio::test]
    async fn a_page_to_open_is_shown_in_full_with_its_site_and_never_opened() {
        let url = "https://pay.example.com/refund/card-7?step=1";
        let q = Question::to_open("orders__refund", "Enter the card \x1b[31mhere", url).unwrap();
        let (read, prompts) = script(&["what", "o"]);
        assert_eq!(fill(&q, read).await, Answer::Accept { content: Map::new() });
        let prompts = prompts.lock().unwrap().clone();
        assert!(
            prompts[0].contains(&format!("page: {url}\n  site: pay.example.com")),
            "{}",
            prompts[0]
        );
        assert!(prompts[0].contains("llm-do does not open it"), "{}", prompts[0]);
        assert!(!prompts[0].contains('\x1b'), "{}", prompts[0]);
        assert_eq!(prompts[1], "please answer o, d or c\n> ");
        assert_eq!(fill(&q, script(&["d"]).0).await, Answer::Decline);
        assert_eq!(fill(&q, script(&["c"]).0).await, Answer::Cancel);
        assert_eq!(fill(&q, script(&[]).0).await, Answer::Cancel);
        // `a` answers a form; a page is not a form.
        assert_eq!(fill(&q, script(&["a"]).0).await, Answer::Cancel);
    }

    #[tokio::test]
    async fn decline_dismiss_and_the_end_of_input() {
        let q = question(form());
        assert_eq!(fill(&q, script(&["d"]).0).await, Answer::Decline);
        assert_eq!(fill(&q, script(&["what", "c"]).0).await, Answer::Cancel);
        assert_eq!(fill(&q, script(&[]).0).await, Answer::Cancel);
        assert_eq!(fill(&q, script(&["a", "Ada"]).0).await, Answer::Cancel);
    }
}
