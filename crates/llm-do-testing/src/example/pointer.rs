//! JSON pointers into the schema document, and resolution of in-document `$ref`s.

use super::error::{ExampleError, ExampleErrorKind};
use serde_json::Value;

/// `pointer` extended by one reference token, escaped as RFC 6901 requires.
pub(super) fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Resolves a `$ref` found at `at` to the pointer of its target and the target itself.
///
/// Only references into the same document are supported: `#`, `#/json/pointer`, or the same
/// with the document's own `$id` in front.
pub(super) fn resolve<'s>(
    root: &'s Value,
    reference: &str,
    at: &str,
) -> Result<(String, &'s Value), ExampleError> {
    let unsupported = |why: &str| {
        ExampleError::new(
            ExampleErrorKind::Unsupported,
            child(at, "$ref"),
            format!("cannot follow `$ref` \"{reference}\": {why}"),
        )
    };
    check_local(root, reference, at)?;
    let fragment = reference.split_once('#').map_or("", |(_, fragment)| fragment);
    let decoded =
        percent_decode(fragment).ok_or_else(|| unsupported("invalid percent-encoding"))?;
    if !decoded.is_empty() && !decoded.starts_with('/') {
        return Err(unsupported("anchors (`#name`) are not supported, only JSON pointers"));
    }
    let target = root.pointer(&decoded).ok_or_else(|| {
        ExampleError::new(
            ExampleErrorKind::InvalidSchema,
            child(at, "$ref"),
            format!("`$ref` \"{reference}\" points to nothing"),
        )
    })?;
    Ok((decoded, target))
}

/// `Ok` when `reference` (a `$ref` found at `at`) points into `root` itself.
pub(super) fn check_local(root: &Value, reference: &str, at: &str) -> Result<(), ExampleError> {
    let base = reference.split_once('#').map_or(reference, |(base, _)| base);
    let own_id = root.get("$id").and_then(Value::as_str).map(|id| id.trim_end_matches('#'));
    if base.is_empty() || own_id == Some(base) {
        return Ok(());
    }
    Err(ExampleError::new(
        ExampleErrorKind::Unsupported,
        child(at, "$ref"),
        format!(
            "cannot follow `$ref` \"{reference}\": only references inside the schema itself (`#/...`) are supported"
        ),
    ))
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_tokens() {
        assert_eq!(child("/properties", "a/b~c"), "/properties/a~1b~0c");
    }

    #[test]
    fn resolves_refs() {
        let root = json!({"$id": "https://x.test/s.json", "$defs": {"A<B>": {"type": "integer"}}});
        assert_eq!(resolve(&root, "#", "").map(|(p, _)| p), Ok(String::new()));
        let (p, v) = resolve(&root, "#/$defs/A%3CB%3E", "").expect("resolves");
        assert_eq!(p, "/$defs/A<B>");
        assert_eq!(v, &json!({"type": "integer"}));
        assert!(resolve(&root, "https://x.test/s.json#/$defs/A<B>", "").is_ok());
        assert_eq!(
            resolve(&root, "other.json#/x", "/items").map(|_| ()).unwrap_err().pointer(),
            "/items/$ref"
        );
        assert!(resolve(&root, "#anchor", "").is_err());
        assert!(resolve(&root, "#/nothing", "").is_err());
        assert!(resolve(&root, "#/%zz", "").is_err());
    }
}
