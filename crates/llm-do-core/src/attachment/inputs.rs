//! Attachments in JSON: finding them among a worker's arguments (by the input schema), and
//! keeping their bytes out of events and logs.

use super::error::{AttachmentError, AttachmentErrorKind};
use super::{
    ATTACHMENT_FORMAT, Attachment, AttachmentLimits, AttachmentLoader, AttachmentSource,
    DIGEST_SCHEME, check_size,
};
use serde_json::Value;

/// `true` when `schema` describes an attachment or a list of them: `"format": "attachment"`
/// on it, on its `items`, or on a branch of its `anyOf` / `oneOf`.
///
/// ```
/// use llm_do_core::attachment::is_attachment_schema;
/// use serde_json::json;
/// assert!(is_attachment_schema(&json!({"type": "string", "format": "attachment"})));
/// assert!(is_attachment_schema(&json!({"type": "array", "items": {"type": "string", "format": "attachment"}})));
/// assert!(!is_attachment_schema(&json!({"type": "string"})));
/// ```
pub fn is_attachment_schema(schema: &Value) -> bool {
    is_attachment_schema_at(schema, 0)
}

fn is_attachment_schema_at(schema: &Value, depth: u32) -> bool {
    if depth > 4 {
        return false;
    }
    if schema.get("format").and_then(Value::as_str) == Some(ATTACHMENT_FORMAT) {
        return true;
    }
    if let Some(items) = schema.get("items")
        && is_attachment_schema_at(items, depth + 1)
    {
        return true;
    }
    ["anyOf", "oneOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|bs| bs.iter().any(|b| is_attachment_schema_at(b, depth + 1)))
    })
}

/// `true` when some top-level property of the input schema `schema` [is an
/// attachment](is_attachment_schema): only then has [`split_arguments`] anything to take out.
pub(crate) fn has_attachment_params(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| properties.values().any(is_attachment_schema))
}

/// Takes the attachments out of a worker's arguments: every top-level property whose schema
/// [is an attachment](is_attachment_schema) is resolved (`data:` and image URLs parsed, paths
/// read through `loader`, all within `limits`) and replaced, in the returned arguments, by
/// `[attached: NAME]` (a list by a list of those), so that the prompt shows what is attached
/// but never the bytes. Attachments come back in property order.
///
/// ```
/// use llm_do_core::attachment::{AttachmentLimits, split_arguments};
/// use serde_json::json;
/// let schema = json!({"type": "object", "properties": {
///     "question": {"type": "string"},
///     "notes": {"type": "string", "format": "attachment"}
/// }});
/// let args = json!({"question": "Total?", "notes": "data:text/plain;name=n.txt;base64,MTIz"});
/// let (shown, files) = split_arguments(&schema, &args, None, &AttachmentLimits::default()).unwrap();
/// assert_eq!(shown, json!({"question": "Total?", "notes": "[attached: n.txt]"}));
/// assert_eq!(files[0].bytes(), Some(&b"123"[..]));
///
/// // Paths need a loader (one confined to a root).
/// let err = split_arguments(&schema, &json!({"notes": "n.txt"}), None, &AttachmentLimits::default()).unwrap_err();
/// assert_eq!(err.kind(), llm_do_core::attachment::AttachmentErrorKind::InvalidReference);
/// ```
pub fn split_arguments(
    schema: &Value,
    args: &Value,
    loader: Option<&dyn AttachmentLoader>,
    limits: &AttachmentLimits,
) -> Result<(Value, Vec<Attachment>), AttachmentError> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok((args.clone(), Vec::new()));
    };
    let mut shown = args.clone();
    let mut found = Vec::new();
    for (key, property) in properties {
        if !is_attachment_schema(property) {
            continue;
        }
        let Some(value) = shown.get_mut(key) else { continue };
        match value {
            Value::String(reference) => {
                let a = resolve(reference, loader, limits)?;
                *value = Value::String(label(&a));
                found.push(a);
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    let Value::String(reference) = item else {
                        return Err(not_a_reference(key));
                    };
                    let a = resolve(reference, loader, limits)?;
                    *item = Value::String(label(&a));
                    found.push(a);
                }
            }
            Value::Null => {}
            _ => return Err(not_a_reference(key)),
        }
    }
    Ok((shown, found))
}

/// `args` with every attachment path among them replaced by the path `loader` will read
/// ([`AttachmentLoader::resolve`]): the form approval rules on a worker's attachment arguments
/// are matched against, and the call then runs with. Without a loader (a path is then refused
/// when the call runs), and for what is not a path (URLs, malformed values), `args` is
/// unchanged. With the resolved paths, in order.
pub(crate) fn resolve_paths(
    schema: &Value,
    mut args: Value,
    loader: Option<&dyn AttachmentLoader>,
) -> Result<(Value, Vec<String>), AttachmentError> {
    let mut resolved = Vec::new();
    let (Some(loader), Some(properties)) =
        (loader, schema.get("properties").and_then(Value::as_object))
    else {
        return Ok((args, resolved));
    };
    for (key, property) in properties {
        if !is_attachment_schema(property) {
            continue;
        }
        let references: Vec<&mut Value> = match args.get_mut(key) {
            Some(Value::Array(items)) => items.iter_mut().collect(),
            Some(value) => vec![value],
            None => continue,
        };
        for reference in references {
            if let Value::String(path) = reference
                && super::reference::is_path(path)
            {
                *path = loader.resolve(path)?;
                resolved.push(path.clone());
            }
        }
    }
    Ok((args, resolved))
}

