//! Questions a tool puts to the person behind the run (an MCP server's elicitation, say): the
//! [`Question`] and the [`Answer`]; the form's fields are [`super::Form`]'s.

use super::form::{Form, properties};
use serde::Serialize;
use serde_json::{Map, Value};

/// A question a tool asks the person behind the run, with a form to fill in: asked with
/// [`Ctx::ask`](crate::Ctx::ask), answered by the run's [`Approver`](super::Approver)
/// ([`Approver::answer`](super::Approver::answer)).
///
/// The form is a flat JSON Schema object: each property a string (optionally `enum` or
/// `oneOf` of `const`s), number, integer, boolean, or an array of enumerated strings (a
/// multiple choice) — MCP's elicitation forms, which a terminal or a UI can ask field by field.
///
/// ```
/// use llm_do_core::approval::Question;
/// # fn show(q: &Question) {
/// eprintln!("`{}` asks: {} (fields: {:?})", q.asker, q.message, q.fields());
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Question {
    /// The tool (or worker) that asks.
    pub asker: String,
    /// What it asks, in its words.
    pub message: String,
    /// The form: a flat JSON Schema object (empty for a page to open).
    pub schema: Value,
    /// A page the person is asked to open instead of filling in a form
    /// ([`Ctx::ask_to_open`](crate::Ctx::ask_to_open)): show its address and site, and let
    /// them open it; an accepted answer then has no content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Names from the outermost call to the asker.
    pub call_path: Vec<String>,
    /// The asker's depth.
    pub depth: u32,
}

impl Question {
    /// A question of `asker` at the top of a run (depth 0), as [`Ctx::ask`](crate::Ctx::ask)
    /// makes it for a call: for testing an approver's answers.
    ///
    /// ```
    /// use llm_do_core::approval::Question;
    /// let q = Question::new("greet", "Who are you?", serde_json::json!({"type": "object"}));
    /// assert_eq!((q.asker.as_str(), q.call_path.len(), q.depth), ("greet", 1, 0));
    /// ```
    pub fn new(asker: impl Into<String>, message: impl Into<String>, schema: Value) -> Question {
        let asker = asker.into();
        Question {
            call_path: vec![asker.clone()],
            asker,
            message: message.into(),
            schema,
            page: None,
            depth: 0,
        }
    }

    /// A question of `asker` at the top of a run asking to open the page at `url`, as
    /// [`Ctx::ask_to_open`](crate::Ctx::ask_to_open) makes it: for testing an approver's
    /// answers. The error: an address not fit to show a person ([`super::check_page`]).
    ///
    /// ```
    /// use llm_do_core::approval::Question;
    /// let q = Question::to_open("pay", "Pay invoice 7", "https://pay.example.com/i/7").unwrap();
    /// assert_eq!(q.page.unwrap().site, "pay.example.com");
    /// ```
    pub fn to_open(
        asker: impl Into<String>,
        message: impl Into<String>,
        url: impl Into<String>,
    ) -> Result<Question, String> {
        let url = url.into();
        let site = super::check_page(&url)?;
        let mut question = Question::new(asker, message, serde_json::json!({"type": "object"}));
        question.page = Some(Page { url, site });
        Ok(question)
    }

    /// The names of the form's fields, in the schema's order.
    ///
    /// ```
    /// # use llm_do_core::approval::Question;
    /// # fn f(q: &Question) { for field in q.fields() { println!("{field}"); } }
    /// ```
    pub fn fields(&self) -> Vec<&str> {
        properties(&self.schema).map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default()
    }

    /// The form, field by field, to ask it from (the error says why it is not a form a person
    /// can fill in; a question [`Ctx::ask`](crate::Ctx::ask) asked never has one).
    ///
    /// ```
    /// use llm_do_core::approval::{FieldKind, Question};
    /// let form = serde_json::json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
    /// let q = Question::new("t", "Sure?", form);
    /// assert_eq!(q.form().unwrap().fields()[0].kind, FieldKind::Boolean);
    /// ```
    pub fn form(&self) -> Result<Form, String> {
        Form::parse(&self.schema)
    }
}

