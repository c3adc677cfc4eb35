//! JSON Schema → GBNF: the grammar that makes a small model's answer match a schema.
//!
//! llama.cpp samples under a GBNF grammar: at every step, tokens that cannot continue a string
//! of the grammar's language are masked out. [`json_schema_grammar`] derives a grammar whose
//! language is a **subset of the JSON values valid against the schema**, so any answer that
//! completes under it parses and validates. "Subset" is deliberate: the grammar produces JSON with
//! one space after `:` and `,` and no other whitespace, puts required properties first and optional ones after them in
//! declaration order, caps numbers at 16 integer and 15 fraction digits, and caps bounded
//! repetitions at [`MAX_REPEAT`]; all of these are still valid JSON for the schema.
//!
//! Supported: `type` (one or a list), `enum`, `const`, `anyOf`, `oneOf` (as alternatives: the
//! exclusivity of `oneOf` is not enforced), a one-element `allOf`, local `$ref`s
//! (`#/$defs/…`, `#/definitions/…`, any JSON pointer into the root, recursion included),
//! objects (`properties`, `required`, `additionalProperties` as `false`, `true` or a schema),
//! arrays (`items`, `prefixItems`, `minItems`, `maxItems`), strings (`minLength`, `maxLength`,
//! `format` `date`, `time`, `date-time` and `uuid`), integers with any `minimum`, `maximum`,
//! `exclusiveMinimum` and `exclusiveMaximum`, numbers with a lower bound ≤ 0, booleans, null,
//! and the empty schema (any JSON value). Annotations (`title`, `description`, `default`,
//! `examples`, `format` on numbers, `x-…`) are ignored.
//!
//! Everything else — `pattern`, `multipleOf`, `uniqueItems`, `not`, `if`/`then`/`else`,
//! `patternProperties`, `minProperties`, bounds on non-integer numbers above 0, unknown string
//! formats and unknown keywords — is rejected with a [`SchemaError`] naming the keyword and where
//! it is, rather than silently producing answers the schema would reject.
//!
//! ```
//! use llm_do_providers::local::grammar::json_schema_grammar;
//! let g = json_schema_grammar(&serde_json::json!({"enum": ["Bug", "Billing"]})).unwrap();
//! assert!(g.to_string().contains(r#"root ::= "\"Bug\"" | "\"Billing\"""#));
//! let err = json_schema_grammar(&serde_json::json!({"type": "string", "pattern": "^a"})).unwrap_err();
//! assert_eq!(err.path, "/pattern");
//! ```

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

/// What separates a key from its value in the JSON the grammar produces (`": "`, as most
/// JSON in training data is written: small models follow it better than compact JSON).
pub const COLON: &str = ": ";
/// What separates members and items in the JSON the grammar produces.
pub const COMMA: &str = ", ";

/// The largest bounded repetition (`maxItems`, `maxLength`) spelled out in a grammar; larger
/// bounds are capped to it (the answer stays valid: it is just not allowed to be that long).
pub const MAX_REPEAT: u64 = 500;

/// A JSON Schema feature the grammar derivation does not support.
///
/// ```
/// use llm_do_providers::local::grammar::json_schema_grammar;
/// let e = json_schema_grammar(&serde_json::json!({"type": "array", "uniqueItems": true})).unwrap_err();
/// assert_eq!(e.to_string(), "at /uniqueItems: `uniqueItems` is not supported (a grammar cannot check that items differ)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer to the offending keyword inside the schema (`""` for the root).
    pub path: String,
    /// What is unsupported.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "at the root: {}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// A GBNF grammar whose start rule is `root`. [`Display`](fmt::Display) gives its text, as
/// llama.cpp reads it.
///
/// ```
/// use llm_do_providers::local::grammar::json_schema_grammar;
/// let g = json_schema_grammar(&serde_json::json!({"type": "boolean"})).unwrap();
/// assert_eq!(g.to_string(), "root ::= \"true\" | \"false\"\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    rules: Vec<(String, String)>,
}

impl fmt::Display for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, body) in &self.rules {
            writeln!(f, "{name} ::= {body}")?;
        }
        Ok(())
    }
}

/// The grammar of the JSON values valid against `schema` (see the module documentation for
/// what is supported).
///
/// ```
/// use llm_do_providers::local::grammar::json_schema_grammar;
/// let schema = serde_json::json!({
///     "type": "object",
///     "properties": {"ok": {"type": "boolean"}},
///     "required": ["ok"],
///     "additionalProperties": false
/// });
/// let g = json_schema_grammar(&schema).unwrap().to_string();
/// assert!(g.starts_with(r#"root ::= "{" "\"ok\": " "#));
/// ```
pub fn json_schema_grammar(schema: &Value) -> Result<Grammar, SchemaError> {
    let mut builder = GrammarBuilder::new();
    let body = builder.schema(schema, schema)?;
    builder.set_rule("root", body);
    Ok(builder.finish())
}

/// Builds a grammar rule by rule; the JSON Schema walk lives here so that other formats (the
/// tool-call format) can embed schema-derived rules in their own grammar.
#[derive(Debug)]
pub(crate) struct GrammarBuilder {
    rules: Vec<(String, String)>,
    names: HashMap<String, usize>,
    by_body: HashMap<String, String>,
    refs: HashMap<String, String>,
}

