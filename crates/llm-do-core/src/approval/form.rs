//! A question's form, field by field: which JSON Schema shapes make a field a person can fill
//! in (text, a number, a whole number, yes or no, one choice, several choices), parsed once
//! into a [`Form`] that checks the schema ([`check_form`]) and that a terminal or a UI asks
//! from.

use serde_json::{Map, Value};

/// At most this many fields in a form (a person fills each in).
pub const MAX_FIELDS: usize = 64;

/// A question's form, parsed: its fields, in the schema's order.
///
/// ```
/// use llm_do_core::approval::{FieldKind, Form};
/// use serde_json::json;
/// let form = Form::parse(&json!({"type": "object", "required": ["size"], "properties": {
///     "size": {"type": "string", "title": "Size", "enum": ["s", "m"], "enumNames": ["Small", "Medium"]},
/// }}))
/// .unwrap();
/// let size = &form.fields()[0];
/// assert!(size.required);
/// assert_eq!(size.title(), "Size");
/// let FieldKind::OneOf(choices) = &size.kind else { panic!("a choice") };
/// assert_eq!((choices[1].value.clone(), choices[1].label.as_str()), (json!("m"), "Medium"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    fields: Vec<Field>,
}

/// One field of a [`Form`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Field {
    /// The name its value is answered under.
    pub name: String,
    /// What it takes.
    pub kind: FieldKind,
    /// Whether the form needs it.
    pub required: bool,
    /// Its `title`, if the schema gives one.
    pub title: Option<String>,
    /// Its `description`, if the schema gives one.
    pub description: Option<String>,
    /// Its `default`, if the schema gives one.
    pub default: Option<Value>,
    /// Its part of the form's schema (for checking a value: [`super::Question::check_field`]).
    pub schema: Value,
}

/// What a [`Field`] takes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A string.
    Text,
    /// A number.
    Number,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of these (an `enum`, or a `oneOf` of `const`s).
    OneOf(Vec<Choice>),
    /// Any of these (an array whose `items` are an `enum` or an `anyOf` of `const`s).
    AnyOf(Vec<Choice>),
}

/// One choice of a [`FieldKind::OneOf`] or [`FieldKind::AnyOf`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Choice {
    /// The value answered.
    pub value: Value,
    /// How it is shown: its `title` (or `enumNames` entry), else the value.
    pub label: String,
}

impl Field {
    /// Its title, else its name.
    ///
    /// ```
    /// # use llm_do_core::approval::Form;
    /// let form = Form::parse(&serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}}})).unwrap();
    /// assert_eq!(form.fields()[0].title(), "n");
    /// ```
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

impl Form {
    /// Parses `schema` as a form a person can fill in field by field: an object schema whose
    /// properties are each a string, number, integer or boolean, one choice (an `enum`, or a
    /// `oneOf` of `const`s), or several (an array of such choices); at most [`MAX_FIELDS`].
    /// The error says what is not.
    ///
    /// ```
    /// use llm_do_core::approval::Form;
    /// use serde_json::json;
    /// let nested = json!({"type": "object", "properties": {"a": {"type": "object"}}});
    /// assert!(Form::parse(&nested).unwrap_err().contains("`a`"));
    /// ```
    pub fn parse(schema: &Value) -> Result<Form, String> {
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err("a question's form must be a JSON Schema of `type: object`".to_owned());
        }
        let props = match schema.get("properties") {
            None => return Ok(Form { fields: Vec::new() }),
            Some(Value::Object(props)) => props,
            Some(_) => {
                return Err("a question's form has `properties` that are not an object".into());
            }
        };
        if props.len() > MAX_FIELDS {
            return Err(format!(
                "a question's form has {} fields (at most {MAX_FIELDS})",
                props.len()
            ));
        }
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields = props
            .iter()
            .map(|(name, field)| {
                let kind = kind(field).ok_or_else(|| {
                    format!(
                        "the field `{name}` of a question's form is not a string, number, \
                         integer, boolean or choice"
                    )
                })?;
                let text = |key: &str| field.get(key).and_then(Value::as_str).map(str::to_owned);
                Ok(Field {
                    name: name.clone(),
                    kind,
                    required: required.contains(&name.as_str()),
                    title: text("title"),
                    description: text("description"),
                    default: field.get("default").cloned(),
                    schema: field.clone(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Form { fields })
    }

    /// The fields, in the schema's order (serde_json's map order: the schema's own with
    /// `preserve_order`, else sorted by name).
    ///
    /// ```
    /// # use llm_do_core::approval::Form;
    /// let form = Form::parse(&serde_json::json!({"type": "object"})).unwrap();
    /// assert!(form.fields().is_empty());
    /// ```
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

/// What a field's schema takes, `None` when a person cannot fill it in.
fn kind(field: &Value) -> Option<FieldKind> {
    let ty = field.get("type").and_then(Value::as_str);
    match (ty, choices(field)) {
        (Some("array"), _) => field.get("items").and_then(choices).map(FieldKind::AnyOf),
        (None | Some("string" | "number" | "integer"), Some(choices)) => {
            Some(FieldKind::OneOf(choices))
        }
        (Some("string"), None) => Some(FieldKind::Text),
        (Some("number"), None) => Some(FieldKind::Number),
        (Some("integer"), None) => Some(FieldKind::Integer),
        (Some("boolean"), _) => Some(FieldKind::Boolean),
        _ => None,
    }
}

/// The choices of an `enum` (with `enumNames` as labels) or of a `oneOf`/`anyOf` of `const`s
/// (with their `title`s); `None` when there are none.
fn choices(schema: &Value) -> Option<Vec<Choice>> {
    let label = |value: &Value, title: Option<&Value>| {
        title.and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| {
            value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
        })
    };
    let choices: Vec<Choice> = if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names = schema.get("enumNames").and_then(Value::as_array);
        let named = |i: usize| names.and_then(|n| n.get(i));
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Choice { value: v.clone(), label: label(v, named(i)) })
            .collect()
    } else {
        let options = schema.get("oneOf").or_else(|| schema.get("anyOf"))?.as_array()?;
        options
            .iter()
            .filter_map(|o| {
                let value = o.get("const")?;
                Some(Choice { value: value.clone(), label: label(value, o.get("title")) })
            })
            .collect()
    };
    (!choices.is_empty()).then_some(choices)
}

/// Checks that `schema` is a form a person can fill in field by field ([`Form::parse`]); the
/// error says what is not.
///
/// ```
/// use llm_do_core::approval::check_form;
/// use serde_json::json;
/// assert!(check_form(&json!({"type": "object", "properties": {"name": {"type": "string"}}})).is_ok());
/// let nested = json!({"type": "object", "properties": {"a": {"type": "object"}}});
/// assert!(check_form(&nested).unwrap_err().contains("`a`"));
/// ```
pub fn check_form(schema: &Value) -> Result<(), String> {
    Form::parse(schema).map(drop)
}

/// The properties of an object schema.
pub(super) fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    schema.get("properties")?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(form: &Form) -> Vec<(&str, &FieldKind)> {
        form.fields().iter().map(|f| (f.name.as_str(), &f.kind)).collect()
    }