impl Question {
    /// Checks one field's value against its part of the form; the error says why it does not
    /// fit (it may quote the value: show it to the person who typed it, not to a log).
    ///
    /// ```
    /// # use llm_do_core::approval::Question;
    /// # fn f(q: &Question) {
    /// if let Err(why) = q.check_field("age", &serde_json::json!(-1)) { eprintln!("{why}") }
    /// # }
    /// ```
    pub fn check_field(&self, name: &str, value: &Value) -> Result<(), String> {
        let Some(field) = properties(&self.schema).and_then(|p| p.get(name)) else {
            return Err(format!("the form has no field `{name}`"));
        };
        crate::schema::Validator::new(field)?.validate(value)
    }

    /// Checks an accepted answer against the form: every required field is there, and every
    /// field is one of the form's and fits it. The error names the fields, never their values.
    ///
    /// ```
    /// # use llm_do_core::approval::Question;
    /// # fn f(q: &Question, content: &serde_json::Map<String, serde_json::Value>) {
    /// if let Err(why) = q.check(content) { eprintln!("{why}") }
    /// # }
    /// ```
    pub fn check(&self, content: &Map<String, Value>) -> Result<(), String> {
        let required = self.schema.get("required").and_then(Value::as_array);
        let missing: Vec<&str> = required
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| !content.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            return Err(format!("required fields missing: {}", quoted(&missing)));
        }
        let wrong: Vec<&str> = content
            .iter()
            .filter(|(name, value)| self.check_field(name, value).is_err())
            .map(|(name, _)| name.as_str())
            .collect();
        if !wrong.is_empty() {
            return Err(format!("fields that do not fit the form: {}", quoted(&wrong)));
        }
        Ok(())
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// A page a [`Question`] asks the person to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// Its address, checked by [`super::check_page`].
    pub url: String,
    /// Its site (host, and port when given), to show beside it.
    pub site: String,
}

/// A person's answer to a [`Question`].
///
/// ```
/// use llm_do_core::approval::Answer;
/// let answer = Answer::accept(serde_json::json!({"name": "Ada"}));
/// assert_eq!(answer.action(), "accept");
/// assert_eq!(Answer::Decline.action(), "decline");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Answer {
    /// The form, filled in.
    Accept {
        /// The values, by field name.
        content: Map<String, Value>,
    },
    /// The person chose not to answer.
    Decline,
    /// The question was dismissed without a choice (or no one could be asked in time).
    Cancel,
}

impl Answer {
    /// An accepted form; a value that is not an object counts as an empty form.
    ///
    /// ```
    /// # use llm_do_core::approval::Answer;
    /// assert!(matches!(Answer::accept(serde_json::json!({"n": 1})), Answer::Accept { .. }));
    /// ```
    pub fn accept(content: Value) -> Self {
        match content {
            Value::Object(content) => Answer::Accept { content },
            _ => Answer::Accept { content: Map::new() },
        }
    }

    /// `accept`, `decline` or `cancel`.
    ///
    /// ```
    /// # use llm_do_core::approval::Answer;
    /// assert_eq!(Answer::Cancel.action(), "cancel");
    /// ```
    pub fn action(&self) -> &'static str {
        match self {
            Answer::Accept { .. } => "accept",
            Answer::Decline => "decline",
            Answer::Cancel => "cancel",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_checked_field_by_field_without_quoting_values() {
        let question = Question {
            asker: "t".into(),
            message: "m".into(),
            schema: json!({"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 2},
                "age": {"type": "integer", "minimum": 0},
            }}),
            page: None,
            call_path: vec!["t".into()],
            depth: 1,
        };
        let answer = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(question.check(&answer(json!({"name": "Ada", "age": 36}))), Ok(()));
        let missing = question.check(&answer(json!({"age": 3}))).unwrap_err();
        assert_eq!(missing, "required fields missing: `name`");
        let wrong = question.check(&answer(json!({"name": "sk-secret-1", "age": -1, "x": 1})));
        let wrong = wrong.unwrap_err();
        assert_eq!(wrong, "fields that do not fit the form: `age`, `x`");
        assert!(question.check_field("age", &json!(-1)).unwrap_err().contains("minimum"));
        assert!(question.check_field("nope", &json!(1)).unwrap_err().contains("no field"));
    }
}