impl GrammarBuilder {
    pub(crate) fn new() -> Self {
        Self {
            rules: Vec::new(),
            names: HashMap::new(),
            by_body: HashMap::new(),
            refs: HashMap::new(),
        }
    }

    /// Sets (or replaces) the rule `name`. The `root` rule is always written first.
    pub(crate) fn set_rule(&mut self, name: &str, body: String) {
        match self.names.get(name) {
            Some(&i) => self.rules[i].1 = body,
            None => {
                self.names.insert(name.to_owned(), self.rules.len());
                self.rules.push((name.to_owned(), body));
            }
        }
    }

    pub(crate) fn finish(mut self) -> Grammar {
        if let Some(i) = self.rules.iter().position(|(n, _)| n == "root") {
            let root = self.rules.remove(i);
            self.rules.insert(0, root);
        }
        Grammar { rules: self.rules }
    }

    /// A fresh rule name derived from `hint`.
    fn fresh_name(&mut self, hint: &str) -> String {
        let mut base: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        base = base.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
        if base.is_empty() || base == "root" {
            base = "r".into();
        }
        let mut name = base.clone();
        let mut n = 1;
        while self.names.contains_key(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        // Reserve the name.
        self.names.insert(name.clone(), self.rules.len());
        self.rules.push((name.clone(), String::new()));
        name
    }

    /// A rule with this body, shared with any identical rule made before; returns its name.
    pub(crate) fn rule(&mut self, hint: &str, body: String) -> String {
        if !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return body; // already a rule name
        }
        if let Some(name) = self.by_body.get(&body) {
            return name.clone();
        }
        let name = self.fresh_name(hint);
        self.set_rule(&name, body.clone());
        self.by_body.insert(body, name.clone());
        name
    }

    /// The expression matching `schema`; `root` is the document `$ref`s resolve against.
    pub(crate) fn schema(&mut self, root: &Value, schema: &Value) -> Result<String, SchemaError> {
        self.visit(root, schema, "", "value")
    }

    fn visit(
        &mut self,
        root: &Value,
        schema: &Value,
        path: &str,
        hint: &str,
    ) -> Result<String, SchemaError> {
        let map = match schema {
            Value::Bool(true) => return Ok(self.any_value()),
            Value::Bool(false) => {
                return Err(err(path, "the schema `false` accepts no value"));
            }
            Value::Object(map) => map,
            _ => return Err(err(path, "a schema must be an object or a boolean")),
        };
        check_keywords(map, path)?;

        if let Some(r) = map.get("$ref") {
            only_annotations_besides(map, &["$ref"], path)?;
            let Some(r) = r.as_str() else {
                return Err(err(&join(path, "$ref"), "`$ref` must be a string"));
            };
            return self.reference(root, r, &join(path, "$ref"));
        }
        if let Some(c) = map.get("const") {
            return Ok(literal(&c.to_string()));
        }
        if let Some(values) = map.get("enum") {
            let Some(values) = values.as_array().filter(|v| !v.is_empty()) else {
                return Err(err(&join(path, "enum"), "`enum` must be a non-empty array"));
            };
            let alts: Vec<String> = values.iter().map(|v| literal(&v.to_string())).collect();
            return Ok(alts.join(" | "));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(subs) = map.get(key) {
                only_annotations_besides(map, &[key], path)?;
                let Some(subs) = subs.as_array().filter(|v| !v.is_empty()) else {
                    return Err(err(
                        &join(path, key),
                        &format!("`{key}` must be a non-empty array"),
                    ));
                };
                let mut alts = Vec::new();
                for (i, sub) in subs.iter().enumerate() {
                    let sub_path = format!("{}/{i}", join(path, key));
                    let expr = self.visit(root, sub, &sub_path, hint)?;
                    alts.push(self.rule(hint, expr));
                }
                return Ok(alts.join(" | "));
            }
        }
        if let Some(subs) = map.get("allOf") {
            only_annotations_besides(map, &["allOf"], path)?;
            match subs.as_array().map(Vec::as_slice) {
                Some([single]) => {
                    return self.visit(root, single, &format!("{}/0", join(path, "allOf")), hint);
                }
                _ => {
                    return Err(err(
                        &join(path, "allOf"),
                        "`allOf` with more than one schema is not supported",
                    ));
                }
            }
        }

        match map.get("type") {
            Some(Value::String(t)) => self.typed(root, map, t, path, hint),
            Some(Value::Array(types)) => {
                let mut alts = Vec::new();
                for t in types {
                    let Some(t) = t.as_str() else {
                        return Err(err(&join(path, "type"), "`type` entries must be strings"));
                    };
                    let expr = self.typed(root, map, t, path, hint)?;
                    alts.push(self.rule(&format!("{hint}-{t}"), expr));
                }
                if alts.is_empty() {
                    return Err(err(&join(path, "type"), "`type` must not be an empty list"));
                }
                Ok(alts.join(" | "))
            }
            Some(_) => Err(err(&join(path, "type"), "`type` must be a string or a list")),
            None => match infer_type(map) {
                Some(t) => self.typed(root, map, t, path, hint),
                None => Ok(self.any_value()),
            },
        }
    }