    #[test]
    fn each_shape_a_person_can_fill_in_is_one_kind() {
        let form = Form::parse(&json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1, "title": "Name", "description": "Yours"},
            "age": {"type": "integer", "default": 30},
            "ratio": {"type": "number"},
            "ok": {"type": "boolean"},
            "size": {"type": "string", "enum": ["s", "m"]},
            "colour": {"oneOf": [{"const": "r", "title": "Red"}, {"const": "g"}]},
            "level": {"type": "integer", "enum": [1, 2]},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
            "more": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "Ex"}]}},
        }}))
        .unwrap();
        let choice = |value: Value, label: &str| Choice { value, label: label.to_owned() };
        let mut got = kinds(&form);
        got.sort_by_key(|(name, _)| *name);
        assert_eq!(
            got,
            [
                ("age", &FieldKind::Integer),
                (
                    "colour",
                    &FieldKind::OneOf(vec![choice(json!("r"), "Red"), choice(json!("g"), "g")])
                ),
                ("level", &FieldKind::OneOf(vec![choice(json!(1), "1"), choice(json!(2), "2")])),
                ("more", &FieldKind::AnyOf(vec![choice(json!("x"), "Ex")])),
                ("name", &FieldKind::Text),
                ("ok", &FieldKind::Boolean),
                ("ratio", &FieldKind::Number),
                ("size", &FieldKind::OneOf(vec![choice(json!("s"), "s"), choice(json!("m"), "m")])),
                ("tags", &FieldKind::AnyOf(vec![choice(json!("a"), "a"), choice(json!("b"), "b")])),
            ]
        );
        let name = form.fields().iter().find(|f| f.name == "name").unwrap();
        assert!(name.required);
        assert_eq!((name.title(), name.description.as_deref()), ("Name", Some("Yours")));
        assert_eq!(name.schema["minLength"], 1);
        let age = form.fields().iter().find(|f| f.name == "age").unwrap();
        assert!(!age.required);
        assert_eq!((age.title(), age.default.clone()), ("age", Some(json!(30))));
    }

    #[test]
    fn shapes_a_person_cannot_fill_in_are_refused_by_name() {
        for field in [
            json!({"type": "object"}),
            json!({"type": "array"}),
            json!({"type": "array", "items": {"type": "string"}}),
            json!({"oneOf": [{"type": "string"}, {"type": "number"}]}),
            json!({"enum": []}),
            json!({}),
            json!({"type": "null"}),
        ] {
            let schema = json!({"type": "object", "properties": {"f": field}});
            let e = Form::parse(&schema).unwrap_err();
            assert!(e.contains("the field `f`"), "{field}: {e}");
        }
        assert!(check_form(&json!({"type": "string"})).unwrap_err().contains("type: object"));
        let bad = json!({"type": "object", "properties": [1]});
        assert!(check_form(&bad).unwrap_err().contains("not an object"));
        let many: Map<String, Value> =
            (0..=MAX_FIELDS).map(|i| (format!("f{i}"), json!({"type": "string"}))).collect();
        let many = json!({"type": "object", "properties": many});
        assert!(check_form(&many).unwrap_err().contains("at most"));
    }
}
