//! Attachments: files, images and PDFs given to a model along with the prompt.
//!
//! An [`Attachment`] is bytes with a media type and an optional file name, or the URL of an
//! image. Only the types of [`supported_media_types`] are accepted, each for a reason: images
//! and PDFs have native parts in model APIs, and text files (plain, Markdown, CSV, JSON) are
//! given to every model as text.
//!
//! - **Worker inputs.** A worker parameter of type `Attachment`, `Vec<Attachment>` or
//!   `Option<Attachment>` has the input schema `{"type": "string", "format": "attachment"}`:
//!   a caller passes a path (relative to the attachment root, see [`AttachmentLoader`]), an
//!   `http(s)` URL of an image, or — what the Rust value serializes to — a `data:` URL. The
//!   attachment becomes a part of the user message; the prompt shows `[attached: NAME]`
//!   where a placeholder names the parameter.
//! - **Tool results.** A tool whose output schema is an attachment (or a list of them) hands
//!   its files back to the model as parts of a user message after the tool results; one
//!   whose output schema is [`text_with_attachments_schema`] (an MCP tool's) hands back text
//!   and files ([`text_with_attachments`]).
//! - **Models.** Each [`Model`](crate::Model) declares its [`InputCapabilities`]. Before any
//!   request, the runtime turns what the model cannot take into text ([`lower`]): a PDF into
//!   its extracted text, a text file inline with its name; an image for a text-only model is
//!   an [`AttachmentError`] naming the model.
//! - **Records.** Messages serialize attachments as a digest — media type, name, size and
//!   SHA-256 — never their bytes, so cassettes and run logs stay small and replay still
//!   compares content (by hash). [`digest_data_urls`] does the same for `data:` URLs in
//!   arguments.
//!
//! ```
//! use llm_do_core::attachment::{Attachment, MediaKind};
//! let note = Attachment::from_bytes(b"Revenue grew 40%.".to_vec(), Some("notes.md")).unwrap();
//! assert_eq!(note.media_type(), "text/markdown");
//! assert_eq!(note.kind(), MediaKind::Text);
//! let wire = serde_json::to_value(&note).unwrap();
//! assert!(wire.as_str().unwrap().starts_with("data:text/markdown;name=notes.md;base64,"));
//! assert_eq!(serde_json::from_value::<Attachment>(wire).unwrap(), note);
//! ```
//!
//! (Over 400 lines: most of it is documentation — this overview and the doc examples of
//! `Attachment`'s constructors and accessors; loading from disk and the limits are one concept
//! with the type.)

mod error;
mod inputs;
mod lower;
mod media;
mod pdf;
mod reference;
mod tool_result;

pub use error::{AttachmentError, AttachmentErrorKind};
pub use inputs::{digest_data_urls, is_attachment_schema, split_arguments};
pub(crate) use inputs::{has_attachment_params, resolve_paths};
pub use lower::{InputCapabilities, PdfSupport, lower};
pub(crate) use lower::{lower_one, user_message_of};
pub use media::{MediaKind, supported_media_types};
pub use pdf::{
    MAX_PDF_CMAP_BYTES, MAX_PDF_CMAP_CODES, MAX_PDF_CONTENT_BYTES, MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_PAGE_TREE_DEPTH, MAX_PDF_PAGES, MAX_PDF_STRUCTURE_BYTES, MAX_PDF_TEXT_BYTES,
    MAX_PDF_XREF_SECTIONS, extract_pdf_text,
};
pub use reference::AttachmentSource;
pub(crate) use reference::{AttachmentDigest, DIGEST_SCHEME};
pub use tool_result::{
    TEXT_WITH_ATTACHMENTS_FORMAT, is_text_with_attachments_schema, split_text_with_attachments,
    text_with_attachments, text_with_attachments_schema,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

/// The JSON Schema `format` that marks an attachment parameter.
pub const ATTACHMENT_FORMAT: &str = "attachment";

/// The JSON Schema of one attachment argument (what [`Attachment`]'s `JsonSchema` gives): a
/// string with `"format": "attachment"`, described for the model.
///
/// ```
/// use llm_do_core::attachment::{attachment_schema, is_attachment_schema};
/// assert_eq!(attachment_schema()["format"], "attachment");
/// assert!(is_attachment_schema(&attachment_schema()));
/// ```
pub fn attachment_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "format": ATTACHMENT_FORMAT,
        "description": "A file for the model: a path relative to the project root (PDF, \
                        image, text, Markdown, CSV or JSON), or an http(s) URL of an image."
    })
}