    fn reference(&mut self, root: &Value, r: &str, path: &str) -> Result<String, SchemaError> {
        if let Some(name) = self.refs.get(r) {
            return Ok(name.clone());
        }
        let Some(pointer) = r.strip_prefix('#') else {
            return Err(err(
                path,
                &format!("only local references (`#/…`) are supported, not `{r}`"),
            ));
        };
        let Some(target) = root.pointer(pointer) else {
            return Err(err(path, &format!("the reference `{r}` points to nothing")));
        };
        let hint = pointer.rsplit('/').next().unwrap_or("ref").to_owned();
        // Reserve the name first so that recursive references resolve to it.
        let name = self.fresh_name(&hint);
        self.refs.insert(r.to_owned(), name.clone());
        let body = self.visit(root, target, pointer, &hint)?;
        self.set_rule(&name, body);
        Ok(name)
    }

    fn typed(
        &mut self,
        root: &Value,
        map: &Map<String, Value>,
        t: &str,
        path: &str,
        hint: &str,
    ) -> Result<String, SchemaError> {
        match t {
            "null" => Ok(literal("null")),
            "boolean" => Ok(format!("{} | {}", literal("true"), literal("false"))),
            "string" => self.string(map, path),
            "integer" => integer(map, path),
            "number" => self.number(map, path),
            "object" => self.object(root, map, path, hint),
            "array" => self.array(root, map, path, hint),
            other => Err(err(&join(path, "type"), &format!("unknown type `{other}`"))),
        }
    }

    fn string(&mut self, map: &Map<String, Value>, path: &str) -> Result<String, SchemaError> {
        unsupported(map, path, &[("pattern", "`pattern` is not supported")])?;
        if let Some(format) = map.get("format") {
            let format = format.as_str().unwrap_or_default();
            let rule = match format {
                "date" => self.date(),
                "time" => self.time(),
                "date-time" => {
                    let (date, time) = (self.date(), self.time());
                    self.rule("date-time", format!("{date} \"T\" {time}"))
                }
                "uuid" => self.rule(
                    "uuid",
                    "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12}"
                        .into(),
                ),
                other => {
                    return Err(err(
                        &join(path, "format"),
                        &format!(
                            "the string format `{other}` is not supported (supported: date, time, \
                             date-time, uuid)"
                        ),
                    ));
                }
            };
            return Ok(format!("\"\\\"\" {rule} \"\\\"\""));
        }
        let min = uint(map, "minLength", path)?.unwrap_or(0);
        let max = uint(map, "maxLength", path)?;
        if let Some(max) = max {
            if max < min {
                return Err(err(path, "`maxLength` is below `minLength`: no string is valid"));
            }
        }
        if min > MAX_REPEAT {
            return Err(err(
                &join(path, "minLength"),
                &format!("`minLength` above {MAX_REPEAT} is not supported"),
            ));
        }
        let ch = self.char_rule();
        let reps = match (min, max.map(|m| m.min(MAX_REPEAT))) {
            (0, None) => format!("{ch}*"),
            (min, None) => format!("{ch}{{{min},}}"),
            (min, Some(max)) if min == max => format!("{ch}{{{min}}}"),
            (min, Some(max)) => format!("{ch}{{{min},{max}}}"),
        };
        if (min, max) == (0, None) {
            return Ok(self.rule("string", format!("\"\\\"\" {reps} \"\\\"\"")));
        }
        Ok(format!("\"\\\"\" {reps} \"\\\"\""))
    }

    fn char_rule(&mut self) -> String {
        self.rule(
            "char",
            r#"[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})"#.to_owned(),
        )
    }

    fn date(&mut self) -> String {
        self.rule(
            "date",
            r#"[0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])"#
                .to_owned(),
        )
    }

    fn time(&mut self) -> String {
        self.rule(
            "time",
            r#"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#
                .to_owned(),
        )
    }

