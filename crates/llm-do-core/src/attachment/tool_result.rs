//! Tool results that carry text *and* files: `{"text": ..., "attachments": [data URLs]}`, for
//! tools whose output schema is marked with [`TEXT_WITH_ATTACHMENTS_FORMAT`] (such as the
//! tools of an MCP server, whose results may mix text and images).

use super::error::AttachmentError;
use super::{ATTACHMENT_FORMAT, Attachment, AttachmentSource};
use serde_json::{Value, json};

/// The JSON Schema `format` of a tool result made of text and files.
pub const TEXT_WITH_ATTACHMENTS_FORMAT: &str = "text-with-attachments";

/// The schema of a result made of text and files (see [`text_with_attachments`]).
///
/// ```
/// use llm_do_core::attachment::{is_text_with_attachments_schema, text_with_attachments_schema};
/// assert!(is_text_with_attachments_schema(&text_with_attachments_schema()));
/// ```
pub fn text_with_attachments_schema() -> Value {
    json!({
        "type": "object",
        "format": TEXT_WITH_ATTACHMENTS_FORMAT,
        "properties": {
            "text": {"type": "string"},
            "attachments": {"type": "array", "items": {"type": "string", "format": ATTACHMENT_FORMAT}}
        },
        "required": ["text", "attachments"]
    })
}

/// `true` when `schema` is [`text_with_attachments_schema`]'s kind, or one of its `anyOf` /
/// `oneOf` branches is: a model calling such a tool gets the text as the tool result and the
/// files as parts of a user message after it.
///
/// ```
/// use llm_do_core::attachment::{is_text_with_attachments_schema, text_with_attachments_schema};
/// let either = serde_json::json!({"anyOf": [{}, text_with_attachments_schema()]});
/// assert!(is_text_with_attachments_schema(&either));
/// assert!(!is_text_with_attachments_schema(&serde_json::json!({"type": "string"})));
/// ```
pub fn is_text_with_attachments_schema(schema: &Value) -> bool {
    let marked =
        |s: &Value| s.get("format").and_then(Value::as_str) == Some(TEXT_WITH_ATTACHMENTS_FORMAT);
    marked(schema)
        || ["anyOf", "oneOf"].iter().any(|k| {
            schema.get(*k).and_then(Value::as_array).is_some_and(|bs| bs.iter().any(marked))
        })
}

/// A result made of text and files (each as its `data:` URL, with its name).
///
/// ```
/// use llm_do_core::attachment::{Attachment, split_text_with_attachments, text_with_attachments};
/// let chart = Attachment::from_bytes(b"\x89PNG\r\n\x1a\n".to_vec(), Some("chart.png")).unwrap();
/// let value = text_with_attachments("the chart:", &[chart.clone()]);
/// let (text, files) = split_text_with_attachments(&value).unwrap().unwrap();
/// assert_eq!((text.as_str(), files), ("the chart:", vec![chart]));
/// ```
pub fn text_with_attachments(text: &str, files: &[Attachment]) -> Value {
    // An attachment's serde form is its `data:` URL with its name (or its URL).
    json!({"text": text, "attachments": files})
}

/// The text and the files of a result made by [`text_with_attachments`]; `None` when `value`
/// does not have that shape; an error when a file does not parse (a path is refused: a tool
/// returns bytes or URLs).
///
/// ```
/// use llm_do_core::attachment::split_text_with_attachments;
/// assert!(split_text_with_attachments(&serde_json::json!("plain")).is_none());
/// let bad = serde_json::json!({"text": "x", "attachments": ["data:image/png;base64,@@"]});
/// assert!(split_text_with_attachments(&bad).unwrap().is_err());
/// ```
pub fn split_text_with_attachments(
    value: &Value,
) -> Option<Result<(String, Vec<Attachment>), AttachmentError>> {
    let obj = value.as_object()?;
    let text = obj.get("text")?.as_str()?;
    let refs = obj.get("attachments")?.as_array()?;
    let mut files = Vec::with_capacity(refs.len());
    for r in refs {
        let parsed = match r.as_str().map(AttachmentSource::parse_fresh) {
            Some(Ok(AttachmentSource::Inline(a))) => Ok(a),
            Some(Ok(AttachmentSource::Path(p))) => Err(AttachmentError::new(
                super::AttachmentErrorKind::InvalidReference,
                format!("a tool result names the path `{}`; a tool returns files as data: URLs", p),
            )),
            Some(Err(e)) => Err(e),
            None => Err(AttachmentError::new(
                super::AttachmentErrorKind::InvalidReference,
                "an attachment of a tool result is not a string",
            )),
        };
        match parsed {
            Ok(a) => files.push(a),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok((text.to_owned(), files)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::AttachmentErrorKind;

    #[test]
    fn a_digest_reference_is_refused_as_a_result() {
        let sha = "b".repeat(64);
        let digest = format!("attachment:image/png;name=c.png;size=67;sha256={sha}");
        let value = json!({"text": "see", "attachments": [digest]});
        let err = split_text_with_attachments(&value).unwrap().unwrap_err();
        assert_eq!(err.kind(), AttachmentErrorKind::ContentMissing);
    }
}
