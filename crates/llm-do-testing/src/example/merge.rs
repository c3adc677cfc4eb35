//! Flattening `allOf` and `$ref`-with-siblings into one schema object.
//!
//! The merge is a sound approximation for the schemas derive macros produce (objects split over
//! several branches, references with extra keywords). Where two branches disagree in ways it
//! cannot combine, the first one wins; the validity check that follows every generated value
//! then reports the conflict instead of letting an invalid example through.

use super::error::{ExampleError, ExampleErrorKind};
use super::pointer;
use serde_json::{Map, Value};

/// How many `$ref`/`allOf` hops a single flattening may take before giving up.
const MAX_HOPS: usize = 64;

/// Keywords that describe a schema without constraining its values.
const ANNOTATIONS: &[&str] = &[
    "$anchor",
    "$comment",
    "$defs",
    "$dynamicAnchor",
    "$id",
    "$schema",
    "default",
    "definitions",
    "deprecated",
    "description",
    "examples",
    "readOnly",
    "title",
    "writeOnly",
];

/// `true` when `map` has a constraining keyword other than those in `except`.
pub(super) fn has_assertions(map: &Map<String, Value>, except: &[&str]) -> bool {
    map.keys().any(|k| !ANNOTATIONS.contains(&k.as_str()) && !except.contains(&k.as_str()))
}

/// `schema` (found at `at`) with its `$ref` and `allOf` merged in, recursively.
pub(super) fn flatten(
    root: &Value,
    schema: &Value,
    at: &str,
) -> Result<Map<String, Value>, ExampleError> {
    flatten_hops(root, schema, at, 0)
}

/// [`flatten`] for a schema object.
pub(super) fn flatten_map(
    root: &Value,
    map: &Map<String, Value>,
    at: &str,
) -> Result<Map<String, Value>, ExampleError> {
    flatten_object(root, map, at, 0)
}

fn flatten_hops(
    root: &Value,
    schema: &Value,
    at: &str,
    hops: usize,
) -> Result<Map<String, Value>, ExampleError> {
    match schema {
        Value::Bool(true) => Ok(Map::new()),
        Value::Bool(false) => Err(ExampleError::new(
            ExampleErrorKind::Unsatisfiable,
            at,
            "the `false` schema admits no value",
        )),
        Value::Object(map) => flatten_object(root, map, at, hops),
        _ => Err(ExampleError::new(
            ExampleErrorKind::InvalidSchema,
            at,
            "a schema must be an object or a boolean",
        )),
    }
}

fn flatten_object(
    root: &Value,
    map: &Map<String, Value>,
    at: &str,
    hops: usize,
) -> Result<Map<String, Value>, ExampleError> {
    if hops > MAX_HOPS {
        return Err(ExampleError::new(
            ExampleErrorKind::Recursion,
            at,
            "`$ref`/`allOf` chain loops back on itself, or is longer than 64 steps",
        ));
    }
    let mut out = map.clone();
    out.shift_remove("$ref");
    out.shift_remove("allOf");
    match map.get("$ref") {
        None => {}
        Some(Value::String(reference)) => {
            let (target_at, target) = pointer::resolve(root, reference, at)?;
            let target = flatten_hops(root, target, &target_at, hops + 1)?;
            out = merge(&out, &target);
        }
        Some(_) => return Err(invalid(at, "$ref", "`$ref` must be a string")),
    }
    match map.get("allOf") {
        None => {}
        Some(Value::Array(branches)) => {
            let all_of = pointer::child(at, "allOf");
            for (i, branch) in branches.iter().enumerate() {
                let branch_at = pointer::child(&all_of, &i.to_string());
                let branch = flatten_hops(root, branch, &branch_at, hops + 1)?;
                out = merge(&out, &branch);
            }
        }
        Some(_) => return Err(invalid(at, "allOf", "`allOf` must be an array")),
    }
    Ok(out)
}

fn invalid(at: &str, keyword: &str, message: &str) -> ExampleError {
    ExampleError::new(ExampleErrorKind::InvalidSchema, pointer::child(at, keyword), message)
}

/// Both schemas at once, as far as they can be combined (see the module documentation).
pub(super) fn merge(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut out = a.clone();
    for (key, vb) in b {
        let combined = match out.get(key) {
            None => vb.clone(),
            Some(va) if va == vb => continue,
            Some(va) => combine(key, va, vb),
        };
        out.insert(key.clone(), combined);
    }
    out
}