    fn number(&mut self, map: &Map<String, Value>, path: &str) -> Result<String, SchemaError> {
        unsupported(
            map,
            path,
            &[
                ("multipleOf", "`multipleOf` is not supported"),
                ("maximum", "an upper bound on a non-integer number is not supported"),
                ("exclusiveMaximum", "an upper bound on a non-integer number is not supported"),
            ],
        )?;
        let lower = [("minimum", false), ("exclusiveMinimum", true)]
            .into_iter()
            .filter_map(|(k, exclusive)| map.get(k).map(|v| (k, v, exclusive)))
            .collect::<Vec<_>>();
        let mut non_negative = false;
        for (key, v, exclusive) in lower {
            let Some(bound) = v.as_f64() else {
                return Err(err(&join(path, key), &format!("`{key}` must be a number")));
            };
            // Non-negative numbers satisfy `minimum <= 0` and `exclusiveMinimum < 0`.
            if bound > 0.0 || (exclusive && bound >= 0.0) {
                return Err(err(
                    &join(path, key),
                    "a lower bound above 0 on a non-integer number is not supported",
                ));
            }
            non_negative = true;
        }
        let fraction = r#"("." [0-9]{1,15})?"#;
        Ok(if non_negative {
            self.rule("non-negative-number", format!(r#"("0" | [1-9] [0-9]{{0,15}}) {fraction}"#))
        } else {
            self.rule("number", format!(r#""-"? ("0" | [1-9] [0-9]{{0,15}}) {fraction}"#))
        })
    }

    fn object(
        &mut self,
        root: &Value,
        map: &Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, SchemaError> {
        unsupported(
            map,
            path,
            &[
                ("patternProperties", "`patternProperties` is not supported"),
                ("propertyNames", "`propertyNames` is not supported"),
                ("minProperties", "`minProperties` is not supported"),
                ("maxProperties", "`maxProperties` is not supported"),
                ("dependentRequired", "`dependentRequired` is not supported"),
                ("dependentSchemas", "`dependentSchemas` is not supported"),
            ],
        )?;
        if let Some(u) = map.get("unevaluatedProperties") {
            if u != &Value::Bool(false) {
                return Err(err(
                    &join(path, "unevaluatedProperties"),
                    "only `unevaluatedProperties: false` is supported",
                ));
            }
        }
        let empty = Map::new();
        let props = match map.get("properties") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(err(&join(path, "properties"), "`properties` must be an object"));
            }
        };
        let mut required: Vec<String> = Vec::new();
        if let Some(r) = map.get("required") {
            let Some(list) = r.as_array() else {
                return Err(err(&join(path, "required"), "`required` must be an array"));
            };
            for name in list {
                let Some(name) = name.as_str() else {
                    return Err(err(&join(path, "required"), "`required` must list strings"));
                };
                if !required.iter().any(|r| r == name) {
                    required.push(name.to_owned());
                }
            }
        }
        let additional = map.get("additionalProperties");

        if props.is_empty() && required.is_empty() {
            return match additional {
                Some(Value::Bool(false)) => Ok(literal("{}")),
                Some(schema @ Value::Object(_)) => {
                    let value = self.visit(
                        root,
                        schema,
                        &join(path, "additionalProperties"),
                        &format!("{hint}-value"),
                    )?;
                    let value = self.rule(&format!("{hint}-value"), value);
                    let string = self.string(&Map::new(), path)?;
                    let (colon, comma) = (literal(COLON), literal(COMMA));
                    let member = format!("{string} {colon} {value}");
                    Ok(format!("\"{{\" ({member} ({comma} {member})*)? \"}}\""))
                }
                _ => Ok(self.any_object()),
            };
        }

        // Required properties first (in `required` order, those declared in `properties`
        // taking their declared position among themselves), then optional ones.
        let mut ordered_required: Vec<&str> =
            props.keys().filter(|k| required.contains(k)).map(String::as_str).collect();
        for r in &required {
            if !props.contains_key(r) {
                ordered_required.push(r);
            }
        }
        let optional: Vec<&str> =
            props.keys().filter(|k| !required.contains(k)).map(String::as_str).collect();

        let member = |this: &mut Self, name: &str| -> Result<String, SchemaError> {
            let prop_path = join(&join(path, "properties"), name);
            let value = match props.get(name) {
                Some(schema) => {
                    let expr = this.visit(root, schema, &prop_path, &format!("{hint}-{name}"))?;
                    this.rule(&format!("{hint}-{name}"), expr)
                }
                None => this.any_value(),
            };
            let key = literal(&format!("{}{COLON}", Value::String(name.to_owned())));
            Ok(format!("{key} {value}"))
        };

        let mut parts = Vec::new();
        for name in &ordered_required {
            parts.push(member(self, name)?);
        }
        let mut optional_members = Vec::new();
        for name in &optional {
            optional_members.push(member(self, name)?);
        }
        let comma = literal(COMMA);
        let mut body = String::from("\"{\"");
        if !parts.is_empty() {
            body.push(' ');
            body.push_str(&parts.join(&format!(" {comma} ")));
            for m in &optional_members {
                body.push_str(&format!(" ({comma} {m})?"));
            }
        } else if !optional_members.is_empty() {
            // No required property: any subsequence of the optional ones, in order.
            let mut alts = Vec::new();
            for (i, first) in optional_members.iter().enumerate() {
                let mut alt = first.clone();
                for m in &optional_members[i + 1..] {
                    alt.push_str(&format!(" ({comma} {m})?"));
                }
                alts.push(self.rule(&format!("{hint}-from-{i}"), alt));
            }
            body.push_str(&format!(" ({})?", alts.join(" | ")));
        }
        body.push_str(" \"}\"");
        Ok(body)
    }

    fn array(
        &mut self,
        root: &Value,
        map: &Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, SchemaError> {
        unsupported(
            map,
            path,
            &[
                ("contains", "`contains` is not supported"),
                ("minContains", "`minContains` is not supported"),
                ("maxContains", "`maxContains` is not supported"),
                ("unevaluatedItems", "`unevaluatedItems` is not supported"),
            ],
        )?;
        if let Some(u) = map.get("uniqueItems") {
            if u != &Value::Bool(false) {
                return Err(err(
                    &join(path, "uniqueItems"),
                    "`uniqueItems` is not supported (a grammar cannot check that items differ)",
                ));
            }
        }
        let min = uint(map, "minItems", path)?.unwrap_or(0);
        let max = uint(map, "maxItems", path)?;
        if let Some(max) = max {
            if max < min {
                return Err(err(path, "`maxItems` is below `minItems`: no array is valid"));
            }
        }
        if let Some(prefix) = map.get("prefixItems") {
            let Some(prefix) = prefix.as_array() else {
                return Err(err(&join(path, "prefixItems"), "`prefixItems` must be an array"));
            };
            let n = prefix.len() as u64;
            if min > n || max.is_some_and(|m| m < n) {
                return Err(err(
                    &join(path, "prefixItems"),
                    "only tuples of exactly the `prefixItems` length are supported",
                ));
            }
            if prefix.is_empty() {
                return Ok(literal("[]"));
            }
            let mut items = Vec::new();
            for (i, sub) in prefix.iter().enumerate() {
                let sub_path = format!("{}/{i}", join(path, "prefixItems"));
                let expr = self.visit(root, sub, &sub_path, &format!("{hint}-{i}"))?;
                items.push(self.rule(&format!("{hint}-{i}"), expr));
            }
            let comma = literal(COMMA);
            return Ok(format!("\"[\" {} \"]\"", items.join(&format!(" {comma} "))));
        }
        if max == Some(0) {
            return Ok(literal("[]"));
        }
        if min > MAX_REPEAT {
            return Err(err(
                &join(path, "minItems"),
                &format!("`minItems` above {MAX_REPEAT} is not supported"),
            ));
        }
        let item = match map.get("items") {
            None => self.any_value(),
            Some(Value::Bool(false)) => {
                return if min == 0 {
                    Ok(literal("[]"))
                } else {
                    Err(err(
                        &join(path, "items"),
                        "`items: false` with `minItems` accepts no array",
                    ))
                };
            }
            Some(schema) => {
                let expr =
                    self.visit(root, schema, &join(path, "items"), &format!("{hint}-item"))?;
                self.rule(&format!("{hint}-item"), expr)
            }
        };
        let max = max.map(|m| m.min(MAX_REPEAT));
        let rest_min = min.saturating_sub(1);
        let comma = literal(COMMA);
        let rest = match max {
            None if rest_min == 0 => format!("({comma} {item})*"),
            None => format!("({comma} {item}){{{rest_min},}}"),
            Some(1) => String::new(),
            Some(max) if max - 1 == rest_min => format!("({comma} {item}){{{rest_min}}}"),
            Some(max) => format!("({comma} {item}){{{rest_min},{}}}", max - 1),
        };
        let items = if rest.is_empty() { item } else { format!("{item} {rest}") };
        Ok(if min == 0 {
            format!("\"[\" ({items})? \"]\"")
        } else {
            format!("\"[\" {items} \"]\"")
        })
    }

    /// Any JSON value, in compact form.
    fn any_value(&mut self) -> String {
        if self.names.contains_key("json-value") {
            return "json-value".into();
        }
        self.set_rule("json-value", String::new());
        let string = self.string(&Map::new(), "").unwrap_or_default();
        let number =
            self.rule("number", r#""-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,15})?"#.to_owned());
        let (colon, comma) = (literal(COLON), literal(COMMA));
        self.set_rule(
            "json-object",
            format!(
                r#""{{" ({string} {colon} json-value ({comma} {string} {colon} json-value)*)? "}}""#
            ),
        );
        self.set_rule("json-array", format!(r#""[" (json-value ({comma} json-value)*)? "]""#));
        self.set_rule(
            "json-value",
            format!(
                r#"json-object | json-array | {string} | {number} | "true" | "false" | "null""#
            ),
        );
        "json-value".into()
    }

    fn any_object(&mut self) -> String {
        self.any_value();
        "json-object".into()
    }
}

/// Keywords that only annotate (ignored by the grammar).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
];

/// Keywords the walk understands (supported, or rejected with a specific message where they
/// apply).
const KNOWN: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "format",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];

/// Keywords rejected wherever they appear.
const REJECTED: &[(&str, &str)] = &[
    ("not", "`not` is not supported"),
    ("if", "`if`/`then`/`else` is not supported"),
    ("then", "`if`/`then`/`else` is not supported"),
    ("else", "`if`/`then`/`else` is not supported"),
    ("$dynamicRef", "`$dynamicRef` is not supported"),
    ("$recursiveRef", "`$recursiveRef` is not supported"),
];

fn check_keywords(map: &Map<String, Value>, path: &str) -> Result<(), SchemaError> {
    for key in map.keys() {
        if let Some((_, message)) = REJECTED.iter().find(|(k, _)| k == key) {
            return Err(err(&join(path, key), message));
        }
        if !ANNOTATIONS.contains(&key.as_str())
            && !KNOWN.contains(&key.as_str())
            && !key.starts_with("x-")
        {
            return Err(err(&join(path, key), &format!("unknown JSON Schema keyword `{key}`")));
        }
    }
    Ok(())
}

/// Rejects constraint keywords next to `$ref`/`anyOf`/... (combining them would need an
/// intersection the grammar cannot express).
fn only_annotations_besides(
    map: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), SchemaError> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str())
            && !ANNOTATIONS.contains(&key.as_str())
            && !key.starts_with("x-")
        {
            return Err(err(
                &join(path, key),
                &format!("`{key}` next to `{}` is not supported", allowed[0]),
            ));
        }
    }
    Ok(())
}

fn unsupported(
    map: &Map<String, Value>,
    path: &str,
    keys: &[(&str, &str)],
) -> Result<(), SchemaError> {
    for (key, message) in keys {
        if map.contains_key(*key) {
            return Err(err(&join(path, key), message));
        }
    }
    Ok(())
}

/// The type a schema without `type` constrains, judged by its keywords.
fn infer_type(map: &Map<String, Value>) -> Option<&'static str> {
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&["properties", "required", "additionalProperties", "patternProperties"]) {
        Some("object")
    } else if has(&["items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"]) {
        Some("array")
    } else if has(&["minLength", "maxLength", "pattern"]) {
        Some("string")
    } else if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) {
        Some("number")
    } else {
        None
    }
}

