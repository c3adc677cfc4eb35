//! The content parts of a client's user message — text, `image_url` (a `data:` URL or an
//! `http(s)` URL) and `file` (`file_data` as a `data:` URL, with `filename`) — as llm-do
//! content parts, lowered to what the served model takes ([`attachment::lower`]): the
//! embedded model reads a PDF as its extracted text and refuses an image. Every problem is a
//! [`BadRequest`] with a typed `code` (`attachment_invalid`, `attachment_too_large`,
//! `attachment_unknown_media_type`, `attachment_unreadable_pdf`, `attachment_unsupported`,
//! `unsupported_content_part`), answered with a 400 before the model sees anything.

use llm_do::Message;
use llm_do::attachment::{
    self, Attachment, AttachmentError, AttachmentErrorKind, AttachmentLimits, AttachmentSource,
    InputCapabilities,
};
use llm_do::message::ContentPart;
use llm_do_openai_wire::request::{BadRequest, content_text};
use serde_json::Value;

/// Largest attachment `llm-do serve` accepts, decoded (a request body is at most 2 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 1 << 20;

/// What a served model takes, and how it is named in errors.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The served model's input capabilities.
    pub capabilities: InputCapabilities,
    /// Its label (`local:smollm2`).
    pub label: &'a str,
}

impl Target<'_> {
    /// A text-only target (the default for models that declare nothing).
    pub const TEXT_ONLY: Target<'static> =
        Target { capabilities: InputCapabilities::TEXT_ONLY, label: "the served model" };
}

/// The user message of message `i` with `content`: a plain text message when every part is
/// text (or became text), else one with the attachments the model takes.
pub(crate) fn user_message(
    i: usize,
    content: Option<&Value>,
    target: &Target<'_>,
) -> Result<Message, BadRequest> {
    let Some(Value::Array(items)) = content else {
        return Ok(Message::user(content_text(content)));
    };
    let param = |j: usize| Some(format!("messages[{i}].content[{j}]"));
    let mut parts = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let part = match item {
            Value::String(s) => ContentPart::text(s.clone()),
            item => match item.get("type").and_then(Value::as_str) {
                Some("text") => ContentPart::text(
                    item.get("text").and_then(Value::as_str).unwrap_or_default().to_owned(),
                ),
                None if item.get("text").is_some() => ContentPart::text(
                    item.get("text").and_then(Value::as_str).unwrap_or_default().to_owned(),
                ),
                Some("image_url") => {
                    let url = item
                        .get("image_url")
                        .and_then(|u| u.get("url").or(Some(u)))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    ContentPart::Attachment(image(url).map_err(|e| bad(e, param(j)))?)
                }
                Some("file") => {
                    ContentPart::Attachment(file(item.get("file")).map_err(|e| match e {
                        Problem::Attachment(e) => bad(e, param(j)),
                        Problem::Request(message) => {
                            bad_part(message, param(j), "unsupported_content_part")
                        }
                    })?)
                }
                other => {
                    return Err(bad_part(
                        format!(
                            "messages[{i}].content[{j}]: content parts of type `{}` are not \
                             supported (text, image_url and file are)",
                            other.unwrap_or("(none)").escape_debug()
                        ),
                        param(j),
                        "unsupported_content_part",
                    ));
                }
            },
        };
        if let ContentPart::Attachment(a) = &part
            && a.size().is_some_and(|n| n > limits().max_bytes)
        {
            let e = AttachmentError::new(
                AttachmentErrorKind::TooLarge,
                format!(
                    "`{}` is {} bytes; `llm-do serve` takes attachments of at most {} bytes",
                    a.display_name(),
                    a.size().unwrap_or_default(),
                    MAX_ATTACHMENT_BYTES
                ),
            );
            return Err(bad(e, param(j)));
        }
        parts.push(part);
    }
    let limits = limits();
    attachment::lower(parts, &target.capabilities, target.label, &limits)
        .map_err(|e| bad(e, Some(format!("messages[{i}].content"))))
}

fn limits() -> AttachmentLimits {
    AttachmentLimits { max_bytes: MAX_ATTACHMENT_BYTES, ..AttachmentLimits::default() }
}

enum Problem {
    Attachment(AttachmentError),
    Request(String),
}

/// An `image_url` part: a `data:` URL of an image, or an `http(s)` URL.
fn image(url: &str) -> Result<Attachment, AttachmentError> {
    if url.starts_with("data:") {
        let a = inline(url)?;
        if a.kind() != attachment::MediaKind::Image {
            return Err(AttachmentError::new(
                AttachmentErrorKind::UnknownMediaType,
                format!("an image_url part holds {}, not an image", a.media_type()),
            ));
        }
        return Ok(a);
    }
    Attachment::url(url)
}

