//! [`AttachmentError`]: why a file could not become part of a model request.

use std::fmt;

/// Category of an [`AttachmentError`], for callers that branch on it (and tests that assert
/// it).
///
/// ```
/// use llm_do_core::attachment::{Attachment, AttachmentErrorKind};
/// let e = Attachment::from_bytes(b"\x00\x01\x02".to_vec(), Some("blob.bin")).unwrap_err();
/// assert_eq!(e.kind(), AttachmentErrorKind::UnknownMediaType);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachmentErrorKind {
    /// A path that leaves the attachment root (`..`, an absolute path elsewhere, a symbolic
    /// link out), or that is malformed.
    PathEscape,
    /// The file does not exist or cannot be read.
    Io,
    /// The file is larger than the configured limit, or a PDF read as text is over one of
    /// the extraction limits (`MAX_PDF_*`, named in the message).
    TooLarge,
    /// The media type is not one attachments support, or cannot be told from the content or
    /// the file name.
    UnknownMediaType,
    /// A PDF whose text cannot be extracted (damaged, encrypted, or not a PDF at all).
    UnreadablePdf,
    /// The model cannot take this kind of attachment and no text fallback applies.
    Unsupported,
    /// A reference that is neither a `data:` URL, an `http(s)` URL nor a usable path, or a
    /// path where no attachment root is configured.
    InvalidReference,
    /// Only the digest of the attachment is known (it was read back from a cassette or a run
    /// log), so its content cannot be sent.
    ContentMissing,
}

/// Why a file could not become part of a model request. Raised before any request is sent.
///
/// ```
/// use llm_do_core::attachment::{AttachmentError, AttachmentErrorKind};
/// let e = AttachmentError::new(AttachmentErrorKind::TooLarge, "deck.pdf is 30 MB, the limit is 20 MB");
/// assert_eq!(e.kind(), AttachmentErrorKind::TooLarge);
/// assert_eq!(e.to_string(), "attachment too large: deck.pdf is 30 MB, the limit is 20 MB");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentError {
    kind: AttachmentErrorKind,
    message: String,
}

impl AttachmentError {
    /// An error of the given kind; `message` says what and how to fix it.
    ///
    /// ```
    /// # use llm_do_core::attachment::{AttachmentError, AttachmentErrorKind};
    /// assert_eq!(AttachmentError::new(AttachmentErrorKind::Io, "x").message(), "x");
    /// ```
    pub fn new(kind: AttachmentErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The category.
    ///
    /// ```
    /// # use llm_do_core::attachment::{AttachmentError, AttachmentErrorKind};
    /// let e = AttachmentError::new(AttachmentErrorKind::PathEscape, "../x");
    /// assert_eq!(e.kind(), AttachmentErrorKind::PathEscape);
    /// ```
    pub fn kind(&self) -> AttachmentErrorKind {
        self.kind
    }

    /// The message without the category prefix.
    ///
    /// ```
    /// # use llm_do_core::attachment::{AttachmentError, AttachmentErrorKind};
    /// assert_eq!(AttachmentError::new(AttachmentErrorKind::Unsupported, "no").message(), "no");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for AttachmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.kind {
            AttachmentErrorKind::PathEscape => "attachment path refused",
            AttachmentErrorKind::Io => "attachment cannot be read",
            AttachmentErrorKind::TooLarge => "attachment too large",
            AttachmentErrorKind::UnknownMediaType => "unsupported attachment type",
            AttachmentErrorKind::UnreadablePdf => "unreadable PDF",
            AttachmentErrorKind::Unsupported => "attachment not supported by the model",
            AttachmentErrorKind::InvalidReference => "invalid attachment reference",
            AttachmentErrorKind::ContentMissing => "attachment content missing",
        };
        write!(f, "{prefix}: {}", self.message)
    }
}

impl std::error::Error for AttachmentError {}