fn uint(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, SchemaError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64().or_else(|| {
            v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15).map(|f| f as u64)
        }) {
            Some(n) => Ok(Some(n)),
            None => Err(err(&join(path, key), &format!("`{key}` must be a non-negative integer"))),
        },
    }
}

/// The grammar of integers within the schema's bounds.
fn integer(map: &Map<String, Value>, path: &str) -> Result<String, SchemaError> {
    unsupported(map, path, &[("multipleOf", "`multipleOf` is not supported")])?;
    let bound = |key: &str| -> Result<Option<f64>, SchemaError> {
        match map.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| err(&join(path, key), &format!("`{key}` must be a number"))),
        }
    };
    // Bounds as integers (i128 so that negation never overflows).
    let mut min: Option<i128> = None;
    let mut max: Option<i128> = None;
    if let Some(b) = bound("minimum")? {
        min = Some(clamp_bound(b.ceil()));
    }
    if let Some(b) = bound("exclusiveMinimum")? {
        let m = clamp_bound(b.floor()) + 1;
        min = Some(min.map_or(m, |x| x.max(m)));
    }
    if let Some(b) = bound("maximum")? {
        max = Some(clamp_bound(b.floor()));
    }
    if let Some(b) = bound("exclusiveMaximum")? {
        let m = clamp_bound(b.ceil()) - 1;
        max = Some(max.map_or(m, |x| x.min(m)));
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo > hi {
            return Err(err(path, "the integer bounds leave no valid value"));
        }
    }
    Ok(int_range(min, max))
}