/// A `file` part: `{"file_data": "data:...;base64,...", "filename": "deck.pdf"}`.
fn file(file: Option<&Value>) -> Result<Attachment, Problem> {
    let file = file.ok_or_else(|| Problem::Request("a file part needs a `file` object".into()))?;
    if file.get("file_id").is_some() && file.get("file_data").is_none() {
        return Err(Problem::Request(
            "file parts by `file_id` are not supported: send the file as `file_data`".into(),
        ));
    }
    let data = file
        .get("file_data")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::Request("a file part needs `file_data` (a data: URL)".into()))?;
    let a = inline(data).map_err(Problem::Attachment)?;
    match file.get("filename").and_then(Value::as_str) {
        Some(name) => Attachment::with_media_type(
            a.bytes().unwrap_or_default().to_vec(),
            a.media_type(),
            Some(name),
        )
        .map_err(Problem::Attachment),
        None => Ok(a),
    }
}

/// A `data:` URL as an attachment (bad base64, an unknown type: typed errors).
fn inline(url: &str) -> Result<Attachment, AttachmentError> {
    if !url.starts_with("data:") {
        return Err(AttachmentError::new(
            AttachmentErrorKind::InvalidReference,
            "file_data must be a data: URL (data:MEDIA_TYPE;base64,...)",
        ));
    }
    match AttachmentSource::parse(url)? {
        AttachmentSource::Inline(a) => Ok(a),
        AttachmentSource::Path(_) => {
            Err(AttachmentError::new(AttachmentErrorKind::InvalidReference, "not a data: URL"))
        }
    }
}

fn bad(e: AttachmentError, param: Option<String>) -> BadRequest {
    let code = match e.kind() {
        AttachmentErrorKind::TooLarge => "attachment_too_large",
        AttachmentErrorKind::UnknownMediaType => "attachment_unknown_media_type",
        AttachmentErrorKind::UnreadablePdf => "attachment_unreadable_pdf",
        AttachmentErrorKind::Unsupported => "attachment_unsupported",
        _ => "attachment_invalid",
    };
    bad_part(e.to_string(), param, code)
}

/// A bad content part: the message, the part (`messages[i].content[j]`) and the `code`.
fn bad_part(message: String, param: Option<String>, code: &str) -> BadRequest {
    BadRequest { message, param, code: Some(code.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DECK: &[u8] = include_bytes!("../../../../examples/pitchdeck_data/aquaroute.pdf");

    fn text_only() -> Target<'static> {
        Target { capabilities: InputCapabilities::TEXT_ONLY, label: "local:smollm2" }
    }

    fn file_part(name: &str, bytes: &[u8]) -> Value {
        let url = Attachment::from_bytes(bytes.to_vec(), Some(name)).unwrap().data_url().unwrap();
        json!({"type": "file", "file": {"filename": name, "file_data": url}})
    }

    #[test]
    fn a_text_only_model_gets_a_pdf_as_its_extracted_text() {
        let content = json!([{"type": "text", "text": "What do they ask?"}, file_part("aquaroute.pdf", DECK)]);
        let message = user_message(0, Some(&content), &text_only()).unwrap();
        let Message::User { content } = message else { panic!("{message:?}") };
        assert!(content.starts_with("What do they ask?"), "{content}");
        assert!(
            content.contains("--- aquaroute.pdf (application/pdf, text extracted) ---"),
            "{content}"
        );
        assert!(content.contains("AquaRoute"), "{content}");
    }

    #[test]
    fn an_image_for_a_text_only_model_and_an_unreadable_pdf_are_typed() {
        let image = json!([{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]);
        let e = user_message(2, Some(&image), &text_only()).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("attachment_unsupported"));
        assert!(e.message.contains("local:smollm2"), "{}", e.message);
        assert_eq!(e.param.as_deref(), Some("messages[2].content"));
        let bad = json!([file_part("bad.pdf", b"%PDF-1.4\ngarbage")]);
        let e = user_message(0, Some(&bad), &text_only()).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("attachment_unreadable_pdf"), "{}", e.message);
    }

    #[test]
    fn a_model_that_takes_images_and_pdfs_gets_them_as_parts() {
        let target = Target { capabilities: InputCapabilities::ALL, label: "openai:m" };
        let content = json!([
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            file_part("aquaroute.pdf", DECK),
        ]);
        let Message::UserParts { parts } = user_message(0, Some(&content), &target).unwrap() else {
            panic!()
        };
        let names: Vec<_> = parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Attachment(a) => {
                    Some((a.display_name().to_owned(), a.media_type().to_owned()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(names[1], ("aquaroute.pdf".to_owned(), "application/pdf".to_owned()));
        assert_eq!(names[0].1, "image/png");
    }
}