/// Default [`AttachmentLimits::max_bytes`]: 20 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// Default [`AttachmentLimits::max_text_chars`].
pub const DEFAULT_MAX_TEXT_CHARS: usize = 100_000;

/// A file for a model: bytes with a media type and an optional file name, or an image URL.
///
/// Its serde form is a string: a `data:` URL (`data:MEDIA;name=NAME;base64,…`) for bytes,
/// the URL itself for URLs. Inside a [`Message`](crate::Message) it serializes as a digest
/// instead (see the [module docs](self)).
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    name: Option<String>,
    media_type: String,
    content: Content,
}

#[derive(Clone, PartialEq, Eq)]
enum Content {
    Bytes(Arc<[u8]>),
    Url(String),
    /// Only the digest is known (read back from a record).
    Recorded {
        sha256: String,
        size: u64,
    },
}

/// Bounds on attachments, checked before any request.
///
/// ```
/// use llm_do_core::attachment::AttachmentLimits;
/// let limits = AttachmentLimits { max_bytes: 1024, ..AttachmentLimits::default() };
/// assert_eq!(limits.max_text_chars, llm_do_core::attachment::DEFAULT_MAX_TEXT_CHARS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Most characters of text one attachment contributes when it is given to a model as
    /// text (extracted PDF text, a text file); longer text is an error, not silently cut.
    pub max_text_chars: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self { max_bytes: DEFAULT_MAX_BYTES, max_text_chars: DEFAULT_MAX_TEXT_CHARS }
    }
}

/// Reads attachments named by path, confined to a root directory.
///
/// The runtime asks its loader (see `RuntimeBuilder::attachment_loader`) when a worker
/// input names a file by path. The `llm-do-tools` crate implements it on its sandboxed
/// filesystem; without a loader, paths are refused.
///
/// ```
/// use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
/// /// Serves one in-memory file.
/// struct One;
/// impl AttachmentLoader for One {
///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
///         Attachment::from_bytes(format!("contents of {path}").into_bytes(), Some(path))
///     }
/// }
/// let a = One.load("notes.txt", &AttachmentLimits::default()).unwrap();
/// assert_eq!(a.name(), Some("notes.txt"));
/// ```
pub trait AttachmentLoader: Send + Sync + 'static {
    /// Reads the file at `path` (relative to the loader's root) within `limits`.
    fn load(&self, path: &str, limits: &AttachmentLimits) -> Result<Attachment, AttachmentError>;

    /// The file `path` names, spelled as [`load`](Self::load) will read it (for a loader
    /// confined to a root: relative to it, normalised, links resolved), or why it cannot be
    /// read. When a model calls a worker, approval rules on its attachment arguments are
    /// matched against this form, and the call then reads it. By default the path as given:
    /// rules then match its spelling. `llm-do-tools`' `AttachmentFiles` resolves paths as its
    /// `read_file` tool does.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
    /// struct Trimmed;
    /// impl AttachmentLoader for Trimmed {
    ///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
    ///         Attachment::from_bytes(b"x".to_vec(), Some(path))
    ///     }
    ///     fn resolve(&self, path: &str) -> Result<String, AttachmentError> {
    ///         Ok(path.trim_start_matches("./").to_owned())
    ///     }
    /// }
    /// assert_eq!(Trimmed.resolve("./notes.md").unwrap(), "notes.md");
    /// ```
    fn resolve(&self, path: &str) -> Result<String, AttachmentError> {
        Ok(path.to_owned())
    }

    /// The tool whose approval rules also decide this loader's reads, and that tool's path
    /// argument. When a model calls a worker, each attachment path it gives is also checked
    /// against the policy's rules for that tool, the [resolved](Self::resolve) path as that
    /// argument, and the stricter verdict holds: a rule that denies (or asks about) reading a
    /// file then holds whichever way the model reaches the file. `None` by default (only rules
    /// on the worker itself apply); `llm-do-tools`' `AttachmentFiles` answers `read_file`'s
    /// `path`, the tool that reads the same root.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentError, AttachmentLimits, AttachmentLoader};
    /// struct Files;
    /// impl AttachmentLoader for Files {
    ///     fn load(&self, path: &str, _: &AttachmentLimits) -> Result<Attachment, AttachmentError> {
    ///         Attachment::from_bytes(b"x".to_vec(), Some(path))
    ///     }
    ///     fn read_rules(&self) -> Option<(&str, &str)> {
    ///         Some(("read_file", "path"))
    ///     }
    /// }
    /// assert_eq!(Files.read_rules(), Some(("read_file", "path")));
    /// ```
    fn read_rules(&self) -> Option<(&str, &str)> {
        None
    }
}