/// Bounds beyond ±10^17 are treated as ±10^17 (the grammar writes at most 16 digits anyway).
fn clamp_bound(b: f64) -> i128 {
    const LIMIT: f64 = 1e17;
    b.clamp(-LIMIT, LIMIT) as i128
}

/// Most digits of an unbounded integer.
const MAX_DIGITS: usize = 16;

/// GBNF for the integers in `[min, max]` (each bound optional), without leading zeros.
pub(crate) fn int_range(min: Option<i128>, max: Option<i128>) -> String {
    let mut alts: Vec<String> = Vec::new();
    // Negative part: absolute values in [abs_lo, abs_hi].
    let neg = match (min, max) {
        (Some(lo), _) if lo >= 0 => None,
        (lo, hi) => {
            let abs_lo = match hi {
                Some(h) if h < 0 => -h,
                _ => 1,
            };
            let abs_hi = lo.map(|l| -l);
            Some((abs_lo, abs_hi))
        }
    };
    if let Some((lo, hi)) = neg {
        alts.push(format!("\"-\" ({})", nat_range(lo, hi)));
    }
    // Non-negative part.
    let nonneg = match (min, max) {
        (_, Some(h)) if h < 0 => None,
        (lo, hi) => Some((lo.unwrap_or(0).max(0), hi)),
    };
    if let Some((lo, hi)) = nonneg {
        alts.push(nat_range(lo, hi));
    }
    alts.join(" | ")
}

/// GBNF for the natural numbers in `[lo, hi]` (`hi` unbounded when `None`: then at most
/// [`MAX_DIGITS`] digits).
fn nat_range(lo: i128, hi: Option<i128>) -> String {
    let lo_len = digits(lo);
    let mut alts = Vec::new();
    let hi_len = match hi {
        Some(h) => digits(h),
        None => {
            // Same length as `lo` and at least `lo`, or any longer number.
            let same = same_length_range(lo, pow10(lo_len) - 1, lo_len);
            alts.extend(same);
            if lo_len < MAX_DIGITS {
                alts.push(format!("[1-9] [0-9]{{{lo_len},{}}}", MAX_DIGITS - 1));
            }
            0
        }
    };
    for len in lo_len..=hi_len {
        let first = if len == 1 { 0 } else { pow10(len - 1) };
        let last = pow10(len) - 1;
        if let Some(h) = hi {
            alts.extend(same_length_range(lo.max(first), h.min(last), len));
        }
    }
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        alts.iter().map(|a| format!("({a})")).collect::<Vec<_>>().join(" | ")
    }
}

/// [`same_length`] for the numbers in `[a, b]` written with `len` digits, if any.
fn same_length_range(a: i128, b: i128, len: usize) -> Option<String> {
    let a = a.max(if len == 1 { 0 } else { pow10(len - 1) });
    if a > b {
        return None;
    }
    let (a, b) = (format!("{a:0len$}"), format!("{b:0len$}"));
    Some(same_length(a.as_bytes(), b.as_bytes()))
}

fn digits(n: i128) -> usize {
    n.max(0).to_string().len()
}

fn pow10(n: usize) -> i128 {
    10i128.pow(n as u32)
}

/// GBNF for the digit strings of `a.len()` digits between `a` and `b` (inclusive).
fn same_length(a: &[u8], b: &[u8]) -> String {
    let n = a.len();
    if n == 0 {
        return String::new();
    }
    let (a0, b0) = (a[0], b[0]);
    if a0 == b0 {
        let rest = same_length(&a[1..], &b[1..]);
        return join_seq(&format!("[{}]", a0 as char), &rest);
    }
    let rest_zeros = a[1..].iter().all(|&c| c == b'0');
    let rest_nines = b[1..].iter().all(|&c| c == b'9');
    let any = |k: usize| if k == 0 { String::new() } else { format!("[0-9]{{{k}}}") };
    if rest_zeros && rest_nines {
        return join_seq(&class(a0, b0), &any(n - 1));
    }
    let nines = vec![b'9'; n - 1];
    let zeros = vec![b'0'; n - 1];
    let mut alts = Vec::new();
    let (mut from, mut to) = (a0, b0);
    if !rest_zeros {
        alts.push(join_seq(&format!("[{}]", a0 as char), &same_length(&a[1..], &nines)));
        from = a0 + 1;
    }
    if !rest_nines {
        to = b0 - 1;
    }
    if from <= to {
        alts.push(join_seq(&class(from, to), &any(n - 1)));
    }
    if !rest_nines {
        alts.push(join_seq(&format!("[{}]", b0 as char), &same_length(&zeros, &b[1..])));
    }
    format!("({})", alts.join(" | "))
}

