//! Canonical JSON: object keys sorted at every level, so that equal values have equal text
//! whatever order their keys were written in. The one helper behind approval memory (equal
//! arguments, equal keys), cassette matching, run-log definition hashes and durable runs'
//! request digests ([`digest`]).
//!
//! ```
//! use serde_json::json;
//! let a = json!({"b": 1, "a": {"y": [1, {"d": 0, "c": 1}], "x": 2}});
//! let b = json!({"a": {"x": 2, "y": [1, {"c": 1, "d": 0}]}, "b": 1});
//! assert_eq!(llm_do_core::canonical::string(&a), llm_do_core::canonical::string(&b));
//! assert_eq!(llm_do_core::canonical::string(&json!({"y": 1, "x": 2})), r#"{"x":2,"y":1}"#);
//! ```

use serde_json::{Map, Value};

/// `value` with object keys sorted (by their UTF-8 bytes) at every level; array order is kept.
///
/// ```
/// let v = llm_do_core::canonical::value(&serde_json::json!({"b": [{"d": 1, "c": 2}], "a": 0}));
/// assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(v["b"][0].as_object().unwrap().keys().collect::<Vec<_>>(), ["c", "d"]);
/// ```
pub fn value(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = Map::with_capacity(entries.len());
            for (k, v) in entries {
                out.insert(k.clone(), self::value(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(self::value).collect()),
        other => other.clone(),
    }
}

/// Compact JSON text of [`value`]: equal for equal values whatever their key order.
///
/// ```
/// let s = llm_do_core::canonical::string(&serde_json::json!({"x": 1, "y": {"b": 2, "a": 1}}));
/// assert_eq!(s, r#"{"x":1,"y":{"a":1,"b":2}}"#);
/// ```
pub fn string(v: &Value) -> String {
    value(v).to_string()
}

/// `sha256:` and the hex SHA-256 of [`string`]: equal for equal values whatever their key
/// order, and it does not show the value (run-log definition hashes, the request a durable
/// run was started with).
///
/// ```
/// use serde_json::json;
/// let d = llm_do_core::canonical::digest(&json!({"b": 1, "a": 2}));
/// assert_eq!(d, llm_do_core::canonical::digest(&json!({"a": 2, "b": 1})));
/// assert!(d.starts_with("sha256:") && d.len() == 71);
/// assert_ne!(d, llm_do_core::canonical::digest(&json!({"a": 2, "b": 2})));
/// ```
pub fn digest(v: &Value) -> String {
    use sha2::{Digest as _, Sha256};
    format!("sha256:{}", crate::attachment::hex(&Sha256::digest(string(v).as_bytes())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_and_values_do() {
        let a = json!({"b": 1, "a": {"y": [1, {"d": 0, "c": 1}], "x": 2}});
        let b = json!({"a": {"x": 2, "y": [1, {"c": 1, "d": 0}]}, "b": 1});
        assert_eq!(super::string(&a), super::string(&b));
        assert_ne!(super::string(&a), super::string(&json!({"b": 2})));
        assert_ne!(super::string(&json!([1, 2])), super::string(&json!([2, 1])));
    }
}
