//! JSON Schema helpers: schemas derived from Rust types (schemars) and validation
//! (jsonschema).

use schemars::JsonSchema;
use serde_json::Value;

fn generator() -> schemars::SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12().into_generator()
}

/// The JSON Schema of `T`, without the `$schema` keyword, and with the code examples of its
/// doc comments left out of the descriptions ([`strip_code_examples`]): models see the prose.
///
/// ```
/// let s = llm_do_core::schema::schema_for::<Vec<u8>>();
/// assert_eq!(s["type"], "array");
/// ```
pub fn schema_for<T: JsonSchema>() -> Value {
    let mut value = generator().into_root_schema_for::<T>().to_value();
    if let Value::Object(map) = &mut value {
        map.remove("$schema");
    }
    strip_code_examples(&mut value);
    value
}

/// Removes fenced code blocks (```` ``` ```` … ```` ``` ````) from every `description` of a
/// schema, with a heading left with nothing under it (`# Examples`), and drops descriptions
/// left empty. Doc comments become descriptions; their examples are for Rust readers, and
/// would cost a model tokens and attention.
///
/// ```
/// let mut s = serde_json::json!({
///     "description": "Arguments of `add`.\n\n# Examples\n\n```\nlet a = Args { a: 1 };\n```",
///     "properties": {"a": {"type": "integer", "description": "```\nonly code\n```"}}
/// });
/// llm_do_core::schema::strip_code_examples(&mut s);
/// assert_eq!(s["description"], "Arguments of `add`.");
/// assert!(s["properties"]["a"].get("description").is_none());
/// ```
pub fn strip_code_examples(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let stripped = match map.get("description") {
                Some(Value::String(text)) if text.contains("```") => Some(without_code(text)),
                _ => None,
            };
            match stripped {
                Some(text) if text.is_empty() => {
                    map.remove("description");
                }
                Some(text) => {
                    map.insert("description".to_owned(), Value::String(text));
                }
                None => {}
            }
            map.values_mut().for_each(strip_code_examples);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_code_examples),
        _ => {}
    }
}

/// `text` without its fenced code blocks and the headings and blank lines they leave at the
/// end, with runs of blank lines collapsed.
fn without_code(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let blank = line.trim().is_empty();
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if in_code || (blank && lines.last().is_some_and(|l| l.trim().is_empty())) {
            // Inside a code block, or a second blank line in a row.
        } else {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        lines.pop();
    }
    lines.join("\n").trim().to_owned()
}

/// The JSON Schema of an arguments struct, as shown to models: like [`schema_for`], and without
/// the struct's (internal) title.
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Args { a: i64, b: Option<i64> }
/// let s = llm_do_core::schema::input_schema_for::<Args>();
/// assert!(s.get("title").is_none());
/// assert_eq!(s["required"], serde_json::json!(["a"]));
/// ```
pub fn input_schema_for<T: JsonSchema>() -> Value {
    let mut value = schema_for::<T>();
    if let Value::Object(map) = &mut value {
        map.remove("title");
    }
    value
}

/// `true` when the schema describes a plain string (workers with such output answer in text).
///
/// ```
/// use llm_do_core::schema::is_text_schema;
/// assert!(is_text_schema(&serde_json::json!({"type": "string", "title": "String"})));
/// assert!(!is_text_schema(&serde_json::json!({"type": "string", "enum": ["a"]})));
/// ```
pub fn is_text_schema(schema: &Value) -> bool {
    is_bare_type(schema, "string")
}

/// Whether `schema` is the schema of `()` (`{"type": "null"}`, maybe titled): a worker that
/// returns nothing, whose model is asked for text and whose final answer is accepted as `null`
/// (the text stays in the run's events).
///
/// ```
/// use llm_do_core::schema::is_unit_schema;
/// assert!(is_unit_schema(&serde_json::json!({"type": "null", "title": "null"})));
/// assert!(!is_unit_schema(&serde_json::json!({"type": ["null", "string"]})));
/// ```
pub fn is_unit_schema(schema: &Value) -> bool {
    is_bare_type(schema, "null")
}

/// `schema` is `{"type": ty}` with nothing but annotations beside it.
fn is_bare_type(schema: &Value, ty: &str) -> bool {
    let Some(map) = schema.as_object() else { return false };
    map.get("type").and_then(Value::as_str) == Some(ty)
        && map.keys().all(|k| matches!(k.as_str(), "type" | "title" | "description" | "$schema"))
}

/// A short name for a schema: its title if it has one, else `fallback`. Sanitized to the
/// characters providers accept in schema names (`[A-Za-z0-9_-]`).
///
/// ```
/// use llm_do_core::schema::schema_name;
/// assert_eq!(schema_name(&serde_json::json!({"title": "Category"}), "w"), "Category");
/// assert_eq!(schema_name(&serde_json::json!({"title": "Vec<u8>"}), "w"), "Vec_u8_");
/// ```
pub fn schema_name(schema: &Value, fallback: &str) -> String {
    let raw = schema.get("title").and_then(Value::as_str).unwrap_or(fallback);
    llm_do_syntax::name::sanitize(raw, &llm_do_syntax::name::sanitize(fallback, "output"))
}

