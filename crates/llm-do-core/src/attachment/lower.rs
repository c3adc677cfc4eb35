//! What a model can take, and turning the rest into text before a request is sent.

use super::error::{AttachmentError, AttachmentErrorKind};
use super::media::MediaKind;
use super::pdf::extract_pdf_text;
use super::{Attachment, AttachmentLimits};
use crate::message::{ContentPart, Message};
use serde::{Deserialize, Serialize};

/// The attachment parts a model takes natively. Declared by each [`Model`](crate::Model)
/// (`Model::input_capabilities`); the default is [`InputCapabilities::TEXT_ONLY`].
///
/// ```
/// use llm_do_core::attachment::{InputCapabilities, PdfSupport};
/// let vision = InputCapabilities { images: true, pdf: PdfSupport::ExtractText };
/// assert_ne!(vision, InputCapabilities::TEXT_ONLY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCapabilities {
    /// Images are sent as image parts; when `false`, an image is an error naming the model.
    pub images: bool,
    /// How PDFs reach the model.
    pub pdf: PdfSupport,
}

/// How a PDF reaches a model.
///
/// ```
/// use llm_do_core::attachment::PdfSupport;
/// assert_eq!(PdfSupport::default(), PdfSupport::ExtractText);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PdfSupport {
    /// As a document part (the model reads the file itself).
    Native,
    /// As its extracted text, in a text part. The default.
    #[default]
    ExtractText,
    /// Not at all: a PDF is an error naming the model.
    Reject,
}

impl InputCapabilities {
    /// A model that reads text only: PDFs as their text, images refused.
    pub const TEXT_ONLY: InputCapabilities =
        InputCapabilities { images: false, pdf: PdfSupport::ExtractText };

    /// A model that takes images and PDFs natively.
    pub const ALL: InputCapabilities = InputCapabilities { images: true, pdf: PdfSupport::Native };
}

impl Default for InputCapabilities {
    fn default() -> Self {
        Self::TEXT_ONLY
    }
}

/// The user message for `parts`, as `model` (a label for errors) can take it: attachments
/// the model does not take natively become text (PDF text, text files inline with their
/// name); an image for a model without images, or a PDF for one that rejects them, is an
/// [`Unsupported`](AttachmentErrorKind::Unsupported) error. Text files always become text.
/// When only text is left, the result is a plain [`Message::User`].
///
/// ```
/// use llm_do_core::Message;
/// use llm_do_core::attachment::{Attachment, AttachmentErrorKind, AttachmentLimits, InputCapabilities, lower};
/// use llm_do_core::message::ContentPart;
/// let notes = Attachment::from_bytes(b"Revenue: $2M".to_vec(), Some("notes.txt")).unwrap();
/// let parts = vec![ContentPart::text("Summarize."), ContentPart::Attachment(notes)];
/// let limits = AttachmentLimits::default();
/// let Message::User { content } = lower(parts, &InputCapabilities::TEXT_ONLY, "local:smollm2", &limits).unwrap() else { panic!() };
/// assert!(content.starts_with("Summarize.\n\n--- notes.txt (text/plain) ---\nRevenue: $2M\n"));
///
/// let logo = Attachment::url("https://example.com/logo.png").unwrap();
/// let err = lower(vec![ContentPart::Attachment(logo)], &InputCapabilities::TEXT_ONLY, "local:smollm2", &limits).unwrap_err();
/// assert_eq!(err.kind(), AttachmentErrorKind::Unsupported);
/// assert!(err.to_string().contains("local:smollm2"));
/// ```
pub fn lower(
    parts: Vec<ContentPart>,
    capabilities: &InputCapabilities,
    model: &str,
    limits: &AttachmentLimits,
) -> Result<Message, AttachmentError> {
    let parts = parts
        .into_iter()
        .map(|part| match part {
            ContentPart::Attachment(a) => lower_one(a, capabilities, model, limits),
            text => Ok(text),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(user_message_of(parts))
}

/// The user message of parts already lowered: adjacent text parts joined by a blank line, and
/// a plain [`Message::User`] when only text is left.
pub(crate) fn user_message_of(parts: Vec<ContentPart>) -> Message {
    let mut out: Vec<ContentPart> = Vec::with_capacity(parts.len());
    for part in parts {
        match (out.last_mut(), part) {
            (Some(ContentPart::Text { text: prev }), ContentPart::Text { text }) => {
                prev.push_str("\n\n");
                prev.push_str(&text);
            }
            (_, part) => out.push(part),
        }
    }
    match out.as_slice() {
        [] => Message::user(""),
        [ContentPart::Text { text }] => Message::user(text.clone()),
        _ => Message::UserParts { parts: out },
    }
}

/// One attachment as `model` can take it: the attachment itself, or a text part (see
/// [`lower`]).
pub(crate) fn lower_one(
    a: Attachment,
    capabilities: &InputCapabilities,
    model: &str,
    limits: &AttachmentLimits,
) -> Result<ContentPart, AttachmentError> {
    match a.kind() {
        MediaKind::Image if capabilities.images => Ok(ContentPart::Attachment(a)),
        MediaKind::Image => Err(unsupported(
            &a,
            model,
            "takes text only; use a model that reads images, or describe the image in text",
        )),
        MediaKind::Pdf => match capabilities.pdf {
            PdfSupport::Native => Ok(ContentPart::Attachment(a)),
            PdfSupport::Reject => Err(unsupported(
                &a,
                model,
                "is configured to refuse PDFs; allow them, or their text fallback, in the \
                 provider's settings",
            )),
            PdfSupport::ExtractText => {
                let text = extract_pdf_text(a.require_bytes()?, a.display_name())?;
                inline(&a, "application/pdf, text extracted", &text, limits)
            }
        },
        MediaKind::Text => {
            let text = String::from_utf8_lossy(a.require_bytes()?).into_owned();
            inline(&a, a.media_type(), &text, limits)
        }
    }
}

fn inline(
    a: &Attachment,
    what: &str,
    text: &str,
    limits: &AttachmentLimits,
) -> Result<ContentPart, AttachmentError> {
    let chars = text.chars().count();
    if chars > limits.max_text_chars {
        return Err(AttachmentError::new(
            AttachmentErrorKind::TooLarge,
            format!(
                "the text of `{}` is {chars} characters, more than the limit of {}",
                a.display_name(),
                limits.max_text_chars
            ),
        ));
    }
    let name = a.display_name();
    Ok(ContentPart::text(format!(
        "--- {name} ({what}) ---\n{}\n--- end of {name} ---",
        text.trim_end()
    )))
}

fn unsupported(a: &Attachment, model: &str, why: &str) -> AttachmentError {
    AttachmentError::new(
        AttachmentErrorKind::Unsupported,
        format!("`{}` is {}, and the model `{model}` {why}", a.display_name(), a.media_type()),
    )
}