impl Attachment {
    /// An attachment of `bytes`, its media type told from the content (magic bytes) and, for
    /// text, from the extension of `name`.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// let pdf = Attachment::from_bytes(b"%PDF-1.4\n...".to_vec(), Some("deck.pdf")).unwrap();
    /// assert_eq!(pdf.media_type(), "application/pdf");
    /// ```
    pub fn from_bytes(
        bytes: impl Into<Arc<[u8]>>,
        name: Option<&str>,
    ) -> Result<Self, AttachmentError> {
        let bytes = bytes.into();
        let media_type = media::sniff(&bytes, name)?;
        Ok(Self::raw(bytes, media_type, name))
    }

    /// An attachment of `bytes` with a declared media type (a `data:` URL's), which must be a
    /// supported one and fit the content: text must be UTF-8 (not a binary file), an image an
    /// image (of the type its magic bytes say), a PDF a PDF.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentErrorKind};
    /// let csv = Attachment::with_media_type(b"a,b\n".to_vec(), "text/csv", Some("t.csv")).unwrap();
    /// assert_eq!(csv.media_type(), "text/csv");
    /// let err = Attachment::with_media_type(b"x".to_vec(), "application/zip", None).unwrap_err();
    /// assert_eq!(err.kind(), AttachmentErrorKind::UnknownMediaType);
    /// let lie = Attachment::with_media_type(b"not a png".to_vec(), "image/png", None).unwrap_err();
    /// assert_eq!(lie.kind(), AttachmentErrorKind::UnknownMediaType);
    /// ```
    pub fn with_media_type(
        bytes: impl Into<Arc<[u8]>>,
        media_type: &str,
        name: Option<&str>,
    ) -> Result<Self, AttachmentError> {
        let bytes = bytes.into();
        let declared = media::check_declared(media_type, name)?;
        let media_type = media::check_content(declared, &bytes, name)?;
        Ok(Self::raw(bytes, media_type, name))
    }