fn combine(key: &str, a: &Value, b: &Value) -> Value {
    match key {
        "properties" | "patternProperties" => match (a, b) {
            (Value::Object(pa), Value::Object(pb)) => {
                let mut out = pa.clone();
                for (name, sb) in pb {
                    let merged = match out.get(name) {
                        None => sb.clone(),
                        Some(sa) if sa == sb => continue,
                        Some(sa) => all_of(sa, sb),
                    };
                    out.insert(name.clone(), merged);
                }
                Value::Object(out)
            }
            _ => a.clone(),
        },
        "required" => match (a, b) {
            (Value::Array(ra), Value::Array(rb)) => {
                let mut out = ra.clone();
                out.extend(rb.iter().filter(|r| !ra.contains(r)).cloned());
                Value::Array(out)
            }
            _ => a.clone(),
        },
        "type" => intersect_types(a, b),
        "enum" => match (a, b) {
            (Value::Array(ea), Value::Array(eb)) => {
                Value::Array(ea.iter().filter(|v| eb.contains(v)).cloned().collect())
            }
            _ => a.clone(),
        },
        "minimum" | "exclusiveMinimum" | "minLength" | "minItems" | "minProperties"
        | "minContains" => pick_number(a, b, |x, y| x >= y),
        "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" | "maxProperties"
        | "maxContains" => pick_number(a, b, |x, y| x <= y),
        "uniqueItems" => Value::Bool(a.as_bool().unwrap_or(false) || b.as_bool().unwrap_or(false)),
        "additionalProperties"
        | "items"
        | "contains"
        | "propertyNames"
        | "unevaluatedItems"
        | "unevaluatedProperties" => all_of(a, b),
        "not" => Value::Object(Map::from_iter([(
            "anyOf".to_owned(),
            Value::Array(vec![a.clone(), b.clone()]),
        )])),
        _ => a.clone(),
    }
}

fn all_of(a: &Value, b: &Value) -> Value {
    Value::Object(Map::from_iter([("allOf".to_owned(), Value::Array(vec![a.clone(), b.clone()]))]))
}

/// `a` when `keep_a(a, b)` or either is not a number, else `b`.
fn pick_number(a: &Value, b: &Value, keep_a: impl Fn(f64, f64) -> bool) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if !keep_a(x, y) => b.clone(),
        _ => a.clone(),
    }
}

fn type_list(v: &Value) -> Vec<&str> {
    match v {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn intersect_types(a: &Value, b: &Value) -> Value {
    let (ta, tb) = (type_list(a), type_list(b));
    let mut out: Vec<&str> = Vec::new();
    for t in ta {
        let kept = if tb.contains(&t) {
            Some(t)
        } else if (t == "number" && tb.contains(&"integer"))
            || (t == "integer" && tb.contains(&"number"))
        {
            Some("integer")
        } else {
            None
        };
        if let Some(t) = kept.filter(|t| !out.contains(t)) {
            out.push(t);
        }
    }
    match out.as_slice() {
        [single] => Value::String((*single).to_owned()),
        _ => Value::Array(out.into_iter().map(|t| Value::String(t.to_owned())).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn merges_object_branches() {
        let root = json!({
            "$defs": {"Base": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}},
            "allOf": [
                {"$ref": "#/$defs/Base"},
                {"properties": {"name": {"type": "string"}, "id": {"minimum": 3}}, "required": ["name"]}
            ],
            "description": "x"
        });
        let flat = flatten(&root, &root, "").expect("flattens");
        assert_eq!(flat["required"], json!(["id", "name"]));
        assert_eq!(flat["type"], "object");
        assert_eq!(
            flat["properties"]["id"],
            json!({"allOf": [{"type": "integer"}, {"minimum": 3}]})
        );
    }

    #[test]
    fn combines_bounds_and_types() {
        let a = obj(
            json!({"type": ["number", "null"], "minimum": 1, "maxLength": 5, "enum": [1, 2, 3]}),
        );
        let b = obj(json!({"type": "integer", "minimum": 4, "maxLength": 3, "enum": [3, 4]}));
        let m = merge(&a, &b);
        assert_eq!(m["type"], "integer");
        assert_eq!(m["minimum"], 4);
        assert_eq!(m["maxLength"], 3);
        assert_eq!(m["enum"], json!([3]));
    }

    #[test]
    fn detects_loops() {
        let root = json!({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"});
        assert_eq!(flatten(&root, &root, "").unwrap_err().kind(), ExampleErrorKind::Recursion);
        assert!(has_assertions(&obj(json!({"description": "d", "type": "string"})), &[]));
        assert!(!has_assertions(&obj(json!({"description": "d", "$ref": "#"})), &["$ref"]));
    }
}