/// Deepest nesting [`visit_mut`] walks: schemas from files and servers can nest without end.
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// Calls `f` on every direct subschema of `schema`: the values of `properties`,
/// `patternProperties`, `$defs`, `definitions` and `dependentSchemas`, the members of `anyOf`,
/// `oneOf`, `allOf` and `prefixItems`, and `items`, `additionalProperties`,
/// `additionalItems`, `not`, `if`, `then`, `else`, `contains`, `propertyNames`,
/// `unevaluatedItems` and `unevaluatedProperties` when they are schemas. The one list of the
/// keywords that hold subschemas, for every walker over schemas.
///
/// ```
/// let mut s = serde_json::json!({"properties": {"a": {"type": "string"}}, "items": {"type": "integer"}});
/// let mut seen = Vec::new();
/// llm_do_core::schema::for_each_subschema_mut(&mut s, &mut |sub| seen.push(sub["type"].clone()));
/// assert_eq!(seen, [serde_json::json!("string"), serde_json::json!("integer")]);
/// ```
pub fn for_each_subschema_mut(schema: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    let Value::Object(map) = schema else { return };
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(&mut *f);
                }
            }
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => match value {
                Value::Array(children) => children.iter_mut().for_each(&mut *f),
                Value::Object(_) => f(value),
                _ => {}
            },
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(&mut *f);
                }
            }
            _ => {}
        }
    }
}

/// Calls `f` on `schema` and then on every subschema below it ([`for_each_subschema_mut`]),
/// parents before children, down to [`MAX_SCHEMA_DEPTH`] levels (deeper ones are left as they
/// are).
///
/// ```
/// let mut s = serde_json::json!({"format": "int64", "items": {"format": "uint8"}});
/// llm_do_core::schema::visit_mut(&mut s, &mut |sub| { sub.as_object_mut().map(|m| m.remove("format")); });
/// assert_eq!(s, serde_json::json!({"items": {}}));
/// ```
pub fn visit_mut(schema: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    fn walk(schema: &mut Value, depth: usize, f: &mut dyn FnMut(&mut Value)) {
        if depth > MAX_SCHEMA_DEPTH {
            return;
        }
        f(schema);
        for_each_subschema_mut(schema, &mut |sub| walk(sub, depth + 1, f));
    }
    walk(schema, 0, f)
}

/// The longest value, in characters of its JSON, a validation error quotes whole; a longer one
/// is quoted cut, ending in `…`.
pub const MAX_QUOTED_CHARS: usize = 80;

/// The longest line, in characters, a validation error gives one violation (its path and
/// message; a longer one is cut, ending in `…`).
pub const MAX_VIOLATION_CHARS: usize = 400;

/// A compiled JSON Schema.
///
/// ```
/// use llm_do_core::schema::Validator;
/// let v = Validator::new(&serde_json::json!({"type": "object", "required": ["x"]})).unwrap();
/// assert_eq!(v.validate(&serde_json::json!({})).unwrap_err(), "at the top level: \"x\" is a required property");
/// ```
pub struct Validator {
    inner: jsonschema::Validator,
}

impl Validator {
    /// Compiles a schema; the error says why it is not a valid schema.
    ///
    /// ```
    /// # use llm_do_core::schema::Validator;
    /// assert!(Validator::new(&serde_json::json!({"type": 5})).is_err());
    /// ```
    pub fn new(schema: &Value) -> Result<Self, String> {
        jsonschema::validator_for(schema).map(|inner| Self { inner }).map_err(|e| e.to_string())
    }

    /// Checks a value; the error lists every violation with its JSON pointer (at most 5). The
    /// message is bounded whatever the value: a violating value longer than
    /// [`MAX_QUOTED_CHARS`] is quoted cut, and each violation's line is at most
    /// [`MAX_VIOLATION_CHARS`] long (a model's 10 MB argument is not echoed back to it).
    ///
    /// ```
    /// # use llm_do_core::schema::Validator;
    /// let v = Validator::new(&serde_json::json!({"type": "integer"})).unwrap();
    /// assert!(v.validate(&serde_json::json!(1)).is_ok());
    /// ```
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        // The usual case, a valid value, without collecting (and allocating) errors.
        if self.inner.is_valid(value) {
            return Ok(());
        }
        let mut messages = Vec::new();
        let mut count = 0usize;
        for error in self.inner.iter_errors(value) {
            count += 1;
            if messages.len() < 5 {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("at {path}")
                };
                let instance = error.instance().to_string();
                let message = if instance.chars().count() > MAX_QUOTED_CHARS {
                    error.masked_with(crate::bounds::cut(&instance, MAX_QUOTED_CHARS)).to_string()
                } else {
                    error.to_string()
                };
                messages.push(crate::bounds::cut(&format!("{at}: {message}"), MAX_VIOLATION_CHARS));
            }
        }
        if count == 0 {
            return Ok(());
        }
        if count > messages.len() {
            messages.push(format!("({} more)", count - messages.len()));
        }
        Err(messages.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_huge_violating_value_is_not_echoed_in_the_error() {
        let v = Validator::new(&json!({
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"enum": ["x", "y"]}},
            "additionalProperties": false
        }))
        .unwrap();
        let huge = "x".repeat(100_000);
        let mut extra = serde_json::Map::new();
        extra.insert("k".repeat(100_000), json!(1));
        for value in [json!({"a": huge}), json!({"b": huge}), Value::Object(extra)] {
            let error = v.validate(&value).unwrap_err();
            assert!(error.chars().count() <= 5 * (MAX_VIOLATION_CHARS + 2), "{}", error.len());
        }
        let error = v.validate(&json!({"a": huge})).unwrap_err();
        assert!(error.starts_with("at /a: \"xxx"), "{error}");
        assert!(error.ends_with("x… is not of type \"integer\""), "{error}");
        // A short value is quoted whole, as before.
        assert_eq!(
            v.validate(&json!({"a": "one"})).unwrap_err(),
            "at /a: \"one\" is not of type \"integer\""
        );
    }
}