fn class(from: u8, to: u8) -> String {
    if from == to {
        format!("[{}]", from as char)
    } else {
        format!("[{}-{}]", from as char, to as char)
    }
}

fn join_seq(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a} {b}"),
    }
}

/// A GBNF string literal matching exactly `text`.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn join(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn err(path: &str, message: &str) -> SchemaError {
    SchemaError { path: path.to_owned(), message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grammar(schema: Value) -> String {
        json_schema_grammar(&schema).map(|g| g.to_string()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(schema: Value) -> SchemaError {
        match json_schema_grammar(&schema) {
            Ok(g) => panic!("expected an error, got\n{g}"),
            Err(e) => e,
        }
    }

    #[test]
    fn enums_are_alternatives_of_literals() {
        assert_eq!(
            grammar(json!({"type": "string", "enum": ["Bug", "Billing"]})),
            "root ::= \"\\\"Bug\\\"\" | \"\\\"Billing\\\"\"\n"
        );
        assert_eq!(grammar(json!({"const": 3})), "root ::= \"3\"\n");
    }

    #[test]
    fn objects_put_required_first_then_optional() {
        let g = grammar(json!({
            "type": "object",
            "properties": {
                "note": {"type": "string"},
                "ok": {"type": "boolean"},
                "n": {"type": "integer", "minimum": 0}
            },
            "required": ["ok"]
        }));
        let root = g.lines().next().unwrap();
        assert_eq!(
            root,
            r#"root ::= "{" "\"ok\": " value-ok (", " "\"note\": " string)? (", " "\"n\": " value-n)? "}""#
        );
    }

    #[test]
    fn objects_without_required_allow_any_ordered_subset() {
        let g = grammar(json!({"properties": {"a": {"type": "null"}, "b": {"type": "null"}}}));
        assert!(g.starts_with("root ::= \"{\" (value-from-0 | value-from-1)? \"}\""), "{g}");
    }

    #[test]
    fn refs_resolve_and_may_recurse() {
        let g = grammar(json!({
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                "required": ["next"]
            }}
        }));
        assert!(g.starts_with("root ::= node\n"), "{g}");
        assert!(g.contains("node ::= \"{\" \"\\\"next\\\": \" "), "{g}");
    }

    #[test]
    fn integer_ranges_are_exact() {
        assert_eq!(
            int_range(Some(0), Some(255)),
            "([0-9]) | ([1-9] [0-9]{1}) | (([1] [0-9]{2} | [2] ([0-4] [0-9]{1} | [5] [0-5])))"
        );
        assert_eq!(int_range(Some(-5), Some(-2)), "\"-\" ([2-5])");
        assert_eq!(int_range(Some(3), Some(3)), "[3]");
    }

    /// Checks the integer grammar against arithmetic by matching it with a tiny interpreter.
    #[test]
    fn integer_ranges_accept_exactly_their_numbers() {
        let cases = [
            (Some(0), Some(255)),
            (Some(-128), Some(127)),
            (Some(7), Some(1234)),
            (Some(-30), Some(-7)),
            (Some(15), None),
            (None, Some(-3)),
            (None, Some(42)),
            (Some(0), None),
            (Some(100), Some(100)),
            (Some(99), Some(1001)),
        ];
        for (lo, hi) in cases {
            let g = int_range(lo, hi);
            for n in -1500i128..1500 {
                let expected = lo.is_none_or(|l| n >= l) && hi.is_none_or(|h| n <= h);
                assert_eq!(
                    matcher::matches(&g, &n.to_string()),
                    expected,
                    "{n} in [{lo:?}, {hi:?}] with {g}"
                );
            }
            assert!(!matcher::matches(&g, "007"));
        }
    }

    #[test]
    fn arrays_and_strings_honour_bounds() {
        let g = grammar(
            json!({"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3}),
        );
        assert!(g.starts_with(r#"root ::= "[" value-item (", " value-item){0,2} "]""#), "{g}");
        let g = grammar(json!({"type": "string", "maxLength": 10}));
        assert!(g.starts_with(r#"root ::= "\"" char{0,10} "\"""#), "{g}");
        let g = grammar(
            json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}),
        );
        assert!(g.starts_with(r#"root ::= "[" value-0 ", " string "]""#), "{g}");
    }

    #[test]
    fn unsupported_features_are_named_with_their_path() {
        let e = error(
            json!({"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}),
        );
        assert_eq!(e.path, "/properties/email/format");
        assert!(e.message.contains("`email`"));
        let e = error(json!({"type": "number", "maximum": 3}));
        assert_eq!(e.path, "/maximum");
        let e = error(json!({"not": {"type": "null"}}));
        assert_eq!(e.path, "/not");
        let e = error(json!({"type": "string", "nullable": true}));
        assert_eq!(e.message, "unknown JSON Schema keyword `nullable`");
        let e = error(json!({"$ref": "https://example.com/s.json"}));
        assert!(e.message.contains("local references"));
        let e = error(json!(false));
        assert_eq!(e.path, "");
    }

    #[test]
    fn schemars_output_for_typical_types_is_supported() {
        // As produced by schemars 1 for a struct with an enum, an Option and a u8.
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Ticket",
            "type": "object",
            "properties": {
                "category": {"$ref": "#/$defs/Category"},
                "priority": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
                "note": {"type": ["string", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "score": {"type": "number", "format": "double"}
            },
            "required": ["category", "priority", "tags", "score"],
            "$defs": {"Category": {"type": "string", "enum": ["Bug", "Billing", "Feature"]}}
        });
        let g = grammar(schema);
        assert!(g.contains("category ::="), "{g}");
    }

    /// A tiny backtracking matcher for the subset of GBNF the integer ranges use: literals,
    /// classes, groups, alternatives and `{n}` repetitions.
    mod matcher {
        #[derive(Debug)]
        enum Node {
            Lit(String),
            Class(Vec<(char, char)>),
            Alt(Vec<Vec<(Node, usize, usize)>>),
        }

        pub(super) fn matches(grammar: &str, input: &str) -> bool {
            let chars: Vec<char> = grammar.chars().collect();
            let mut pos = 0;
            let node = parse_alt(&chars, &mut pos);
            let input: Vec<char> = input.chars().collect();
            ends(&node, &input, 0).contains(&input.len())
        }

        fn skip_ws(c: &[char], pos: &mut usize) {
            while *pos < c.len() && c[*pos] == ' ' {
                *pos += 1;
            }
        }

        fn parse_alt(c: &[char], pos: &mut usize) -> Node {
            let mut alts = vec![parse_seq(c, pos)];
            loop {
                skip_ws(c, pos);
                if *pos < c.len() && c[*pos] == '|' {
                    *pos += 1;
                    alts.push(parse_seq(c, pos));
                } else {
                    return Node::Alt(alts);
                }
            }
        }

        fn parse_seq(c: &[char], pos: &mut usize) -> Vec<(Node, usize, usize)> {
            let mut seq = Vec::new();
            loop {
                skip_ws(c, pos);
                if *pos >= c.len() || c[*pos] == '|' || c[*pos] == ')' {
                    return seq;
                }
                let node = match c[*pos] {
                    '(' => {
                        *pos += 1;
                        let n = parse_alt(c, pos);
                        *pos += 1; // ')'
                        n
                    }
                    '"' => {
                        *pos += 1;
                        let mut s = String::new();
                        while c[*pos] != '"' {
                            s.push(c[*pos]);
                            *pos += 1;
                        }
                        *pos += 1;
                        Node::Lit(s)
                    }
                    '[' => {
                        *pos += 1;
                        let mut ranges = Vec::new();
                        while c[*pos] != ']' {
                            let from = c[*pos];
                            if c[*pos + 1] == '-' && c[*pos + 2] != ']' {
                                ranges.push((from, c[*pos + 2]));
                                *pos += 3;
                            } else {
                                ranges.push((from, from));
                                *pos += 1;
                            }
                        }
                        *pos += 1;
                        Node::Class(ranges)
                    }
                    other => panic!("unexpected {other}"),
                };
                let (mut lo, mut hi) = (1, 1);
                if *pos < c.len() && c[*pos] == '{' {
                    let end = c[*pos..].iter().position(|&x| x == '}').unwrap() + *pos;
                    let inner: String = c[*pos + 1..end].iter().collect();
                    let mut parts = inner.split(',');
                    lo = parts.next().unwrap().parse().unwrap();
                    hi = match parts.next() {
                        None => lo,
                        Some("") => usize::MAX,
                        Some(h) => h.parse().unwrap(),
                    };
                    *pos = end + 1;
                }
                seq.push((node, lo, hi));
            }
        }

        fn ends(node: &Node, input: &[char], start: usize) -> Vec<usize> {
            match node {
                Node::Lit(s) => {
                    let s: Vec<char> = s.chars().collect();
                    if input[start..].starts_with(&s) { vec![start + s.len()] } else { vec![] }
                }
                Node::Class(ranges) => match input.get(start) {
                    Some(ch) if ranges.iter().any(|(a, b)| a <= ch && ch <= b) => vec![start + 1],
                    _ => vec![],
                },
                Node::Alt(alts) => {
                    let mut out = Vec::new();
                    for seq in alts {
                        let mut positions = vec![start];
                        for (n, lo, hi) in seq {
                            let mut next = Vec::new();
                            for p in positions {
                                let mut frontier = vec![p];
                                let mut count = 0;
                                if *lo == 0 {
                                    next.push(p);
                                }
                                while count < *hi && !frontier.is_empty() {
                                    count += 1;
                                    let mut nf = Vec::new();
                                    for q in frontier {
                                        nf.extend(ends(n, input, q));
                                    }
                                    nf.sort_unstable();
                                    nf.dedup();
                                    if count >= *lo {
                                        next.extend(nf.iter().copied());
                                    }
                                    frontier = nf;
                                }
                            }
                            next.sort_unstable();
                            next.dedup();
                            positions = next;
                        }
                        out.extend(positions);
                    }
                    out
                }
            }
        }
    }
}
