//! OpenAI's strict mode for structured outputs: which schemas qualify for `strict: true`.
//!
//! In strict mode the server guarantees the answer matches the schema, but accepts only a
//! subset of JSON Schema. A schema qualifies when its root is an object schema, every object
//! schema in it sets `additionalProperties: false` and lists all its properties in
//! `required`, and it uses only supported keywords (`type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `const`, `anyOf`, `$ref`, `$defs`/`definitions`,
//! annotations, and the numeric, string and array bounds OpenAI documents). Anything else is
//! sent with `strict: false`.

use serde_json::{Map, Value};

/// Keywords strict mode accepts.
const ALLOWED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "definitions",
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// String formats strict mode accepts.
const FORMATS: &[&str] =
    &["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"];

/// `true` when the schema qualifies for `strict: true`.
pub(crate) fn qualifies(schema: &Value) -> bool {
    is_object_schema(schema) && check(schema)
}

/// `true` for a schema whose `type` is exactly `"object"`.
pub(crate) fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

fn check(schema: &Value) -> bool {
    let Value::Object(map) = schema else { return false };
    for (key, value) in map {
        if !ALLOWED.contains(&key.as_str()) {
            return false;
        }
        let ok = match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                value.as_object().is_some_and(|m| m.values().all(check))
            }
            "items" => check(value),
            "anyOf" => value.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(check)),
            "additionalProperties" => *value == Value::Bool(false),
            "format" => value.as_str().is_some_and(|f| FORMATS.contains(&f)),
            "required" => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    if describes_objects(map) {
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            return false;
        }
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let all_required = map
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(|props| props.keys().all(|k| required.contains(&k.as_str())));
        if !all_required {
            return false;
        }
    }
    true
}

/// `true` when the schema (also) describes objects.
fn describes_objects(map: &Map<String, Value>) -> bool {
    let typed_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    };
    typed_object || map.contains_key("properties")
}

/// Removes `format` annotations strict mode does not know (schemars writes `int64`,
/// `uint32`, `double`, ... for Rust numbers). They are annotations only: the runtime still
/// validates answers against the original schema.
pub(crate) fn strip_unknown_formats(schema: &mut Value) {
    llm_do_core::schema::visit_mut(schema, &mut |sub| {
        if let Value::Object(map) = sub {
            let unknown = map
                .get("format")
                .is_some_and(|f| !f.as_str().is_some_and(|f| FORMATS.contains(&f)));
            if unknown {
                map.remove("format");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strict_object() -> Value {
        json!({
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}},
            "required": ["a", "b"],
            "additionalProperties": false
        })
    }

    #[test]
    fn closed_objects_with_all_properties_required_qualify() {
        assert!(qualifies(&strict_object()));
        assert!(qualifies(
            &json!({"type": "object", "properties": {}, "additionalProperties": false})
        ));
        let nested = json!({
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "maxItems": 3},
                "kind": {"anyOf": [{"const": "a"}, {"enum": ["b", "c"]}]},
                "when": {"type": "string", "format": "date-time", "description": "d"}
            },
            "required": ["items", "kind", "when"],
            "additionalProperties": false,
            "$defs": {"Item": strict_object()}
        });
        assert!(qualifies(&nested));
    }

    #[test]
    fn open_objects_optional_properties_and_odd_keywords_do_not() {
        let mut open = strict_object();
        open.as_object_mut().unwrap().remove("additionalProperties");
        assert!(!qualifies(&open));
        let mut optional = strict_object();
        optional["required"] = json!(["a"]);
        assert!(!qualifies(&optional));
        let mut extra_map = strict_object();
        extra_map["additionalProperties"] = json!({"type": "string"});
        assert!(!qualifies(&extra_map));
        let mut one_of = strict_object();
        one_of["properties"]["a"] = json!({"oneOf": [{"type": "integer"}]});
        assert!(!qualifies(&one_of));
        let mut min_len = strict_object();
        min_len["properties"]["a"] = json!({"type": "string", "minLength": 1});
        assert!(!qualifies(&min_len));
        let mut bad_def = strict_object();
        bad_def["$defs"] = json!({"X": {"type": "object", "properties": {"y": true}}});
        assert!(!qualifies(&bad_def));
    }

    #[test]
    fn the_root_must_be_an_object() {
        assert!(!qualifies(&json!({"type": "integer"})));
        assert!(!qualifies(&json!({"enum": ["Bug", "Billing"]})));
        assert!(!qualifies(&json!({"anyOf": [strict_object(), {"type": "null"}]})));
        assert!(!qualifies(&json!(true)));
    }

    #[test]
    fn unknown_formats_are_stripped_from_schemas_not_from_properties() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "format": {"type": "integer", "format": "int64"},
                "at": {"type": "string", "format": "date"},
                "list": {"type": "array", "items": {"type": "number", "format": "double"}}
            },
            "$defs": {"X": {"anyOf": [{"type": "integer", "format": "uint8"}]}}
        });
        strip_unknown_formats(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "format": {"type": "integer"},
                    "at": {"type": "string", "format": "date"},
                    "list": {"type": "array", "items": {"type": "number"}}
                },
                "$defs": {"X": {"anyOf": [{"type": "integer"}]}}
            })
        );
    }
}