    /// Reads a file, within `limits` (the size is checked before reading it all). The path is
    /// used as given: confinement to a root is the job of an [`AttachmentLoader`], which
    /// inputs from models and command lines go through.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentErrorKind, AttachmentLimits};
    /// let dir = std::env::temp_dir().join("llm-do-attachment-doc");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("n.txt"), "hello").unwrap();
    /// let a = Attachment::from_path(dir.join("n.txt"), &AttachmentLimits::default()).unwrap();
    /// assert_eq!((a.name(), a.size()), (Some("n.txt"), Some(5)));
    /// let tiny = AttachmentLimits { max_bytes: 2, ..Default::default() };
    /// let err = Attachment::from_path(dir.join("n.txt"), &tiny).unwrap_err();
    /// assert_eq!(err.kind(), AttachmentErrorKind::TooLarge);
    /// ```
    pub fn from_path(
        path: impl AsRef<Path>,
        limits: &AttachmentLimits,
    ) -> Result<Self, AttachmentError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        // A regular file only: a FIFO or device is an error, not a wait or an endless read.
        let (file, _) = crate::file::open_regular(path).map_err(|e| {
            AttachmentError::new(AttachmentErrorKind::Io, format!("`{shown}`: {e}"))
        })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Self::from_reader(file, name.as_deref().unwrap_or(&shown), limits)
    }

    /// Reads at most `limits.max_bytes` (plus one, to tell a larger file) from `reader`, and
    /// makes an attachment named `name` of it. For [`AttachmentLoader`]s.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentLimits};
    /// let a = Attachment::from_reader(&b"a,b\n1,2\n"[..], "t.csv", &AttachmentLimits::default()).unwrap();
    /// assert_eq!(a.media_type(), "text/csv");
    /// ```
    pub fn from_reader(
        reader: impl std::io::Read,
        name: &str,
        limits: &AttachmentLimits,
    ) -> Result<Self, AttachmentError> {
        let mut bytes = Vec::new();
        reader
            .take(limits.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(name, &e))?;
        check_size(name, bytes.len() as u64, limits)?;
        Self::from_bytes(bytes, Some(name))
    }

    /// The `http(s)` URL of an image (PNG, JPEG, GIF or WebP, told from the URL's extension;
    /// `image/png` is assumed without one). Models that take images fetch it themselves.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, AttachmentErrorKind};
    /// let logo = Attachment::url("https://example.com/logo.jpg").unwrap();
    /// assert_eq!(logo.media_type(), "image/jpeg");
    /// let doc = Attachment::url("https://example.com/deck.pdf").unwrap_err();
    /// assert_eq!(doc.kind(), AttachmentErrorKind::Unsupported);
    /// ```
    pub fn url(url: impl Into<String>) -> Result<Self, AttachmentError> {
        let url = url.into();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(AttachmentError::new(
                AttachmentErrorKind::InvalidReference,
                format!("`{}` is not an http(s) URL", shorten(&url)),
            ));
        }
        let path = url.split(['?', '#']).next().unwrap_or(&url);
        let media_type = match media::from_extension(path) {
            Some(t) if MediaKind::of(t) == Some(MediaKind::Image) => t,
            None => "image/png",
            Some(t) => {
                return Err(AttachmentError::new(
                    AttachmentErrorKind::Unsupported,
                    format!(
                        "only images can be attached by URL, `{}` is {t}; download it and attach \
                         the file",
                        shorten(&url)
                    ),
                ));
            }
        };
        let name = path.rsplit('/').next().filter(|n| !n.is_empty()).map(str::to_owned);
        Ok(Self { name, media_type: media_type.to_owned(), content: Content::Url(url) })
    }

    fn raw(bytes: Arc<[u8]>, media_type: &str, name: Option<&str>) -> Self {
        Self {
            name: name.map(str::to_owned),
            media_type: media_type.to_owned(),
            content: Content::Bytes(bytes),
        }
    }

    /// The file name, if known.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::from_bytes(b"x".to_vec(), None).unwrap().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The name to show: the file name, else `attachment`.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::from_bytes(b"x".to_vec(), None).unwrap().display_name(), "attachment");
    /// ```
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("attachment")
    }

    /// The media type (`application/pdf`, `image/png`, ...).
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::from_bytes(b"x".to_vec(), None).unwrap().media_type(), "text/plain");
    /// ```
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// What kind of content it is.
    ///
    /// ```
    /// # use llm_do_core::attachment::{Attachment, MediaKind};
    /// assert_eq!(Attachment::url("https://x.test/a.png").unwrap().kind(), MediaKind::Image);
    /// ```
    pub fn kind(&self) -> MediaKind {
        MediaKind::of(&self.media_type).unwrap_or(MediaKind::Text)
    }

    /// The bytes, `None` for a URL or a recorded digest.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::from_bytes(b"hi".to_vec(), None).unwrap().bytes(), Some(&b"hi"[..]));
    /// ```
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.content {
            Content::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The URL of a URL attachment.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::url("https://x.test/a.png").unwrap().source_url(), Some("https://x.test/a.png"));
    /// ```
    pub fn source_url(&self) -> Option<&str> {
        match &self.content {
            Content::Url(u) => Some(u),
            _ => None,
        }
    }

    /// Size in bytes, `None` for a URL.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert_eq!(Attachment::from_bytes(b"hi".to_vec(), None).unwrap().size(), Some(2));
    /// ```
    pub fn size(&self) -> Option<u64> {
        match &self.content {
            Content::Bytes(b) => Some(b.len() as u64),
            Content::Recorded { size, .. } => Some(*size),
            Content::Url(_) => None,
        }
    }

    /// The SHA-256 of the bytes as lower-case hex, `None` for a URL.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// let a = Attachment::from_bytes(b"abc".to_vec(), None).unwrap();
    /// assert!(a.sha256().unwrap().starts_with("ba7816bf"));
    /// ```
    pub fn sha256(&self) -> Option<String> {
        match &self.content {
            Content::Bytes(b) => Some(hex(&Sha256::digest(b))),
            Content::Recorded { sha256, .. } => Some(sha256.clone()),
            Content::Url(_) => None,
        }
    }

    /// The content as a `data:` URL (`data:MEDIA;base64,…`, as model APIs take it), `None`
    /// when the bytes are not at hand.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// let a = Attachment::from_bytes(b"hi".to_vec(), Some("a.txt")).unwrap();
    /// assert_eq!(a.data_url().unwrap(), "data:text/plain;base64,aGk=");
    /// ```
    pub fn data_url(&self) -> Option<String> {
        self.bytes().map(|b| format!("data:{};base64,{}", self.media_type, BASE64.encode(b)))
    }

    /// The bytes, or a [`ContentMissing`](AttachmentErrorKind::ContentMissing) error for a
    /// URL or a recorded digest.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// assert!(Attachment::url("https://x.test/a.png").unwrap().require_bytes().is_err());
    /// ```
    pub fn require_bytes(&self) -> Result<&[u8], AttachmentError> {
        self.bytes().ok_or_else(|| {
            AttachmentError::new(
                AttachmentErrorKind::ContentMissing,
                format!(
                    "the content of `{}` is not at hand (a URL, or only its digest was recorded)",
                    self.display_name()
                ),
            )
        })
    }

    /// A short description for prompts, logs and tool results:
    /// `deck.pdf (application/pdf, 1234 bytes)`.
    ///
    /// ```
    /// # use llm_do_core::attachment::Attachment;
    /// let a = Attachment::from_bytes(b"hi".to_vec(), Some("a.txt")).unwrap();
    /// assert_eq!(a.describe(), "a.txt (text/plain, 2 bytes)");
    /// ```
    pub fn describe(&self) -> String {
        match self.size() {
            Some(size) => format!("{} ({}, {size} bytes)", self.display_name(), self.media_type),
            None => format!("{} ({})", self.display_name(), self.media_type),
        }
    }
}

pub(crate) fn check_size(
    name: &str,
    size: u64,
    limits: &AttachmentLimits,
) -> Result<(), AttachmentError> {
    if size > limits.max_bytes {
        return Err(AttachmentError::new(
            AttachmentErrorKind::TooLarge,
            format!(
                "`{name}` is larger than the limit of {} bytes; attach a smaller file or raise the \
                 limit",
                limits.max_bytes
            ),
        ));
    }
    Ok(())
}

fn io_error(name: &str, e: &std::io::Error) -> AttachmentError {
    AttachmentError::new(AttachmentErrorKind::Io, format!("`{name}`: {e}"))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.into()
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Attachment");
        d.field("name", &self.name).field("media_type", &self.media_type);
        match &self.content {
            Content::Bytes(b) => d.field("size", &b.len()),
            Content::Url(u) => d.field("url", u),
            Content::Recorded { sha256, size } => d.field("size", size).field("sha256", sha256),
        };
        d.finish()
    }
}