/// Resolves one reference string (a digest reference is refused: see
/// [`AttachmentSource::parse_fresh`]).
pub(crate) fn resolve(
    reference: &str,
    loader: Option<&dyn AttachmentLoader>,
    limits: &AttachmentLimits,
) -> Result<Attachment, AttachmentError> {
    let a = match AttachmentSource::parse_fresh(reference)? {
        AttachmentSource::Inline(a) => a,
        AttachmentSource::Path(path) => match loader {
            Some(loader) => loader.load(&path, limits)?,
            None => {
                return Err(AttachmentError::new(
                    AttachmentErrorKind::InvalidReference,
                    format!(
                        "`{path}` is a path, but this runtime reads no attachment files (no \
                         attachment root is configured); pass the file's content instead"
                    ),
                ));
            }
        },
    };
    if let Some(size) = a.size() {
        check_size(a.display_name(), size, limits)?;
    }
    Ok(a)
}

fn label(a: &Attachment) -> String {
    format!("[attached: {}]", a.display_name())
}

fn not_a_reference(key: &str) -> AttachmentError {
    AttachmentError::new(
        AttachmentErrorKind::InvalidReference,
        format!("`{key}` must be a path or URL string (or a list of them)"),
    )
}

/// Replaces every `data:` URL string in `value` (at any depth, up to 64 levels) by its digest
/// reference, `attachment:MEDIA;name=NAME;size=N;sha256=HEX`: what events, run logs and
/// displays keep of an attachment instead of its base64. Strings that are not well-formed
/// `data:` URLs are left alone.
///
/// ```
/// use llm_do_core::attachment::digest_data_urls;
/// let mut v = serde_json::json!({"deck": ["data:text/plain;name=a.txt;base64,aGk="], "n": 1});
/// digest_data_urls(&mut v);
/// assert_eq!(v["deck"][0], "attachment:text/plain;name=a.txt;size=2;sha256=8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4");
/// ```
pub fn digest_data_urls(value: &mut Value) {
    digest_at(value, 0);
}

fn digest_at(value: &mut Value, depth: u32) {
    if depth > 64 {
        return;
    }
    match value {
        Value::String(s) if s.starts_with("data:") => {
            if let Ok(AttachmentSource::Inline(a)) = AttachmentSource::parse(s) {
                let digest = Attachment::from_digest(a.digest());
                let reference = digest.to_reference();
                debug_assert!(reference.starts_with(DIGEST_SCHEME));
                *s = reference;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| digest_at(v, depth + 1)),
        Value::Object(map) => map.values_mut().for_each(|v| digest_at(v, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "notes": {"type": "array", "items": {"type": "string", "format": "attachment"}},
            "logo": {"type": ["string", "null"], "format": "attachment"},
            "n": {"type": "integer"}
        }})
    }

    #[test]
    fn lists_and_absent_optionals() {
        let a = "data:text/plain;name=a.txt;base64,YQ==";
        let b = "data:text/csv;name=b.csv;base64,YixjCg==";
        let args = json!({"notes": [a, b], "logo": null, "n": 3});
        let limits = AttachmentLimits::default();
        let (shown, files) = split_arguments(&schema(), &args, None, &limits).unwrap();
        assert_eq!(
            shown,
            json!({"notes": ["[attached: a.txt]", "[attached: b.csv]"], "logo": null, "n": 3})
        );
        let names: Vec<_> = files.iter().map(|f| f.display_name()).collect();
        assert_eq!(names, ["a.txt", "b.csv"]);
    }

    #[test]
    fn malformed_values_and_sizes_are_refused() {
        let limits = AttachmentLimits { max_bytes: 1, ..Default::default() };
        let kind =
            |args: Value| split_arguments(&schema(), &args, None, &limits).unwrap_err().kind();
        assert_eq!(kind(json!({"notes": [1]})), AttachmentErrorKind::InvalidReference);
        assert_eq!(kind(json!({"logo": {"path": "x"}})), AttachmentErrorKind::InvalidReference);
        assert_eq!(
            kind(json!({"logo": "data:text/plain;base64,YWJj"})),
            AttachmentErrorKind::TooLarge
        );
    }

    #[test]
    fn a_digest_reference_is_refused_as_an_input() {
        // What a record keeps of a file is not the file: it cannot be sent, so a worker's
        // input refuses it before anything else happens (whatever size it claims).
        let limits = AttachmentLimits { max_bytes: 1, ..Default::default() };
        let sha = "a".repeat(64);
        let digest = format!("attachment:image/png;name=c.png;size=67;sha256={sha}");
        let err = split_arguments(&schema(), &json!({"logo": digest}), None, &limits).unwrap_err();
        assert_eq!(err.kind(), AttachmentErrorKind::ContentMissing);
        assert!(err.message().contains("`c.png`"), "{err}");
        // Its media type is checked as a data: URL's is.
        let zip = format!("attachment:application/zip;name=x.zip;size=3;sha256={sha}");
        let err = split_arguments(&schema(), &json!({"notes": [zip]}), None, &limits).unwrap_err();
        assert_eq!(err.kind(), AttachmentErrorKind::UnknownMediaType);
    }

    #[test]
    fn digests_leave_other_strings_alone() {
        let mut v = json!({"a": "data: not a data url", "b": ["plain", {"c": "data:text/plain;base64,YQ=="}]});
        digest_data_urls(&mut v);
        assert_eq!(v["a"], "data: not a data url");
        assert_eq!(v["b"][0], "plain");
        let c = v["b"][1]["c"].as_str().unwrap();
        assert!(c.starts_with("attachment:text/plain;size=1;sha256=ca978112"), "{c}");
    }
}
